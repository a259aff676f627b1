"""classify() and diagnose() on real PostgreSQL errors, as SQLAlchemy hands them to the code.

Each failure is provoked on the local server (a missing table, a read-only transaction, a
statement timeout, a NUL byte, a refused connection...), so the test breaks if psycopg or the
server ever report one differently. diagnose() is also run on SQLite, where "no such table"
is only told apart from a bad statement by the state of the schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, exc, text
from sqlalchemy.engine import make_url

from imvo_workflow.db.errors import DatabaseProblem, classify, diagnose


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    made = create_engine(postgres_url)
    yield made
    made.dispose()


def failure(engine: Engine, run: Callable[[Connection], object]) -> exc.DBAPIError:
    with engine.connect() as conn, pytest.raises(exc.DBAPIError) as raised:
        run(conn)
    return raised.value


def test_a_missing_table_is_not_migrated(engine: Engine) -> None:
    error = failure(engine, lambda c: c.execute(text("SELECT * FROM geen_tabel")))
    assert classify(error) is DatabaseProblem.NOT_MIGRATED


def test_a_read_only_transaction_is_write_failed(engine: Engine) -> None:
    def write(conn: Connection) -> None:
        conn.execute(text("SET TRANSACTION READ ONLY"))
        conn.execute(
            text("INSERT INTO sector (slug, name, \"group\", position) VALUES ('a', 'A', 'x', 0)")
        )

    assert classify(failure(engine, write)) is DatabaseProblem.WRITE_FAILED


def test_a_statement_timeout_is_busy(engine: Engine) -> None:
    def slow(conn: Connection) -> None:
        conn.execute(text("SET LOCAL statement_timeout = 10"))
        conn.execute(text("SELECT pg_sleep(1)"))

    assert classify(failure(engine, slow)) is DatabaseProblem.BUSY


def test_a_nul_byte_and_a_broken_constraint_are_refused_input(engine: Engine) -> None:
    nul = failure(engine, lambda c: c.execute(text("SELECT :v"), {"v": "geen\x00reden"}))
    zero = failure(engine, lambda c: c.execute(text("SELECT 1 / 0")))

    def twice(conn: Connection) -> None:
        conn.execute(text("CREATE TEMPORARY TABLE once (x int PRIMARY KEY)"))
        conn.execute(text("INSERT INTO once VALUES (1), (1)"))

    for error in (nul, zero, failure(engine, twice)):
        assert classify(error) is DatabaseProblem.REFUSED_INPUT, error


def test_a_syntax_error_is_other_and_stays_other_on_a_migrated_database(engine: Engine) -> None:
    error = failure(engine, lambda c: c.execute(text("SELEC 1")))
    assert classify(error) is DatabaseProblem.OTHER
    assert diagnose(error, engine) is DatabaseProblem.OTHER


def test_a_killed_session_is_unreachable(engine: Engine) -> None:
    error = failure(
        engine, lambda c: c.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    )
    assert classify(error) is DatabaseProblem.UNREACHABLE


def test_a_server_or_database_that_cannot_be_reached_is_unreachable(postgres_url: str) -> None:
    nothing_listens = "postgresql+psycopg://nobody@127.0.0.1:1/nope"
    no_such_database = make_url(postgres_url).set(database="geen_database_met_deze_naam")
    for url in (nothing_listens, no_such_database):
        unreachable = create_engine(url, connect_args={"connect_timeout": 5})
        with pytest.raises(exc.OperationalError) as raised:
            unreachable.connect()
        unreachable.dispose()
        assert classify(raised.value) is DatabaseProblem.UNREACHABLE, url
        assert classify(raised.value.orig) is DatabaseProblem.UNREACHABLE, url


def test_an_exhausted_pool_is_busy(postgres_url: str) -> None:
    small = create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    with small.connect(), pytest.raises(exc.TimeoutError) as raised:
        small.connect()
    small.dispose()
    assert classify(raised.value) is DatabaseProblem.BUSY


def test_diagnose_tells_a_missing_schema_on_sqlite_from_a_bad_statement(
    sqlite_template: Path, tmp_path: Path
) -> None:
    empty = create_engine(f"sqlite:///{tmp_path / 'leeg.db'}")
    missing = failure(empty, lambda c: c.execute(text("SELECT * FROM covenant")))
    assert classify(missing) is DatabaseProblem.OTHER
    assert diagnose(missing, empty) is DatabaseProblem.NOT_MIGRATED
    empty.dispose()
    shutil.copy(sqlite_template, tmp_path / "imvo.db")
    migrated = create_engine(f"sqlite:///{tmp_path / 'imvo.db'}")
    bad = failure(migrated, lambda c: c.execute(text("SELECT * FROM geen_tabel")))
    assert diagnose(bad, migrated) is DatabaseProblem.OTHER
    migrated.dispose()


def test_diagnose_says_not_migrated_when_the_schema_is_behind(postgres_url: str) -> None:
    """A column a newer migration adds is 42703 (not 42P01); alembic_version tells."""
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'ouder'"))
        error = failure(engine, lambda c: c.execute(text("SELECT nieuwe_kolom FROM sector")))
        assert classify(error) is DatabaseProblem.OTHER
        assert diagnose(error, engine) is DatabaseProblem.NOT_MIGRATED
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        engine.dispose()

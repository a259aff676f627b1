"""classify() on real SQLite errors: each kind of failure from its result code, never its text.

The errors are made by running bad SQL on real sqlite3 connections (in memory, or a file in a
temporary folder where a second connection, a read-only mode or a page limit is needed), bare
and wrapped by SQLAlchemy as the services see them. PostgreSQL's, which need the server, are in
tests/integration/test_database_failures.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, exc, text

from imvo_workflow.db.errors import DatabaseProblem, classify


def sqlite_error(run: Callable[[], object]) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as raised:
        run()
    return raised.value


@pytest.fixture
def memory() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE covenant (slug TEXT PRIMARY KEY)")
    conn.execute("INSERT INTO covenant VALUES ('natuursteen')")
    yield conn
    conn.close()


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "imvo.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE covenant (slug TEXT PRIMARY KEY)")
    conn.commit()
    conn.close()
    return path


def test_a_missing_table_on_sqlite_is_other_because_sqlite_error_is_generic(
    memory: sqlite3.Connection,
) -> None:
    error = sqlite_error(lambda: memory.execute("SELECT * FROM sector"))
    assert error.sqlite_errorname == "SQLITE_ERROR"
    assert classify(error) is DatabaseProblem.OTHER


def test_a_syntax_error_is_other(memory: sqlite3.Connection) -> None:
    assert classify(sqlite_error(lambda: memory.execute("SELEC 1"))) is DatabaseProblem.OTHER


def test_a_broken_constraint_is_refused_input(memory: sqlite3.Connection) -> None:
    error = sqlite_error(lambda: memory.execute("INSERT INTO covenant VALUES ('natuursteen')"))
    assert classify(error) is DatabaseProblem.REFUSED_INPUT


def test_a_file_that_cannot_be_opened_is_unreachable(tmp_path: Path) -> None:
    error = sqlite_error(lambda: sqlite3.connect(tmp_path / "geen-map" / "imvo.db"))
    assert error.sqlite_errorname == "SQLITE_CANTOPEN"
    assert classify(error) is DatabaseProblem.UNREACHABLE


def test_a_file_that_is_no_database_is_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "imvo.db"
    path.write_bytes(b"dit is geen database " * 100)
    conn = sqlite3.connect(path)
    error = sqlite_error(lambda: conn.execute("SELECT * FROM covenant"))
    conn.close()
    assert classify(error) is DatabaseProblem.UNREACHABLE


def test_writing_a_read_only_database_is_write_failed(db_file: Path) -> None:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    error = sqlite_error(lambda: conn.execute("INSERT INTO covenant VALUES ('chemie')"))
    conn.close()
    assert error.sqlite_errorname.startswith("SQLITE_READONLY")
    assert classify(error) is DatabaseProblem.WRITE_FAILED


def test_a_full_database_is_write_failed(db_file: Path) -> None:
    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA max_page_count = 3")
    error = sqlite_error(
        lambda: conn.executemany(
            "INSERT INTO covenant VALUES (?)", ((f"{i:05d}" + "x" * 500,) for i in range(100))
        )
    )
    conn.close()
    assert error.sqlite_errorname == "SQLITE_FULL"
    assert classify(error) is DatabaseProblem.WRITE_FAILED


def test_a_locked_database_is_busy(db_file: Path) -> None:
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(db_file, timeout=0)
    error = sqlite_error(lambda: waiter.execute("INSERT INTO covenant VALUES ('chemie')"))
    holder.execute("ROLLBACK")
    holder.close()
    waiter.close()
    assert error.sqlite_errorname == "SQLITE_BUSY"
    assert classify(error) is DatabaseProblem.BUSY


def test_an_extended_io_error_code_is_read_by_its_primary_code() -> None:
    """SQLITE_IOERR_WRITE (778) cannot be provoked portably; its code is what counts."""
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = 778
    assert classify(error) is DatabaseProblem.WRITE_FAILED


def test_sqlalchemy_wrapping_does_not_change_the_answer(db_file: Path) -> None:
    engine = create_engine(f"sqlite:///{db_file}")
    with engine.connect() as conn, pytest.raises(exc.OperationalError) as missing:
        conn.execute(text("SELECT * FROM sector"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO covenant VALUES ('chemie')"))
    with engine.connect() as conn, pytest.raises(exc.IntegrityError) as twice:
        conn.execute(text("INSERT INTO covenant VALUES ('chemie')"))
    engine.dispose()
    read_only = create_engine(f"sqlite:///file:{db_file}?mode=ro&uri=true")
    with read_only.connect() as conn, pytest.raises(exc.OperationalError) as refused:
        conn.execute(text("INSERT INTO covenant VALUES ('textiel')"))
    read_only.dispose()
    assert classify(missing.value) is DatabaseProblem.OTHER
    assert classify(twice.value) is DatabaseProblem.REFUSED_INPUT
    assert classify(refused.value) is DatabaseProblem.WRITE_FAILED


def test_sqlalchemy_own_signals_come_first() -> None:
    assert classify(exc.TimeoutError("QueuePool limit reached")) is DatabaseProblem.BUSY
    assert classify(exc.DisconnectionError("gone")) is DatabaseProblem.UNREACHABLE
    lost = exc.DBAPIError.instance(
        "SELECT 1",
        None,
        sqlite3.ProgrammingError("closed"),
        sqlite3.Error,
        connection_invalidated=True,
    )
    assert classify(lost) is DatabaseProblem.UNREACHABLE


@pytest.mark.parametrize(
    ("sqlstate", "problem"),
    [
        ("53100", DatabaseProblem.WRITE_FAILED),  # disk_full: not to be provoked on a test server
        ("58030", DatabaseProblem.WRITE_FAILED),
        ("53300", DatabaseProblem.BUSY),
        ("40P01", DatabaseProblem.BUSY),
        ("57P03", DatabaseProblem.UNREACHABLE),
        ("08006", DatabaseProblem.UNREACHABLE),
        ("42P01", DatabaseProblem.NOT_MIGRATED),
        ("42601", DatabaseProblem.OTHER),
    ],
)
def test_postgresql_codes_that_a_test_server_cannot_produce_are_read_from_the_sqlstate(
    sqlstate: str, problem: DatabaseProblem
) -> None:
    driver = psycopg.errors.lookup(sqlstate)("server message, in any language")
    wrapped = exc.DBAPIError.instance("SELECT 1", None, driver, psycopg.Error)
    assert classify(driver) is problem
    assert classify(wrapped) is problem


def test_something_that_is_no_database_error_is_other() -> None:
    assert classify(ValueError("no such table: covenant")) is DatabaseProblem.OTHER

"""The one table from exception to exit code and message (`imvo_workflow.cli.errors`).

Database failures are recognised by the driver's type and codes, never by their wording:
the sqlite3 errors here are real ones (an in-memory or read-only file), the psycopg ones are
its own exception classes, which carry their SQLSTATE.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from imvo_workflow.cli import errors
from imvo_workflow.cli.errors import DatabaseProblem, classify, refusal
from imvo_workflow.domain.errors import DomainError, ForbiddenTransition, RequirementMissing


def _sqlite_error(tmp_path: Path, sql: str, *, readonly: bool = False) -> sqlite3.Error:
    path = tmp_path / "x.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    with closing(sqlite3.connect(uri, uri=True)) as conn, pytest.raises(sqlite3.Error) as info:
        conn.execute(sql)
    return info.value


def test_sqlite_errors_are_told_apart_by_their_error_name(tmp_path: Path) -> None:
    missing = _sqlite_error(tmp_path, "SELECT * FROM nope")
    assert missing.sqlite_errorname == "SQLITE_ERROR"
    assert classify(missing) is DatabaseProblem.SCHEMA  # generic: the migration state decides
    readonly = _sqlite_error(tmp_path, "INSERT INTO t VALUES (1)", readonly=True)
    assert classify(readonly) is DatabaseProblem.WRITE
    for name, problem in [
        ("SQLITE_FULL", DatabaseProblem.WRITE),
        ("SQLITE_IOERR_WRITE", DatabaseProblem.WRITE),
        ("SQLITE_READONLY_DBMOVED", DatabaseProblem.WRITE),
        ("SQLITE_CANTOPEN", DatabaseProblem.UNREACHABLE),
        ("SQLITE_NOTADB", DatabaseProblem.UNREACHABLE),
        ("SQLITE_BUSY", DatabaseProblem.OTHER),
    ]:
        made = sqlite3.OperationalError("whatever the text says")
        made.sqlite_errorname = name
        assert classify(made) is problem, name


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (pg.UndefinedTable("x"), DatabaseProblem.SCHEMA),
        (pg.UndefinedColumn("x"), DatabaseProblem.SCHEMA),
        (pg.DiskFull("x"), DatabaseProblem.WRITE),
        (pg.ReadOnlySqlTransaction("x"), DatabaseProblem.WRITE),
        (pg.ConnectionFailure("x"), DatabaseProblem.UNREACHABLE),
        (pg.AdminShutdown("x"), DatabaseProblem.UNREACHABLE),
        (psycopg.OperationalError("connection refused"), DatabaseProblem.UNREACHABLE),
        (pg.UniqueViolation("x"), DatabaseProblem.OTHER),
        (ValueError("no such table: covenant"), DatabaseProblem.OTHER),  # text means nothing
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v.value,
)
def test_psycopg_errors_are_told_apart_by_their_sqlstate(
    error: Exception, problem: DatabaseProblem
) -> None:
    assert classify(error) is problem


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


def test_a_missing_table_sends_to_db_upgrade_only_when_the_database_is_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exc = ProgrammingError("SELECT 1", {}, pg.UndefinedTable('relation "covenant" does not exist'))
    monkeypatch.setattr(errors, "migration_state", lambda: (None, "head1"))
    assert refusal(exc) == (
        2,
        'De database is nog niet ingericht (relation "covenant" does not exist). '
        "Voer eerst `imvo db upgrade` uit.",
    )
    monkeypatch.setattr(errors, "migration_state", lambda: ("old1", "head1"))
    code, message = refusal(exc) or (0, "")
    assert code == 2
    assert "migratie old1, de code verwacht head1" in message
    assert "`imvo db upgrade`" in message
    monkeypatch.setattr(errors, "migration_state", lambda: ("head1", "head1"))
    assert refusal(exc) == (2, 'Databasefout: relation "covenant" does not exist')


def test_write_and_connection_failures_have_their_own_message() -> None:
    code, message = refusal(_wrapped(pg.DiskFull("could not extend file"))) or (0, "")
    assert code == 2
    assert message.startswith("Kan niet naar de database schrijven")
    assert "IMVO_DATABASE_URL" not in message
    code, message = refusal(_wrapped(psycopg.OperationalError("connection refused"))) or (0, "")
    assert (code, message) == (
        2,
        "Kan de database niet bereiken: connection refused. Controleer IMVO_DATABASE_URL.",
    )


def test_the_nearest_type_in_the_table_words_the_message() -> None:
    assert refusal(RequirementMissing("Geef een reden.", field="reason")) == (
        2,
        "Geef een reden. (--reason)",
    )
    assert refusal(RequirementMissing("Zonder veld.")) == (2, "Zonder veld.")
    forbidden = ForbiddenTransition("bouw", "afgezien", "ondertekend", ["heropenen"])
    assert refusal(forbidden) == (2, forbidden.message)  # via DomainError
    assert refusal(DomainError("x")) == (2, "x")
    code, message = refusal(ArgumentError("Could not parse URL")) or (0, "")
    assert code == 2 and message.startswith("IMVO_DATABASE_URL is geen bruikbare database-URL")
    assert refusal(KeyError("a bug")) is None  # not a refusal: a traceback

"""Where a refusal becomes a message and an exit code: one table, read by `main()` only.

`REFUSALS` maps an exception type to its exit code and a function that words the message;
`refusal()` walks the exception's MRO through it, so a subclass (RequirementMissing) is found
before its base (DomainError). Database errors are told apart by what the driver reports
(psycopg's SQLSTATE, sqlite3's error name) and, where that is generic, by the database's
migration state: never by the wording of the error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, DBAPIError

from imvo_workflow.domain.errors import DomainError, RequirementMissing

#: Where a missing value is given on the command line.
FLAG_FOR = {"reason": "--reason", "date": "--on JJJJ-MM-DD", "actor": "--by"}


class DatabaseProblem(Enum):
    SCHEMA = "schema"  # a table or column is missing: maybe not migrated
    WRITE = "write"  # disk full, read-only, I/O error: the write failed, nothing was stored
    UNREACHABLE = "unreachable"  # no connection, or not a database at all
    OTHER = "other"


#: PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
PG_SCHEMA = {"42P01", "42703"}  # undefined_table, undefined_column
PG_WRITE = {"53100", "25006", "58030"}  # disk_full, read_only_sql_transaction, io_error
PG_UNREACHABLE_CLASSES = ("08",)  # connection exception
PG_UNREACHABLE = {"57P01", "57P02", "57P03"}  # shutdown, crash, cannot connect now

#: sqlite3 error names (Python 3.11+), by their primary code: the prefix before any '_'.
SQLITE_WRITE = {"SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR"}
SQLITE_UNREACHABLE = {"SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_CORRUPT"}


def classify(orig: BaseException | None) -> DatabaseProblem:
    """What kind of database failure the driver's exception reports, by its type and codes."""
    import psycopg  # only on this path: keeps `imvo`'s start-up free of the driver on SQLite

    if isinstance(orig, psycopg.Error):
        state = orig.sqlstate
        if state is None:  # psycopg sets none when no server answered
            if isinstance(orig, psycopg.OperationalError):
                return DatabaseProblem.UNREACHABLE
            return DatabaseProblem.OTHER
        if state in PG_SCHEMA:
            return DatabaseProblem.SCHEMA
        if state in PG_WRITE:
            return DatabaseProblem.WRITE
        if state in PG_UNREACHABLE or state.startswith(PG_UNREACHABLE_CLASSES):
            return DatabaseProblem.UNREACHABLE
        return DatabaseProblem.OTHER
    if isinstance(orig, sqlite3.Error):
        name = orig.sqlite_errorname or ""
        primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
        if primary == "SQLITE_ERROR":  # generic: a missing table is one of many causes
            return DatabaseProblem.SCHEMA
        if primary in SQLITE_WRITE:
            return DatabaseProblem.WRITE
        if primary in SQLITE_UNREACHABLE:
            return DatabaseProblem.UNREACHABLE
    return DatabaseProblem.OTHER


def migration_state() -> tuple[str | None, str | None] | None:
    """The database's migration and the code's newest one; None when that cannot be asked."""
    from imvo_workflow.db import migrate
    from imvo_workflow.db.session import make_engine
    from imvo_workflow.settings import Settings

    try:
        engine = make_engine(Settings().database_url)
        try:
            return migrate.current_revision(engine), migrate.head_revision()
        finally:
            engine.dispose()
    except (DBAPIError, ArgumentError, ValueError):
        return None


def _database(exc: DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    problem = classify(exc.orig)
    if problem is DatabaseProblem.SCHEMA:
        state = migration_state()
        if state is not None and state[0] is None:
            return f"De database is nog niet ingericht ({text}). Voer eerst `imvo db upgrade` uit."
        if state is not None and state[0] != state[1]:
            return (
                f"De database staat op migratie {state[0]}, de code verwacht {state[1]} ({text}). "
                "Voer eerst `imvo db upgrade` uit."
            )
    if problem is DatabaseProblem.WRITE:
        return f"Kan niet naar de database schrijven (schijf vol of alleen-lezen?): {text}. Er is niets opgeslagen."
    if problem is DatabaseProblem.UNREACHABLE:
        return f"Kan de database niet bereiken: {text}. Controleer IMVO_DATABASE_URL."
    return f"Databasefout: {text}"


def _missing(exc: RequirementMissing) -> str:
    hint = FLAG_FOR.get(exc.field or "")
    return f"{exc.message} ({hint})" if hint else exc.message


def _domain(exc: DomainError) -> str:
    return exc.message


def _settings(exc: ValidationError) -> str:
    return "; ".join(
        f"IMVO_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
    )


def _url(exc: ArgumentError) -> str:
    return f"IMVO_DATABASE_URL is geen bruikbare database-URL: {exc}"


#: Exception type -> (exit code, message). Anything not found here is a bug: a traceback.
REFUSALS: Mapping[type[BaseException], tuple[int, Callable[[Any], str]]] = {
    RequirementMissing: (2, _missing),
    DomainError: (2, _domain),
    ValidationError: (2, _settings),
    ArgumentError: (2, _url),
    DBAPIError: (2, _database),
}


def refusal(exc: BaseException) -> tuple[int, str] | None:
    """The exit code and message for `exc`, from its nearest type in REFUSALS."""
    for kind in type(exc).__mro__:
        found = REFUSALS.get(kind)
        if found is not None:
            code, message = found
            return code, message(exc)
    return None

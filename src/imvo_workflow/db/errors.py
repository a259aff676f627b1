"""What kind of database failure an exception is, read from its type and the driver's code.

The CLI and the web answer a lost connection, a full disk or a missing migration differently
(an exit code and a hint; a 503 with Retry-After). Both ask `classify` here instead of matching
the message text, which differs per driver, per server version and per locale. It reads, in
this order: SQLAlchemy's own signals (a pool timeout, `connection_invalidated`), the driver's
code (PostgreSQL's SQLSTATE via psycopg's `sqlstate`; SQLite's result code via the `sqlite3`
exception's `sqlite_errorcode`), and last the DB-API class (`OperationalError`, `DataError`...).

SQLite and "not migrated": SQLite reports "no such table" as plain SQLITE_ERROR, the code of
every syntax or schema mistake, so `classify` (pure, no database access) calls it OTHER. A
caller that holds an engine uses `diagnose`, which looks at the alembic_version table for an
OTHER and says NOT_MIGRATED when the schema is missing or behind the code's head; that also
catches a PostgreSQL column that a newer migration adds (42703, not only 42P01).
"""

from __future__ import annotations

import enum
import sqlite3

import psycopg
from sqlalchemy import Engine
from sqlalchemy import exc as sa

from imvo_workflow.db.session import missing_sqlite_file

#: What a caller catches to hand to `classify`: SQLAlchemy's errors and the drivers' own
#: (raised where the code talks to a raw connection, e.g. COPY).
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa.SQLAlchemyError, sqlite3.Error, psycopg.Error)


class DatabaseProblem(enum.Enum):
    """The kinds of database failure an operator acts on differently."""

    #: No connection: server down, wrong address or credentials, file not openable.
    UNREACHABLE = "unreachable"
    #: Reachable but not now: locked, pool exhausted, deadlock, too many connections.
    BUSY = "busy"
    #: The schema is missing or older than the code: `imvo db upgrade`.
    NOT_MIGRATED = "not_migrated"
    #: Reading works, writing does not: disk full, read-only, I/O error. Nothing was saved.
    WRITE_FAILED = "write_failed"
    #: The database refused this value or row (a NUL byte, a broken constraint): the input's fault.
    REFUSED_INPUT = "refused_input"
    #: Anything else, most likely a bug in a statement.
    OTHER = "other"


#: PostgreSQL SQLSTATEs (exact codes first, then their two-character class).
_SQLSTATE: dict[str, DatabaseProblem] = {
    "08": DatabaseProblem.UNREACHABLE,  # connection_exception
    "28": DatabaseProblem.UNREACHABLE,  # invalid_authorization_specification
    "3D000": DatabaseProblem.UNREACHABLE,  # invalid_catalog_name: the database does not exist
    "57P01": DatabaseProblem.UNREACHABLE,  # admin_shutdown
    "57P02": DatabaseProblem.UNREACHABLE,  # crash_shutdown
    "57P03": DatabaseProblem.UNREACHABLE,  # cannot_connect_now (starting up)
    "53100": DatabaseProblem.WRITE_FAILED,  # disk_full
    "53": DatabaseProblem.BUSY,  # insufficient_resources: too many connections, memory
    "40": DatabaseProblem.BUSY,  # transaction_rollback: serialization failure, deadlock
    "55P03": DatabaseProblem.BUSY,  # lock_not_available
    "57014": DatabaseProblem.BUSY,  # query_canceled (statement_timeout)
    "25006": DatabaseProblem.WRITE_FAILED,  # read_only_sql_transaction (a standby)
    "58030": DatabaseProblem.WRITE_FAILED,  # io_error
    "42P01": DatabaseProblem.NOT_MIGRATED,  # undefined_table
    "22": DatabaseProblem.REFUSED_INPUT,  # data_exception
    "23": DatabaseProblem.REFUSED_INPUT,  # integrity_constraint_violation
}

#: SQLite primary result codes (the low byte of an extended code such as SQLITE_IOERR_WRITE).
_SQLITE: dict[int, DatabaseProblem] = {
    sqlite3.SQLITE_CANTOPEN: DatabaseProblem.UNREACHABLE,
    sqlite3.SQLITE_NOTADB: DatabaseProblem.UNREACHABLE,
    sqlite3.SQLITE_BUSY: DatabaseProblem.BUSY,
    sqlite3.SQLITE_LOCKED: DatabaseProblem.BUSY,
    sqlite3.SQLITE_FULL: DatabaseProblem.WRITE_FAILED,
    sqlite3.SQLITE_READONLY: DatabaseProblem.WRITE_FAILED,
    sqlite3.SQLITE_IOERR: DatabaseProblem.WRITE_FAILED,
    sqlite3.SQLITE_CONSTRAINT: DatabaseProblem.REFUSED_INPUT,
    sqlite3.SQLITE_TOOBIG: DatabaseProblem.REFUSED_INPUT,
    sqlite3.SQLITE_MISMATCH: DatabaseProblem.REFUSED_INPUT,
}


def classify(exc: BaseException) -> DatabaseProblem:
    """The kind of database failure `exc` is, from its type and code, never its text.

    `exc` is a SQLAlchemy error (usually a DBAPIError wrapping the driver's) or a driver's
    own (`sqlite3.Error`, `psycopg.Error`); anything else is OTHER. Pure: no database access,
    so SQLite's "no such table" is OTHER (see the module docstring and `diagnose`).
    """
    if isinstance(exc, sa.TimeoutError):  # the pool had no free connection in time
        return DatabaseProblem.BUSY
    if isinstance(exc, sa.DisconnectionError):
        return DatabaseProblem.UNREACHABLE
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return DatabaseProblem.UNREACHABLE
        driver: BaseException | None = exc.orig
    else:
        driver = exc
    sqlstate = getattr(driver, "sqlstate", None)
    if isinstance(driver, psycopg.Error) and isinstance(sqlstate, str):
        found = _SQLSTATE.get(sqlstate) or _SQLSTATE.get(sqlstate[:2])
        return found or DatabaseProblem.OTHER
    if isinstance(driver, sqlite3.Error) and hasattr(driver, "sqlite_errorcode"):
        return _SQLITE.get(driver.sqlite_errorcode & 0xFF, DatabaseProblem.OTHER)
    return _by_class(exc, driver)


def _by_class(exc: BaseException, driver: BaseException | None) -> DatabaseProblem:
    """No code to read (psycopg's failures to connect, its client-side checks): the class."""
    kinds = (exc, driver)
    if any(isinstance(e, (sa.DataError, sa.IntegrityError)) for e in kinds) or isinstance(
        driver, (psycopg.DataError, psycopg.IntegrityError)
    ):
        return DatabaseProblem.REFUSED_INPUT
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError)) or isinstance(
        driver, (psycopg.OperationalError, psycopg.InterfaceError)
    ):
        return DatabaseProblem.UNREACHABLE
    return DatabaseProblem.OTHER


def diagnose(exc: BaseException, engine: Engine) -> DatabaseProblem:
    """`classify`, and for an OTHER a look at the schema: NOT_MIGRATED when the alembic_version
    table is missing or not at the code's head. Asks the database, so only for callers that
    hold an engine and are already handling a failure (never on a hot path)."""
    problem = classify(exc)
    if problem is DatabaseProblem.UNREACHABLE and missing_sqlite_file(str(engine.url)):
        return DatabaseProblem.NOT_MIGRATED  # no file yet: `imvo db upgrade` makes it
    if problem is not DatabaseProblem.OTHER:
        return problem
    from imvo_workflow.db import migrate  # alembic: only loaded when a failure needs it

    try:
        current = migrate.current_revision(engine)
    except DATABASE_ERRORS:
        return problem
    return DatabaseProblem.NOT_MIGRATED if current != migrate.head_revision() else problem

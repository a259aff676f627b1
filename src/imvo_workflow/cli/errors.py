"""Where a refusal becomes a message and an exit code: one table, read by `main()` only.

`REFUSALS` maps an exception type to its exit code and a function that words the message;
`refusal()` walks the exception's MRO through it, so a subclass (RequirementMissing) is found
before its base (DomainError). Database errors are told apart by what the driver reports
(db/errors.py's `classify`: psycopg's SQLSTATE, sqlite3's result code) and, where that is
generic, by the database's migration state: never by the wording of the error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, DBAPIError

from imvo_workflow.domain.errors import DomainError, RequirementMissing

#: Where a missing value is given on the command line.
FLAG_FOR = {"reason": "--reason", "date": "--on JJJJ-MM-DD", "actor": "--by"}


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
    except (DBAPIError, ArgumentError, ValueError, DomainError):
        return None


def _database(exc: DBAPIError) -> str:
    # db/errors.py imports both drivers: only on this path, to keep `imvo`'s start-up light.
    from imvo_workflow.db.errors import DatabaseProblem, classify

    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    problem = classify(exc)
    if problem is DatabaseProblem.UNREACHABLE and isinstance(exc.orig, sqlite3.Error):
        from imvo_workflow.db.session import missing_sqlite_file
        from imvo_workflow.settings import Settings

        missing = missing_sqlite_file(Settings().database_url)
        if missing is not None:
            return (
                f"De database {missing} bestaat niet. Voer eerst `imvo db upgrade` uit "
                "(of controleer IMVO_DATABASE_URL)."
            )
    if problem in (DatabaseProblem.NOT_MIGRATED, DatabaseProblem.OTHER):
        # SQLite's "no such table" is its generic error: the migration state decides.
        state = migration_state()
        if state is not None and state[0] is None:
            return f"De database is nog niet ingericht ({text}). Voer eerst `imvo db upgrade` uit."
        if state is not None and state[0] != state[1]:
            return (
                f"De database staat op migratie {state[0]}, de code verwacht {state[1]} ({text}). "
                "Voer eerst `imvo db upgrade` uit."
            )
    if problem is DatabaseProblem.WRITE_FAILED:
        return f"Kan niet naar de database schrijven (schijf vol of alleen-lezen?): {text}. Er is niets opgeslagen."
    if problem is DatabaseProblem.UNREACHABLE:
        return f"Kan de database niet bereiken: {text}. Controleer IMVO_DATABASE_URL."
    if problem is DatabaseProblem.BUSY:
        return f"De database is bezet: {text}. Probeer het zo opnieuw; er is niets opgeslagen."
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


def _file(exc: OSError) -> str:
    """A file the user named cannot be read or written (a folder, a missing folder, a name too
    long, no permission): the operating system's own reason, and nothing was written."""
    where = f" {exc.filename}" if exc.filename not in (None, "") else ""
    return f"Bestand{where}: {exc.strerror or exc}. Er is niets geschreven."


def _url(exc: ArgumentError) -> str:
    return f"IMVO_DATABASE_URL is geen bruikbare database-URL: {exc}"


#: Exception type -> (exit code, message). Anything not found here is a bug: a traceback.
REFUSALS: Mapping[type[BaseException], tuple[int, Callable[[Any], str]]] = {
    RequirementMissing: (2, _missing),
    DomainError: (2, _domain),
    ValidationError: (2, _settings),
    ArgumentError: (2, _url),
    OSError: (2, _file),
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

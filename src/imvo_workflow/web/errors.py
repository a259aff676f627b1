"""What the web and the API answer for an error: the one table from error type to HTTP status.

The domain and the services raise types (domain/errors.py, services/auth.py, ...) and know no
HTTP; this module is where the web adapter decides the status, in one place, as the CLI decides
its exit codes in its own. A status is looked up along the exception's MRO, so `UnknownSector`
answers as the `NotFound` it is; tests/unit/test_error_tables.py checks that every DomainError
in the code has an entry of its own or an ancestor's (not just the base's default).
Database failures (db/errors.py's `DatabaseProblem`) have their own small table below.
"""

from __future__ import annotations

from imvo_workflow.db.errors import DatabaseProblem
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    DomainError,
    Forbidden,
    ForbiddenTransition,
    InvalidDefinition,
    InvalidInput,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PreconditionFailed,
    RequirementMissing,
    UnparseablePeriod,
)
from imvo_workflow.domain.replay import BrokenHistory
from imvo_workflow.services.auth import LoginFailed, LoginThrottled

#: HTTP status per error type; a type not listed answers as its nearest listed ancestor.
HTTP_STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    InvalidDefinition: 400,
    BrokenHistory: 400,
    MalformedRequest: 400,
    LoginFailed: 401,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    ConcurrentUpdate: 409,
    PreconditionFailed: 412,
    InvalidInput: 422,
    UnparseablePeriod: 422,
    ForbiddenTransition: 422,
    RequirementMissing: 422,
    LoginThrottled: 429,
}


def http_status(exc: DomainError) -> int:
    """The status for `exc`: its own type's entry, else its nearest ancestor's (400 at worst)."""
    for cls in type(exc).__mro__:
        status = HTTP_STATUS.get(cls)
        if status is not None:
            return status
    return 400


#: Every database problem but a refused value is the server's, not the caller's: 503, so a
#: client retries after Retry-After seconds. Message is for the person at the screen.
DATABASE_ANSWER: dict[DatabaseProblem, tuple[int, int | None, str]] = {
    DatabaseProblem.UNREACHABLE: (
        503,
        5,
        "De database is even niet bereikbaar; probeer het zo opnieuw.",
    ),
    DatabaseProblem.BUSY: (
        503,
        5,
        "De database is even te druk; er is niets opgeslagen. Probeer het zo opnieuw.",
    ),
    DatabaseProblem.NOT_MIGRATED: (
        503,
        60,
        "De database is nog niet (helemaal) ingericht; de beheerder moet `imvo db upgrade` "
        "uitvoeren.",
    ),
    DatabaseProblem.WRITE_FAILED: (
        503,
        60,
        "De database kan nu niet schrijven (schijf vol of alleen-lezen?); er is niets "
        "opgeslagen. Probeer het later opnieuw.",
    ),
    DatabaseProblem.REFUSED_INPUT: (
        400,
        None,
        "Deze invoer kan niet worden opgeslagen (ongeldige tekens of waarde).",
    ),
    DatabaseProblem.OTHER: (
        503,
        30,
        "Er ging iets mis bij de database; er is niets opgeslagen. Probeer het zo opnieuw.",
    ),
}

"""The bounds of what a user may give: dates, free text, names and ids, one rule each.

Every write service checks its input here, so the CLI, the web forms and the API refuse the
same values with the same message (a 1,000,000-character reason, a deadline in the year 9999
that later broke every calendar feed, an id no database column can hold). The limits are
constants in this one module; an entrypoint may repeat them in its own schema (the API's
OpenAPI document), never loosen them.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from imvo_workflow.domain.errors import InvalidInput, NotFound

__all__ = [
    "MAX_ADDRESS",
    "MAX_DAYS_AHEAD",
    "MAX_ID",
    "MAX_LABEL",
    "MAX_TEXT",
    "MAX_USER_NAME",
    "MAX_YEAR",
    "MIN_YEAR",
    "check_date",
    "check_id",
    "check_label",
    "check_text",
    "check_user_name",
    "check_year",
    "user_name_key",
]

#: Dates a user gives (and periods a phrase resolves to) lie in these years, inclusive.
MIN_YEAR, MAX_YEAR = 1900, 2200
#: Multi-line free text: reasons, descriptions.
MAX_TEXT = 2000
#: One-line text: who did it (actor), a target phrase, a milestone, an organisation, a filter.
MAX_LABEL = 200
#: A subscription address (e-mail address or webhook URL).
MAX_ADDRESS = 500
#: A user name (login name).
MAX_USER_NAME = 64
#: How far ahead a user may look (`imvo deadlines --within`): a century of days.
MAX_DAYS_AHEAD = 36_500
#: Ids are 64-bit signed integers in both databases; anything larger names nothing.
MAX_ID = 2**63 - 1

#: Control characters allowed in multi-line text; none are allowed in one-line text.
_MULTILINE_ALLOWED = frozenset("\n\t")


def check_year(year: int, what: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"{what}: het jaar {year} ligt niet tussen {MIN_YEAR} en {MAX_YEAR}.")


def check_date(day: date, what: str) -> date:
    """`day` if its year lies in [MIN_YEAR, MAX_YEAR]; otherwise InvalidInput naming `what`."""
    check_year(day.year, what)
    return day


def _is_control(ch: str) -> bool:
    # Cc: C0/C1 controls (incl. NUL, ESC, CR); Cf would include soft hyphens and joiners
    # that appear in real names, so only line/paragraph separators are added.
    return unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029"


def check_text(value: str, what: str, *, limit: int = MAX_TEXT, multiline: bool = True) -> str:
    """Refuse text over `limit` characters or with control characters; returns it unchanged.

    Multi-line text may hold newlines and tabs (a carriage return is normalised away by
    callers that store lines; here it is refused, so a header built from it stays one line).
    """
    if len(value) > limit:
        raise InvalidInput(f"{what} is te lang: {len(value)} tekens, maximaal {limit}.")
    for ch in value:
        if _is_control(ch) and not (multiline and ch in _MULTILINE_ALLOWED):
            allowed = " (alleen nieuwe regels en tabs mogen)" if multiline else ""
            raise InvalidInput(
                f"{what} bevat een stuurteken (U+{ord(ch):04X}); dat kan niet{allowed}."
            )
    return value


def check_label(value: str, what: str, *, limit: int = MAX_LABEL) -> str:
    """One-line text: at most `limit` characters, no control characters at all."""
    return check_text(value, what, limit=limit, multiline=False)


def check_user_name(name: str) -> str:
    """The user name as stored: NFC, no control characters, no surrounding spaces, <= 64."""
    name = unicodedata.normalize("NFC", name)
    if not name.strip():
        raise InvalidInput("Een gebruiker heeft een naam nodig.")
    if name != name.strip():
        raise InvalidInput(f"De gebruikersnaam '{name}' begint of eindigt met een spatie.")
    return check_label(name, "De gebruikersnaam", limit=MAX_USER_NAME)


def user_name_key(name: str) -> str:
    """What makes two user names the same: NFC and case-folded ('Anna' is 'anna')."""
    return unicodedata.normalize("NFC", name).casefold()


def check_id(value: int, kind: str, shown: str | None = None) -> int:
    """An id the user gave: beyond what a database id can hold, it is simply not found.

    (Passed on, SQLite's driver cannot bind it and PostgreSQL compares it as numeric: a 500.)
    `shown` is how the message names it; the number itself by default.
    """
    if not 0 <= value <= MAX_ID:
        raise NotFound(kind, shown if shown is not None else str(value))
    return value

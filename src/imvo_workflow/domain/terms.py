"""The rules of a signed covenant's terms (looptijden), as pure functions of dates.

A term runs from `starts_on` up to and including `ends_on`. The first term starts on the
signing date or later; it ends after it starts. A renewal opens the next term, which starts on
the day after the previous term's end: no gap and no overlap (a start on the previous end day
itself would overlap it by that day). A term's end is watched as a milestone ("Einde looptijd
(termijn N)") with the end date as its deadline, so reminders and the overdue alert come from
the ordinary alert scan.

Pure: no database or web imports.
"""

from __future__ import annotations

from datetime import date, timedelta

from imvo_workflow.domain.bounds import check_date
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.periods import dutch_date


def nl_date(day: date) -> str:
    """`day` as Dutch words the period parser reads back as exactly that day: '4 juli 2021'."""
    return dutch_date(day)


def end_milestone(number: int) -> str:
    """The milestone that watches term `number`'s end."""
    return f"Einde looptijd (termijn {number})"


def renewal_start(previous_end: date) -> date:
    """The only start a renewal may have: the day after the previous term ends."""
    return previous_end + timedelta(days=1)


def check_first_term(starts_on: date, ends_on: date, signed_on: date) -> None:
    """Refuse a first term that starts before the signing or does not end after it starts."""
    check_date(starts_on, "De begindatum van de looptijd")
    check_date(ends_on, "De einddatum van de looptijd")
    if starts_on < signed_on:
        raise InvalidInput(
            f"De looptijd kan niet beginnen op {starts_on.isoformat()}: dat is vóór de "
            f"ondertekening ({signed_on.isoformat()})."
        )
    _check_order(starts_on, ends_on)


def check_renewal(starts_on: date, ends_on: date, previous_end: date) -> None:
    """Refuse a renewal that leaves a gap after, or overlaps, the previous term."""
    check_date(starts_on, "De begindatum van de verlenging")
    check_date(ends_on, "De einddatum van de verlenging")
    wanted = renewal_start(previous_end)
    if starts_on != wanted:
        how = "overlapt met" if starts_on < wanted else "sluit niet aan op"
        raise InvalidInput(
            f"De verlenging die begint op {starts_on.isoformat()} {how} de vorige looptijd "
            f"(tot en met {previous_end.isoformat()}); een verlenging begint op de dag daarna, "
            f"{wanted.isoformat()}."
        )
    _check_order(starts_on, ends_on)


def _check_order(starts_on: date, ends_on: date) -> None:
    if ends_on <= starts_on:
        raise InvalidInput(
            f"De looptijd moet eindigen na het begin: {ends_on.isoformat()} ligt niet na "
            f"{starts_on.isoformat()}."
        )

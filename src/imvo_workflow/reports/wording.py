"""The few phrases every format of the progress report says alike (md, html and Word).

Dates as dd-mm-jjjj; a target planned against actual ("gehaald op 02-10-2016, 2 dagen te
laat"); one target as the cells of the targets table. Kept here so the Markdown and HTML
templates and the Word renderer cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from imvo_workflow.services.queries import TargetView
from imvo_workflow.services.signatures import SignatureView

if TYPE_CHECKING:  # layout reads changes, which reads the phrases here
    from imvo_workflow.reports.layout import Entry

TARGET_HEADERS = ("Doel", "Termijn", "Gepland (uiterlijk)", "Stand", "Werkelijk")


@lru_cache(maxsize=8192)
def nl(day: date) -> str:
    """`day` as dd-mm-jjjj, remembered: a report of a thousand covenants writes some 24,000
    dates in each format, most of them the same few thousand days (ten years fit the cache)."""
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def days(count: int) -> str:
    return f"{count} {'dag' if count == 1 else 'dagen'}"


def timing(target: TargetView) -> str:
    """Planned against actual of a met target: op tijd, N dagen te laat, N dagen eerder."""
    late = target.days_late or 0
    if late == 0:
        return "op tijd"
    return f"{days(abs(late))} {'te laat' if late > 0 else 'eerder'}"


def closed_text(target: TargetView) -> str:
    """A closed target planned against actual: "gehaald op …, 3 dagen te laat"."""
    assert target.closed_on is not None
    if target.status == "met":
        return f"gehaald op {nl(target.closed_on)}, {timing(target)}"
    return f"vervallen op {nl(target.closed_on)}"


def status_text(target: TargetView) -> str:
    if target.status == "met":
        return "gehaald"
    if target.status == "cancelled":
        return "vervallen"
    return "open, te laat" if target.overdue else "open"


def actual_text(target: TargetView) -> str:
    if target.closed_on is None:
        return ""
    said = nl(target.closed_on)
    if target.status == "met":
        said += f", {timing(target)}"
    if target.close_reason:
        said += f" ({target.close_reason})"
    return said


def target_cells(target: TargetView) -> tuple[str, str, str, str, str]:
    """One target as the targets table shows it (TARGET_HEADERS)."""
    return (
        target.what,
        f"“{target.phrase}”",
        nl(target.deadline),
        status_text(target),
        actual_text(target),
    )


def next_target_text(target: TargetView) -> str:
    """The next target as a covenant's entry names it: what, its phrase, its deadline."""
    return f"{target.what}: “{target.phrase}” (uiterlijk {nl(target.deadline)})"


def signed_text(signatures: Iterable[SignatureView]) -> str:
    """Who signed, each with the day: "A (01-02-2016), B (03-04-2016)"."""
    return ", ".join(f"{s.organisation} ({nl(s.signed_on)})" for s in signatures)


def quoted(words: Iterable[str]) -> str:
    """The source's own words about participants it does not name, each between quotes."""
    return " ".join(f"“{said}”" for said in words)


def people_fields(e: Entry) -> list[tuple[str, str]]:
    """The covenant's people as the report lists them under its stage, (label, text), those it
    has: trekker, facilitator, kwartiermaker, parties, those involved, those not named."""
    return [
        (label, value)
        for label, value in (
            ("Trekker", e.trekker),
            ("Facilitator", e.facilitator),
            ("Kwartiermaker", e.kwartiermaker),
            ("Partijen", ", ".join(e.parties)),
            ("Betrokken", ", ".join(e.involved)),
            ("Niet bij naam genoemd", quoted(e.unnamed)),
        )
        if value
    ]

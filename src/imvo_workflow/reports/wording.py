"""The few phrases every format of the progress report says alike (md, html and Word).

Dates as dd-mm-jjjj; a target planned against actual ("gehaald op 02-10-2016, 2 dagen te
laat"); one target as the cells of the targets table. Kept here so the Markdown and HTML
templates and the Word renderer cannot drift apart.
"""

from __future__ import annotations

from datetime import date

from imvo_workflow.services.queries import TargetView

TARGET_HEADERS = ("Doel", "Termijn", "Gepland (uiterlijk)", "Stand", "Werkelijk")


def nl(day: date) -> str:
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

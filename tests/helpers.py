"""Small helpers the test folders share (importable as `helpers`: pytest puts tests/ on the
path for its conftest.py).

A date written the way the 2016 report writes one ("3 december 2026"), and a unit of work
for a service function that runs its own transaction, handed back when done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from imvo_workflow.bootstrap import App
from imvo_workflow.db.session import UnitOfWork

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def dutch(day: date) -> str:
    """`day` as an exact Dutch target phrase: "3 december 2026"."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@contextmanager
def closing_uow(app: App) -> Iterator[UnitOfWork]:
    """A unit of work whose connection is handed back when done (not left to the GC)."""
    uow = app.uow()
    try:
        yield uow
    finally:
        uow.close()

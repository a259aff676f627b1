"""Small helpers the test folders share (importable as `helpers`: pytest puts tests/ on the
path for its conftest.py).

A date written the way the 2016 report writes one ("3 december 2026"), a unit of work for a
service function that runs its own transaction, and a covenant in a sector of its own.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import insert, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.services.covenants import NewCovenant, open_covenant

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


def open_in_new_sector(app: App, slug: str, *, opened_on: date | None = None) -> int:
    """A new sector named after `slug` with one covenant in the initial stage; its id.

    Opened 60 days before the app's today unless `opened_on` says otherwise.
    """
    with app.uow() as uow:
        sector_id = uow.conn.execute(
            insert(t.sector).returning(t.sector.c.id),
            {"slug": slug, "name": slug.title(), "group": "risicosector", "position": 99},
        ).scalar_one()
        covenant_id = open_covenant(
            conn=uow.conn,
            definition=app.definition,
            covenant=NewCovenant(slug=slug, sector_id=sector_id, title=f"Convenant {slug}"),
            actor="test",
            reason="aangemaakt door test",
            occurred_on=opened_on or app.today() - timedelta(days=60),
            now=app.now(),
        )
        uow.commit()
    return covenant_id


def slug_of(app: App, covenant_id: int) -> str:
    """The name a service takes for the covenant a test holds by id."""
    with app.uow(readonly=True) as uow:
        return str(
            uow.conn.execute(
                select(t.covenant.c.slug).where(t.covenant.c.id == covenant_id)
            ).scalar_one()
        )


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

"""Shared by the terms and continuation tests: the seeded 2016 data seen from a later day,
the real covenants they use, and a snapshot of what a refusal must leave as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.moves import MoveRequest, make_move
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016

#: The broader covenant the metal branches' talks continued in (signed in 2018/2019).
METALEKTRO = "metalektro"
#: The textile covenant: signed 4 July 2016, a term of five years, extended.
TEXTIEL = "kleding-en-textiel"
TEXTILE_SIGNED = date(2016, 7, 4)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=AMSTERDAM)


@contextmanager
def app_at(app: App, moment: datetime) -> Iterator[App]:
    """The same database, with the clock pinned at `moment`."""
    later = App(settings=app.settings.model_copy(update={"now": moment}), definition=app.definition)
    try:
        yield later
    finally:
        later.close()


def seed_2016(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())


def open_covenant_in_sector(
    app: App, slug: str, title: str, opened_on: date, path: tuple[tuple[str, date], ...] = ()
) -> int:
    """A covenant in a sector of its own, moved along `path` ((trigger or stage, date), ...)."""
    with app.uow() as uow:
        sector_id = uow.conn.execute(
            insert(t.sector).returning(t.sector.c.id),
            {"slug": slug, "name": title, "group": "risicosector", "position": 90},
        ).scalar_one()
        covenant_id = open_covenant(
            conn=uow.conn,
            definition=app.definition,
            covenant=NewCovenant(slug=slug, sector_id=sector_id, title=title, position=90),
            actor="test",
            reason="aangemaakt door test",
            occurred_on=opened_on,
            now=app.now(),
        )
        for to, on in path:
            make_move(
                uow.conn,
                app.definition,
                MoveRequest(slug, to, "test", "zoals het gebeurde", on),
                now=app.now(),
            )
        uow.commit()
    return covenant_id


def open_textile(app: App) -> int:
    """Duurzame kleding en textiel: dialogue from 2015, signed on 4 July 2016."""
    return open_covenant_in_sector(
        app,
        TEXTIEL,
        "Convenant Duurzame kleding en textiel",
        date(2015, 3, 2),
        (("dialoog", date(2015, 6, 1)), ("ondertekend", TEXTILE_SIGNED)),
    )


def open_metalektro(app: App) -> int:
    return open_covenant_in_sector(
        app,
        METALEKTRO,
        "IMVO-convenant Metaal en elektrotechniek",
        date(2018, 1, 15),
        (("dialoog", date(2018, 1, 15)),),
    )


def snapshot(app: App) -> dict[str, Any]:
    """What a refusal must leave as it was: row counts, every covenant's head, open targets."""
    with app.uow(readonly=True) as uow:
        conn = uow.conn
        counts = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.transition, t.term, t.target, t.target_change, t.alert)
        }
        heads = conn.execute(
            select(
                t.covenant.c.slug,
                t.covenant.c.stage,
                t.covenant.c.version,
                t.covenant.c.continued_in_id,
            ).order_by(t.covenant.c.id)
        ).all()
        statuses = conn.execute(
            select(t.target.c.id, t.target.c.status).order_by(t.target.c.id)
        ).all()
    return {**counts, "heads": [tuple(h) for h in heads], "targets": [tuple(s) for s in statuses]}

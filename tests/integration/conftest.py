"""Builders for integration tests: a sector and a covenant in a chosen stage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import insert, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.moves import MoveRequest, make_move

MakeCovenant = Callable[..., int]


@pytest.fixture
def make_covenant(app: App) -> MakeCovenant:
    """make_covenant("natuursteen", path=["dialoog"]) -> covenant id, moved along `path`."""

    def build(slug: str, *, path: tuple[str, ...] = (), start: date = date(2016, 1, 4)) -> int:
        with app.uow() as uow:
            sector_id = uow.conn.execute(
                select(t.sector.c.id).where(t.sector.c.slug == slug)
            ).scalar()
            if sector_id is None:
                sector_id = uow.conn.execute(
                    insert(t.sector).returning(t.sector.c.id),
                    {"slug": slug, "name": slug.title(), "group": "risicosector", "position": 0},
                ).scalar_one()
            covenant_id = open_covenant(
                conn=uow.conn,
                definition=app.definition,
                covenant=NewCovenant(slug=slug, sector_id=sector_id, title=f"Convenant {slug}"),
                actor="test",
                reason="aangemaakt door test",
                occurred_on=start,
                now=app.now(),
            )
            for stage in path:
                make_move(
                    uow.conn,
                    app.definition,
                    MoveRequest(slug, stage, "test", "pad van de test", start),
                    now=app.now(),
                )
            uow.commit()
        return covenant_id

    return build

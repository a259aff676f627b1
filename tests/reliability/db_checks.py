"""Database checks the reliability tests share: what was raised, delivered and recorded.

A plain module beside the tests (pytest puts this folder on the import path).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t


def alert_keys(app: App, covenant: str | None = None) -> list[str]:
    a, c = t.alert, t.covenant
    query = select(a.c.key).join(c, c.c.id == a.c.covenant_id)
    if covenant is not None:
        query = query.where(c.c.slug == covenant)
    with app.uow(readonly=True) as uow:
        return list(uow.conn.execute(query).scalars())


def superseded_keys(app: App) -> set[str]:
    """Keys of alerts a catch-up superseded: recorded, their deliveries skipped (issue 11)."""
    with app.uow(readonly=True) as uow:
        return set(
            uow.conn.execute(
                select(t.alert.c.key).where(t.alert.c.superseded_by.is_not(None))
            ).scalars()
        )


def delivery_statuses(app: App) -> Counter[str]:
    d = t.delivery
    with app.uow(readonly=True) as uow:
        return Counter(
            dict(uow.conn.execute(select(d.c.status, func.count()).group_by(d.c.status)).all())
        )


def history_counts(app: App) -> dict[str, tuple[int, int]]:
    """Per covenant: (history rows, version)."""
    c, tr = t.covenant, t.transition
    rows = select(func.count()).where(tr.c.covenant_id == c.c.id).scalar_subquery()
    with app.uow(readonly=True) as uow:
        return {
            r.slug: (r.rows, r.version)
            for r in uow.conn.execute(select(c.c.slug, c.c.version, rows.label("rows")))
        }

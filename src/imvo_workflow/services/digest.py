"""The daily digest: per subscriber, one overview of what is overdue or due soon.

A digest is an alert like any other (key `digest/<user>/<day>`), so it too is raised once
per day however many schedulers run, and delivered at least once through the outbox.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.db.upsert import insert_new
from imvo_workflow.domain.alerts import AlertKind
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.targets import target_name
from imvo_workflow.notify.message import dagen
from imvo_workflow.services.alerts import alert_row, queue_deliveries, recipient

SOON = timedelta(days=14)


def raise_digests(*, uow: UnitOfWork, now: datetime) -> int:
    """Raise today's digest for every subscriber with something open; returns how many."""
    today = now.astimezone(AMSTERDAM).date()
    u, sub, c, s, tg = t.user, t.subscription, t.covenant, t.sector, t.target
    with uow:
        rows = uow.conn.execute(
            select(
                u.c.id,
                u.c.name,
                u.c.email,
                sub.c.channel,
                sub.c.address,
                c.c.id.label("cid"),
                c.c.title,
                tg.c.milestone,
                tg.c.stage,
                tg.c.phrase,
                tg.c.deadline,
            )
            .join(sub, sub.c.user_id == u.c.id)
            .join(
                s,
                or_(
                    sub.c.sector_id.is_(None),
                    sub.c.sector_id == s.c.id,
                    sub.c.sector_id == s.c.parent_id,
                ),
            )
            .join(c, c.c.sector_id == s.c.id)
            .join(tg, tg.c.covenant_id == c.c.id)
            .where(tg.c.status == "open", tg.c.deadline <= today + SOON, sub.c.channel != "log")
            .order_by(u.c.id, tg.c.deadline, c.c.position)
        ).all()
        lines: dict[int, list[str]] = defaultdict(list)
        routes: dict[int, set[tuple[str, str]]] = defaultdict(set)
        seen: set[tuple[int, int, str]] = set()
        for r in rows:
            routes[r.id].add((r.channel, recipient(r.channel, r.address, r.name, r.email)))
            what = target_name(r.stage, r.milestone)
            if (r.id, r.cid, what) in seen:
                continue
            seen.add((r.id, r.cid, what))
            state = (
                f"{dagen((today - r.deadline).days)} te laat"
                if r.deadline < today
                else f"deadline {r.deadline:%d-%m-%Y}"
            )
            lines[r.id].append(f'- {r.title}: {what} ("{r.phrase}"), {state}')
        raised = insert_new(
            uow.conn,
            t.alert,
            [
                alert_row(
                    key=f"digest/{user_id}/{today.isoformat()}",
                    kind=AlertKind.DIGEST,
                    user_id=user_id,
                    fire_at=now,
                    raised_at=now,
                    lines=text,
                )
                for user_id, text in lines.items()
            ],
            ["key"],
        )
        owner = (
            dict(
                uow.conn.execute(
                    select(t.alert.c.id, t.alert.c.user_id).where(t.alert.c.id.in_(raised))
                ).all()
            )
            if raised
            else {}
        )
        routed = [
            (alert_id, ch, to)
            for alert_id, user in owner.items()
            for ch, to in sorted(routes[user])
        ]
        queue_deliveries(uow.conn, routed, now)
        uow.commit()
    return len(raised)

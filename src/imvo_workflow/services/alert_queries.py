"""Read-side of alerts: the inbox and the deadline list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.alerts import AlertKind
from imvo_workflow.domain.bounds import MAX_DAYS_AHEAD
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.targets import target_name
from imvo_workflow.services.queries import aware


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    kind: AlertKind
    days: int
    covenant: str | None
    what: str
    phrase: str | None
    deadline: date | None
    fire_at: datetime
    acked_at: datetime | None
    acked_by: str | None
    deliveries: int
    delivered: int
    #: A catch-up found a more advanced alert of the same target (its key): recorded, never
    #: sent. Such alerts are history, like handled ones.
    superseded_by: str | None = None
    #: Deliveries that used up their attempts or can never be sent.
    failed: int = 0


@dataclass(frozen=True, slots=True)
class DeadlineView:
    covenant: str
    sector: str
    stage: str
    what: str
    phrase: str
    deadline: date
    days_left: int
    overdue: bool


def alerts(*, conn: Connection, include_acked: bool = False, limit: int = 200) -> list[AlertView]:
    """The inbox, newest first; with `include_acked`, the history too (handled, superseded)."""
    a, c, tg, d = t.alert, t.covenant, t.target, t.delivery
    query = (
        select(a, c.c.slug, tg.c.stage.label("target_stage"), tg.c.milestone, tg.c.phrase)
        .outerjoin(c, c.c.id == a.c.covenant_id)
        .outerjoin(tg, tg.c.id == a.c.target_id)
        .order_by(a.c.fire_at.desc(), a.c.id.desc())
        .limit(limit)
    )
    if not include_acked:
        query = query.where(a.c.acked_at.is_(None), a.c.superseded_by.is_(None))
    rows = conn.execute(query).all()
    counts: dict[int, tuple[int, int, int]] = {}
    if rows:
        for alert_id, status in conn.execute(
            select(d.c.alert_id, d.c.status).where(d.c.alert_id.in_([r.id for r in rows]))
        ):
            total, sent, failed = counts.get(alert_id, (0, 0, 0))
            counts[alert_id] = (total + 1, sent + (status == "sent"), failed + (status == "failed"))
    return [
        AlertView(
            id=r.id,
            kind=AlertKind(r.kind),
            days=r.days,
            covenant=r.slug,
            # An overview (digest, checkpoint) is about no one target: its kind names it.
            what=target_name(r.target_stage, r.milestone) or AlertKind(r.kind).label.lower(),
            phrase=r.phrase,
            deadline=r.deadline,
            fire_at=aware(r.fire_at),
            acked_at=aware(r.acked_at) if r.acked_at else None,
            acked_by=r.acked_by,
            deliveries=counts.get(r.id, (0, 0, 0))[0],
            delivered=counts.get(r.id, (0, 0, 0))[1],
            superseded_by=r.superseded_by,
            failed=counts.get(r.id, (0, 0, 0))[2],
        )
        for r in rows
    ]


def deadlines(*, conn: Connection, today: date, within_days: int = 30) -> list[DeadlineView]:
    """Open targets that are overdue or due within `within_days`, soonest first."""
    if not 0 <= within_days <= MAX_DAYS_AHEAD:
        raise InvalidInput(f"Vooruitkijken kan 0 tot {MAX_DAYS_AHEAD} dagen, niet {within_days}.")
    tg, c, s = t.target, t.covenant, t.sector
    rows = conn.execute(
        select(
            c.c.slug,
            s.c.name,
            c.c.stage,
            tg.c.stage.label("target_stage"),
            tg.c.milestone,
            tg.c.phrase,
            tg.c.deadline,
        )
        .join(c, c.c.id == tg.c.covenant_id)
        .join(s, s.c.id == c.c.sector_id)
        .where(tg.c.status == "open", tg.c.deadline <= today + timedelta(days=within_days))
        .order_by(tg.c.deadline, c.c.position)
    )
    return [
        DeadlineView(
            covenant=r.slug,
            sector=r.name,
            stage=r.stage,
            what=target_name(r.target_stage, r.milestone),
            phrase=r.phrase,
            deadline=r.deadline,
            days_left=(r.deadline - today).days,
            overdue=r.deadline < today,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class FollowedDeadline:
    target_id: int
    covenant: str
    title: str
    what: str
    phrase: str
    deadline: date
    #: When the target was last set or rescheduled (its calendar event's revision time).
    revised_at: datetime


def followed_deadlines(*, conn: Connection, user_id: int) -> list[FollowedDeadline]:
    """Open deadlines of the sectors the user follows (all sectors if they follow none)."""
    tg, c, s, sub = t.target, t.covenant, t.sector, t.subscription
    followed = select(sub.c.sector_id).where(sub.c.user_id == user_id)
    sectors = [row for row in conn.execute(followed).scalars()]
    changed = (
        select(func.max(t.target_change.c.changed_at))
        .where(t.target_change.c.target_id == tg.c.id)
        .scalar_subquery()
    )
    revised = func.coalesce(changed, tg.c.created_at, type_=tg.c.created_at.type)
    query = (
        select(
            tg.c.id,
            c.c.slug,
            c.c.title,
            tg.c.stage,
            tg.c.milestone,
            tg.c.phrase,
            tg.c.deadline,
            revised.label("revised_at"),
        )
        .join(c, c.c.id == tg.c.covenant_id)
        .join(s, s.c.id == c.c.sector_id)
        .where(tg.c.status == "open")
        .order_by(tg.c.deadline)
    )
    if sectors and None not in sectors:
        query = query.where(or_(s.c.id.in_(sectors), s.c.parent_id.in_(sectors)))
    return [
        FollowedDeadline(
            r.id,
            r.slug,
            r.title,
            target_name(r.stage, r.milestone),
            r.phrase,
            r.deadline,
            aware(r.revised_at),
        )
        for r in conn.execute(query)
    ]

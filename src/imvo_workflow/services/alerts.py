"""Raising alerts: the scan that turns due events into alert rows and their deliveries.

The scan reads the targets whose deadlines can have an event between the last scan and now
(a watermark in `scheduler_state`, so a scheduler that was down catches up on what it missed
and nothing older), asks the pure rules in domain/alerts.py which events are due, and inserts
them keyed by event: a second scan, a restart or three schedulers at once insert each event
once. Each new alert gets one delivery row per subscribed channel and recipient.

A scan that catches up finds several events of one target due at once; the rules name the
ones a more advanced event superseded. Those are recorded (the alert row, with the key that
superseded it, visible in the inbox history) and their deliveries are `skipped`: never sent.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, insert, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.db.upsert import insert_ignoring_conflict, insert_new
from imvo_workflow.domain.alerts import (
    AlertKind,
    AlertPolicy,
    TargetState,
    due_and_next,
    scan_window,
    superseded,
)
from imvo_workflow.domain.bounds import check_id, check_label
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import ReminderPolicy
from imvo_workflow.domain.errors import InvalidInput, NotFound, RequirementMissing
from imvo_workflow.services.queries import aware

WATERMARK = "alert_scan"


def policy_from(reminders: ReminderPolicy) -> AlertPolicy:
    return AlertPolicy(
        lead_days=tuple(reminders.lead_days),
        escalate_after_days=tuple(reminders.escalate_after_days),
        send_hour=reminders.send_hour,
        timezone=reminders.timezone,
        shift_to_working_day=reminders.shift_to_working_day,
    )


@dataclass(frozen=True, slots=True)
class ScanResult:
    candidates: int
    due: int
    raised: int
    deliveries: int
    next_fire_at: datetime | None


_TG = t.target
_CANDIDATE_COLUMNS = (
    _TG.c.id,
    _TG.c.deadline,
    _TG.c.reference_date,
    _TG.c.closed_on,
    _TG.c.covenant_id,
)
#: Since the watermark: deadlines in the window, open or closed inside it (ix_target_deadline).
_CANDIDATES = DriverStatement(
    select(*_CANDIDATE_COLUMNS).where(
        _TG.c.deadline >= bindparam("b_lo"),
        _TG.c.deadline <= bindparam("b_hi"),
        or_(_TG.c.status == "open", _TG.c.closed_on >= bindparam("b_lo")),
    )
)
#: The first scan ever: everything up to the window's end.
_ALL_CANDIDATES = DriverStatement(
    select(*_CANDIDATE_COLUMNS).where(_TG.c.deadline <= bindparam("b_hi"))
)


def candidate_targets(conn: Connection, lo: date | None, hi: date) -> list[tuple[TargetState, int]]:
    """Targets whose events can fall between the watermark and now, with their covenant id.

    Straight from the driver: a scan reads thousands of rows, and SQLAlchemy's per-row type
    processing would cost more than the query itself (the driver reads each distinct date once).
    """
    if lo is None:
        rows = _ALL_CANDIDATES.execute(conn, {"b_hi": hi}).all()
    else:
        rows = _CANDIDATES.execute(conn, {"b_lo": lo, "b_hi": hi}).all()
    return [
        (TargetState(target_id, deadline, stated, closed), covenant_id)
        for target_id, deadline, stated, closed, covenant_id in rows
    ]


def scan(*, uow: UnitOfWork, policy: AlertPolicy, now: datetime) -> ScanResult:
    """One scan, one transaction: insert the alerts that are due and not yet raised."""
    today = now.astimezone(AMSTERDAM).date()
    with uow:
        watermark = uow.conn.execute(
            select(t.scheduler_state.c.value).where(t.scheduler_state.c.name == WATERMARK)
        ).scalar()
        _, hi = scan_window(policy, today)
        hi += timedelta(days=2)  # also see what fires before the next scan, for the date job
        lo = None
        if watermark is not None:
            since = min(aware(watermark).astimezone(AMSTERDAM).date(), today)
            lo, _ = scan_window(policy, since)
        found = candidate_targets(uow.conn, lo, hi)
        covenant_of = {state.id: covenant_id for state, covenant_id in found}
        states = [state for state, _ in found]
        due, upcoming = due_and_next(states, policy, now)
        # In key order: concurrent scans then take row locks in the same order (no deadlock).
        events = sorted(due, key=lambda ev: ev.key)
        overtaken = superseded(events)
        raised_at = now.astimezone(UTC)
        inserted = _INSERT_ALERT.execute_many_returning(
            uow.conn,
            [
                alert_row(
                    key=ev.key,
                    kind=ev.kind,
                    target_id=ev.target_id,
                    covenant_id=covenant_of[ev.target_id],
                    days=ev.days,
                    deadline=ev.deadline,
                    fire_at=ev.fire_at,
                    raised_at=raised_at,
                    superseded_by=overtaken.get(ev.key),
                )
                for ev in events
            ],
        )
        raised = len(inserted)
        by_key = {ev.key: covenant_of[ev.target_id] for ev in events}
        deliveries = _deliveries_for(uow.conn, dict(inserted), by_key, set(overtaken), now)
        _set_watermark(uow.conn, now)
        uow.commit()
    return ScanResult(len(states), len(events), raised, deliveries, upcoming)


def alert_row(
    *,
    key: str,
    kind: AlertKind,
    fire_at: datetime,
    raised_at: datetime,
    target_id: int | None = None,
    covenant_id: int | None = None,
    user_id: int | None = None,
    days: int = 0,
    deadline: date | None = None,
    lines: Sequence[str] = (),
    superseded_by: str | None = None,
) -> dict[str, object]:
    """The alert table's row for one alert of any kind: scans, digests and checkpoints alike.

    The key makes the alert once-only; times are aware and stored in UTC.
    """
    return {
        "key": key,
        "kind": kind.value,
        "target_id": target_id,
        "covenant_id": covenant_id,
        "user_id": user_id,
        "days": days,
        "deadline": deadline,
        "fire_at": _utc(fire_at),
        "raised_at": _utc(raised_at),
        "lines": list(lines),
        "superseded_by": superseded_by,
    }


def _utc(moment: datetime) -> datetime:
    """In UTC (SQLAlchemy's SQLite type drops the zone); a scan's shared moment already is,
    and converting a thousand of them again cost more than their insert."""
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def raise_alert(conn: Connection, **fields: Any) -> int:
    """Insert one alert made by `alert_row(**fields)` (an overview: a checkpoint, a failed
    delivery); returns its id."""
    return int(
        conn.execute(insert(t.alert).returning(t.alert.c.id), alert_row(**fields)).scalar_one()
    )


def _insert_alert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING: a second insert of the same event is a no-op.

    A target's alert has no lines: the statement writes the empty JSON list itself, as the
    driver path runs no SQLAlchemy JSON type (the row's `lines` goes unused).
    """
    skip = ("id", "acked_at", "acked_by", "lines")
    columns = [c.name for c in t.alert.columns if c.name not in skip]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(t.alert)
        .values({name: bindparam(name) for name in columns} | {"lines": literal_column("'[]'")})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(t.alert.c.id, t.alert.c.key)  # the alerts this scan really raised
    )


_INSERT_ALERT = DriverStatement(_insert_alert("sqlite"), for_dialect=_insert_alert)


def _deliveries_for(
    conn: Connection,
    keys: dict[int, str],
    covenant_by_key: dict[str, int],
    skipped_keys: set[str],
    now: datetime,
) -> int:
    """One delivery per alert, channel and recipient subscribed to the alert's sector.

    A superseded alert's deliveries are recorded as `skipped`: the outbox never claims them.

    Subscriptions are few and read first: with none, a scan costs no per-alert look-up.
    """
    if not keys:
        return 0
    sub, u, c, s = t.subscription, t.user, t.covenant, t.sector
    subscriptions = conn.execute(
        select(sub.c.sector_id, sub.c.channel, sub.c.address, u.c.name, u.c.email).join(
            u, u.c.id == sub.c.user_id
        )
    ).all()
    if not subscriptions:
        return 0
    covenant_ids = {covenant_by_key[key] for key in keys.values()}
    sectors = {
        row.id: (row.sector_id, row.parent_id)
        for row in conn.execute(
            select(c.c.id, c.c.sector_id, s.c.parent_id)
            .join(s, s.c.id == c.c.sector_id)
            .where(c.c.id.in_(covenant_ids))
        )
    }
    wanted = set()
    skipped = {alert_id for alert_id, key in keys.items() if key in skipped_keys}
    for alert_id, key in keys.items():
        own, parent = sectors[covenant_by_key[key]]
        for sector_id, channel, address, name, email in subscriptions:
            if sector_id is None or sector_id in (own, parent):
                wanted.add((alert_id, channel, recipient(channel, address, name, email)))
    return len(queue_deliveries(conn, sorted(wanted), now, skipped=skipped))


def queue_deliveries(
    conn: Connection,
    routes: list[tuple[int, str, str]],
    now: datetime,
    *,
    skipped: Collection[int] = (),
) -> list[int]:
    """Insert one pending delivery per (alert, channel, recipient) that has none yet.

    Deliveries of the alerts in `skipped` (superseded ones) are recorded as `skipped`.
    """
    due = now.astimezone(UTC)
    rows = [
        {
            "alert_id": alert_id,
            "channel": channel,
            "recipient": to,
            "status": "skipped" if alert_id in skipped else "pending",
            "attempts": 0,
            "next_attempt_at": due,
            "lease_until": None,
            "last_error": None,
            "sent_at": None,
        }
        for alert_id, channel, to in routes
    ]
    return insert_new(conn, t.delivery, rows, ["alert_id", "channel", "recipient"])


def recipient(channel: str, address: str, name: str, email: str | None) -> str:
    """Where a subscription delivers: its address, the user's e-mail, or the user's inbox."""
    if channel == "email":
        return address or email or ""
    if channel == "webhook":
        return address
    return name


def _set_watermark(conn: Connection, now: datetime) -> None:
    """Move the watermark forward (never back: several schedulers may scan at once)."""
    st = t.scheduler_state
    moment = now.astimezone(UTC)
    if not insert_ignoring_conflict(conn, st, {"name": WATERMARK, "value": moment}, ["name"]):
        conn.execute(
            update(st).where(st.c.name == WATERMARK, st.c.value < moment).values(value=moment)
        )


def acknowledge(*, uow: UnitOfWork, alert_id: int, actor: str, now: datetime) -> None:
    """Mark an alert handled; refuse a blank name and an alert someone already handled."""
    check_id(alert_id, "melding")
    check_label(actor, "Wie de melding afhandelt")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie deze melding afhandelt.", "actor")
    with uow:
        done = uow.conn.execute(
            update(t.alert)
            .where(t.alert.c.id == alert_id, t.alert.c.acked_at.is_(None))
            .values(acked_at=now.astimezone(UTC), acked_by=actor)
        )
        if done.rowcount == 0:
            found = uow.conn.execute(
                select(t.alert.c.acked_by, t.alert.c.acked_at).where(t.alert.c.id == alert_id)
            ).first()
            if found is None:
                raise NotFound("melding", str(alert_id))
            raise InvalidInput(
                f"Melding {alert_id} is al afgehandeld door {found.acked_by} "
                f"op {aware(found.acked_at).astimezone(AMSTERDAM):%d-%m-%Y %H:%M}."
            )
        uow.commit()

"""Delivering alerts at least once: claim, send outside the transaction, record the outcome.

Claiming marks a batch of due deliveries `sending` with a lease and commits; on PostgreSQL
the claim skips rows another process has locked (`FOR UPDATE SKIP LOCKED`), on SQLite the
immediate write transaction serialises claimers. The send happens outside any transaction,
so a slow receiver holds no lock. A process killed mid-send leaves its claims to lapse and be
claimed again: a receiver may see a delivery twice (the idempotency key lets it tell), never
zero times. A failure is recorded with its error and retried with exponential backoff; one
receiver that is down never blocks the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select, tuple_, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.notify.channels import Sender
from imvo_workflow.notify.message import AlertMessage
from imvo_workflow.settings import AMSTERDAM

log = logging.getLogger("imvo.outbox")
LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    channel: str
    recipient: str
    attempts: int
    message: AlertMessage


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int
    failed: int


@dataclass(frozen=True, slots=True)
class Backoff:
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(
            seconds=min(self.base_seconds * 2 ** max(attempts - 1, 0), self.cap_seconds)
        )


def claim(*, uow: UnitOfWork, now: datetime, limit: int = 50, base_url: str = "") -> list[Claimed]:
    """Take up to `limit` due deliveries for this process, one transaction."""
    d = t.delivery
    moment = now.astimezone(UTC)
    due = or_(
        and_(d.c.status == "pending", d.c.next_attempt_at <= moment),
        and_(d.c.status == "sending", d.c.lease_until <= moment),
    )
    query = select(d.c.id).where(due).order_by(d.c.next_attempt_at, d.c.id).limit(limit)
    if uow.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with uow:
        ids = list(uow.conn.execute(query).scalars())
        if not ids:
            return []
        uow.conn.execute(
            update(d)
            .where(d.c.id.in_(ids))
            .values(status="sending", lease_until=moment + LEASE, attempts=d.c.attempts + 1)
        )
        claimed = _load(uow, ids, now.astimezone(AMSTERDAM).date(), base_url)
        uow.commit()
    return claimed


def _load(uow: UnitOfWork, ids: list[int], today: date, base_url: str) -> list[Claimed]:
    d, a, c, s, tg = t.delivery, t.alert, t.covenant, t.sector, t.target
    rows = uow.conn.execute(
        select(
            d.c.id,
            d.c.channel,
            d.c.recipient,
            d.c.attempts,
            a.c.id.label("alert_id"),
            a.c.key,
            a.c.kind,
            a.c.days,
            a.c.deadline,
            a.c.lines,
            c.c.slug,
            c.c.title,
            c.c.stage,
            s.c.name.label("sector"),
            tg.c.stage.label("target_stage"),
            tg.c.milestone,
            tg.c.phrase,
        )
        .join(a, a.c.id == d.c.alert_id)
        .outerjoin(c, c.c.id == a.c.covenant_id)
        .outerjoin(s, s.c.id == c.c.sector_id)
        .outerjoin(tg, tg.c.id == a.c.target_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.id)
    )
    return [
        Claimed(
            r.id,
            r.channel,
            r.recipient,
            r.attempts,
            AlertMessage(
                alert_id=r.alert_id,
                key=r.key,
                kind=r.kind,
                days=r.days,
                covenant=r.slug or "",
                title=r.title or "",
                sector=r.sector or "",
                stage=r.stage or "",
                what=r.milestone or (f"fase {r.target_stage}" if r.target_stage else ""),
                phrase=r.phrase or "",
                deadline=r.deadline,
                today=today,
                base_url=base_url,
                lines=tuple(r.lines or ()),
            ),
        )
        for r in rows
    ]


def finish(
    *, uow: UnitOfWork, claimed: Claimed, error: str | None, now: datetime, backoff: Backoff
) -> None:
    """Record the outcome of one send: sent, or back to pending with a later attempt."""
    finish_batch(uow=uow, outcomes=[(claimed, error)], now=now, backoff=backoff)


def finish_batch(
    *,
    uow: UnitOfWork,
    outcomes: Sequence[tuple[Claimed, str | None]],
    now: datetime,
    backoff: Backoff,
) -> None:
    """Record the outcomes of a batch of sends in one transaction.

    Only the claim that owns a row records its outcome: a claim whose lease lapsed and was
    taken over (attempts moved on) must not undo the newer claim's result.
    """
    if not outcomes:
        return
    d = t.delivery
    moment = now.astimezone(UTC)
    with uow:
        if uow.dialect == "postgresql":
            # A lost outcome only means one more delivery, which the idempotency key covers:
            # no need to wait for the WAL flush on every batch.
            uow.conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        sent = [(c.delivery_id, c.attempts) for c, error in outcomes if error is None]
        if sent:
            uow.conn.execute(
                update(d)
                .where(tuple_(d.c.id, d.c.attempts).in_(sent), d.c.status == "sending")
                .values(status="sent", sent_at=moment, lease_until=None, last_error=None)
            )
        for claimed, error in outcomes:
            if error is None:
                continue
            owner = (
                (d.c.id == claimed.delivery_id)
                & (d.c.status == "sending")
                & (d.c.attempts == claimed.attempts)
            )
            uow.conn.execute(
                update(d)
                .where(owner)
                .values(
                    status="pending",
                    lease_until=None,
                    last_error=error[:2000],
                    next_attempt_at=moment + backoff.delay(claimed.attempts),
                )
            )
        uow.commit()


def drain(
    *,
    uow: UnitOfWork,
    senders: Mapping[str, Sender],
    clock: Callable[[], datetime],
    backoff: Backoff,
    base_url: str = "",
    batch: int = 20,
    max_batches: int = 50,
    should_stop: Callable[[], bool] = lambda: False,
) -> DrainResult:
    """Deliver what is due, batch by batch, until nothing is due (or `max_batches`).

    A claim is only worked on while its lease holds (with a margin): what is left when a slow
    receiver used up the lease is left to lapse and be claimed afresh, by this process or
    another, rather than sent by two at once. `should_stop` ends the work between sends.
    Outcomes are recorded per batch: a process killed mid-batch resends at most that batch.
    """
    sent = failed = 0
    for _ in range(max_batches):
        claimed_at = clock()
        claimed = claim(uow=uow, now=claimed_at, limit=batch, base_url=base_url)
        if not claimed:
            break
        outcomes: list[tuple[Claimed, str | None]] = []
        stopped = False
        for item in claimed:
            if should_stop() or clock() - claimed_at > LEASE * 0.75:
                stopped = True
                break
            error = _send(senders, item)
            outcomes.append((item, error))
            sent, failed = (sent + 1, failed) if error is None else (sent, failed + 1)
        finish_batch(uow=uow, outcomes=outcomes, now=clock(), backoff=backoff)
        if stopped:
            break
    return DrainResult(sent, failed)


def _send(senders: Mapping[str, Sender], item: Claimed) -> str | None:
    sender = senders.get(item.channel)
    if sender is None:
        return f"onbekend kanaal '{item.channel}'"
    try:
        sender(item.message, item.recipient)
    except Exception as exc:  # any failure of a receiver is recorded and retried, never raised
        log.warning(
            "delivery failed",
            extra={
                "action": "delivery.failed",
                "delivery_id": item.delivery_id,
                "alert_key": item.message.key,
                "channel": item.channel,
                "error": str(exc),
            },
        )
        return str(exc) or type(exc).__name__
    log.info(
        "delivered",
        extra={
            "action": "delivery.sent",
            "delivery_id": item.delivery_id,
            "alert_key": item.message.key,
            "channel": item.channel,
        },
    )
    return None

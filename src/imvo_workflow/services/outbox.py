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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    or_,
    select,
    tuple_,
    update,
)

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.alerts import AlertKind
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.targets import target_name
from imvo_workflow.notify.channels import Sender
from imvo_workflow.notify.message import AlertMessage

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


_D = t.delivery
#: Due: pending and its time has come, or sending under a lease that lapsed.
_PICK = (
    select(_D.c.id)
    .where(
        or_(
            and_(_D.c.status == "pending", _D.c.next_attempt_at <= bindparam("moment")),
            and_(_D.c.status == "sending", _D.c.lease_until <= bindparam("moment")),
        )
    )
    .order_by(_D.c.next_attempt_at, _D.c.id)
    .limit(bindparam("limit", type_=Integer))
)
_LEASE = update(_D).values(
    status="sending", lease_until=bindparam("lease_until"), attempts=_D.c.attempts + 1
)


def _message_query(source: FromClause) -> Select[Any]:
    """The claimed deliveries (rows of `source`) with everything their message says."""
    a, c, s, tg = t.alert, t.covenant, t.sector, t.target
    return (
        select(
            source.c.id,
            source.c.channel,
            source.c.recipient,
            source.c.attempts,
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
        .select_from(source)
        .join(a, a.c.id == source.c.alert_id)
        .outerjoin(c, c.c.id == a.c.covenant_id)
        .outerjoin(s, s.c.id == c.c.sector_id)
        .outerjoin(tg, tg.c.id == a.c.target_id)
        .order_by(source.c.id)
    )


_PICKED = _PICK.with_for_update(skip_locked=True).cte("picked")
#: PostgreSQL: pick (skipping rows another claimer holds), lease and read, in one statement.
_CLAIM_POSTGRES = _message_query(
    _LEASE.where(_D.c.id.in_(select(_PICKED.c.id)))
    .returning(_D.c.id, _D.c.channel, _D.c.recipient, _D.c.attempts, _D.c.alert_id)
    .cte("leased")
)
#: SQLite (its write lock is held from BEGIN IMMEDIATE): the leased ids' messages.
_MESSAGES_OF = _message_query(_D).where(_D.c.id.in_(bindparam("ids", expanding=True)))


def claim(*, uow: UnitOfWork, now: datetime, limit: int = 50, base_url: str = "") -> list[Claimed]:
    """Take up to `limit` due deliveries for this process, one transaction.

    PostgreSQL picks, leases and reads them in one statement (a data-modifying CTE): each
    round trip is a good share of what a loopback delivery costs. SQLite takes three small
    ones. The statements are built once; only their values change.
    """
    moment = now.astimezone(UTC)
    values = {"moment": moment, "limit": limit, "lease_until": moment + LEASE}
    with uow:
        if uow.dialect == "postgresql":
            rows = uow.conn.execute(_CLAIM_POSTGRES, values)
        else:
            ids = list(uow.conn.execute(_PICK, values).scalars())
            if not ids:
                return []
            uow.conn.execute(_LEASE.where(_D.c.id.in_(ids)), values)
            rows = uow.conn.execute(_MESSAGES_OF, {"ids": ids})
        claimed = _claimed(rows, now.astimezone(AMSTERDAM).date(), base_url)
        uow.commit()
    return claimed


def _claimed(rows: Iterable[Any], today: date, base_url: str) -> list[Claimed]:
    return [
        Claimed(
            r.id,
            r.channel,
            r.recipient,
            r.attempts,
            AlertMessage(
                alert_id=r.alert_id,
                key=r.key,
                kind=AlertKind(r.kind),
                days=r.days,
                covenant=r.slug or "",
                title=r.title or "",
                sector=r.sector or "",
                stage=r.stage or "",
                what=target_name(r.target_stage, r.milestone),
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
    with uow.holding_connection():
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

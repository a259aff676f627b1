"""Delivering alerts at least once: claim, send outside the transaction, record the outcome.

Claiming marks a batch of due deliveries `sending` with a lease and commits; on PostgreSQL
the claim skips rows another process has locked (`FOR UPDATE SKIP LOCKED`), on SQLite the
immediate write transaction serialises claimers. The send happens outside any transaction,
so a slow receiver holds no lock. Each outcome is recorded as soon as it is known, in its own
small transaction; a drain that stops (SIGTERM, a lease running out) hands back the claims it
never tried. A process killed mid-send leaves only the claims it had not finished to lapse
and be claimed again: of those, only the one being sent at the moment of the kill may reach
its receiver twice (the idempotency key lets it tell), none zero times.

A failure is retried with exponential backoff and jitter, up to a maximum number of
attempts; then (or at once, for a delivery that can never be sent) the delivery is `failed`
and the admins get an inbox alert. `retry` puts failed deliveries back in the queue.

What is written here only has to survive a killed process, not a crashed database server:
a lost claim or outcome means one more delivery, which at-least-once and the idempotency key
already cover. So on PostgreSQL neither claims nor outcomes wait for the WAL flush (SQLite in
WAL mode with synchronous=NORMAL does not flush per commit either); a sent outcome is one
statement in one round trip.

The outbox runs on the real clock (`clock`): leases, retry times and what is due. Under a
pinned application clock (IMVO_NOW) a killed scheduler's leases still lapse and retries
still come. A delivery never tried (attempts 0) is due at once, whichever clock queued it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    FromClause,
    Integer,
    Select,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
    update,
)

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.alerts import AlertKind
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import InvalidInput, NotFound
from imvo_workflow.domain.targets import target_name
from imvo_workflow.notify.channels import Sender, Undeliverable
from imvo_workflow.notify.message import AlertMessage
from imvo_workflow.services.alerts import queue_deliveries, raise_alert

log = logging.getLogger("imvo.outbox")
LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    channel: str
    recipient: str
    attempts: int
    message: AlertMessage
    #: Webhook: the signing secrets of the subscriptions to this address.
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int
    failed: int


@dataclass(frozen=True, slots=True)
class Backoff:
    """When to try a failed delivery again, and how often at most.

    The delay doubles per attempt up to the cap; `jitter` (a fraction, 0.2 = ±20 %) spreads
    the retries of many deliveries that failed together (a receiver that was down), so they
    do not all come back at the same second. After `max_attempts` the delivery is failed.
    """

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 10
    jitter: float = 0.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempts: int) -> timedelta:
        seconds = min(self.base_seconds * 2 ** max(attempts - 1, 0), self.cap_seconds)
        if self.jitter:
            seconds *= 1 + self.jitter * (2 * self.random() - 1)
        return timedelta(seconds=seconds)


_D = t.delivery
#: Due: pending and its time has come (or never tried), or sending under a lease that lapsed.
_PICK = (
    select(_D.c.id)
    .where(
        or_(
            and_(
                _D.c.status == "pending",
                or_(_D.c.next_attempt_at <= bindparam("moment"), _D.c.attempts == 0),
            ),
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


def claim(
    *,
    uow: UnitOfWork,
    now: datetime,
    limit: int = 50,
    base_url: str = "",
    today: date | None = None,
) -> list[Claimed]:
    """Take up to `limit` due deliveries for this process, one transaction.

    PostgreSQL picks, leases and reads them in one statement (a data-modifying CTE): each
    round trip is a good share of what a loopback delivery costs. SQLite takes three small
    ones. The statements are built once; only their values change. Webhook deliveries also
    read the signing secrets of their address (one more statement, only when there are any).
    """
    moment = now.astimezone(UTC)
    values = {"moment": moment, "limit": limit, "lease_until": moment + LEASE}
    with uow:
        if uow.dialect == "postgresql":
            # A claim lost to a crashed server only means the delivery is claimed again
            # (at least once still holds): its commit need not wait for the WAL flush.
            uow.conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "SET LOCAL synchronous_commit = off"
            )
            rows = uow.conn.execute(_CLAIM_POSTGRES, values)
        else:
            ids = list(uow.conn.execute(_PICK, values).scalars())
            if not ids:
                return []
            uow.conn.execute(_LEASE.where(_D.c.id.in_(ids)), values)
            rows = uow.conn.execute(_MESSAGES_OF, {"ids": ids})
        found = rows.all()
        secrets = _secrets(uow.conn, {r.recipient for r in found if r.channel == "webhook"})
        day = today or now.astimezone(AMSTERDAM).date()
        claimed = _claimed(found, day, base_url, secrets)
        uow.commit()
    return claimed


_SUB = t.subscription
#: Every webhook subscription's secret: a handful of rows, read whole (no per-claim IN list).
_SECRETS = DriverStatement(
    select(_SUB.c.address, _SUB.c.secret).where(
        _SUB.c.channel == "webhook", _SUB.c.secret.is_not(None)
    )
)


def _secrets(conn: Connection, addresses: set[str]) -> dict[str, tuple[str, ...]]:
    """The signing secrets of the webhook subscriptions to each address."""
    if not addresses:
        return {}
    found: dict[str, set[str]] = {}
    for address, secret in _SECRETS.execute(conn, {}).all():
        if address in addresses:
            found.setdefault(address, set()).add(secret)
    return {address: tuple(sorted(secrets)) for address, secrets in found.items()}


def _claimed(
    rows: Iterable[Any],
    today: date,
    base_url: str,
    secrets: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Claimed]:
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
            (secrets or {}).get(r.recipient, ()) if r.channel == "webhook" else (),
        )
        for r in rows
    ]


def finish(
    *,
    uow: UnitOfWork,
    claimed: Claimed,
    error: str | None,
    now: datetime,
    backoff: Backoff,
    permanent: bool = False,
) -> None:
    """Record the outcome of one send, in its own transaction: sent, retry later, or failed.

    Only the claim that owns a row records its outcome: a claim whose lease lapsed and was
    taken over (attempts moved on) must not undo the newer claim's result. A send's outcome
    only has to survive a killed process, not a crashed database server (the idempotency key
    covers one more delivery): on PostgreSQL its commit does not wait for the WAL flush
    (SQLite in WAL mode with synchronous=NORMAL does not flush per commit either).
    """
    d = t.delivery
    moment = now.astimezone(UTC)
    with uow:
        if error is None:  # the hot path: one statement, built once, straight on the driver
            _record_sent(uow, claimed, moment)
            uow.commit()
            return
        owner = (
            (d.c.id == claimed.delivery_id)
            & (d.c.status == "sending")
            & (d.c.attempts == claimed.attempts)
        )
        if permanent or claimed.attempts >= backoff.max_attempts:
            done = uow.conn.execute(
                update(d)
                .where(owner)
                .values(status="failed", lease_until=None, last_error=error[:2000])
            )
            if done.rowcount and claimed.message.kind is not AlertKind.DELIVERY_FAILED:
                _tell_admins(uow.conn, claimed, error, moment)
        else:
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


def _record_sent(uow: UnitOfWork, claimed: Claimed, moment: datetime) -> None:
    """Mark one delivery sent: a single statement, atomic on its own.

    On PostgreSQL it runs as its own implicit transaction (autocommit for that statement):
    one round trip instead of BEGIN, UPDATE and COMMIT, three per alert sent. The unit of
    work's own transaction has sent nothing yet (psycopg begins lazily), so its commit has
    nothing left to do.
    """
    params = {"b_id": claimed.delivery_id, "b_attempts": claimed.attempts, "b_at": moment}
    if uow.dialect != "postgresql":
        _SENT.execute(uow.conn, params)
        return
    driver: Any = uow.conn.connection.driver_connection
    driver.autocommit = True
    try:
        _SENT.execute(uow.conn, params)
    finally:
        driver.autocommit = False


def _sent(dialect: str) -> Update:
    """Record a send; on PostgreSQL its commit need not wait for the WAL flush (see `finish`).

    `set_config(…, true)` is SET LOCAL as an expression: in the statement itself it saves a
    round trip per outcome, a good share of what a loopback delivery costs.
    """
    owned = [_D.c.id == bindparam("b_id"), _D.c.attempts == bindparam("b_attempts")]
    if dialect == "postgresql":
        owned.append(func.set_config("synchronous_commit", "off", True) == "off")
    return (
        update(_D)
        .where(_D.c.status == "sending", *owned)
        .values(status="sent", sent_at=bindparam("b_at"), lease_until=None, last_error=None)
    )


_SENT = DriverStatement(_sent("sqlite"), for_dialect=_sent)


def release(*, uow: UnitOfWork, claimed: Sequence[Claimed]) -> None:
    """Hand back claims that were never tried: pending again, as if never claimed."""
    if not claimed:
        return
    d = t.delivery
    with uow:
        uow.conn.execute(
            update(d)
            .where(
                tuple_(d.c.id, d.c.attempts).in_([(c.delivery_id, c.attempts) for c in claimed]),
                d.c.status == "sending",
            )
            .values(status="pending", lease_until=None, attempts=d.c.attempts - 1)
        )
        uow.commit()


def _tell_admins(conn: Connection, claimed: Claimed, error: str, moment: datetime) -> None:
    """One inbox alert per failed delivery, to every admin, through the alert pipeline."""
    message = claimed.message
    what = message.what or message.kind.label.lower()
    lines = [
        f"Bezorging {claimed.delivery_id} van melding {message.alert_id} "
        f"({message.kind.label}: {what}) via {claimed.channel} aan {claimed.recipient} "
        f"is mislukt na {claimed.attempts} poging(en).",
        f"Reden: {error[:500]}",
        f"Opnieuw versturen: imvo alerts retry {claimed.delivery_id}",
    ]
    alert_id = raise_alert(
        conn,
        key=f"delivery-failed/{claimed.delivery_id}/{moment:%Y%m%dT%H%M%S.%f}",
        kind=AlertKind.DELIVERY_FAILED,
        covenant_id=None,
        fire_at=moment,
        raised_at=moment,
        lines=lines,
    )
    admins = conn.execute(select(t.user.c.name).where(t.user.c.role == "admin")).scalars()
    queue_deliveries(conn, [(alert_id, "inbox", name) for name in admins], moment)
    log.warning(
        "delivery failed for good",
        extra={
            "action": "delivery.failed_for_good",
            "delivery_id": claimed.delivery_id,
            "alert_key": message.key,
            "channel": claimed.channel,
            "error": error,
        },
    )


def retry(*, uow: UnitOfWork, delivery_id: int | None, now: datetime) -> int:
    """Send failed deliveries again: one (`delivery_id`) or all; back to pending, attempts 0."""
    d = t.delivery
    with uow:
        query = update(d).where(d.c.status == "failed")
        if delivery_id is not None:
            status = uow.conn.execute(select(d.c.status).where(d.c.id == delivery_id)).scalar()
            if status is None:
                raise NotFound("bezorging", str(delivery_id))
            if status != "failed":
                raise InvalidInput(
                    f"Bezorging {delivery_id} is niet mislukt (status: {status}); "
                    "alleen mislukte bezorgingen worden opnieuw verstuurd."
                )
            query = query.where(d.c.id == delivery_id)
        done = uow.conn.execute(
            query.values(
                status="pending", attempts=0, next_attempt_at=now.astimezone(UTC), lease_until=None
            )
        ).rowcount
        uow.commit()
    return int(done)


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
    today: Callable[[], date] | None = None,
) -> DrainResult:
    """Deliver what is due, batch by batch, until nothing is due (or `max_batches`).

    `clock` is the outbox's clock (the real one in a scheduler); `today` dates the messages
    ("te laat: 22 dagen"), by default the clock's date. A claim is only worked on while its
    lease holds (with a margin): what is left when a slow receiver used up the lease, or when
    `should_stop` says so, is released at once rather than sent by two processes.
    """
    sent = failed = 0
    with uow.holding_connection():
        for _ in range(max_batches):
            claimed_at = clock()
            claimed = claim(
                uow=uow,
                now=claimed_at,
                limit=batch,
                base_url=base_url,
                today=today() if today else None,
            )
            if not claimed:
                break
            for n, item in enumerate(claimed):
                if should_stop() or clock() - claimed_at > LEASE * 0.75:
                    release(uow=uow, claimed=claimed[n:])
                    return DrainResult(sent, failed)
                error, permanent = _send(senders, item)
                finish(
                    uow=uow,
                    claimed=item,
                    error=error,
                    now=clock(),
                    backoff=backoff,
                    permanent=permanent,
                )
                sent, failed = (sent + 1, failed) if error is None else (sent, failed + 1)
    return DrainResult(sent, failed)


def _send(senders: Mapping[str, Sender], item: Claimed) -> tuple[str | None, bool]:
    """Send one delivery: (None, False) when sent, else (the reason, whether it is for good)."""
    sender = senders.get(item.channel)
    if sender is None:
        return f"onbekend kanaal '{item.channel}'", False
    try:
        sender(item.message, item.recipient, secrets=item.secrets)
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
        return str(exc) or type(exc).__name__, isinstance(exc, Undeliverable)
    log.info(
        "delivered",
        extra={
            "action": "delivery.sent",
            "delivery_id": item.delivery_id,
            "alert_key": item.message.key,
            "channel": item.channel,
        },
    )
    return None, False

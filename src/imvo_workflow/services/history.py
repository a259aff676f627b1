"""The one owner of each covenant's history chain: open it, read its head, append to it.

Every entry of a covenant's history (its creation, a move, a correction, and the kinds of
entry still to come: target changes, parties joining or leaving, signatures, progress notes)
is written here and nowhere else, so all of them are chained, hashed and verified alike
(domain/chain.py holds the canonical form and the pure checks).

The chain's head lives on the covenant row (last_seq, head_hash) next to its version. An
append moves the head with an UPDATE guarded by the version the caller read: if another
transaction appended first, it matches nothing and this append is refused before anything is
written. These helpers run inside the caller's transaction and take its connection; statements
are compiled once and run on the driver (db/driver.py), because a move is the hot path.

On PostgreSQL, `append_in_one` makes the same append, and the caller's bookkeeping, in one
statement (data-modifying CTEs): a round trip there costs more than the work. Its guard is
every field of the head the entry is chained on, so the hash computed here from that head is
right whenever the statement writes at all, however the caller came by the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from sqlalchemy import (
    BindParameter,
    Connection,
    Update,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.domain.chain import GENESIS, OPENING_TRIGGER, ChainEntry, entry_hash
from imvo_workflow.domain.errors import ConcurrentUpdate, NotFound
from imvo_workflow.domain.record import RecordKind, canonical_detail
from imvo_workflow.services.lookup import normalise, refuse_unknown

_HEAD_COLUMNS = (
    t.covenant.c.id,
    t.covenant.c.slug,
    t.covenant.c.stage,
    t.covenant.c.stage_since,
    t.covenant.c.version,
    t.covenant.c.last_seq,
    t.covenant.c.head_hash,
)
_HEAD_BY_SLUG = DriverStatement(
    select(*_HEAD_COLUMNS).where(t.covenant.c.slug == bindparam("b_slug"))
)
_HEAD_BY_ID = DriverStatement(select(*_HEAD_COLUMNS).where(t.covenant.c.id == bindparam("b_id")))

_NEW_HEAD: dict[str, BindParameter[Any]] = {
    "stage": bindparam("b_stage"),
    "stage_since": bindparam("b_since"),
    "version": bindparam("b_new_version"),
    "last_seq": bindparam("b_seq"),
    "head_hash": bindparam("b_hash"),
    "definition_version": bindparam("b_defversion"),
}
_MOVE_HEAD = DriverStatement(
    update(t.covenant)
    .where(t.covenant.c.id == bindparam("b_id"), t.covenant.c.version == bindparam("b_version"))
    .values(_NEW_HEAD)
)

_ENTRY_COLUMNS = (*ChainEntry.__dataclass_fields__, "hash")
_INSERT_ENTRY = DriverStatement(
    insert(t.transition).values({name: bindparam(name) for name in _ENTRY_COLUMNS})
)

# PostgreSQL, one round trip: the head UPDATE as a data-modifying CTE, guarded by every field
# of the head the new entry is chained on (not the version alone), so a row comes back only
# while the covenant is exactly that head; the entry is inserted from that row, so without
# it nothing is. The caller's own bookkeeping joins the statement guarded by HEAD_MOVED.
_c = t.covenant
_MOVED = (
    update(_c)
    .where(
        _c.c.id == bindparam("b_id"),
        _c.c.slug == bindparam("b_slug"),
        _c.c.version == bindparam("b_version"),
        _c.c.stage == bindparam("b_old_stage"),
        _c.c.stage_since == bindparam("b_old_since"),
        _c.c.last_seq == bindparam("b_last_seq"),
        _c.c.head_hash == bindparam("b_prev_hash"),
    )
    .values(_NEW_HEAD)
    .returning(_c.c.id)
    .cte("moved")
)
_ENTRY = (
    insert(t.transition)
    .from_select(
        _ENTRY_COLUMNS,
        select(
            _MOVED.c.id,
            *(bindparam(f"e_{n}", type_=t.transition.c[n].type) for n in _ENTRY_COLUMNS[1:]),
        ),
    )
    .cte("entry")
)
#: The condition a caller's statement in `one_statement` must carry: the head has moved.
HEAD_MOVED = exists(select(_MOVED.c.id))


@dataclass(frozen=True, slots=True)
class Head:
    """A covenant's current stage, version and chain head, read at the start of a change."""

    covenant_id: int
    slug: str
    stage: str
    stage_since: date
    version: int
    last_seq: int
    head_hash: str


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What a caller appends; the chain's own fields (seq, previous hash, recorded_at, hash)
    are filled in here. `to_stage`/`stage_since` are the covenant's stage after the entry
    (unchanged by entries that do not move it); `from_stage` defaults to the head's stage."""

    trigger: str
    actor: str
    reason: str
    occurred_on: date
    to_stage: str
    stage_since: date
    definition_version: str
    from_stage: str | None = None
    corrects_seq: int | None = None
    detail: str | None = None


def read_head(conn: Connection, covenant: str) -> Head:
    """The head of the covenant called `covenant` (its slug or name, as a coordinator types it)."""
    slug = normalise(covenant)
    row = _HEAD_BY_SLUG.execute(conn, {"b_slug": slug}).one_or_none()
    if row is None:
        refuse_unknown(conn, covenant)
    return Head(*row)


def read_head_by_id(conn: Connection, covenant_id: int) -> Head:
    """The head of a covenant the caller already holds by id (the seed, a correction)."""
    row = _HEAD_BY_ID.execute(conn, {"b_id": covenant_id}).one_or_none()
    if row is None:
        raise NotFound("convenant", f"#{covenant_id}")
    return Head(*row)


def open_chain(
    conn: Connection,
    covenant_id: int,
    *,
    stage: str,
    actor: str,
    reason: str,
    occurred_on: date,
    now: datetime,
    definition_version: str,
) -> str:
    """Write a new covenant's first entry (from nothing to `stage`) and its head; returns the
    hash. The covenant row was just inserted with version 1 and an empty chain (last_seq 0)."""
    head = Head(covenant_id, "", stage, occurred_on, 1, 0, GENESIS)
    _, digest = _write(
        conn,
        head,
        NewEntry(
            trigger=OPENING_TRIGGER,
            actor=actor,
            reason=reason,
            occurred_on=occurred_on,
            to_stage=stage,
            stage_since=occurred_on,
            definition_version=definition_version,
        ),
        from_stage=None,
        now=now,
        new_version=1,
    )
    return digest


def append(conn: Connection, head: Head, entry: NewEntry, *, now: datetime) -> tuple[int, str]:
    """Append `entry` after `head` and move the head; returns (seq, hash).

    Refused with ConcurrentUpdate, nothing written, when the covenant changed since `head`
    was read.
    """
    from_stage = head.stage if entry.from_stage is None else entry.from_stage
    return _write(conn, head, entry, from_stage=from_stage, now=now, new_version=head.version + 1)


def one_statement(bookkeeping: Update) -> DriverStatement:
    """The statement `append_in_one` runs: the guarded head UPDATE, the entry INSERT and
    `bookkeeping` (an UPDATE whose WHERE includes HEAD_MOVED) as one WITH statement, which
    returns how many heads it moved (0 or 1). Build it once per kind of bookkeeping."""
    return DriverStatement(
        select(func.count()).select_from(_MOVED).add_cte(_ENTRY, bookkeeping.cte("bookkeeping"))
    )


def append_in_one(
    conn: Connection,
    statement: DriverStatement,
    head: Head,
    entry: NewEntry,
    *,
    now: datetime,
    params: dict[str, Any],
) -> tuple[int, str] | None:
    """`append`, and `statement`'s bookkeeping (with `params`), in one round trip on
    PostgreSQL; returns (seq, hash), or None, with nothing written, when the covenant is no
    longer exactly `head` (changed since it was read, or `head` was remembered wrongly)."""
    from_stage = head.stage if entry.from_stage is None else entry.from_stage
    chained, digest = _chain(head, entry, from_stage=from_stage, now=now)
    values = _head_values(head, entry, chained, digest, head.version + 1)
    values |= {
        "b_slug": head.slug,
        "b_old_stage": head.stage,
        "b_old_since": head.stage_since,
        "b_last_seq": head.last_seq,
        "b_prev_hash": head.head_hash,
        "e_hash": digest,
    }
    for name in _ENTRY_COLUMNS[1:-1]:
        values[f"e_{name}"] = getattr(chained, name)
    moved = statement.execute(conn, params | values).one()[0]
    return (chained.seq, digest) if moved == 1 else None


def record(
    conn: Connection,
    head: Head,
    kind: RecordKind,
    detail: dict[str, Any],
    *,
    actor: str,
    reason: str,
    occurred_on: date,
    definition_version: str,
    now: datetime,
) -> tuple[int, str]:
    """Append a record entry (a change that does not move the covenant); returns (seq, hash).

    The covenant stays in its stage (and its stage's date); its version moves on like any
    append, so a form or client that read the old version learns the record changed.
    """
    return append(
        conn,
        head,
        NewEntry(
            trigger=kind.value,
            actor=actor,
            reason=reason,
            occurred_on=occurred_on,
            to_stage=head.stage,
            stage_since=head.stage_since,
            definition_version=definition_version,
            detail=canonical_detail(detail),
        ),
        now=now,
    )


def _chain(
    head: Head, entry: NewEntry, *, from_stage: str | None, now: datetime
) -> tuple[ChainEntry, str]:
    """The entry after `head`, with its chain fields filled in, and its hash."""
    chained = ChainEntry(
        head.covenant_id,
        head.last_seq + 1,
        from_stage,
        entry.to_stage,
        entry.trigger,
        entry.actor,
        entry.reason,
        entry.occurred_on,
        now.astimezone(UTC),
        entry.definition_version,
        head.head_hash,
        entry.corrects_seq,
        entry.detail,
    )
    return chained, entry_hash(chained)


def _head_values(
    head: Head, entry: NewEntry, chained: ChainEntry, digest: str, new_version: int
) -> dict[str, Any]:
    """The parameters of the guarded head UPDATE (the head read, the head written)."""
    return {
        "b_id": head.covenant_id,
        "b_version": head.version,
        "b_stage": entry.to_stage,
        "b_since": entry.stage_since,
        "b_new_version": new_version,
        "b_seq": chained.seq,
        "b_hash": digest,
        "b_defversion": entry.definition_version,
    }


def refuse_race(head: Head) -> NoReturn:
    raise ConcurrentUpdate(
        f"{head.slug} is zojuist door iemand anders gewijzigd; jouw stap is niet "
        "opgeslagen. Bekijk de nieuwe stand en probeer het opnieuw."
    )


def _write(
    conn: Connection,
    head: Head,
    entry: NewEntry,
    *,
    from_stage: str | None,
    now: datetime,
    new_version: int,
) -> tuple[int, str]:
    chained, digest = _chain(head, entry, from_stage=from_stage, now=now)
    moved = _MOVE_HEAD.execute(conn, _head_values(head, entry, chained, digest, new_version))
    if moved.rowcount != 1:
        refuse_race(head)
    row = {name: getattr(chained, name) for name in ChainEntry.__dataclass_fields__}
    row["hash"] = digest
    _INSERT_ENTRY.execute(conn, row)
    return chained.seq, digest

"""Moving a covenant between stages: the product's hot path, one transaction per move.

A move reads the covenant's row, asks the shared Machine whether the move is allowed, checks
the transition's requirements, then writes with Core statements (compiled once, run on the
driver underneath the unit of work's connection: see db/driver.py): the covenant row (guarded
by its version: a concurrent move makes the UPDATE match nothing and this one is refused,
never lost), one history row chained to the previous one by hash, and the bookkeeping of
targets the move meets or makes unreachable.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, case, func, insert, literal, or_, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement, read_date
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.chain import ChainEntry, entry_hash
from imvo_workflow.domain.definition import Transition, WorkflowDefinition
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    Forbidden,
    InvalidInput,
    NotFound,
    RequirementMissing,
)
from imvo_workflow.settings import AMSTERDAM

_READ = DriverStatement(
    select(
        t.covenant.c.slug,
        t.covenant.c.stage,
        t.covenant.c.stage_since,
        t.covenant.c.version,
        t.covenant.c.last_seq,
        t.covenant.c.head_hash,
    ).where(t.covenant.c.id == bindparam("b_id"))
)

_WRITE = DriverStatement(
    update(t.covenant)
    .where(t.covenant.c.id == bindparam("b_id"), t.covenant.c.version == bindparam("b_version"))
    .values(
        stage=bindparam("b_stage"),
        stage_since=bindparam("b_since"),
        version=bindparam("b_new_version"),
        last_seq=bindparam("b_seq"),
        head_hash=bindparam("b_hash"),
        definition_version=bindparam("b_defversion"),
    )
)

_HISTORY_COLUMNS = (*ChainEntry.__dataclass_fields__, "hash")
_APPEND = DriverStatement(
    insert(t.transition).values({name: bindparam(name) for name in _HISTORY_COLUMNS})
)

#: Per definition and destination: the UPDATE that closes the targets a move meets or ends.
_CLOSERS: weakref.WeakKeyDictionary[WorkflowDefinition, dict[str, DriverStatement]] = (
    weakref.WeakKeyDictionary()
)


def _closer(definition: WorkflowDefinition, dest: str) -> DriverStatement:
    by_dest = _CLOSERS.setdefault(definition, {})
    found = by_dest.get(dest)
    if found is None:
        tg = t.target
        which = [tg.c.covenant_id == bindparam("b_id"), tg.c.status == "open"]
        if not definition.stages[dest].cancels_targets:
            # met when its stage is reached; cancelled when no longer meetable from here
            ended = [s for s in definition.stages if s not in definition.ahead_of(dest)]
            which.append(
                or_(
                    tg.c.stage == bindparam("b_dest"),
                    tg.c.stage.in_([literal(stage) for stage in ended]),
                )
                if ended
                else tg.c.stage == bindparam("b_dest")
            )
        found = DriverStatement(
            update(tg)
            .where(*which)
            .values(
                status=case((tg.c.stage == bindparam("b_dest"), "met"), else_="cancelled"),
                closed_on=bindparam("b_on"),
                closed_at=bindparam("b_now"),
            )
        )
        by_dest[dest] = found
    return found


_PARTIES = select(func.count()).where(
    t.participation.c.covenant_id == bindparam("b_id"),
    t.participation.c.role.in_(("trekker", "partij")),
)


_SIGNATURES = select(func.count()).where(t.signature.c.covenant_id == bindparam("b_id"))


@dataclass(frozen=True, slots=True)
class MoveResult:
    covenant: str
    from_stage: str
    to_stage: str
    trigger: str
    seq: int
    version: int
    occurred_on: date
    hash: str


def move(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant_id: int,
    to: str,
    actor: str,
    reason: str = "",
    occurred_on: date | None = None,
    expected_version: int | None = None,
    role: str | None = None,
    now: datetime,
) -> MoveResult:
    """Move a covenant to stage (or by trigger) `to`; refuse with a DomainError otherwise."""
    with uow:
        result = apply_move(
            uow=uow,
            definition=definition,
            covenant_id=covenant_id,
            to=to,
            actor=actor,
            reason=reason,
            occurred_on=occurred_on,
            expected_version=expected_version,
            role=role,
            now=now,
        )
        uow.commit()
    return result


def apply_move(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant_id: int,
    to: str,
    actor: str,
    reason: str = "",
    occurred_on: date | None = None,
    expected_version: int | None = None,
    role: str | None = None,
    now: datetime,
) -> MoveResult:
    """The move inside the caller's transaction (the seed replays many in one)."""
    if not actor.strip():
        raise RequirementMissing("Geef aan wie deze stap zet.", "actor")
    today = now.astimezone(AMSTERDAM).date()
    row = read_head(uow, covenant_id)
    if expected_version is not None and expected_version != row.version:
        raise ConcurrentUpdate(
            f"{row.slug} is intussen gewijzigd (versie {row.version}, jij had versie "
            f"{expected_version}). Bekijk de nieuwe stand en probeer het opnieuw."
        )
    tr = definition.resolve(row.stage, to, covenant=row.slug)
    _check_requirements(uow, tr, row.slug, covenant_id, reason, occurred_on, role)
    on = occurred_on or today
    if on > today:
        raise InvalidInput(f"De datum {on.isoformat()} ligt in de toekomst.")
    if on < row.stage_since:
        raise InvalidInput(
            f"De datum {on.isoformat()} ligt vóór de vorige stap van {row.slug} "
            f"({row.stage_since.isoformat()}); een stap kan niet eerder gebeuren."
        )
    dest = definition.fire(row.stage, tr.trigger)
    seq, digest = append_to_chain(
        uow,
        covenant_id,
        row,
        to_stage=dest,
        since=on,
        trigger=tr.trigger,
        actor=actor,
        reason=reason,
        occurred_on=on,
        now=now,
        definition_version=definition.version,
    )
    close_targets(uow, definition, covenant_id, dest, on, now)
    return MoveResult(row.slug, row.stage, dest, tr.trigger, seq, row.version + 1, on, digest)


@dataclass(frozen=True, slots=True)
class Head:
    """A covenant's current stage, version and chain head, as one move reads them."""

    slug: str
    stage: str
    stage_since: date
    version: int
    last_seq: int
    head_hash: str


def read_head(uow: UnitOfWork, covenant_id: int) -> Head:
    row = _READ.execute(uow.conn, {"b_id": covenant_id}).fetchone()
    if row is None:
        raise NotFound("convenant", f"#{covenant_id}")
    slug, stage, since, version, last_seq, head_hash = row
    return Head(slug, stage, read_date(since), version, last_seq, head_hash)


def append_to_chain(
    uow: UnitOfWork,
    covenant_id: int,
    head: Head,
    *,
    to_stage: str,
    since: date,
    trigger: str,
    actor: str,
    reason: str,
    occurred_on: date,
    now: datetime,
    definition_version: str,
    corrects_seq: int | None = None,
) -> tuple[int, str]:
    """Append one history row after `head` and move the covenant's head; returns (seq, hash).

    The covenant's UPDATE is guarded by the version read in `head`: if another transaction
    appended first it matches nothing, and this one is refused before anything is written.
    """
    seq = head.last_seq + 1
    entry = ChainEntry(
        covenant_id,
        seq,
        head.stage if corrects_seq is None else to_stage,
        to_stage,
        trigger,
        actor,
        reason,
        occurred_on,
        now.astimezone(UTC),
        definition_version,
        head.head_hash,
        corrects_seq,
    )
    digest = entry_hash(entry)
    written = _WRITE.execute(
        uow.conn,
        {
            "b_id": covenant_id,
            "b_version": head.version,
            "b_stage": to_stage,
            "b_since": since,
            "b_new_version": head.version + 1,
            "b_seq": seq,
            "b_hash": digest,
            "b_defversion": definition_version,
        },
    )
    if written.rowcount != 1:
        raise ConcurrentUpdate(
            f"{head.slug} is zojuist door iemand anders verplaatst; jouw stap is niet "
            "opgeslagen. Bekijk de nieuwe stand en probeer het opnieuw."
        )
    row = {name: getattr(entry, name) for name in ChainEntry.__dataclass_fields__}
    row["hash"] = digest
    _APPEND.execute(uow.conn, row)
    return seq, digest


def close_targets(
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant_id: int,
    dest: str,
    on: date,
    now: datetime,
) -> None:
    """Targets for `dest` are met; afgezien or stages no longer meetable cancel the rest."""
    params = {"b_id": covenant_id, "b_dest": dest, "b_on": on, "b_now": now.astimezone(UTC)}
    _closer(definition, dest).execute(uow.conn, params)


def _check_requirements(
    uow: UnitOfWork,
    tr: Transition,
    slug: str,
    covenant_id: int,
    reason: str,
    occurred_on: date | None,
    role: str | None,
) -> None:
    if role is not None and role not in tr.roles:
        raise Forbidden(
            f"Met de rol '{role}' mag je '{tr.label.nl}' niet uitvoeren "
            f"(toegestaan: {', '.join(tr.roles)})."
        )
    needs = tr.requires
    if needs.reason and not reason.strip():
        raise RequirementMissing(f"'{tr.label.nl}' vraagt om een reden.", "reason")
    if needs.date and occurred_on is None:
        raise RequirementMissing(f"'{tr.label.nl}' vraagt om de datum waarop het gebeurde.", "date")
    if needs.min_signatures:
        signed = uow.conn.execute(_SIGNATURES, {"b_id": covenant_id}).scalar_one()
        if signed < needs.min_signatures:
            raise RequirementMissing(
                f"'{tr.label.nl}' vraagt om minstens {needs.min_signatures} ondertekenaars; "
                f"voor {slug} zijn er {signed} vastgelegd (imvo sign)."
            )
    if needs.min_parties:
        count = uow.conn.execute(_PARTIES, {"b_id": covenant_id}).scalar_one()
        if count < needs.min_parties:
            raise RequirementMissing(
                f"'{tr.label.nl}' vraagt om minstens {needs.min_parties} partijen; "
                f"{slug} heeft er {count}."
            )

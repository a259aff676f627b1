"""Moving a covenant between stages: the product's hot path, one transaction per move.

A move reads the covenant's head, asks the shared Machine whether the move is allowed (its
conditions are the transition's roles and requirements, read from the facts the move brings),
then appends one entry to the covenant's history (services/history.py: the head moves under a
version guard, so a concurrent move is refused, never lost) and closes the targets the move
meets or makes unreachable. Statements are Core, compiled once and run on the driver
underneath the unit of work's connection (db/driver.py).

`move` is the user action (it takes the unit of work and commits); `make_move` is the same
step inside a transaction someone else owns (the seed replays many moves in one).

On PostgreSQL an ordinary move writes in one statement (services/history.py's
`append_in_one`: the guarded head UPDATE, the history INSERT and the target bookkeeping).
A `move` whose caller states the version this process committed last (services/known_heads.py)
skips its read too, and that one statement is its whole unit of work, committed as it
completes (UnitOfWork.one_statement): one round trip. SQLite keeps the separate statements,
where a round trip costs nothing.

The move to `ondertekend` may bring its signatories, and any move may close milestones in the
same step; reaching a terminal stage drops the milestones still open (services/milestones.py,
services/signatories.py). Only a move that brings any of that, or ends in a terminal stage,
pays for it: the ordinary move runs the same statements as before.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, literal, or_, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.continuation import CONTINUED_STAGE
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    DomainError,
    InvalidInput,
    RequirementMissing,
)
from imvo_workflow.domain.record import canonical_detail
from imvo_workflow.domain.requirements import MoveFacts
from imvo_workflow.services import history, known_heads, milestones, signatories
from imvo_workflow.services.lookup import normalise
from imvo_workflow.services.milestones import MilestoneClosing

#: Per definition and destination: the UPDATE that closes the targets a move meets or ends,
#: alone and (PostgreSQL) in one statement with the history append.
_CLOSERS: weakref.WeakKeyDictionary[
    WorkflowDefinition, dict[str, tuple[DriverStatement, DriverStatement]]
] = weakref.WeakKeyDictionary()


def _closer(definition: WorkflowDefinition, dest: str) -> tuple[DriverStatement, DriverStatement]:
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
        closing = update(tg).values(
            status=case((tg.c.stage == bindparam("b_dest"), "met"), else_="cancelled"),
            closed_on=bindparam("b_on"),
            closed_at=bindparam("b_now"),
        )
        found = (
            DriverStatement(closing.where(*which)),
            history.one_statement(closing.where(*which, history.HEAD_MOVED)),
        )
        by_dest[dest] = found
    return found


_PARTIES = DriverStatement(
    select(func.count()).where(
        t.participation.c.covenant_id == bindparam("b_id"),
        t.participation.c.role.in_(("trekker", "partij")),
        t.participation.c.until.is_(None),
    )
)
_SIGNATURES = DriverStatement(
    select(func.count()).where(t.signature.c.covenant_id == bindparam("b_id"))
)


@dataclass(frozen=True, slots=True)
class MoveRequest:
    """What a user asks: move `covenant` (its name) to stage or by trigger `to`."""

    covenant: str
    to: str
    actor: str
    reason: str = ""
    occurred_on: date | None = None
    expected_version: int | None = None
    role: str | None = None
    #: The slug of the covenant a move to `opgegaan` continues in (services/continuation.py).
    continues_in: str | None = None
    #: For the move to ondertekend: who signed (on the move's date), in one step.
    signatories: tuple[str, ...] = ()
    #: Add a signatory that is not yet a party as `partij` (else it is refused).
    add_as_party: bool = False
    milestones: tuple[MilestoneClosing, ...] = ()


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
    covenant: str,
    to: str,
    actor: str,
    reason: str = "",
    occurred_on: date | None = None,
    expected_version: int | None = None,
    role: str | None = None,
    signatories: tuple[str, ...] = (),
    add_as_party: bool = False,
    milestones: tuple[MilestoneClosing, ...] = (),
    now: datetime,
) -> MoveResult:
    """Move a covenant to stage (or by trigger) `to`; refuse with a DomainError otherwise."""
    request = MoveRequest(
        covenant,
        to,
        actor,
        reason,
        occurred_on,
        expected_version,
        role,
        signatories=signatories,
        add_as_party=add_as_party,
        milestones=milestones,
    )
    _check(request)
    postgresql = uow.dialect == "postgresql"
    known = None
    if postgresql and expected_version is not None and not _brings_more(request):
        known = known_heads.recall(uow.engine, normalise(covenant), expected_version)
    done = None
    if known is not None:
        with uow.one_statement():
            done = _from_known(uow.conn, definition, request, known, now)
            uow.commit()
    if done is None:
        with uow:
            done = _move(uow.conn, definition, request, now=now)
            uow.commit()
    result, head = done
    if postgresql:
        known_heads.remember(uow.engine, head)
    return result


def make_move(
    conn: Connection, definition: WorkflowDefinition, request: MoveRequest, *, now: datetime
) -> MoveResult:
    """The move inside the caller's transaction."""
    _check(request)
    return _move(conn, definition, request, now=now)[0]


def _check(request: MoveRequest) -> None:
    """The request's own bounds, before anything is read."""
    check_label(request.actor, "Wie de stap zet")
    check_text(request.reason, "De reden")
    check_label(request.to, "De doelfase")
    if request.occurred_on is not None:
        check_date(request.occurred_on, "De datum")
    if not request.actor.strip():
        raise RequirementMissing("Geef aan wie deze stap zet.", "actor")


def _move(
    conn: Connection, definition: WorkflowDefinition, request: MoveRequest, *, now: datetime
) -> tuple[MoveResult, history.Head]:
    """The move from the head read in this transaction, and the covenant's head after it."""
    one_trip = conn.dialect.name == "postgresql"
    head = history.read_head(conn, request.covenant)
    step = _judge(conn, definition, request, head, now)
    if one_trip and not step.extra:
        written = _append_in_one(conn, definition, head, step.entry, now=now)
        if written is None:
            history.refuse_race(head)
        return _result(head, step, *written)
    seq, digest = history.append(conn, head, step.entry, now=now)
    after = milestones.after_entry(head, seq, digest, stage=step.dest, since=step.on)
    if step.extra:
        after = signatories.record(
            conn, after, definition, step.signing, on=step.on, actor=request.actor, now=now
        )
        for closing in request.milestones:
            after = milestones.close_in(
                conn, after, definition, closing, actor=request.actor, default_on=step.on, now=now
            )
        if definition.stages[step.dest].terminal:
            after = milestones.drop_open(
                conn, after, definition, actor=request.actor, on=step.on, now=now
            )
    close_targets(conn, definition, head.covenant_id, step.dest, step.on, now)
    result = MoveResult(
        head.slug, head.stage, step.dest, step.trigger, seq, after.version, step.on, digest
    )
    return result, after


def _from_known(
    conn: Connection,
    definition: WorkflowDefinition,
    request: MoveRequest,
    known: history.Head,
    now: datetime,
) -> tuple[MoveResult, history.Head] | None:
    """The ordinary move from a head this process committed, as one statement (PostgreSQL).

    The statement writes only while the covenant is still exactly `known`. None, nothing
    written, when it is not, when a check refuses on `known`, or when the move needs more
    than the one statement: the move is then made from the head read in a transaction, so
    its answer (a conflict first of all) is the one it always was."""
    try:
        step = _judge(conn, definition, request, known, now)
    except DomainError:
        return None
    if step.extra:
        return None
    written = _append_in_one(conn, definition, known, step.entry, now=now)
    return None if written is None else _result(known, step, *written)


def _brings_more(request: MoveRequest) -> bool:
    return bool(request.signatories or request.milestones)


@dataclass(frozen=True, slots=True)
class _Step:
    """A move judged allowed from a head: the entry to write and what else it brings."""

    trigger: str
    dest: str
    on: date
    entry: history.NewEntry
    signing: list[signatories.Signatory]
    #: Signatories, milestones or a terminal stage: more than the one statement writes.
    extra: bool


def _judge(
    conn: Connection,
    definition: WorkflowDefinition,
    request: MoveRequest,
    head: history.Head,
    now: datetime,
) -> _Step:
    """Whether the move is allowed from `head` (the Machine decides), checked before anything
    is written; refused with a DomainError."""
    today = now.astimezone(AMSTERDAM).date()
    if request.expected_version is not None and request.expected_version != head.version:
        raise ConcurrentUpdate(
            f"{head.slug} is intussen gewijzigd (versie {head.version}, jij had versie "
            f"{request.expected_version}). Bekijk de nieuwe stand en probeer het opnieuw."
        )
    tr = definition.resolve(head.stage, request.to, covenant=head.slug)
    on = request.occurred_on or today
    signing: list[signatories.Signatory] = []
    if request.signatories:
        signing = _signing(conn, head, tr.dest, request, on, now)
    for closing in request.milestones:
        milestones.check_closing(closing)
    joining = sum(who.joins for who in signing)
    facts = MoveFacts(
        covenant=head.slug,
        role=request.role,
        reason=request.reason,
        occurred_on=request.occurred_on,
        count_parties=lambda: _count(conn, _PARTIES, head.covenant_id) + joining,
        count_signatures=lambda: _count(conn, _SIGNATURES, head.covenant_id) + len(signing),
    )
    dest = definition.fire(head.stage, tr.trigger, facts)
    if (dest == CONTINUED_STAGE) != (request.continues_in is not None):
        _refuse_continuation(head.slug, dest)
    if on > today:
        raise InvalidInput(f"De datum {on.isoformat()} ligt in de toekomst.")
    if on < head.stage_since:
        raise InvalidInput(
            f"De datum {on.isoformat()} ligt vóór de vorige stap van {head.slug} "
            f"({head.stage_since.isoformat()}); een stap kan niet eerder gebeuren."
        )
    entry = history.NewEntry(
        trigger=tr.trigger,
        actor=request.actor,
        reason=request.reason,
        occurred_on=on,
        to_stage=dest,
        stage_since=on,
        definition_version=definition.version,
        detail=None
        if request.continues_in is None
        else canonical_detail({"into": request.continues_in}),
    )
    extra = _brings_more(request) or definition.stages[dest].terminal
    return _Step(tr.trigger, dest, on, entry, signing, extra)


def _result(
    head: history.Head, step: _Step, seq: int, digest: str
) -> tuple[MoveResult, history.Head]:
    after = milestones.after_entry(head, seq, digest, stage=step.dest, since=step.on)
    result = MoveResult(
        head.slug, head.stage, step.dest, step.trigger, seq, after.version, step.on, digest
    )
    return result, after


def _append_in_one(
    conn: Connection,
    definition: WorkflowDefinition,
    head: history.Head,
    entry: history.NewEntry,
    *,
    now: datetime,
) -> tuple[int, str] | None:
    """The history entry and the target bookkeeping in one statement (PostgreSQL); None,
    nothing written, when the covenant is no longer exactly `head`."""
    dest, on = entry.to_stage, entry.occurred_on
    params = _closing_params(head.covenant_id, dest, on, now)
    statement = _closer(definition, dest)[1]
    return history.append_in_one(conn, statement, head, entry, now=now, params=params)


def _signing(
    conn: Connection,
    head: history.Head,
    dest: str,
    request: MoveRequest,
    on: date,
    now: datetime,
) -> list[signatories.Signatory]:
    """The signatories a move to ondertekend brings, checked before anything is written."""
    if dest != signatories.SIGNED:
        raise InvalidInput(
            f"Ondertekenaars horen bij de stap naar '{signatories.SIGNED}', niet naar '{dest}'."
        )
    signatories.check_day(conn, head, on, now)
    return signatories.plan(conn, head, request.signatories, on, add_as_party=request.add_as_party)


def _refuse_continuation(slug: str, dest: str) -> None:
    if dest == CONTINUED_STAGE:
        raise RequirementMissing(
            f"Opgaan in een ander convenant vraagt om dat andere convenant: gebruik "
            f"`imvo continue {slug} ANDER --on DATUM --reason ...` of het formulier "
            "'Opgaan in ander convenant' op de convenantpagina.",
            "into",
        )
    raise InvalidInput("Alleen een stap naar 'opgegaan' noemt het convenant waarin het opgaat.")


def _count(conn: Connection, statement: DriverStatement, covenant_id: int) -> int:
    return int(statement.execute(conn, {"b_id": covenant_id}).one()[0])


def close_targets(
    conn: Connection,
    definition: WorkflowDefinition,
    covenant_id: int,
    dest: str,
    on: date,
    now: datetime,
) -> None:
    """Targets for `dest` are met; afgezien or stages no longer meetable cancel the rest."""
    _closer(definition, dest)[0].execute(conn, _closing_params(covenant_id, dest, on, now))


def _closing_params(covenant_id: int, dest: str, on: date, now: datetime) -> dict[str, Any]:
    return {"b_id": covenant_id, "b_dest": dest, "b_on": on, "b_now": now.astimezone(UTC)}

"""Moving a covenant between stages: the product's hot path, one transaction per move.

A move reads the covenant's head, asks the shared Machine whether the move is allowed (its
conditions are the transition's roles and requirements, read from the facts the move brings),
then appends one entry to the covenant's history (services/history.py: the head moves under a
version guard, so a concurrent move is refused, never lost) and closes the targets the move
meets or makes unreachable. Statements are Core, compiled once and run on the driver
underneath the unit of work's connection (db/driver.py).

`move` is the user action (it takes the unit of work and commits); `make_move` is the same
step inside a transaction someone else owns (the seed replays many moves in one).

The move to `ondertekend` may bring its signatories, and any move may close milestones in the
same step; reaching a terminal stage drops the milestones still open (services/milestones.py,
services/signatories.py). Only a move that brings any of that, or ends in a terminal stage,
pays for it: the ordinary move runs the same statements as before.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, bindparam, case, func, literal, or_, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.continuation import CONTINUED_STAGE
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import ConcurrentUpdate, InvalidInput, RequirementMissing
from imvo_workflow.domain.record import canonical_detail
from imvo_workflow.domain.requirements import MoveFacts
from imvo_workflow.services import history, milestones, signatories
from imvo_workflow.services.milestones import MilestoneClosing

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
    with uow:
        result = make_move(uow.conn, definition, request, now=now)
        uow.commit()
    return result


def make_move(
    conn: Connection, definition: WorkflowDefinition, request: MoveRequest, *, now: datetime
) -> MoveResult:
    """The move inside the caller's transaction."""
    check_label(request.actor, "Wie de stap zet")
    check_text(request.reason, "De reden")
    check_label(request.to, "De doelfase")
    if request.occurred_on is not None:
        check_date(request.occurred_on, "De datum")
    if not request.actor.strip():
        raise RequirementMissing("Geef aan wie deze stap zet.", "actor")
    today = now.astimezone(AMSTERDAM).date()
    head = history.read_head(conn, request.covenant)
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
    seq, digest = history.append(
        conn,
        head,
        history.NewEntry(
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
        ),
        now=now,
    )
    version = head.version + 1
    if signing or request.milestones or definition.stages[dest].terminal:
        after = milestones.after_entry(head, seq, digest, stage=dest, since=on)
        after = signatories.record(
            conn, after, definition, signing, on=on, actor=request.actor, now=now
        )
        for closing in request.milestones:
            after = milestones.close_in(
                conn, after, definition, closing, actor=request.actor, default_on=on, now=now
            )
        if definition.stages[dest].terminal:
            after = milestones.drop_open(
                conn, after, definition, actor=request.actor, on=on, now=now
            )
        version = after.version
    close_targets(conn, definition, head.covenant_id, dest, on, now)
    return MoveResult(head.slug, head.stage, dest, tr.trigger, seq, version, on, digest)


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
    params = {"b_id": covenant_id, "b_dest": dest, "b_on": on, "b_now": now.astimezone(UTC)}
    _closer(definition, dest).execute(conn, params)

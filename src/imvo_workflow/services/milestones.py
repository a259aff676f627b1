"""Closing a milestone: reached on a date, or dropped with a reason; one chain entry each.

A milestone is a dated target of its own words ("oogstdag 20 december 2016"), not a stage:
no move closes it by being made. A coordinator closes it (`close_milestone`), or closes it in
the step that signs or ends the covenant (services/moves.py); whatever is still open when a
covenant reaches a terminal stage is dropped then, so no terminal covenant keeps a deadline
nobody can close. Each closing writes the target's closed_on, closed_at and close_reason and
a `mijlpaal_gesloten` entry in the same transaction, so `audit verify` covers it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_id, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    InvalidInput,
    NotFound,
    RequirementMissing,
)
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.services import history
from imvo_workflow.services.history import Head

#: The outcomes of a closed milestone, and the target status each one leaves.
OUTCOMES = {"bereikt": "met", "vervallen": "cancelled"}
OUTCOME_LABELS = {"bereikt": "gehaald", "vervallen": "vervallen"}


@dataclass(frozen=True, slots=True)
class MilestoneClosing:
    """Close milestone `target_id` as `outcome`; `on` defaults to the step's day (or today)."""

    target_id: int
    outcome: str
    on: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MilestoneResult:
    covenant: str
    target_id: int
    milestone: str
    outcome: str
    closed_on: date
    seq: int
    version: int


def after_entry(
    head: Head, seq: int, digest: str, *, stage: str | None = None, since: date | None = None
) -> Head:
    """The head after an append made in this transaction (the covenant row stays locked)."""
    return replace(
        head,
        version=head.version + 1,
        last_seq=seq,
        head_hash=digest,
        stage=stage or head.stage,
        stage_since=since or head.stage_since,
    )


def check_closing(closing: MilestoneClosing) -> None:
    """The closing's own bounds, before anything is read or written."""
    check_id(closing.target_id, "mijlpaal")
    if closing.outcome not in OUTCOMES:
        raise InvalidInput(
            f"Onbekende uitkomst '{closing.outcome[:40]}'; kies bereikt of vervallen."
        )
    check_text(closing.reason, "De reden")
    if closing.on is not None:
        check_date(closing.on, "De datum")
    if closing.outcome == "vervallen" and not closing.reason.strip():
        raise RequirementMissing("Een vervallen mijlpaal vraagt om een reden.", "reason")


def close_in(
    conn: Connection,
    head: Head,
    definition: WorkflowDefinition,
    closing: MilestoneClosing,
    *,
    actor: str,
    default_on: date,
    now: datetime,
) -> Head:
    """Close one milestone inside the caller's transaction; returns the head after it."""
    check_closing(closing)
    tg = t.target
    row = conn.execute(
        select(tg.c.id, tg.c.stage, tg.c.milestone, tg.c.status, tg.c.closed_on).where(
            tg.c.id == closing.target_id, tg.c.covenant_id == head.covenant_id
        )
    ).first()
    if row is None:
        open_ids = conn.execute(
            select(tg.c.id).where(
                tg.c.covenant_id == head.covenant_id,
                tg.c.status == "open",
                tg.c.milestone.is_not(None),
            )
        ).scalars()
        raise NotFound(
            f"mijlpaal van {head.slug}", str(closing.target_id), [str(i) for i in open_ids]
        )
    if row.milestone is None:
        raise InvalidInput(
            f"Doel {row.id} van {head.slug} is de fase '{row.stage}', geen mijlpaal: een "
            "fasedoel wordt gehaald door de stap naar die fase."
        )
    if row.status != "open":
        raise InvalidInput(
            f"De mijlpaal '{row.milestone}' is al gesloten op {row.closed_on} "
            f"({'gehaald' if row.status == 'met' else 'vervallen'})."
        )
    on = closing.on or default_on
    if on > now.astimezone(AMSTERDAM).date():
        raise InvalidInput(f"De datum {on.isoformat()} ligt in de toekomst.")
    closed = conn.execute(
        update(tg)
        .where(tg.c.id == row.id, tg.c.status == "open")
        .values(
            status=OUTCOMES[closing.outcome],
            closed_on=on,
            closed_at=now.astimezone(UTC),
            close_reason=closing.reason or None,
        )
    )
    if closed.rowcount != 1:
        raise ConcurrentUpdate(f"De mijlpaal '{row.milestone}' is zojuist door iemand gesloten.")
    seq, digest = history.record(
        conn,
        head,
        RecordKind.MILESTONE_CLOSED,
        {"target_id": row.id, "milestone": row.milestone, "outcome": closing.outcome},
        actor=actor,
        reason=closing.reason,
        occurred_on=on,
        definition_version=definition.version,
        now=now,
    )
    return after_entry(head, seq, digest)


def open_milestones(conn: Connection, covenant_id: int) -> list[int]:
    tg = t.target
    return list(
        conn.execute(
            select(tg.c.id)
            .where(
                tg.c.covenant_id == covenant_id,
                tg.c.status == "open",
                tg.c.milestone.is_not(None),
            )
            .order_by(tg.c.deadline, tg.c.id)
        ).scalars()
    )


def drop_open(
    conn: Connection,
    head: Head,
    definition: WorkflowDefinition,
    *,
    actor: str,
    on: date,
    now: datetime,
) -> Head:
    """Drop every milestone still open as the covenant reaches a terminal stage."""
    stage = definition.stages.get(head.stage)
    reason = f"vervallen: convenant {stage.label.nl if stage else head.stage}"
    for target_id in open_milestones(conn, head.covenant_id):
        head = close_in(
            conn,
            head,
            definition,
            MilestoneClosing(target_id, "vervallen", on, reason),
            actor=actor,
            default_on=on,
            now=now,
        )
    return head


def close_milestone(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    target_id: int,
    outcome: str,
    on: date | None = None,
    reason: str = "",
    actor: str,
    now: datetime,
) -> MilestoneResult:
    """The user action: close one milestone as bereikt (on a date) or vervallen (with a reason)."""
    check_label(actor, "Wie het vastlegt")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie dit vastlegt.", "actor")
    closing = MilestoneClosing(target_id, outcome, on, reason)
    check_closing(closing)
    today = now.astimezone(AMSTERDAM).date()
    with uow:
        head = history.read_head(uow.conn, covenant)
        after = close_in(
            uow.conn, head, definition, closing, actor=actor, default_on=today, now=now
        )
        name = uow.conn.execute(
            select(t.target.c.milestone, t.target.c.closed_on).where(t.target.c.id == target_id)
        ).one()
        uow.commit()
    return MilestoneResult(
        head.slug, target_id, name.milestone, outcome, name.closed_on, after.last_seq, after.version
    )

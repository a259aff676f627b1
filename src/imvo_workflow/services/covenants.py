"""Creating covenants and their targets: the actions that start a history.

A new covenant's history opens with a creation row (from nothing to the initial stage), so
the current stage always equals the replay of its history from the first row on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.chain import GENESIS, ChainEntry, entry_hash
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput, UnknownStage
from imvo_workflow.domain.periods import resolve_period

CREATE_TRIGGER = "aanmaken"


@dataclass(frozen=True, slots=True)
class NewCovenant:
    slug: str
    sector_id: int
    title: str
    parent_id: int | None = None
    summary: str = ""
    notes: tuple[str, ...] = ()
    position: int = 0


def open_covenant(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: NewCovenant,
    actor: str,
    reason: str,
    occurred_on: date,
    now: datetime,
) -> int:
    """Insert the covenant in the initial stage with its creation history row.

    Runs inside the caller's unit of work (the seed loads many in one transaction).
    """
    recorded_at = now.astimezone(UTC)
    stage = definition.initial
    covenant_id = uow.conn.execute(
        insert(t.covenant).returning(t.covenant.c.id),
        {
            "slug": covenant.slug,
            "sector_id": covenant.sector_id,
            "parent_id": covenant.parent_id,
            "title": covenant.title,
            "summary": covenant.summary,
            "notes": list(covenant.notes),
            "stage": stage,
            "stage_since": occurred_on,
            "version": 1,
            "definition_version": definition.version,
            "last_seq": 1,
            "head_hash": "",
            "position": covenant.position,
        },
    ).scalar_one()
    entry = ChainEntry(
        covenant_id,
        1,
        None,
        stage,
        CREATE_TRIGGER,
        actor,
        reason,
        occurred_on,
        recorded_at,
        definition.version,
        GENESIS,
    )
    digest = entry_hash(entry)
    uow.conn.execute(insert(t.transition), {**asdict(entry), "hash": digest})
    uow.conn.execute(
        t.covenant.update().where(t.covenant.c.id == covenant_id).values(head_hash=digest)
    )
    return int(covenant_id)


def add_target(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant_id: int,
    phrase: str,
    reference: date,
    stage: str | None = None,
    milestone: str | None = None,
    description: str = "",
    now: datetime,
) -> int:
    """Record a target ('ondertekend in Q1 van 2017') in the caller's unit of work."""
    if (stage is None) == (milestone is None):
        raise InvalidInput("Een doel is óf een fase óf een mijlpaal.")
    if stage is not None and stage not in definition.stages:
        raise UnknownStage(stage, list(definition.stages))
    period = resolve_period(phrase, reference)
    current = uow.conn.execute(
        select(t.covenant.c.stage).where(t.covenant.c.id == covenant_id)
    ).scalar_one()
    status = "met" if stage == current else "open"
    return int(
        uow.conn.execute(
            insert(t.target).returning(t.target.c.id),
            {
                "covenant_id": covenant_id,
                "stage": stage,
                "milestone": milestone,
                "description": description,
                "phrase": period.phrase,
                "reference_date": reference,
                "period_start": period.start,
                "deadline": period.end,
                "status": status,
                "closed_on": None,
                "created_at": now.astimezone(UTC),
            },
        ).scalar_one()
    )

"""Creating covenants: the action that starts a history.

A new covenant's history opens with a creation row (from nothing to the initial stage), so
the current stage always equals the replay of its history from the first row on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from sqlalchemy import insert

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.chain import GENESIS, ChainEntry, entry_hash
from imvo_workflow.domain.definition import WorkflowDefinition

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

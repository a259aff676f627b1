"""Creating covenants: the action that starts a history.

A new covenant's history opens with a creation row (from nothing to the initial stage), so
the current stage always equals the replay of its history from the first row on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert

from imvo_workflow.db import tables as t
from imvo_workflow.domain.chain import GENESIS
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.services import history


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
    conn: Connection,
    definition: WorkflowDefinition,
    covenant: NewCovenant,
    actor: str,
    reason: str,
    occurred_on: date,
    now: datetime,
) -> int:
    """Insert the covenant in the initial stage and open its history; returns its id.

    Runs inside the caller's transaction (the seed loads many in one).
    """
    covenant_id = conn.execute(
        insert(t.covenant).returning(t.covenant.c.id),
        {
            "slug": covenant.slug,
            "sector_id": covenant.sector_id,
            "parent_id": covenant.parent_id,
            "title": covenant.title,
            "summary": covenant.summary,
            "notes": list(covenant.notes),
            "stage": definition.initial,
            "stage_since": occurred_on,
            "version": 1,
            "definition_version": definition.version,
            "last_seq": 0,
            "head_hash": GENESIS,
            "position": covenant.position,
        },
    ).scalar_one()
    history.open_chain(
        conn,
        int(covenant_id),
        stage=definition.initial,
        actor=actor,
        reason=reason,
        occurred_on=occurred_on,
        now=now,
        definition_version=definition.version,
    )
    return int(covenant_id)

"""A covenant process continues in another covenant: the move `opgaan_in`, and its views.

Sectors whose own talks joined a wider agreement (a branch process continuing in a broader
metal and electrical engineering covenant) are recorded as "opgegaan in ...", with the date
and the reason, and reported so: never as abandoned. The move goes through make_move like any
other (the Machine decides whether it is allowed from the current stage, the chain entry
carries {"into": slug}); `covenant.continued_in_id` is set in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.continuation import (
    CONTINUE_TRIGGER,
    CONTINUED_STAGE,
    check_target,
    continued_label,
)
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput, RequirementMissing
from imvo_workflow.domain.record import read_detail
from imvo_workflow.services import history
from imvo_workflow.services.asof import effective_steps, history_rows
from imvo_workflow.services.moves import MoveRequest, MoveResult, make_move
from imvo_workflow.services.queries import StatusRow


@dataclass(frozen=True, slots=True)
class ContinuationView:
    """One covenant continuing in another: who (`slug`) went into whom (`into`), when, why."""

    slug: str
    title: str
    into: str
    into_title: str
    on: date
    reason: str
    actor: str
    seq: int
    recorded_at: datetime


def continue_in(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    into: str,
    on: date,
    reason: str,
    actor: str,
    role: str | None = None,
    now: datetime,
) -> MoveResult:
    """Record that `covenant` continued in `into` on `on`; one transaction, one chain entry."""
    check_label(covenant, "Het convenant")
    check_label(into, "Het convenant waarin het opgaat")
    check_label(actor, "Wie het vastlegt")
    check_text(reason, "De reden")
    check_date(on, "De datum")
    if not reason.strip():
        raise RequirementMissing(
            "Geef de reden waarom dit convenant opgaat in het andere.", "reason"
        )
    today = now.astimezone(AMSTERDAM).date()
    if on > today:
        raise InvalidInput(
            f"De datum {on.isoformat()} ligt in de toekomst; leg het opgaan vast als het "
            "gebeurd is."
        )
    with uow:
        conn = uow.conn
        head = history.read_head(conn, covenant)
        stage = definition.stages.get(head.stage)
        if stage is not None and stage.terminal:
            raise InvalidInput(
                f"{head.slug} staat in de eindfase '{stage.label.nl}'; het kan niet meer opgaan "
                "in een ander convenant."
            )
        other = history.read_head(conn, into)
        check_target(head.covenant_id, other.covenant_id, _continuations(conn))
        if other.stage == CONTINUED_STAGE:
            found = continuation_of(conn, other.covenant_id)
            further = f" in {found.into_title} ({found.into})" if found else ""
            raise InvalidInput(
                f"{other.slug} is zelf al opgegaan{further}; kies het convenant waarin het "
                "proces nu verder gaat."
            )
        opened = _opened_on(conn, other.covenant_id)
        if on < opened:
            raise InvalidInput(
                f"{other.slug} bestond op {on.isoformat()} nog niet (geopend op "
                f"{opened.isoformat()})."
            )
        request = MoveRequest(
            covenant=head.slug,
            to=CONTINUE_TRIGGER,
            actor=actor,
            reason=reason,
            occurred_on=on,
            expected_version=head.version,
            role=role,
            continues_in=other.slug,
        )
        result = make_move(conn, definition, request, now=now)
        conn.execute(
            update(t.covenant)
            .where(t.covenant.c.id == head.covenant_id)
            .values(continued_in_id=other.covenant_id)
        )
        uow.commit()
    return result


def _continuations(conn: Connection) -> dict[int, int | None]:
    c = t.covenant
    rows = conn.execute(select(c.c.id, c.c.continued_in_id).where(c.c.continued_in_id.is_not(None)))
    return {int(r.id): r.continued_in_id for r in rows}


def _opened_on(conn: Connection, covenant_id: int) -> date:
    tr = t.transition
    found = conn.execute(
        select(func.min(tr.c.occurred_on)).where(tr.c.covenant_id == covenant_id)
    ).scalar_one()
    return found if isinstance(found, date) else date.min


def continuation_of(
    conn: Connection,
    covenant_id: int,
    *,
    day: date | None = None,
    known_by: datetime | None = None,
) -> ContinuationView | None:
    """The covenant `covenant_id` continued in, as of `day` (happened by then) and as known by
    `known_by` (entered before then); None when it had not (yet) continued."""
    c = t.covenant
    row = conn.execute(
        select(c.c.slug, c.c.title, c.c.continued_in_id).where(c.c.id == covenant_id)
    ).one_or_none()
    if row is None or row.continued_in_id is None:
        return None
    steps = effective_steps(history_rows(conn, covenant_id), known_by).get(covenant_id, [])
    step = next((s for s in reversed(steps) if s.to_stage == CONTINUED_STAGE), None)
    if step is None or (day is not None and step.occurred_on > day):
        return None
    tr = t.transition
    detail = conn.execute(
        select(tr.c.detail).where(tr.c.covenant_id == covenant_id, tr.c.seq == step.seq)
    ).scalar_one()
    into = conn.execute(select(c.c.slug, c.c.title).where(c.c.id == row.continued_in_id)).one()
    slug = str(read_detail(detail).get("into") or into.slug)
    return ContinuationView(
        row.slug,
        row.title,
        slug,
        into.title,
        step.occurred_on,
        step.reason,
        step.actor,
        step.seq,
        step.recorded_at,
    )


def continued_here(
    conn: Connection,
    covenant_id: int,
    *,
    day: date | None = None,
    known_by: datetime | None = None,
) -> list[ContinuationView]:
    """The covenants that continued in `covenant_id` ("Hierin opgegaan"), as of `day`."""
    c = t.covenant
    ids = conn.execute(
        select(c.c.id).where(c.c.continued_in_id == covenant_id).order_by(c.c.position, c.c.id)
    ).scalars()
    found = [continuation_of(conn, other, day=day, known_by=known_by) for other in ids]
    return [view for view in found if view is not None]


def stage_label(definition: WorkflowDefinition, row: StatusRow) -> str:
    """The stage as people read it: 'Opgegaan in <title>' for a covenant that continued."""
    if row.stage == CONTINUED_STAGE and row.continued_in_title:
        return continued_label(row.continued_in_title)
    stage = definition.stages.get(row.stage)
    return stage.label.nl if stage else row.stage

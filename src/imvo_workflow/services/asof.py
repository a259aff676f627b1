"""Where did every covenant stand on day D, and what did we know on day D.

Two clocks are kept on every history row: `occurred_on` (when it happened in the world) and
`recorded_at` (when it was entered). "As of D" replays the rows that happened by D, using all
we know now, corrections included; "known at D" replays only the rows entered by the end of
D, as the database would have answered that day. Targets are treated the same way through
their change history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.domain.bounds import check_date
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.record import is_record
from imvo_workflow.domain.value import value
from imvo_workflow.services.queries import (
    COVENANTS_IN_ORDER,
    StatusRow,
    TargetView,
    aware,
    days_late,
)


@value
class Step:
    """One effective move: a history row with its latest correction applied."""

    covenant_id: int
    seq: int
    from_stage: str | None
    to_stage: str
    occurred_on: date
    recorded_at: datetime
    actor: str
    reason: str


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), AMSTERDAM).astimezone(UTC)


def effective_steps(rows: Iterable[Any], known_by: datetime | None = None) -> dict[int, list[Step]]:
    """The moves per covenant, corrections applied, ordered by seq (pure).

    Record entries (parties, notes, ...) are not moves and are left out; a correction of one
    finds no move to amend and is left out with it.
    """
    moves: dict[int, dict[int, Step]] = defaultdict(dict)
    for r in rows:
        if is_record(r.trigger):
            continue  # a change of the record rather than a move
        recorded = aware(r.recorded_at)
        if known_by is not None and recorded >= known_by:
            continue  # not known yet
        if r.corrects_seq is None:
            moves[r.covenant_id][r.seq] = Step(
                r.covenant_id,
                r.seq,
                r.from_stage,
                r.to_stage,
                r.occurred_on,
                recorded,
                r.actor,
                r.reason,
            )
        elif (fixed := moves[r.covenant_id].get(r.corrects_seq)) is not None:
            moves[r.covenant_id][r.corrects_seq] = Step(
                fixed.covenant_id,
                fixed.seq,
                fixed.from_stage,
                fixed.to_stage,
                r.occurred_on,
                fixed.recorded_at,
                fixed.actor,
                r.reason or fixed.reason,
            )
    return {cid: [steps[s] for s in sorted(steps)] for cid, steps in moves.items()}


def history_rows(conn: Connection, covenant_id: int | None = None) -> list[Any]:
    """History rows (every covenant's, or one's) in chain order, as effective_steps reads them."""
    tr = t.transition
    query = select(
        tr.c.covenant_id,
        tr.c.seq,
        tr.c.from_stage,
        tr.c.to_stage,
        tr.c.occurred_on,
        tr.c.recorded_at,
        tr.c.actor,
        tr.c.reason,
        tr.c.corrects_seq,
        tr.c.trigger,
    ).order_by(tr.c.covenant_id, tr.c.seq)
    if covenant_id is not None:
        query = query.where(tr.c.covenant_id == covenant_id)
    return list(conn.execute(query))


def stage_on(steps: list[Step], day: date) -> Step | None:
    """The step in force on `day`: the last one that happened by then."""
    current = None
    for step in steps:
        if step.occurred_on <= day:
            current = step
    return current


_tg, _ch = t.target, t.target_change
#: Every target with each of its changes, oldest first: targets_on keeps the last one stated.
_TARGET_CHANGES = DriverStatement(
    select(
        _tg.c.id,
        _tg.c.covenant_id,
        _tg.c.stage,
        _tg.c.milestone,
        _tg.c.description,
        _tg.c.status,
        _tg.c.closed_on,
        _tg.c.closed_at,
        _tg.c.close_reason,
        _ch.c.new_phrase,
        _ch.c.new_period_start,
        _ch.c.new_deadline,
        _ch.c.reference_date,
        _ch.c.changed_at,
    )
    .join(_ch, _ch.c.target_id == _tg.c.id)
    .order_by(_tg.c.id, _ch.c.changed_at, _ch.c.id)
)


def targets_on(
    conn: Connection, day: date, known_by: datetime | None
) -> dict[int, list[TargetView]]:
    """Each covenant's targets as they stood on `day`, from their change history."""
    rows = _TARGET_CHANGES.rows(conn)
    latest: dict[int, Any] = {}  # per target, its last change stated by then
    for r in rows:  # (rows() hands moments back aware)
        if (r.changed_at < known_by) if known_by is not None else (r.reference_date <= day):
            latest[r.id] = r
    found: dict[int, list[TargetView]] = defaultdict(list)
    for r in latest.values():
        entered = known_by is None or r.closed_at is None or r.closed_at < known_by
        closed = r.closed_on if r.closed_on is not None and r.closed_on <= day and entered else None
        status = ("met" if r.status == "met" else "cancelled") if closed else "open"
        found[r.covenant_id].append(
            TargetView(  # positional: a report makes thousands
                r.id,
                r.stage,
                r.milestone,
                r.description,
                r.new_phrase,
                r.reference_date,
                r.new_period_start,
                r.new_deadline,
                status,
                closed,
                status == "open" and r.new_deadline < day,
                days_late(r.new_deadline, closed),
                r.close_reason if closed else None,
            )
        )
    for views in found.values():
        views.sort(key=_BY_DEADLINE)
    return found


#: A covenant's targets in the order they fall due (then as entered).
_BY_DEADLINE = attrgetter("deadline", "id")


def status_on(*, conn: Connection, day: date, known_at: bool = False) -> list[StatusRow]:
    """Every covenant that existed on `day`, in the stage it was in then."""
    check_date(day, "De peildatum")
    known_by = end_of_day(day) if known_at else None
    steps = effective_steps(history_rows(conn), known_by)
    targets = targets_on(conn, day, known_by)
    rows = conn.execute(COVENANTS_IN_ORDER).all()  # the stage comes from the replay
    found = []
    for r in rows:
        step = stage_on(steps.get(r.id, []), day)
        if step is None:
            continue
        upcoming = next((v for v in targets.get(r.id, []) if v.status == "open"), None)
        found.append(
            StatusRow.of(
                r,
                stage=step.to_stage,
                since=step.occurred_on,
                version=step.seq,
                next_target=upcoming,
            )
        )
    return found

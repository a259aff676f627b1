"""`imvo deadlines --as-of D | --known-at D`: what was due and overdue on D, from the history.

Today's deadline list reads today's target rows; a list for another day cannot: a target may
have been set after D, re-set since (its deadline then was another), or met or dropped after D
(on D it was still open, and late if its deadline had passed). So the targets are taken as
they stood on D from their change history (services/asof.targets_on), and each covenant's
stage from the replay of its chain. "Known at D" reads only what had been entered by the end
of D, as the database would have answered that day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection

from imvo_workflow.domain.bounds import MAX_DAYS_AHEAD, check_date
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services.alert_queries import DeadlineView
from imvo_workflow.services.asof import (
    effective_steps,
    end_of_day,
    history_rows,
    stage_on,
    targets_on,
)
from imvo_workflow.services.queries import COVENANTS_IN_ORDER


def deadlines_on(
    *, conn: Connection, day: date, within_days: int = 30, known_at: bool = False
) -> list[DeadlineView]:
    """Targets open on `day` that were overdue then or due within `within_days` of it."""
    check_date(day, "De peildatum")
    if not 0 <= within_days <= MAX_DAYS_AHEAD:
        raise InvalidInput(f"Vooruitkijken kan 0 tot {MAX_DAYS_AHEAD} dagen, niet {within_days}.")
    known_by = end_of_day(day) if known_at else None
    steps = effective_steps(history_rows(conn), known_by)
    targets = targets_on(conn, day, known_by)
    horizon = day + timedelta(days=within_days)
    found: list[tuple[date, int, DeadlineView]] = []
    for position, covenant in enumerate(conn.execute(COVENANTS_IN_ORDER)):
        step = stage_on(steps.get(covenant.id, []), day)
        if step is None:  # the covenant did not exist yet on `day`
            continue
        for target in targets.get(covenant.id, []):
            if target.status != "open" or target.deadline > horizon:
                continue
            view = DeadlineView(
                covenant=covenant.slug,
                sector=covenant.sector,
                stage=step.to_stage,
                what=target.what,
                phrase=target.phrase,
                deadline=target.deadline,
                days_left=(target.deadline - day).days,
                overdue=target.overdue,
            )
            found.append((target.deadline, position, view))
    found.sort(key=lambda item: (item[0], item[1]))
    return [view for _, _, view in found]

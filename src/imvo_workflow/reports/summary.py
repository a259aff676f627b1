"""The figures at the top of a progress report: stages on S and on D, and the period's results.

How many covenants stood in each stage on the since-date and on the report date (with the days
spent in each stage up to D), which covenants were signed in the period, and how the targets
fared: met on time, met late (met in the period; without a since-date, met by D), and those
still open, overdue or not. Pure: replayed steps and target views come in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.value import value
from imvo_workflow.services.asof import Step, stage_on
from imvo_workflow.services.queries import TargetView
from imvo_workflow.services.signatories import SIGNED


@value
class StageSummary:
    stage: str
    label: str
    color: str
    covenants: int
    days_total: int
    days_average: float
    #: Covenants in this stage on the since-date (None: the report has none).
    covenants_since: int | None = None


@value
class PeriodSummary:
    since: date | None
    #: The covenants (by heading) that moved to ondertekend in the period.
    signed: tuple[str, ...] = ()
    met_on_time: int = 0
    met_late: int = 0
    open_overdue: int = 0
    open_on_track: int = 0


def stage_summary(
    definition: WorkflowDefinition,
    current: dict[str, int],
    steps: dict[int, list[Step]],
    as_of: date,
    since: date | None,
) -> list[StageSummary]:
    """Per stage of the definition: covenants in it on D (and S), days spent in it up to D."""
    before: dict[str, int] = defaultdict(int)
    days: dict[str, list[int]] = defaultdict(list)
    for history in steps.values():
        if since is not None and (then := stage_on(history, since)) is not None:
            before[then.to_stage] += 1
        moved = [s for s in history if s.occurred_on <= as_of]
        ends = [after.occurred_on for after in moved[1:]] + [as_of]
        for step, end in zip(moved, ends, strict=False):
            days[step.to_stage].append((end - step.occurred_on).days)
    return [
        StageSummary(
            name,
            stage.label.nl,
            stage.color,
            current.get(name, 0),
            sum(days[name]),
            round(sum(days[name]) / len(days[name]), 1) if days[name] else 0.0,
            before.get(name, 0) if since is not None else None,
        )
        for name, stage in definition.stages.items()
    ]


def period_summary(
    headings: dict[int, str],
    steps: dict[int, list[Step]],
    targets: dict[int, list[TargetView]],
    as_of: date,
    since: date | None,
) -> PeriodSummary:
    """Signed in (since, as_of] and the targets' results, over the covenants in `headings`."""

    def in_period(day: date) -> bool:
        return (since is None or since < day) and day <= as_of

    signed = tuple(
        heading
        for cid, heading in headings.items()
        if any(s.to_stage == SIGNED and in_period(s.occurred_on) for s in steps.get(cid, []))
    )
    counts = {"on_time": 0, "late": 0, "overdue": 0, "on_track": 0}
    for cid in headings:
        for v in targets.get(cid, []):
            if v.status == "met" and v.closed_on is not None and in_period(v.closed_on):
                counts["late" if (v.days_late or 0) > 0 else "on_time"] += 1
            elif v.status == "open":
                counts["overdue" if v.overdue else "on_track"] += 1
    return PeriodSummary(
        since,
        signed,
        counts["on_time"],
        counts["late"],
        counts["overdue"],
        counts["on_track"],
    )

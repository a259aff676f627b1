"""The progress report for any date, laid out as the 2016 source document is.

Risk sectors first, in the document's order, with sub-sectors (Financiële sector →
Pensioensector, Verzekeringssector) and sub-covenants (Toerisme → Suriname) under their
parent; then "Overige sectoren". Per covenant: stage, since when, trekker, facilitator,
parties and others involved on the report's date, the next target in its own Dutch words with its date, and whether it is overdue.
A summary counts covenants per stage, sums the time spent in each stage and draws a timeline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.reports.record_lines import RecordLines, record_lines
from imvo_workflow.reports.timeline import Lane, timeline_svg
from imvo_workflow.services.asof import Step, effective_steps, end_of_day, history_rows, status_on
from imvo_workflow.services.continuation import stage_label
from imvo_workflow.services.parties import parties_by_covenant
from imvo_workflow.services.queries import StatusRow

GROUP_TITLES = {"risicosector": "Risicosectoren", "overige": "Overige sectoren"}


@dataclass(frozen=True, slots=True)
class Entry:
    level: int
    heading: str
    status: StatusRow | None = None
    stage_label: str = ""
    trekker: str = ""
    facilitator: str = ""
    parties: tuple[str, ...] = ()
    summary: str = ""
    #: Named without a role the source states (role "betrokken").
    involved: tuple[str, ...] = ()
    #: Signatures, targets planned against actual, the history described (reports/record_lines).
    record: RecordLines | None = None


@dataclass(frozen=True, slots=True)
class StageSummary:
    stage: str
    label: str
    color: str
    covenants: int
    days_total: int
    days_average: float


@dataclass
class ProgressReport:
    as_of: date
    known_at: bool
    groups: list[tuple[str, list[Entry]]] = field(default_factory=list)
    stages: list[StageSummary] = field(default_factory=list)
    timeline: str = ""


@dataclass(frozen=True, slots=True)
class _Sector:
    id: int
    name: str
    group: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class _Covenant:
    id: int
    slug: str
    sector_id: int
    parent_id: int | None
    summary: str


class _Layout:
    """Walks sectors and covenants in the document's order, producing report entries."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        statuses: dict[str, StatusRow],
        sectors: list[_Sector],
        covenants: list[_Covenant],
        people: dict[int, dict[str, list[str]]],
    ) -> None:
        self.definition, self.statuses, self.people = definition, statuses, people
        self.children: dict[int | None, list[_Sector]] = defaultdict(list)
        for sector in sectors:
            self.children[sector.parent_id].append(sector)
        self.by_sector: dict[int, list[_Covenant]] = defaultdict(list)
        self.subs: dict[int, list[_Covenant]] = defaultdict(list)
        for cov in covenants:
            if cov.parent_id is None:
                self.by_sector[cov.sector_id].append(cov)
            else:
                self.subs[cov.parent_id].append(cov)

    def entry(self, cov: _Covenant, level: int, heading: str) -> Entry | None:
        status = self.statuses.get(cov.slug)
        if status is None:
            return None
        roles = self.people.get(cov.id, {})
        return Entry(
            level,
            heading,
            status,
            stage_label(self.definition, status),
            ", ".join(roles.get("trekker", [])),
            ", ".join(roles.get("facilitator", [])),
            tuple(roles.get("partij", [])),
            cov.summary,
            tuple(roles.get("betrokken", [])),
        )

    def sector(self, sector: _Sector, level: int) -> list[Entry]:
        found: list[Entry] = []
        for cov in self.by_sector.get(sector.id, []):
            if (main := self.entry(cov, level, sector.name)) is not None:
                found.append(main)
            for sub in self.subs.get(cov.id, []):
                name = sub.slug.removeprefix(cov.slug + "-").replace("-", " ").capitalize()
                if (
                    part := self.entry(sub, level + 1, f"{sector.name}: subconvenant {name}")
                ) is not None:
                    found.append(part)
        below = [
            e for child in self.children.get(sector.id, []) for e in self.sector(child, level + 1)
        ]
        if below and not found:
            found.append(Entry(level, sector.name))
        return found + below

    def groups(self) -> list[tuple[str, list[Entry]]]:
        found = []
        for group, title in GROUP_TITLES.items():
            entries = [
                e for s in self.children[None] if s.group == group for e in self.sector(s, 0)
            ]
            if entries:
                found.append((title, entries))
        return found


def build_report(
    *, uow: UnitOfWork, definition: WorkflowDefinition, as_of: date, known_at: bool = False
) -> ProgressReport:
    """The report as it would have read on `as_of` (or as the database knew it then)."""
    check_date(as_of, "De peildatum")
    report = ProgressReport(as_of, known_at)
    with uow:
        statuses = {row.slug: row for row in status_on(conn=uow.conn, day=as_of, known_at=known_at)}
        sc = t.sector
        sectors = [
            _Sector(r.id, r.name, r.group, r.parent_id)
            for r in uow.conn.execute(
                select(sc.c.id, sc.c.name, sc.c.group, sc.c.parent_id).order_by(
                    sc.c.position, sc.c.id
                )
            )
        ]
        c = t.covenant
        covenants = [
            _Covenant(r.id, r.slug, r.sector_id, r.parent_id, r.summary)
            for r in uow.conn.execute(
                select(c.c.id, c.c.slug, c.c.sector_id, c.c.parent_id, c.c.summary).order_by(
                    c.c.position, c.c.id
                )
            )
        ]
        people = _participants(uow.conn, as_of, end_of_day(as_of) if known_at else None)
        steps = effective_steps(history_rows(uow.conn), end_of_day(as_of) if known_at else None)
        lines = record_lines(uow.conn, definition, as_of, end_of_day(as_of) if known_at else None)
    ids = {cov.slug: cov.id for cov in covenants}
    report.groups = [
        (
            title,
            [replace(e, record=lines.get(ids[e.status.slug])) if e.status else e for e in entries],
        )
        for title, entries in _Layout(definition, statuses, sectors, covenants, people).groups()
    ]
    report.stages = _stage_summary(definition, list(statuses.values()), steps, as_of)
    lanes = [
        Lane(
            e.heading,
            [
                (s.to_stage, s.occurred_on)
                for s in steps.get(ids[e.status.slug], [])
                if s.occurred_on <= as_of
            ],
        )
        for _, entries in report.groups
        for e in entries
        if e.status is not None
    ]
    report.timeline = timeline_svg(
        lanes,
        as_of,
        {name: stage.color for name, stage in definition.stages.items()},
        {name: stage.label.nl for name, stage in definition.stages.items()},
    )
    return report


def _participants(
    conn: Connection, day: date, known_by: datetime | None
) -> dict[int, dict[str, list[str]]]:
    """Each covenant's current parties on `day` by role (services/parties: the chain's fold)."""
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for covenant_id, views in parties_by_covenant(conn, day, known_by).items():
        for view in views:
            if view.current:
                found[covenant_id][view.role].append(view.name)
    return found


def _stage_summary(
    definition: WorkflowDefinition,
    statuses: list[StatusRow],
    steps: dict[int, list[Step]],
    as_of: date,
) -> list[StageSummary]:
    current: dict[str, int] = defaultdict(int)
    for status in statuses:
        current[status.stage] += 1
    days: dict[str, list[int]] = defaultdict(list)
    for history in steps.values():
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
        )
        for name, stage in definition.stages.items()
    ]

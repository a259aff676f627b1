"""The progress report for a date D since a date S, laid out as the 2016 source document is.

Risk sectors first, in the document's order, with sub-sectors (Financiële sector →
Pensioensector, Verzekeringssector) and sub-covenants (Toerisme → Suriname) under their
parent; then "Overige sectoren". Per covenant: stage and since when, its parties by role and
the participants the source does not name, its signatories, the progress note current on D,
every target planned against actual, its history, and what changed since S
(reports/changes.py). At the top a summary (reports/summary.py) and a timeline.
Without S the last report issued before D gives it (services/issued.py); with none there is
no change section. The history is read once for all covenants (reports/chain_read.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.entry_text import stage_labels
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.parties import PartyEntry, unnamed_in
from imvo_workflow.reports import chain_read
from imvo_workflow.reports.changes import Change, changes_between
from imvo_workflow.reports.record_lines import RecordLines, record_lines
from imvo_workflow.reports.summary import (
    PeriodSummary,
    StageSummary,
    period_summary,
    stage_summary,
)
from imvo_workflow.reports.timeline import Lane, timeline_svg
from imvo_workflow.services.asof import effective_steps, end_of_day, stage_on, targets_on
from imvo_workflow.services.continuation import stage_label
from imvo_workflow.services.issued import last_issued
from imvo_workflow.services.parties import parties_by_covenant, party_entries
from imvo_workflow.services.queries import COVENANTS_IN_ORDER, StatusRow
from imvo_workflow.services.signatures import fold_signatures

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
    #: The summary as it read on the report's date, when it says more than the note.
    summary: str = ""
    #: Signatures, targets planned against actual, the history described (reports/record_lines).
    record: RecordLines | None = None
    covenant_id: int | None = None
    kwartiermaker: str = ""
    #: Organisations involved without being a party (role "betrokken").
    involved: tuple[str, ...] = ()
    #: The source's words about participants it does not name.
    unnamed: tuple[str, ...] = ()
    note: chain_read.StoryNote | None = None
    #: What changed since the report's since-date (empty without one).
    changes: tuple[Change, ...] = ()


@dataclass
class ProgressReport:
    as_of: date
    known_at: bool
    groups: list[tuple[str, list[Entry]]] = field(default_factory=list)
    stages: list[StageSummary] = field(default_factory=list)
    timeline: str = ""
    #: The since-date of the change section (None: no change section).
    since: date | None = None
    #: The issued report whose date gave `since` when none was asked for (not printed: the
    #: same (D, S) must give the same bytes however S was chosen).
    since_report: int | None = None
    period: PeriodSummary = field(default_factory=lambda: PeriodSummary(None))
    #: The timeline's lanes, for renderers that draw it themselves (the Word report).
    lanes: list[Lane] = field(default_factory=list)

    @property
    def covenant_ids(self) -> list[int]:
        return [e.covenant_id for _, entries in self.groups for e in entries if e.covenant_id]

    @property
    def changed(self) -> list[Entry]:
        """The entries with something in the change section, in the document's order."""
        return [e for _, entries in self.groups for e in entries if e.changes]


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
    notes: tuple[str, ...]


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
            covenant_id=cov.id,
            kwartiermaker=", ".join(roles.get("kwartiermaker", [])),
            involved=tuple(roles.get("betrokken", [])),
            unnamed=tuple(unnamed_in(cov.notes)),
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
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    as_of: date,
    known_at: bool = False,
    since: date | None = None,
) -> ProgressReport:
    """The report as it would have read on `as_of` (or as the database knew it then), with
    what changed since `since` (None: since the last report issued before `as_of`)."""
    check_report_dates(as_of, since)
    with uow:
        return report_in(uow.conn, definition, as_of=as_of, known_at=known_at, since=since)


def check_report_dates(as_of: date, since: date | None) -> None:
    check_date(as_of, "De peildatum")
    if since is not None:
        check_date(since, "De vergelijkingsdatum (--since)")
        if since >= as_of:
            raise InvalidInput(
                f"De vergelijkingsdatum {since.isoformat()} ligt niet vóór de peildatum "
                f"{as_of.isoformat()}; kies een eerdere datum."
            )


def report_in(
    conn: Connection,
    definition: WorkflowDefinition,
    *,
    as_of: date,
    known_at: bool = False,
    since: date | None = None,
) -> ProgressReport:
    """build_report inside the caller's transaction (issuing a report builds and records it
    in one)."""
    check_report_dates(as_of, since)
    known_by = end_of_day(as_of) if known_at else None
    report = ProgressReport(as_of, known_at, since=since)
    if since is None and (last := last_issued(conn, as_of, known_by)) is not None:
        report.since, report.since_report = last.as_of, last.id
    rows = chain_read.read_chain(conn, known_by)
    steps = effective_steps(rows)
    targets = targets_on(conn, as_of, known_by)
    statuses = _statuses(conn, steps, targets, as_of)
    sc = t.sector
    sectors = [
        _Sector(r.id, r.name, r.group, r.parent_id)
        for r in conn.execute(
            select(sc.c.id, sc.c.name, sc.c.group, sc.c.parent_id).order_by(sc.c.position, sc.c.id)
        )
    ]
    c = t.covenant
    covenants = [
        _Covenant(r.id, r.slug, r.sector_id, r.parent_id, r.summary, tuple(r.notes or ()))
        for r in conn.execute(
            select(c.c.id, c.c.slug, c.c.sector_id, c.c.parent_id, c.c.summary, c.c.notes).order_by(
                c.c.position, c.c.id
            )
        )
    ]
    people = _participants(conn, as_of, known_by, party_entries(rows))
    lines = record_lines(rows, definition, as_of, fold_signatures(rows, as_of), targets)
    fixed = chain_read.corrected_dates(rows)
    notes = chain_read.notes_on(rows, fixed, as_of)
    summaries = chain_read.summaries_on(rows, as_of, {cov.id: cov.summary for cov in covenants})
    changes = (
        changes_between(rows, steps, targets, fixed, stage_labels(definition), report.since, as_of)
        if report.since is not None
        else {}
    )

    def filled(e: Entry) -> Entry:
        if e.covenant_id is None:
            return e
        cid, note = e.covenant_id, notes.get(e.covenant_id)
        summary = summaries.get(cid, "")
        return replace(
            e,
            record=lines.get(cid),
            note=note,
            summary="" if note is not None and summary.strip() == note.text.strip() else summary,
            changes=tuple(changes.get(cid, ())),
        )

    report.groups = [
        (title, [filled(e) for e in entries])
        for title, entries in _Layout(definition, statuses, sectors, covenants, people).groups()
    ]
    shown = {e.covenant_id: e.heading for e in _entries(report) if e.covenant_id is not None}
    report.stages = stage_summary(
        definition, _counts(statuses.values()), steps, as_of, report.since
    )
    report.period = period_summary(shown, steps, targets, as_of, report.since)
    report.lanes = [
        Lane(
            heading,
            [(s.to_stage, s.occurred_on) for s in steps.get(cid, []) if s.occurred_on <= as_of],
            tuple((v.deadline, v.what) for v in targets.get(cid, [])),
        )
        for cid, heading in shown.items()
    ]
    report.timeline = timeline_svg(
        report.lanes,
        as_of,
        {name: stage.color for name, stage in definition.stages.items()},
        {name: stage.label.nl for name, stage in definition.stages.items()},
    )
    return report


def _entries(report: ProgressReport) -> list[Entry]:
    return [e for _, entries in report.groups for e in entries]


def _counts(statuses: Iterable[StatusRow]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for status in statuses:
        found[status.stage] += 1
    return found


def _statuses(
    conn: Connection, steps: dict[int, list[Any]], targets: dict[int, list[Any]], day: date
) -> dict[str, StatusRow]:
    """services/asof.status_on, from the steps and targets the report already holds."""
    found = {}
    for r in conn.execute(COVENANTS_IN_ORDER):
        step = stage_on(steps.get(r.id, []), day)
        if step is None:
            continue
        upcoming = next((v for v in targets.get(r.id, []) if v.status == "open"), None)
        found[r.slug] = StatusRow.of(
            r, stage=step.to_stage, since=step.occurred_on, version=step.seq, next_target=upcoming
        )
    return found


def _participants(
    conn: Connection,
    day: date,
    known_by: datetime | None,
    entries: dict[int, list[PartyEntry]],
) -> dict[int, dict[str, list[str]]]:
    """Each covenant's current parties on `day` by role (services/parties: the chain's fold)."""
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for covenant_id, views in parties_by_covenant(conn, day, known_by, entries=entries).items():
        for view in views:
            if view.current:
                found[covenant_id][view.role].append(view.name)
    return found

"""The progress report for a date D since a date S, laid out as the 2016 source document is.

Risk sectors first, in the document's order, with sub-sectors (Financiële sector →
Pensioensector, Verzekeringssector) and sub-covenants (Toerisme → Suriname) under their
parent; then "Overige sectoren". Per covenant: stage and since when, its parties by role and
the participants the source does not name, its signatories, the progress note current on D,
every target planned against actual, its history (of the period, given S), and what changed
since S
(reports/changes.py). At the top a summary (reports/summary.py) and a timeline.
Without S the last report issued before D gives it (services/issued.py); with none there is
no change section. The history is read once for all covenants (reports/chain_read.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.entry_text import stage_labels
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.reports import chain_read
from imvo_workflow.reports.chain_read import StoryNote
from imvo_workflow.reports.changes import Change, changes_between
from imvo_workflow.reports.collector import collector_paused
from imvo_workflow.reports.layout import Covenant, Entry, Layout, Sector
from imvo_workflow.reports.record_lines import RecordLines, record_lines
from imvo_workflow.reports.summary import (
    PeriodSummary,
    StageSummary,
    period_summary,
    stage_summary,
)
from imvo_workflow.reports.timeline import Lane, timeline_svg
from imvo_workflow.services.asof import effective_steps, end_of_day, stage_on, targets_on
from imvo_workflow.services.issued import last_issued
from imvo_workflow.services.parties import current_names_by_role
from imvo_workflow.services.queries import COVENANTS_IN_ORDER, StatusRow
from imvo_workflow.services.signatures import fold_signatures


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


#: The report's own reads, straight from the driver (db/driver.DriverStatement.rows).
_COVENANTS = DriverStatement(COVENANTS_IN_ORDER)
_sc, _c = t.sector, t.covenant
_SECTORS = DriverStatement(
    select(_sc.c.id, _sc.c.name, _sc.c.group, _sc.c.parent_id).order_by(_sc.c.position, _sc.c.id)
)
_COVENANT_TEXTS = DriverStatement(
    select(_c.c.id, _c.c.slug, _c.c.sector_id, _c.c.parent_id, _c.c.summary, _c.c.notes).order_by(
        _c.c.position, _c.c.id
    )
)


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
    with collector_paused(), uow:
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
    chain = chain_read.read_chain(conn, known_by)
    rows = chain.rows
    steps = effective_steps(chain.moves)
    targets = targets_on(conn, as_of, known_by)
    statuses = _statuses(conn, steps, targets, as_of)
    sectors = [Sector(r.id, r.name, r.group, r.parent_id) for r in _SECTORS.rows(conn)]
    covenants = [
        Covenant(r.id, r.slug, r.sector_id, r.parent_id, r.summary, tuple(r.notes or ()))
        for r in _COVENANT_TEXTS.rows(conn)
    ]
    fixed = chain_read.corrected_dates(chain.corrections)
    people = current_names_by_role(conn, as_of, known_by, chain.parties, fixed)
    signed = fold_signatures(chain.signatures, as_of)
    dated = chain_read.dated_between(rows, fixed, report.since, as_of)
    lines = record_lines(rows, dated, chain.corrections, definition, as_of, signed, targets)
    notes = chain_read.notes_on(chain.notes, fixed, as_of)
    summaries = chain_read.summaries_on(
        chain.summaries, as_of, {cov.id: cov.summary for cov in covenants}
    )
    changes = (
        changes_between(dated, lines, steps, targets, stage_labels(definition), report.since, as_of)
        if report.since is not None
        else {}
    )

    def details(
        cid: int, _: str
    ) -> tuple[RecordLines | None, StoryNote | None, str, tuple[Change, ...]]:
        note, summary = notes.get(cid), summaries.get(cid, "")
        if note is not None and summary.strip() == note.text.strip():
            summary = ""  # the note says it already
        return lines.get(cid), note, summary, tuple(changes.get(cid, ()))

    report.groups = Layout(definition, statuses, sectors, covenants, people, details).groups()
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
    for r in _COVENANTS.rows(conn):
        step = stage_on(steps.get(r.id, []), day)
        if step is None:
            continue
        upcoming = next((v for v in targets.get(r.id, []) if v.status == "open"), None)
        found[r.slug] = StatusRow.of(
            r, stage=step.to_stage, since=step.occurred_on, version=step.seq, next_target=upcoming
        )
    return found

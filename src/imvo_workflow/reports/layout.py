"""The document's order: which covenant comes where in the progress report, under which heading.

Risk sectors first, in the document's order, with sub-sectors (Financiële sector →
Pensioensector, Verzekeringssector) and sub-covenants (Toerisme → Suriname) under their
parent; then "Overige sectoren". A sector with sub-sectors but no covenant of its own is a
heading alone. Each covenant becomes an Entry with its stage and parties by role; the report
(reports/progress.py) fills in the rest of its record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.parties import unnamed_in
from imvo_workflow.domain.value import value
from imvo_workflow.reports.chain_read import StoryNote
from imvo_workflow.reports.changes import Change
from imvo_workflow.reports.record_lines import RecordLines
from imvo_workflow.services.continuation import stage_label
from imvo_workflow.services.queries import StatusRow

GROUP_TITLES = {"risicosector": "Risicosectoren", "overige": "Overige sectoren"}


@value
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
    note: StoryNote | None = None
    #: What changed since the report's since-date (empty without one).
    changes: tuple[Change, ...] = ()


@value
class Sector:
    id: int
    name: str
    group: str
    parent_id: int | None


@value
class Covenant:
    id: int
    slug: str
    sector_id: int
    parent_id: int | None
    summary: str
    notes: tuple[str, ...]


#: What the report adds to a covenant's entry: its record, note, summary (given its summary
#: now) and changes (reports/progress.py).
Details = Callable[[int, str], tuple[RecordLines | None, StoryNote | None, str, tuple[Change, ...]]]


class Layout:
    """Walks sectors and covenants in the document's order, producing report entries, each
    made once with what `details` gives for its covenant."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        statuses: dict[str, StatusRow],
        sectors: list[Sector],
        covenants: list[Covenant],
        people: dict[int, dict[str, list[str]]],
        details: Details,
    ) -> None:
        self.definition, self.statuses, self.people = definition, statuses, people
        self.details = details
        self.children: dict[int | None, list[Sector]] = defaultdict(list)
        for sector in sectors:
            self.children[sector.parent_id].append(sector)
        self.by_sector: dict[int, list[Covenant]] = defaultdict(list)
        self.subs: dict[int, list[Covenant]] = defaultdict(list)
        for cov in covenants:
            if cov.parent_id is None:
                self.by_sector[cov.sector_id].append(cov)
            else:
                self.subs[cov.parent_id].append(cov)

    def entry(self, cov: Covenant, level: int, heading: str) -> Entry | None:
        status = self.statuses.get(cov.slug)
        if status is None:
            return None
        roles = self.people.get(cov.id, {})
        record, note, summary, changes = self.details(cov.id, cov.summary)
        return Entry(  # positional: in the order Entry declares its fields
            level,
            heading,
            status,
            stage_label(self.definition, status),
            ", ".join(roles.get("trekker", [])),
            ", ".join(roles.get("facilitator", [])),
            tuple(roles.get("partij", [])),
            summary,
            record,
            cov.id,
            ", ".join(roles.get("kwartiermaker", [])),
            tuple(roles.get("betrokken", [])),
            tuple(unnamed_in(cov.notes)),
            note,
            changes,
        )

    def sector(self, sector: Sector, level: int) -> list[Entry]:
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

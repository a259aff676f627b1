"""Loading the 2016 progress report (or any seed file of the same shape), idempotently.

The whole load is one transaction. What exists already (a sector, an organisation, a
covenant with its slug) is left as it is, so running the seed twice changes nothing and a
covenant moved since it was seeded keeps its newer state; where the file now reads what the
seed wrote differently, the difference is appended to the covenant's chain
(services/seed_revision.py). Each covenant's dated history
goes through the same `make_move` a coordinator's move does, so the seeded history obeys
the graph and its chain hashes like any other; its targets go through `record_target` and the
source's text becomes its first progress note (dated the report's date), both chain entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidDefinition
from imvo_workflow.services import history
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.moves import MoveRequest, make_move
from imvo_workflow.services.notes import add_note
from imvo_workflow.services.organisations import insert_organisation
from imvo_workflow.services.parties import record_join
from imvo_workflow.services.seed_revision import revise
from imvo_workflow.services.seedfile import SeedCovenant, SeedFile, read_seed_file
from imvo_workflow.services.targets import TargetSpec, record_target

SEED_ACTOR = "seed"
PARTY_REASON = "Partij zoals genoemd in de voortgangsrapportage"


@dataclass
class SeedReport:
    sectors_added: int = 0
    organisations_added: int = 0
    covenants_added: int = 0
    covenants_present: int = 0
    targets_added: int = 0
    #: Entries appended to covenants seeded from an earlier reading of the file.
    revisions: int = 0


def seed(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    path: Path,
    now: datetime,
    progress: Callable[[str], None] = lambda _name: None,
) -> SeedReport:
    """Load the seed file at `path`; returns what was added."""
    data = read_seed_file(path)
    report = SeedReport()
    with uow:
        sector_ids = _ensure_sectors(uow.conn, data, report)
        org_ids = _ensure_organisations(uow.conn, data, report, now)
        existing = set(uow.conn.execute(select(t.covenant.c.slug)).scalars())
        covenant_ids = dict(uow.conn.execute(select(t.covenant.c.slug, t.covenant.c.id)).all())
        for position, item in enumerate(data.covenants):
            progress(item.slug)
            if item.slug in existing:
                report.covenants_present += 1
                report.revisions += revise(
                    uow.conn, definition, data, item, covenant_ids[item.slug], now=now
                )
                continue
            covenant_ids[item.slug] = _load_covenant(
                uow.conn,
                definition,
                data,
                item,
                position,
                sector_ids,
                org_ids,
                covenant_ids,
                now,
                report,
            )
            report.covenants_added += 1
        uow.commit()
    return report


def _ensure_sectors(conn: Connection, data: SeedFile, report: SeedReport) -> dict[str, int]:
    ids = dict(conn.execute(select(t.sector.c.slug, t.sector.c.id)).all())
    for position, sector in enumerate(data.sectors):
        if sector.slug in ids:
            continue
        if sector.parent is not None and sector.parent not in ids:
            raise InvalidDefinition(
                [f"sector {sector.slug}: onbekende bovenliggende sector {sector.parent}"]
            )
        ids[sector.slug] = conn.execute(
            insert(t.sector).returning(t.sector.c.id),
            {
                "slug": sector.slug,
                "name": sector.name,
                "group": sector.group,
                "parent_id": ids.get(sector.parent) if sector.parent else None,
                "position": position,
            },
        ).scalar_one()
        report.sectors_added += 1
    return ids


def _ensure_organisations(
    conn: Connection, data: SeedFile, report: SeedReport, now: datetime
) -> dict[str, int]:
    ids = dict(conn.execute(select(t.organisation.c.name, t.organisation.c.id)).all())
    for org in data.organisations:
        if org.name in ids:
            continue
        ids[org.name] = insert_organisation(
            conn, name=org.name, kind=org.kind, full_name=org.full_name, actor=SEED_ACTOR, now=now
        )
        report.organisations_added += 1
    return ids


def _load_covenant(
    conn: Connection,
    definition: WorkflowDefinition,
    data: SeedFile,
    item: SeedCovenant,
    position: int,
    sector_ids: dict[str, int],
    org_ids: dict[str, int],
    covenant_ids: dict[str, int],
    now: datetime,
    report: SeedReport,
) -> int:
    def known(kind: str, name: str, ids: dict[str, int]) -> int:
        if name not in ids:
            raise InvalidDefinition([f"convenant {item.slug}: onbekende {kind} '{name}'"])
        return ids[name]

    first, *later = item.history
    if first.stage != definition.initial:
        raise InvalidDefinition(
            [
                f"convenant {item.slug}: de geschiedenis begint met '{definition.initial}', niet '{first.stage}'"
            ]
        )
    covenant_id = open_covenant(
        conn=conn,
        definition=definition,
        covenant=NewCovenant(
            slug=item.slug,
            sector_id=known("sector", item.sector, sector_ids),
            title=item.title,
            parent_id=known("convenant", item.parent, covenant_ids) if item.parent else None,
            summary=item.summary,
            notes=tuple(item.notes),
            position=position,
        ),
        actor=first.by,
        reason=first.reason,
        occurred_on=first.on,
        now=now,
    )
    # Parties the document names took part from the opening, as far as it tells: the rows
    # keep `since` empty (and count for moves that need parties), the chain entries (what
    # as-of views fold) carry the opening date.
    roles = [("trekker", item.trekker), ("facilitator", item.facilitator)]
    roles += [("partij", name) for name in item.parties]
    roles += [("betrokken", name) for name in item.involved]
    joined = []
    for role, name in roles:
        if name is not None:
            org_id = known("organisatie", name, org_ids)
            participation_id = conn.execute(
                insert(t.participation).returning(t.participation.c.id),
                {"covenant_id": covenant_id, "organisation_id": org_id, "role": role},
            ).scalar_one()
            joined.append((int(participation_id), org_id, name, role))
    for step in later:
        make_move(
            conn,
            definition,
            MoveRequest(item.slug, step.stage, step.by, step.reason, step.on),
            now=now,
        )
    for target in item.targets:
        record_target(
            conn,
            definition,
            TargetSpec(
                covenant=item.slug,
                phrase=target.phrase,
                reference=target.reference or data.reference_date,
                actor=first.by,
                stage=target.stage,
                milestone=target.milestone,
                description=target.description,
                reason="Doel zoals vermeld in de voortgangsrapportage",
                set_on=data.report_date,
            ),
            now=now,
        )
        report.targets_added += 1
    # The joins' entries come after the dated moves, so a covenant's first rows stay its
    # opening and its moves; each join still happened (occurred_on) at the opening.
    for participation_id, org_id, name, role in joined:
        record_join(
            conn,
            definition,
            history.read_head_by_id(conn, covenant_id),
            participation_id,
            org_id,
            name,
            role,
            first.on,
            first.by,
            PARTY_REASON,
            now,
        )
    if item.summary.strip():  # the source's text is the covenant's first progress note
        add_note(conn, definition, item.slug, item.summary, data.report_date, first.by, now=now)
    return covenant_id

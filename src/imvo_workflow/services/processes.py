"""Opening a covenant process: for a new or existing sector, or as a sub-covenant of another.

A process may have started before anyone enters it, and in a later stage than the first (a
sector that announces its dialogue). Its chain still opens in the initial stage, on the start
date, and the move to the start stage follows on that same date through the ordinary move
(services/moves.make_move), in the same transaction: so the history replays like any other and
only a stage one move away from the initial one can be a start.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import MAX_LABEL, check_date, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    InvalidInput,
    NotFound,
    RequirementMissing,
    UnknownSector,
    UnknownStage,
)
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.lookup import normalise
from imvo_workflow.services.moves import MoveRequest, make_move

SECTOR_GROUPS = ("risicosector", "overige")
#: The covenant and sector slug columns hold 80 characters.
MAX_SLUG = 80
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class ProcessResult:
    slug: str
    covenant_id: int
    title: str
    sector: str
    parent: str | None
    stage: str
    started_on: date
    version: int


def start_stages(definition: WorkflowDefinition) -> list[str]:
    """Where a process may start: the initial stage and every non-terminal stage one move on."""
    ahead = [
        tr.dest
        for tr in definition.allowed(definition.initial)
        if not definition.stages[tr.dest].terminal
    ]
    return [definition.initial, *dict.fromkeys(d for d in ahead if d != definition.initial)]


def open_process(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    title: str,
    stage: str,
    started_on: date,
    actor: str,
    sector: str | None = None,
    new_sector: str | None = None,
    group: str | None = None,
    parent: str | None = None,
    summary: str = "",
    slug: str | None = None,
    reason: str = "",
    now: datetime,
) -> ProcessResult:
    """The user action: open a covenant process in `stage` on `started_on`."""
    check_label(title, "De titel")
    check_label(actor, "Wie het vastlegt")
    check_text(summary, "De samenvatting")
    check_text(reason, "De reden")
    check_date(started_on, "De startdatum")
    for value, what in ((sector, "De sector"), (new_sector, "De nieuwe sector")):
        check_label(value or "", what)
    check_label(parent or "", "Het bovenliggende convenant")
    check_label(slug or "", "De korte naam")
    if not title.strip():
        raise RequirementMissing("Een proces heeft een titel nodig.", "title")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie dit vastlegt.", "actor")
    if started_on > now.astimezone(AMSTERDAM).date():
        raise InvalidInput(f"De startdatum {started_on.isoformat()} ligt in de toekomst.")
    if stage not in definition.stages:
        raise UnknownStage(stage, difflib.get_close_matches(stage, list(definition.stages)))
    starts = start_stages(definition)
    if stage not in starts:
        raise InvalidInput(
            f"Een proces kan niet beginnen in '{stage}'. Mogelijke startfasen: {', '.join(starts)}."
        )
    has_sector, has_new = bool(sector and sector.strip()), bool(new_sector and new_sector.strip())
    if (has_sector and has_new) or not (has_sector or has_new or parent):
        raise RequirementMissing("Kies een bestaande sector óf geef een nieuwe.", "sector")
    wanted = normalise(slug if slug else title)
    if not wanted or len(wanted) > MAX_SLUG or not _SLUG.match(wanted):
        raise InvalidInput(
            f"De korte naam '{wanted}' kan niet: gebruik kleine letters, cijfers en "
            f"streepjes, hoogstens {MAX_SLUG} tekens."
        )
    with uow:
        conn = uow.conn
        _refuse_duplicate(conn, wanted, title)
        parent_id, parent_slug = _parent(conn, parent) if parent else (None, None)
        if has_new:
            sector_id, sector_name = _new_sector(conn, new_sector or "", group)
        elif has_sector:
            sector_id, sector_name = _sector(conn, sector or "")
        else:  # a sub-covenant in its parent's sector
            sector_id, sector_name = _sector_of(conn, parent_id or 0)
        position = conn.execute(select(func.coalesce(func.max(t.covenant.c.position), 0))).scalar()
        try:
            covenant_id = open_covenant(
                conn=conn,
                definition=definition,
                covenant=NewCovenant(
                    slug=wanted,
                    sector_id=sector_id,
                    title=title.strip(),
                    parent_id=parent_id,
                    summary=summary,
                    position=int(position or 0) + 1,
                ),
                actor=actor,
                reason=reason or "Proces geopend",
                occurred_on=started_on,
                now=now,
            )
        except IntegrityError as exc:  # the slug's unique constraint: someone was quicker
            raise ConcurrentUpdate(f"Iemand anders heeft zojuist '{wanted}' geopend.") from exc
        version = 1
        if stage != definition.initial:
            moved = make_move(
                conn, definition, MoveRequest(wanted, stage, actor, reason, started_on), now=now
            )
            version = moved.version
        uow.commit()
    return ProcessResult(
        wanted, covenant_id, title.strip(), sector_name, parent_slug, stage, started_on, version
    )


def list_sectors(*, conn: Connection) -> list[tuple[str, str]]:
    """(slug, name) of every sector, in the report's order: what a new process can be for."""
    s = t.sector
    return [
        (r.slug, r.name)
        for r in conn.execute(select(s.c.slug, s.c.name).order_by(s.c.position, s.c.id))
    ]


def _refuse_duplicate(conn: Connection, slug: str, title: str) -> None:
    c = t.covenant
    taken = conn.execute(
        select(c.c.slug, c.c.title).where(
            or_(c.c.slug == slug, func.lower(c.c.title) == title.strip().lower())
        )
    ).first()
    if taken is not None:
        raise InvalidInput(
            f"Er is al een proces '{taken.title}' ({taken.slug}); kies een andere titel of "
            "korte naam."
        )


def _parent(conn: Connection, name: str) -> tuple[int, str]:
    c = t.covenant
    row = conn.execute(select(c.c.id, c.c.slug).where(c.c.slug == normalise(name))).first()
    if row is None:
        slugs = list(conn.execute(select(c.c.slug)).scalars())
        raise NotFound(
            "convenant", name, difflib.get_close_matches(normalise(name), slugs, n=3, cutoff=0.5)
        )
    return int(row.id), str(row.slug)


def _sector(conn: Connection, name: str) -> tuple[int, str]:
    s = t.sector
    row = conn.execute(
        select(s.c.id, s.c.name).where(
            or_(s.c.slug == normalise(name), func.lower(s.c.name) == name.strip().lower())
        )
    ).first()
    if row is None:
        slugs = list(conn.execute(select(s.c.slug)).scalars())
        raise UnknownSector(
            name, difflib.get_close_matches(normalise(name), slugs, n=3, cutoff=0.5)
        )
    return int(row.id), str(row.name)


def _sector_of(conn: Connection, covenant_id: int) -> tuple[int, str]:
    c, s = t.covenant, t.sector
    row = conn.execute(
        select(s.c.id, s.c.name).join(c, c.c.sector_id == s.c.id).where(c.c.id == covenant_id)
    ).one()
    return int(row.id), str(row.name)


def _new_sector(conn: Connection, name: str, group: str | None) -> tuple[int, str]:
    if group not in SECTOR_GROUPS:
        raise InvalidInput(
            f"Een nieuwe sector hoort bij een groep: {' of '.join(SECTOR_GROUPS)}"
            + (f", niet '{group}'." if group else ".")
        )
    clean = name.strip()
    slug = normalise(clean)
    if not slug or len(slug) > MAX_SLUG or len(clean) > MAX_LABEL:
        raise InvalidInput(f"'{name}' kan geen sectornaam zijn.")
    s = t.sector
    taken = conn.execute(
        select(s.c.name).where(or_(s.c.slug == slug, func.lower(s.c.name) == clean.lower()))
    ).scalar()
    if taken is not None:
        raise InvalidInput(f"De sector '{taken}' bestaat al; kies die als bestaande sector.")
    position = conn.execute(select(func.coalesce(func.max(s.c.position), 0))).scalar()
    try:
        sector_id = conn.execute(
            insert(s).returning(s.c.id),
            {
                "slug": slug,
                "name": clean,
                "group": group,
                "parent_id": None,
                "position": int(position or 0) + 1,
            },
        ).scalar_one()
    except IntegrityError as exc:
        raise ConcurrentUpdate(
            f"Iemand anders heeft de sector '{clean}' zojuist toegevoegd."
        ) from exc
    return int(sector_id), clean

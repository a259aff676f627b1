"""Covenants by the page: the board's columns and the API's list, at 10,000 covenants.

The board shows each stage's count and its first cards, filtered by sector group, by "overdue"
and by a text search, and loads more cards per column on demand; GET /api/v1/covenants pages
through all of them. Both read one page at a time in the document's order (position, id),
continuing after a keyset cursor (domain/paging.py), so a page costs the same however many
covenants there are and stays stable while others add or move covenants. A page's next targets
are read for its covenants only. The rows are queries.StatusRow, as `imvo status` shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, func, or_, select, tuple_

from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import check_label
from imvo_workflow.domain.paging import decode_cursor, encode_cursor
from imvo_workflow.services.queries import (
    COVENANTS_IN_ORDER,
    StatusRow,
    TargetView,
    next_targets,
)

GROUPS = ("risicosector", "overige")
#: Cards per board column before "meer laden"; rows per API page by default and at most.
BOARD_PAGE, API_PAGE, API_MAX = 25, 100, 500


@dataclass(frozen=True, slots=True)
class Filter:
    """Which covenants a list shows: all by default."""

    group: str = ""
    overdue: bool = False
    #: Part of the title, the sector's name or the slug (case does not matter).
    search: str = ""
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[StatusRow]
    #: Where the next page starts (None: this was the last page).
    next: str | None


def _conditions(chosen: Filter, today: date) -> list[ColumnElement[bool]]:
    c, s, tg = t.covenant, t.sector, t.target
    found: list[ColumnElement[bool]] = []
    if chosen.stage is not None:
        found.append(c.c.stage == chosen.stage)
    if chosen.group:
        found.append(s.c.group == chosen.group)
    if chosen.overdue:  # the next open target is overdue iff any open target is
        found.append(
            exists().where(tg.c.covenant_id == c.c.id, tg.c.status == "open", tg.c.deadline < today)
        )
    words = chosen.search.strip().lower()
    if words:
        check_label(words, "De zoektekst")
        found.append(
            or_(
                *(
                    func.lower(column).contains(words, autoescape=True)
                    for column in (c.c.title, s.c.name, c.c.slug)
                )
            )
        )
    return found


def page(
    *, conn: Connection, today: date, chosen: Filter = Filter(), after: str | None, limit: int
) -> Page:
    """Up to `limit` covenants that pass `chosen`, after the cursor `after` (None: from the
    start), with their next targets; and the cursor of the page after it."""
    found, following = _rows(conn, today, chosen, after, limit)
    return _page(found, following, next_targets(conn, today, [r.id for r in found]))


def _rows(
    conn: Connection, today: date, chosen: Filter, after: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """One page of covenant rows and the cursor after it (None: the last page)."""
    c = t.covenant
    query = COVENANTS_IN_ORDER.where(*_conditions(chosen, today)).limit(limit + 1)
    if after:
        position, row_id = decode_cursor(after)
        query = query.where(tuple_(c.c.position, c.c.id) > tuple_(position, row_id))
    found = conn.execute(query).all()
    if len(found) <= limit:
        return list(found), None
    last = found[limit - 1]
    return list(found[:limit]), encode_cursor(last.position, last.id)


def _page(found: list[Any], following: str | None, upcoming: dict[int, TargetView]) -> Page:
    rows = [
        StatusRow.of(
            r, stage=r.stage, since=r.stage_since, version=r.version, next_target=upcoming.get(r.id)
        )
        for r in found
    ]
    return Page(rows, following)


def counts(*, conn: Connection, today: date, chosen: Filter = Filter()) -> dict[str, int]:
    """How many covenants that pass `chosen` stand in each stage."""
    c = t.covenant
    query = (
        select(c.c.stage, func.count())
        .select_from(c.join(t.sector, t.sector.c.id == c.c.sector_id))
        .where(*_conditions(chosen, today))
        .group_by(c.c.stage)
    )
    return {stage: int(n) for stage, n in conn.execute(query)}


def columns(
    *,
    conn: Connection,
    today: date,
    stages: Iterable[str],
    chosen: Filter = Filter(),
    paged: tuple[str, str] | None = None,
) -> tuple[dict[str, int], dict[str, Page]]:
    """The board: every stage's count and first page of cards; `paged` = (stage, cursor)
    starts that one column after the cursor (the "meer laden" link without JavaScript)."""
    numbers = counts(conn=conn, today=today, chosen=chosen)
    found: dict[str, tuple[list[Any], str | None]] = {}
    for stage in stages:
        if numbers.get(stage):
            after = paged[1] if paged is not None and paged[0] == stage else None
            narrowed = Filter(chosen.group, chosen.overdue, chosen.search, stage)
            found[stage] = _rows(conn, today, narrowed, after, BOARD_PAGE)
        else:
            found[stage] = ([], None)
    ids = [r.id for rows, _ in found.values() for r in rows]
    upcoming = next_targets(conn, today, ids)  # one read for every card on the board
    return numbers, {stage: _page(rows, nxt, upcoming) for stage, (rows, nxt) in found.items()}

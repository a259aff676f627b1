"""Streaming the history out as CSV or JSON: memory stays flat however long the history is.

Rows come from a server-side cursor in batches and are written as they arrive; JSON is
written as an array one element at a time, never built in memory.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from sqlalchemy import Connection, or_, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_label
from imvo_workflow.domain.errors import InvalidInput, UnknownSector
from imvo_workflow.reports.csvfile import write_csv
from imvo_workflow.services.lookup import normalise
from imvo_workflow.services.queries import aware

COLUMNS = (
    "covenant",
    "sector",
    "seq",
    "from_stage",
    "to_stage",
    "trigger",
    "actor",
    "reason",
    "occurred_on",
    "recorded_at",
    "corrects_seq",
    "prev_hash",
    "hash",
    "detail",
)
FORMATS = ("csv", "json")


@dataclass(frozen=True, slots=True)
class ExportFilter:
    sector: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None


def export_rows(conn: Connection, where: ExportFilter) -> Iterator[dict[str, Any]]:
    """The filtered history rows, streamed; an unknown sector is refused before any row."""
    check_filter(where)
    _check_sector(conn, where.sector)
    return _stream(conn, where)


def check_filter(where: ExportFilter) -> None:
    """Bounded like every input: one-line filters, dates in the years 1900-2200."""
    check_label(where.sector or "", "De sector")
    check_label(where.actor or "", "De persoon")
    if where.since is not None:
        check_date(where.since, "Vanaf")
    if where.until is not None:
        check_date(where.until, "Tot en met")
    if where.since and where.until and where.since > where.until:
        raise InvalidInput("--from ligt na --to.")


def _check_sector(conn: Connection, sector: str | None) -> None:
    if not sector:
        return
    slug = normalise(sector)
    known = list(conn.execute(select(t.sector.c.slug)).scalars())
    if slug not in known:
        raise UnknownSector(sector, difflib.get_close_matches(slug, known, n=3, cutoff=0.5))


def _stream(conn: Connection, where: ExportFilter) -> Iterator[dict[str, Any]]:
    tr, c, s = t.transition, t.covenant, t.sector
    query = (
        select(
            c.c.slug,
            s.c.slug.label("sector"),
            tr.c.seq,
            tr.c.from_stage,
            tr.c.to_stage,
            tr.c.trigger,
            tr.c.actor,
            tr.c.reason,
            tr.c.occurred_on,
            tr.c.recorded_at,
            tr.c.corrects_seq,
            tr.c.prev_hash,
            tr.c.hash,
            tr.c.detail,
        )
        .join(c, c.c.id == tr.c.covenant_id)
        .join(s, s.c.id == c.c.sector_id)
        .order_by(tr.c.covenant_id, tr.c.seq)
    )
    if where.sector:
        slug = normalise(where.sector)
        known = list(conn.execute(select(s.c.slug)).scalars())
        if slug not in known:
            raise UnknownSector(
                where.sector, difflib.get_close_matches(slug, known, n=3, cutoff=0.5)
            )
        # a parent sector (Financiële sector) covers its sub-sectors
        parent = s.alias("parent")
        query = query.outerjoin(parent, parent.c.id == s.c.parent_id).where(
            or_(s.c.slug == slug, parent.c.slug == slug)
        )
    if where.actor:
        query = query.where(tr.c.actor == where.actor)
    if where.since:
        query = query.where(tr.c.occurred_on >= where.since)
    if where.until:
        query = query.where(tr.c.occurred_on <= where.until)
    for r in conn.execution_options(yield_per=5000).execute(query):
        row = dict(r._mapping)
        row["covenant"] = row.pop("slug")
        row["occurred_on"] = row["occurred_on"].isoformat()
        row["recorded_at"] = aware(row["recorded_at"]).isoformat()
        yield row


def export_history(
    *, uow: UnitOfWork, out: TextIO, fmt: str, where: ExportFilter = ExportFilter()
) -> int:
    """Write the (filtered) history to `out`; returns the number of rows."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Onbekend formaat '{fmt}'; kies uit {', '.join(FORMATS)}.")
    check_filter(where)
    count = 0
    with uow:
        rows = export_rows(uow.conn, where)
        if fmt == "csv":
            count = write_csv(out, COLUMNS, rows)
        else:
            out.write("[")
            for row in rows:
                out.write(("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
                count += 1
            out.write("\n]\n")
    return count

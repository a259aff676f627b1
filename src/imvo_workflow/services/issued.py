"""Issued progress reports: what was sent, provably, and the date a next report starts from.

The design says an issued report records its date and hash in the chain. There is no chain
for the whole database, only one per covenant, so issuing appends a `rapport_uitgebracht`
entry (as-of date, since-date, format, SHA-256 of the bytes, report id) to the chain of every
covenant the report covers: `imvo audit verify` and the checkpoints then cover the claim like
any other entry, and a reader of one covenant's history sees when it was reported on. The
`issued_report` row beside them is the read table that lists reports and finds one by hash
without reading every chain; `check` proves a file against both (the row, and the entries
of the covenants it names). Reports never report these entries (reports/chain_read), so
regenerating an issued report gives the bytes that were sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, insert, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import check_label
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import NotFound, RequirementMissing
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.services import history
from imvo_workflow.services.queries import aware


@dataclass(frozen=True, slots=True)
class IssuedReport:
    id: int
    as_of: date
    since: date | None
    known_at: bool
    format: str
    sha256: str
    size: int
    covenants: int
    actor: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A file held against the issued reports: which one it is, and whether the chain agrees."""

    sha256: str
    report: IssuedReport | None
    #: Covenant chains that carry this report's entry with this hash.
    entries: int

    @property
    def ok(self) -> bool:
        return self.report is not None and self.entries == self.report.covenants


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_issue(
    conn: Connection,
    definition: WorkflowDefinition,
    *,
    as_of: date,
    since: date | None,
    known_at: bool,
    fmt: str,
    data: bytes,
    covenant_ids: list[int],
    actor: str,
    now: datetime,
) -> IssuedReport:
    """Write the issued report's row and its entry in each covenant's chain, inside the
    caller's transaction."""
    check_label(actor, "Wie het rapport uitbrengt")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie het rapport uitbrengt.", "actor")
    ir = t.issued_report
    sha, recorded = digest(data), now.astimezone(UTC)
    values = {
        "as_of": as_of,
        "since": since,
        "known_at": known_at,
        "format": fmt,
        "sha256": sha,
        "size": len(data),
        "covenants": len(covenant_ids),
        "actor": actor,
        "issued_at": recorded,
    }
    report_id = int(conn.execute(insert(ir).returning(ir.c.id), values).scalar_one())
    detail = {
        "report_id": report_id,
        "as_of": as_of.isoformat(),
        "since": since.isoformat() if since else None,
        "known_at": known_at,
        "format": fmt,
        "sha256": sha,
    }
    today = now.astimezone(AMSTERDAM).date()
    for covenant_id in covenant_ids:
        history.record(
            conn,
            history.read_head_by_id(conn, covenant_id),
            RecordKind.REPORT_ISSUED,
            detail,
            actor=actor,
            reason="",
            occurred_on=today,
            definition_version=definition.version,
            now=now,
        )
    return IssuedReport(report_id, **values)  # type: ignore[arg-type]


def _view(r: object) -> IssuedReport:
    m = r._mapping  # type: ignore[attr-defined]
    return IssuedReport(**{**m, "issued_at": aware(m["issued_at"])})


def issued_reports(conn: Connection) -> list[IssuedReport]:
    """Every issued report, newest first."""
    ir = t.issued_report
    return [_view(r) for r in conn.execute(select(ir).order_by(ir.c.id.desc()))]


def last_issued(conn: Connection, before: date, known_by: datetime | None) -> IssuedReport | None:
    """The latest report issued for a date before `before` (issued before `known_by`): the
    default since-date of the next report."""
    ir = t.issued_report
    query = select(ir).where(ir.c.as_of < before).order_by(ir.c.as_of.desc(), ir.c.id.desc())
    for r in conn.execute(query):
        found = _view(r)
        if known_by is None or found.issued_at < known_by:
            return found
    return None


def check(conn: Connection, data: bytes, report_id: int | None = None) -> CheckResult:
    """Which issued report these bytes are (or whether they are report `report_id`), and how
    many covenant chains carry that report's entry with the same hash."""
    sha = digest(data)
    ir, tr = t.issued_report, t.transition
    query = select(ir).where(ir.c.sha256 == sha).order_by(ir.c.id)
    if report_id is not None:
        if conn.execute(select(func.count()).where(ir.c.id == report_id)).scalar_one() == 0:
            raise NotFound("uitgebracht rapport", f"#{report_id}")
        query = query.where(ir.c.id == report_id)
    row = conn.execute(query).first()
    if row is None:
        return CheckResult(sha, None, 0)
    found = _view(row)
    entries = 0
    for r in conn.execute(
        select(tr.c.detail).where(tr.c.trigger == RecordKind.REPORT_ISSUED.value)
    ):
        detail = read_detail(r.detail)
        if detail.get("report_id") == found.id and detail.get("sha256") == sha:
            entries += 1
    return CheckResult(sha, found, entries)

"""Issuing a progress report: build it, render it, and record what was sent, in one step.

The user action behind `imvo report issue`, the API's POST /reports/issued and the Rapport
page's "Uitbrengen": the report for (D, S) is built and rendered inside the same transaction
that records it (services/issued.record_issue: a read-table row and a chain entry per
covenant), so the hash recorded is the hash of exactly these bytes. A caller that must keep
the file (the CLI writing -o FILE) does so before the commit: if it cannot, nothing is
recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.reports.progress import check_report_dates, report_in
from imvo_workflow.reports.render import check_format, render_bytes
from imvo_workflow.services.issued import IssuedReport, record_issue


def issue_report(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    as_of: date,
    since: date | None,
    fmt: str,
    actor: str,
    now: datetime,
    known_at: bool = False,
    keep: Callable[[bytes], None] | None = None,
) -> tuple[IssuedReport, bytes]:
    """Issue the report for `as_of` since `since` (None: the last issued report's date) in
    `fmt`; returns what was recorded and the bytes."""
    check_format(fmt)
    check_report_dates(as_of, since)
    today = now.astimezone(AMSTERDAM).date()
    if as_of > today:
        raise InvalidInput(
            f"De peildatum {as_of.isoformat()} ligt na vandaag ({today.isoformat()}); een "
            "uitgebracht rapport beschrijft wat al gebeurd is."
        )
    with uow:
        report = report_in(uow.conn, definition, as_of=as_of, known_at=known_at, since=since)
        if not report.covenant_ids:
            raise InvalidInput(
                f"Op {as_of.isoformat()} bestond nog geen convenant; er valt niets uit te brengen."
            )
        data = render_bytes(report, definition, fmt)
        issued = record_issue(
            uow.conn,
            definition,
            as_of=as_of,
            since=report.since,
            known_at=known_at,
            fmt=fmt,
            data=data,
            covenant_ids=report.covenant_ids,
            actor=actor,
            now=now,
        )
        if keep is not None:
            keep(data)
        uow.commit()
    return issued, data

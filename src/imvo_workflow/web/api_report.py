"""The JSON API of the progress report: the report in any format, issuing it, the issued list.

Same conventions as web/api.py. GET /report gives the same bytes as `imvo report` for the same
(as_of, since); POST /reports/issued issues it (coordinator), recording its dates and the
SHA-256 of its bytes in every reported covenant's chain, and answers with that record: the
bytes themselves are GET /report with the recorded as_of, since and format.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, Security
from pydantic import BaseModel, Field

from imvo_workflow.reports.issue import issue_report
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import MEDIA_TYPES, render_bytes
from imvo_workflow.services import issued
from imvo_workflow.services.issued import IssuedReport
from imvo_workflow.web.api import BEARER, ERRORS, Coordinator, Imvo, Reader

router = APIRouter(
    prefix="/api/v1",
    tags=["imvo"],
    dependencies=[Security(BEARER)],
    generate_unique_id_function=lambda route: route.name,
)
FORMAT = "^(md|html|docx)$"


class IssueRequest(BaseModel):
    as_of: date = Field(description="The report's date (not later than today).")
    since: date | None = Field(
        default=None,
        description="What changed since this date (before as_of); default: the date of the "
        "last report issued before as_of, else no change section.",
    )
    format: str = Field(default="docx", pattern=FORMAT, description="md, html or docx.")


@router.get(
    "/report",
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "description": "The progress report, as Markdown (format=md), HTML (format=html) "
            "or Word (format=docx).",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
                MEDIA_TYPES["docx"]: {"schema": {"type": "string", "format": "binary"}},
            },
        },
    },
)
def get_report(
    app: Imvo,
    user: Reader,
    as_of: date | None = None,
    known_at: bool = False,
    since: date | None = None,
    format: Annotated[str, Query(pattern=FORMAT)] = "md",
) -> Response:
    built = build_report(
        uow=app.uow(readonly=True),
        definition=app.definition,
        as_of=as_of or app.today(),
        known_at=known_at,
        since=since,
    )
    return Response(render_bytes(built, app.definition, format), media_type=MEDIA_TYPES[format])


@router.get("/reports/issued", responses=ERRORS)
def list_issued_reports(app: Imvo, user: Reader) -> list[IssuedReport]:
    with app.uow(readonly=True) as uow:
        return issued.issued_reports(uow.conn)


@router.post("/reports/issued", status_code=201, responses=ERRORS)
def issue_a_report(app: Imvo, user: Coordinator, body: IssueRequest) -> IssuedReport:
    done, _ = issue_report(
        uow=app.uow(),
        definition=app.definition,
        as_of=body.as_of,
        since=body.since,
        fmt=body.format,
        actor=user.name,
        now=app.now(),
    )
    return done

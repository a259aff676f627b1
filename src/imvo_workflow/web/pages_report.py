"""The Rapport page: the progress report for a date since a date, its downloads, issuing it.

/rapport asks for the peildatum and the since-date and lists the issued reports;
/rapport/bekijk shows the printable HTML report with a download link per format (md, html,
docx: /rapport/download, the same bytes as `imvo report`), its inline stylesheet allowed by
hash in the page's Content-Security-Policy; a coordinator issues the report from /rapport
(POST /rapport/uitbrengen: recorded in the chain, answered with the file).
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from imvo_workflow.bootstrap import App
from imvo_workflow.reports.issue import issue_report
from imvo_workflow.reports.progress import ProgressReport, build_report
from imvo_workflow.reports.render import FORMATS, MEDIA_TYPES, check_format, render, render_bytes
from imvo_workflow.services import issued
from imvo_workflow.web.headers import CSP
from imvo_workflow.web.pages import Coordinator, Imvo, Viewer, _date, page
from imvo_workflow.web.security import check_csrf

router = APIRouter(include_in_schema=False)
LABELS = {"md": "Markdown (.md)", "html": "HTML (.html)", "docx": "Word (.docx)"}


def _file(data: bytes, fmt: str, name: str) -> Response:
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.get("/rapport")
def report_form(request: Request, app: Imvo, user: Viewer) -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        reports = issued.issued_reports(uow.conn)
    return page(
        request,
        "report_form.html",
        user,
        active="rapport",
        today=app.today(),
        issued=reports,
        formats=LABELS,
    )


def _report(app: App, datum: str, sinds: str, bekend: str) -> tuple[date, ProgressReport]:
    """The report the view and the download show for the form's fields."""
    day = _date(datum, "Peildatum") or app.today()
    built = build_report(
        uow=app.uow(readonly=True),
        definition=app.definition,
        as_of=day,
        known_at=bool(bekend),
        since=_date(sinds, "Sinds"),
    )
    return day, built


@router.get("/rapport/bekijk")
def report_view(
    app: Imvo, user: Viewer, datum: str = "", sinds: str = "", bekend: str = ""
) -> HTMLResponse:
    day, built = _report(app, datum, sinds, bekend)
    asked = {"datum": day.isoformat(), "sinds": sinds, "bekend": bekend}
    links = [
        (LABELS[fmt], "/rapport/download?" + urlencode(asked | {"formaat": fmt})) for fmt in FORMATS
    ]
    html = render(built, app.definition, "html", links)
    return HTMLResponse(html, headers={"Content-Security-Policy": _csp_for(html)})


def _csp_for(html: str) -> str:
    """The page's policy with its own <style> allowed by hash: the report is one file that
    prints alone, so its stylesheet is inline; every other inline style stays refused."""
    found = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    if found is None:
        return CSP
    digest = base64.b64encode(hashlib.sha256(found.group(1).encode("utf-8")).digest()).decode()
    return CSP.replace("style-src 'self';", f"style-src 'self' 'sha256-{digest}';", 1)


@router.get("/rapport/download")
def report_download(
    app: Imvo, user: Viewer, datum: str = "", sinds: str = "", bekend: str = "", formaat: str = ""
) -> Response:
    fmt = check_format(formaat)
    day, built = _report(app, datum, sinds, bekend)
    return _file(render_bytes(built, app.definition, fmt), fmt, f"voortgang-imvo-{day}")


@router.post("/rapport/uitbrengen", dependencies=[Depends(check_csrf)])
def report_issue(
    app: Imvo,
    user: Coordinator,
    datum: Annotated[str, Form()] = "",
    sinds: Annotated[str, Form()] = "",
    formaat: Annotated[str, Form()] = "",
) -> Response:
    fmt = check_format(formaat)
    done, data = issue_report(
        uow=app.uow(),
        definition=app.definition,
        as_of=_date(datum, "Peildatum") or app.today(),
        since=_date(sinds, "Sinds"),
        fmt=fmt,
        actor=user.name,
        now=app.now(),
    )
    answer = _file(data, fmt, f"voortgang-imvo-{done.as_of}-rapport-{done.id}")
    answer.headers["X-Report-Id"] = str(done.id)
    answer.headers["X-Report-Sha256"] = done.sha256
    return answer

"""The Rapport page and the report API over HTTP (issue 13), on both databases.

A viewer reads the report since a date with a download per format (the same bytes as the
CLI's), a coordinator issues one from the page and through the API, a viewer is refused
issuing, and every bad date or format is a 4xx with a Dutch message that writes nothing.
"""

from __future__ import annotations

from datetime import date

import test_web
from sqlalchemy import func, select
from test_web import Site, assert_api_refusal, form_token, message

from imvo_workflow.db import tables as t
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import MEDIA_TYPES, render_bytes
from imvo_workflow.services import issued

site = test_web.site
password_hashes = test_web.password_hashes

DAY, SINCE = "2016-11-01", "2016-06-01"


def written(site: Site) -> tuple[int, int]:
    with site.app.uow(readonly=True) as uow:
        return (
            uow.conn.execute(select(func.count()).select_from(t.transition)).scalar_one(),
            uow.conn.execute(select(func.count()).select_from(t.issued_report)).scalar_one(),
        )


def expected(site: Site, fmt: str, since: date | None = date(2016, 6, 1)) -> bytes:
    built = build_report(
        uow=site.app.uow(readonly=True),
        definition=site.app.definition,
        as_of=date(2016, 11, 1),
        since=since,
    )
    return render_bytes(built, site.app.definition, fmt)


def test_the_report_page_shows_changes_and_a_download_per_format(site: Site) -> None:
    viewer = site.login("viewer")
    page = viewer.get("/rapport/bekijk", params={"datum": DAY, "sinds": SINCE})
    assert page.status_code == 200, message(page)
    assert "Wat is er veranderd sinds 01-06-2016" in page.text
    for fmt in ("md", "html", "docx"):
        link = f"/rapport/download?datum={DAY}&amp;sinds={SINCE}&amp;bekend=&amp;formaat={fmt}"
        assert link in page.text, fmt
        answer = viewer.get(link.replace("&amp;", "&"))
        assert answer.status_code == 200, message(answer)
        assert answer.headers["content-type"] == MEDIA_TYPES[fmt]
        assert "attachment" in answer.headers["content-disposition"]
        assert answer.content == expected(site, fmt), fmt
    assert "Rapport uitbrengen" not in viewer.get("/rapport").text  # a viewer cannot issue


def test_bad_dates_and_formats_are_refused_and_write_nothing(site: Site) -> None:
    viewer = site.login("viewer")
    before = written(site)
    for params in (
        {"datum": DAY, "sinds": "2016-11-02"},
        {"datum": DAY, "sinds": DAY},
        {"datum": "9999-01-01"},
        {"datum": DAY, "sinds": "gisteren"},
        {"datum": DAY, "formaat": "pdf"},
    ):
        for path in ("/rapport/bekijk", "/rapport/download"):
            if path == "/rapport/bekijk" and params.get("formaat"):
                continue  # the page is HTML whatever is asked; the download is refused
            answer = viewer.get(path, params={"formaat": "md", **params})
            assert 400 <= answer.status_code < 500, (path, params, answer.status_code)
    api = site.client(headers=site.bearer("viewer"))
    for params in ({"since": "2016-11-02"}, {"format": "pdf"}, {"as_of": "99999-01-01"}):
        answer = api.get("/api/v1/report", params={"as_of": DAY, **params})
        assert_api_refusal(answer, 422)
    coordinator = site.client(headers=site.bearer("coordinator"))
    for body in (
        {"as_of": DAY, "since": DAY, "format": "md"},
        {"as_of": "2016-11-02", "format": "md"},
        {"as_of": DAY, "format": "pdf"},
    ):
        answer = coordinator.post("/api/v1/reports/issued", json=body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
    assert written(site) == before


def test_a_coordinator_issues_from_the_page_and_the_api(site: Site) -> None:
    coordinator = site.login("coordinator")
    token = form_token(coordinator, "/rapport")
    answer = coordinator.post(
        "/rapport/uitbrengen",
        data={"csrf_token": token, "datum": DAY, "sinds": SINCE, "formaat": "docx"},
    )
    assert answer.status_code == 200, message(answer)
    assert answer.content == expected(site, "docx")
    assert answer.headers["x-report-sha256"] == issued.digest(answer.content)
    listed = coordinator.get("/rapport").text
    assert answer.headers["x-report-sha256"] in listed
    viewer_api = site.client(headers=site.bearer("viewer"))
    before = written(site)
    refused = viewer_api.post("/api/v1/reports/issued", json={"as_of": DAY, "format": "md"})
    assert_api_refusal(refused, 403)
    assert written(site) == before
    api = site.client(headers=site.bearer("coordinator"))
    made = api.post("/api/v1/reports/issued", json={"as_of": DAY, "format": "html"})
    assert made.status_code == 201, made.text
    body = made.json()
    # no since given: none issued before 1 November 2016, so none; the bytes are GET /report's
    assert body["since"] is None and body["covenants"] == 21
    same = api.get("/api/v1/report", params={"as_of": DAY, "format": "html"})
    assert issued.digest(same.content) == body["sha256"]
    assert [r["id"] for r in api.get("/api/v1/reports/issued").json()] == [body["id"], 1]

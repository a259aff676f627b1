"""The record's pages and API over HTTP: a new process, organisations, parties over time.

The same service functions as the CLI; here what the web adds: coordinators get the forms and
viewers a read-only page, the covenant page shows parties on `?peildatum=`, the API answers
bad input with a 4xx JSON body, and a refusal writes nothing. On the seeded 2016 data (the
`site` of test_web.py), on SQLite and PostgreSQL.
"""

# ruff: noqa: F811  (the fixtures of test_web.py, imported, are the tests' parameters)
from __future__ import annotations

import re

from sqlalchemy import func, select
from test_web import (  # noqa: F401  (fixtures)
    Site,
    assert_api_refusal,
    form_token,
    password_hashes,
    site,
    snapshot,
)

from imvo_workflow.db import tables as t

NGO = "Ngo Voedsel"
RECORD = (t.participation, t.organisation, t.organisation_name, t.sector, t.covenant)


def state(site: Site) -> dict[str, object]:
    """What a refused request must leave as it was: test_web's snapshot and the record's rows."""
    with site.app.uow(readonly=True) as uow:
        rows = {
            table.name: uow.conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in RECORD
        }
    return snapshot(site.app) | rows


def _org(site: Site, name: str = NGO) -> int:
    answer = site.client().post(
        "/api/v1/organisations",
        json={"name": name, "kind": "ngo"},
        headers=site.bearer("coordinator"),
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_the_api_adds_a_party_and_records_its_leave(site: Site) -> None:
    api, headers = site.client(), site.bearer("coordinator")
    _org(site)
    joined = api.post(
        "/api/v1/covenants/voedingsmiddelen/parties",
        json={"organisation": NGO, "role": "partij", "since": "2016-09-01"},
        headers=headers,
    )
    assert joined.status_code == 201, joined.text
    pid = joined.json()["participation_id"]
    left = api.post(
        f"/api/v1/covenants/voedingsmiddelen/parties/{pid}/leave",
        json={"until": "2016-10-15", "reason": "Stapt uit de onderhandelingen"},
        headers=headers,
    )
    assert left.status_code == 200, left.text
    reader = site.bearer("viewer")
    now = api.get("/api/v1/covenants/voedingsmiddelen/parties", headers=reader).json()
    assert [p["name"] for p in now["past"]] == [NGO]
    assert now["past"][0]["left_reason"] == "Stapt uit de onderhandelingen"
    assert "verschillende NGO's" in now["unnamed"][0]
    before = api.get(
        "/api/v1/covenants/voedingsmiddelen/parties", params={"as_of": "2016-10-01"}, headers=reader
    ).json()
    assert NGO in [p["name"] for p in before["current"]] and before["past"] == []
    twice = api.post(
        f"/api/v1/covenants/voedingsmiddelen/parties/{pid}/leave",
        json={"until": "2016-10-16", "reason": "nog eens"},
        headers=headers,
    )
    assert_api_refusal(twice, 422)


def test_the_api_refuses_bad_input_with_json_and_writes_nothing(site: Site) -> None:
    api, headers, viewer_headers = site.client(), site.bearer("coordinator"), site.bearer("viewer")
    before = state(site)
    cases = [
        ("/api/v1/covenants/voedingsmiddelen/parties", {"organisation": "Onbekend", "role": "partij", "since": "2016-09-01"}, 404),
        ("/api/v1/covenants/voedingsmiddelen/parties", {"organisation": "FNLI", "role": "trekker", "since": "2016-09-01"}, 422),
        ("/api/v1/covenants/voedingsmiddelen/parties", {"organisation": "FNV", "role": "partij", "since": "2017-09-01"}, 422),
        ("/api/v1/covenants/voedingsmiddelen/parties", {"organisation": "FNV", "role": "baas", "since": "2016-09-01"}, 422),
        ("/api/v1/covenants/nergens/parties", {"organisation": "FNV", "role": "partij", "since": "2016-09-01"}, 404),
        ("/api/v1/covenants/voedingsmiddelen/parties/1/leave", {"until": "2016-10-01", "reason": ""}, 422),
        ("/api/v1/covenants/voedingsmiddelen/parties/99999999999999999999/leave", {"until": "2016-10-01", "reason": "x"}, 404),
        ("/api/v1/covenants/voedingsmiddelen/parties/999999/leave", {"until": "2016-10-01", "reason": "x"}, 404),
        ("/api/v1/organisations", {"name": "SER", "kind": "ngo"}, 422),
        ("/api/v1/organisations", {"name": "X" * 201, "kind": "ngo"}, 422),
        ("/api/v1/organisations", {"name": "X\u0007", "kind": "ngo"}, 422),
        ("/api/v1/organisations/999999/rename", {"new_name": "X", "reason": "x"}, 404),
        ("/api/v1/covenants", {"title": "Nieuw", "stage": "ondertekend", "started_on": "2016-10-01", "sector": "chemie"}, 422),
        ("/api/v1/covenants", {"title": "Nieuw", "stage": "dialoog", "started_on": "2016-10-01", "parent": "nergens"}, 404),
        ("/api/v1/covenants", {"title": "IMVO-convenant Chemie", "stage": "dialoog", "started_on": "2016-10-01", "sector": "chemie"}, 422),
        ("/api/v1/covenants", {"title": "Nieuw", "stage": "dialoog", "started_on": "2099-10-01", "sector": "chemie"}, 422),
    ]  # fmt: skip
    for path, body, status in cases:
        answer = api.post(path, json=body, headers=headers)
        assert answer.status_code == status, (path, body, answer.text)
        assert_api_refusal(answer, status)
    viewer = api.post(
        "/api/v1/organisations",
        json={"name": "Mag niet", "kind": "ngo"},
        headers=viewer_headers,
    )
    assert_api_refusal(viewer, 403)
    bad_day = api.get(
        "/api/v1/covenants/goud/parties", params={"as_of": "2016-13-01"}, headers=headers
    )
    assert bad_day.status_code == 422
    assert state(site) == before


def test_the_api_opens_a_process_and_renames_an_organisation(site: Site) -> None:
    api, headers = site.client(), site.bearer("coordinator")
    opened = api.post(
        "/api/v1/covenants",
        json={
            "title": "IMVO-convenant Textiel",
            "new_sector": "Textiel",
            "group": "risicosector",
            "stage": "dialoog",
            "started_on": "2016-03-01",
        },
        headers=headers,
    )
    assert opened.status_code == 201, opened.text
    assert (opened.json()["slug"], opened.json()["stage"]) == ("imvo-convenant-textiel", "dialoog")
    assert api.get("/api/v1/covenants/imvo-convenant-textiel", headers=headers).status_code == 200
    org = _org(site, "Ngo Oud")
    renamed = api.post(
        f"/api/v1/organisations/{org}/rename",
        json={"new_name": "Ngo Nieuw", "reason": "Fusie"},
        headers=headers,
    )
    assert renamed.status_code == 200, renamed.text
    listed = {o["name"]: o for o in api.get("/api/v1/organisations", headers=headers).json()}
    assert listed["Ngo Nieuw"]["former_names"] == ["Ngo Oud"]


def test_the_covenant_page_shows_parties_on_a_peildatum_and_the_forms_to_coordinators(
    site: Site,
) -> None:
    coordinator = site.login("coordinator")
    _org(site)
    token = form_token(coordinator, "/convenanten/voedingsmiddelen")
    added = coordinator.post(
        "/convenanten/voedingsmiddelen/partijen",
        data={"csrf_token": token, "organisation": NGO, "role": "partij", "since": "2016-09-01"},
        headers={"HX-Request": "true"},
    )
    assert added.status_code == 200 and "Vastgelegd" in added.text, added.text[:500]
    pid = re.search(r'<option value="(\d+)">' + NGO, added.text)
    assert pid is not None
    left = coordinator.post(
        "/convenanten/partijen/vertrek",
        data={
            "csrf_token": token,
            "slug": "voedingsmiddelen",
            "participation_id": pid.group(1),
            "until": "2016-10-15",
            "reason": "Stapt uit",
        },
    )
    assert left.status_code == 200 and "Stapt uit" in left.text
    page = coordinator.get("/convenanten/voedingsmiddelen").text
    assert "parties-past" in page and 'id="party-organisation"' in page
    earlier = coordinator.get("/convenanten/voedingsmiddelen?peildatum=2016-10-01").text
    assert "parties-past" not in earlier and NGO in earlier and "op 01-10-2016" in earlier
    assert coordinator.get("/convenanten/voedingsmiddelen?peildatum=gisteren").status_code == 422
    viewer = site.login("viewer").get("/convenanten/voedingsmiddelen").text
    assert NGO in viewer and 'id="party-organisation"' not in viewer
    assert "kan een coördinator" in viewer


def test_a_refused_form_shows_why_and_writes_nothing(site: Site) -> None:
    coordinator = site.login("coordinator")
    token = form_token(coordinator, "/convenanten/goud")
    before = state(site)
    answer = coordinator.post(
        "/convenanten/goud/partijen",
        data={"csrf_token": token, "organisation": "FGZ", "role": "partij", "since": "2016-09-01"},
    )
    assert answer.status_code == 422 and "al partij" in answer.text
    answer = coordinator.post(
        "/convenanten/goud/partijen",
        data={"csrf_token": token, "organisation": "FNV", "role": "partij", "since": "morgen"},
    )
    assert answer.status_code == 422
    assert state(site) == before


def test_new_process_and_organisation_pages(site: Site) -> None:
    coordinator = site.login("coordinator")
    assert 'href="/processen/nieuw"' in coordinator.get("/").text
    token = form_token(coordinator, "/processen/nieuw")
    opened = coordinator.post(
        "/processen",
        data={
            "csrf_token": token,
            "title": "Subconvenant Toerisme Kenia",
            "parent": "toerisme",
            "stage": "verkenning",
            "started_on": "2016-10-01",
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text[:400]
    assert opened.headers["location"] == "/convenanten/subconvenant-toerisme-kenia"
    refused = coordinator.post(
        "/processen",
        data={
            "csrf_token": token,
            "title": "Iets",
            "sector": "chemie",
            "stage": "ondertekend",
            "started_on": "2016-10-01",
        },
    )
    assert refused.status_code == 422 and "startfasen" in refused.text
    token = form_token(coordinator, "/organisaties")
    added = coordinator.post(
        "/organisaties", data={"csrf_token": token, "name": "Ngo X", "kind": "ngo"}
    )
    assert added.status_code == 200 and "Ngo X is toegevoegd" in added.text
    viewer = site.login("viewer")
    page = viewer.get("/organisaties")
    assert page.status_code == 200 and "Ngo X" in page.text and "Hernoemen" not in page.text
    assert viewer.get("/processen/nieuw", follow_redirects=False).status_code == 403

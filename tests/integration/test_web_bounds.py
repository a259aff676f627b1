"""Issue 11 through the web and the API: the service layer's bounds answer 4xx, never 500.

The same refusals as the CLI's (tests/e2e/test_cli.py), seen from a form and a JSON client:
an overlong reason from the move form is 422 and writes nothing; an id past 64 bits is a JSON
404; a deadline year taken from a reference date in 9999 is a JSON 422; and the audit CSV
download neutralises formulas and ends its lines in CRLF.
"""

from __future__ import annotations

import csv
import io

import pytest
import test_web
from test_web import Site, assert_api_refusal, form_token, snapshot, version_of

from imvo_workflow.domain.bounds import MAX_TEXT

#: The seeded site with one user per role (and what it needs), from test_web.
site = test_web.site
password_hashes = test_web.password_hashes

FORMULA = "=cmd|' /C calc'!A0"


def test_the_move_form_refuses_an_overlong_reason_and_writes_nothing(site: Site) -> None:
    client = site.login("coordinator")
    before = snapshot(site.app)
    answer = client.post(
        "/convenanten/natuursteen/stap",
        data={
            "csrf_token": form_token(client, "/convenanten/natuursteen"),
            "to": "afzien",
            "reason": "x" * 1_000_000,
            "version": str(version_of(site.app, "natuursteen")),
        },
    )
    assert answer.status_code == 422
    assert f"maximaal {MAX_TEXT}" in answer.text
    assert snapshot(site.app) == before


@pytest.mark.parametrize(
    "path", ["/api/v1/alerts/18446744073709551616/ack", "/api/v1/alerts/-99999999999999999999/ack"]
)
def test_an_api_id_past_64_bits_is_not_found(site: Site, path: str) -> None:
    bearer = site.bearer("coordinator")
    before = snapshot(site.app)
    assert_api_refusal(site.client().post(path, headers=bearer), 404)
    assert snapshot(site.app) == before


def test_a_page_id_past_64_bits_is_not_found(site: Site) -> None:
    client = site.login("coordinator")
    token = form_token(client, "/meldingen")
    answer = client.post(
        "/meldingen/18446744073709551616/afhandelen",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"phrase": "nog dit jaar", "reference": "9999-12-31"}, "1900"),
        ({"phrase": "eind 2017", "reason": "a\x00b"}, "stuurteken"),
    ],
    ids=["year-from-the-reference", "nul-in-reason"],
)
def test_api_target_bounds_are_json_422(site: Site, body: dict[str, str], fragment: str) -> None:
    bearer = site.bearer("coordinator")
    before = snapshot(site.app)
    answer = site.client().put(
        "/api/v1/covenants/natuursteen/targets",
        json={"stage": "ondertekend", **body},
        headers=bearer,
    )
    assert_api_refusal(answer, 422)
    assert fragment in answer.json()["detail"]
    assert snapshot(site.app) == before


def test_api_move_with_a_control_character_is_json_422(site: Site) -> None:
    bearer = site.bearer("coordinator")
    before = snapshot(site.app)
    answer = site.client().post(
        "/api/v1/covenants/natuursteen/move",
        json={"to": "afzien", "reason": "weg\x1b[2J"},
        headers=bearer,
    )
    assert_api_refusal(answer, 422)
    assert snapshot(site.app) == before


def test_the_audit_csv_download_neutralises_formulas_and_ends_lines_in_crlf(site: Site) -> None:
    client = site.login("coordinator")
    done = client.post(
        "/convenanten/natuursteen/stap",
        data={
            "csrf_token": form_token(client, "/convenanten/natuursteen"),
            "to": "afzien",
            "reason": FORMULA,
            "version": str(version_of(site.app, "natuursteen")),
        },
    )
    assert done.status_code == 200
    export = client.get("/audit/export.csv", params={"sector": "natuursteen"})
    assert export.status_code == 200
    body = export.content.decode()
    lines = body.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line for line in lines)
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert rows[-1]["reason"] == "'" + FORMULA

"""Continuation and terms over HTTP: the covenant page's forms (coordinators; viewers read)
and the JSON API, on the seeded 2016 report; refusals are 4xx with a message and write
nothing. Both databases."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from terms_helpers import seed_2016, snapshot

from imvo_workflow.bootstrap import App
from imvo_workflow.services import auth, users
from imvo_workflow.web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient` is deprecated",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient

PASSWORD = "een-lang-wachtwoord-9"
VERSION = re.compile(r'name="version" value="(\d+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WHY = "Het proces gaat verder in het goudsectorconvenant."


@pytest.fixture(scope="module")
def password_hash() -> str:
    return auth.hash_password(PASSWORD)


@pytest.fixture
def site(app: App, password_hash: str) -> Iterator[tuple[App, Any]]:
    settings = app.settings.model_copy(update={"secret_key": "test-secret-" + "t" * 40})
    built = App(settings=settings, definition=app.definition)
    seed_2016(built)
    for role in ("coordinator", "viewer"):
        users.add_user(
            uow=built.uow(), name=role, role=role, password_hash=password_hash, now=built.now()
        )
    yield built, create_app(built)
    built.close()


def _login(web: Any, role: str) -> TestClient:
    client = TestClient(web)
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login",
        data={"csrf_token": token, "name": role, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return client


def _post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    page = client.get(
        path.rsplit("/", 1)[0] if "looptijd/" not in path else path[: path.index("/looptijd")]
    )
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    return client.post(path, data={**data, "csrf_token": token}, headers={"HX-Request": "true"})


def _bearer(app: App, role: str) -> dict[str, str]:
    with app.uow(readonly=True) as uow:
        user_id = users.user_id(uow.conn, role)
    return {
        "Authorization": f"Bearer {auth.create_api_token(uow=app.uow(), user_id=user_id, name='t', now=app.now())}"
    }


def _alert(html: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', html)
    return found.group(1) if found else ""


def test_a_coordinator_continues_a_covenant_from_its_page(site: tuple[App, Any]) -> None:
    _, web = site
    client = _login(web, "coordinator")
    page = client.get("/convenanten/chemie").text
    assert 'action="/convenanten/chemie/opgaan"' in page
    assert 'value="opgaan_in"' not in page  # not in the ordinary move form: it has its own
    answer = _post(
        client, "/convenanten/chemie/opgaan", {"into": "goud", "on": "2016-11-01", "reason": WHY}
    )
    assert answer.status_code == 200, _alert(answer.text)
    assert 'Opgegaan in <a href="/convenanten/goud">Goudsectorconvenant</a>' in answer.text
    assert 'data-testid="stage">Opgegaan in Goudsectorconvenant<' in answer.text
    assert "/opgaan" not in answer.text.split('id="terms"')[1]  # terminal now: no form
    gold = client.get("/convenanten/goud").text
    assert 'Hierin opgegaan: <a href="/convenanten/chemie">IMVO-convenant Chemie</a>' in gold
    assert "Opgegaan in Goudsectorconvenant" in client.get("/").text


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"into": "chemie", "on": "2016-11-01", "reason": WHY}, 422, "zichzelf"),
        ({"into": "gooud", "on": "2016-11-01", "reason": WHY}, 404, "goud"),
        ({"into": "goud", "on": "2016-11-02", "reason": WHY}, 422, "toekomst"),
        ({"into": "goud", "on": "", "reason": WHY}, 422, "datum"),
        ({"into": "goud", "on": "2016-11-01", "reason": ""}, 422, "reden"),
        ({"into": "goud", "on": "2016-11-01", "reason": "x\x00"}, 422, "stuurteken"),
    ],
)
def test_a_bad_continuation_form_is_refused_and_writes_nothing(
    site: tuple[App, Any], data: dict[str, str], status: int, words: str
) -> None:
    app, web = site
    client = _login(web, "coordinator")
    before = snapshot(app)
    answer = _post(client, "/convenanten/chemie/opgaan", data)
    assert answer.status_code == status
    assert words in _alert(answer.text).lower()
    assert snapshot(app) == before


def test_a_coordinator_sets_and_renews_a_term_and_a_viewer_only_reads(
    site: tuple[App, Any],
) -> None:
    _, web = site
    client = _login(web, "coordinator")
    page = client.get("/convenanten/natuursteen").text
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    moved = client.post(
        "/convenanten/natuursteen/stap",
        data={
            "csrf_token": token,
            "to": "ondertekenen",
            "version": VERSION.search(page).group(1),  # type: ignore[union-attr]
            "reason": "getekend",
            "on": "2016-10-14",
        },
    )
    assert moved.status_code == 200, _alert(moved.text)
    answer = _post(client, "/convenanten/natuursteen/looptijd", {"until": "2021-10-14"})
    assert answer.status_code == 200, _alert(answer.text)
    assert "<td>14-10-2016</td><td>14-10-2021</td><td>loopt nu</td>" in answer.text
    assert 'action="/convenanten/natuursteen/looptijd/verlengen"' in answer.text
    bad = _post(
        client,
        "/convenanten/natuursteen/looptijd/verlengen",
        {"until": "2025-01-01", "from": "2021-10-14", "reason": "x"},
    )
    assert bad.status_code == 422 and "overlapt" in _alert(bad.text)
    renewed = _post(
        client,
        "/convenanten/natuursteen/looptijd/verlengen",
        {"until": "2025-01-01", "from": "2021-10-15", "reason": "verlengd"},
    )
    assert renewed.status_code == 200, _alert(renewed.text)
    assert 'data-term="2"' in renewed.text
    viewer = _login(web, "viewer")
    seen = viewer.get("/convenanten/natuursteen").text
    assert (
        'data-term="2"' in seen
        and "<form" not in seen.split('id="terms"')[1].split("</section>")[0]
    )
    token = CSRF.search(seen).group(1)  # type: ignore[union-attr]
    refused = viewer.post(
        "/convenanten/natuursteen/looptijd/verlengen",
        data={"csrf_token": token, "until": "2026-01-01", "reason": "x"},
    )
    assert refused.status_code == 403


def test_the_api_continues_and_keeps_terms(site: tuple[App, Any]) -> None:
    app, web = site
    api = TestClient(web)
    coordinator = _bearer(app, "coordinator")
    answer = api.post(
        "/api/v1/covenants/chemie/continuation",
        headers=coordinator,
        json={"into": "goud", "on": "2016-11-01", "reason": WHY},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["to_stage"] == "opgegaan"
    assert (
        api.get("/api/v1/covenants/chemie", headers=coordinator).json()["status"]["continued_in"]
        == "goud"
    )
    moved = api.post(
        "/api/v1/covenants/natuursteen/move",
        headers=coordinator,
        json={"to": "ondertekend", "reason": "getekend", "occurred_on": "2016-10-14"},
    )
    assert moved.status_code == 200, moved.text
    made = api.post(
        "/api/v1/covenants/natuursteen/terms", headers=coordinator, json={"ends_on": "2021-10-14"}
    )
    assert made.status_code == 200, made.text
    assert made.json()["term"]["starts_on"] == "2016-10-14"
    listed = api.get("/api/v1/covenants/natuursteen/terms", headers=_bearer(app, "viewer"))
    assert [(t["number"], t["current"]) for t in listed.json()] == [(1, True)]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("continuation", {"into": "onbekend", "on": "2016-11-01", "reason": WHY}, 404),
        ("continuation", {"into": "goud", "on": "2016-12-01", "reason": WHY}, 422),
        ("continuation", {"into": "goud", "on": "2016-11-01", "reason": "x" * 2001}, 422),
        ("continuation", {"into": "goud", "on": "2016-11-01"}, 422),
        ("terms", {"ends_on": "2021-01-01"}, 422),
        ("terms", {"ends_on": "2021-02-30"}, 422),
        ("terms/renew", {"ends_on": "2021-01-01", "reason": "x"}, 422),
    ],
)
def test_the_api_refuses_bad_input_with_json_and_writes_nothing(
    site: tuple[App, Any], path: str, body: dict[str, str], status: int
) -> None:
    app, web = site
    api = TestClient(web)
    before = snapshot(app)
    answer = api.post(
        f"/api/v1/covenants/chemie/{path}", headers=_bearer(app, "coordinator"), json=body
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["detail"]
    assert snapshot(app) == before
    viewer = api.post(f"/api/v1/covenants/chemie/{path}", headers=_bearer(app, "viewer"), json=body)
    assert viewer.status_code == 403

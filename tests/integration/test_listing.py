"""Covenants by the page: the API's cursor, the board's filters, search and "meer laden".

Synthetic covenants (bench/synthetic.py, loaded as the scale bench loads it) fill the database
beyond one page; the app answers in-process (FastAPI's TestClient), on SQLite and PostgreSQL.
The cursor must be stable: covenants added while a client pages are never listed twice and
never push one that was there out of the pages.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning
from test_synthetic import _synthetic

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.services import auth, listing, queries, users
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.web.app import create_app

with warnings.catch_warnings():  # as in test_web.py: about the test dependency, not the app
    warnings.filterwarnings("ignore", category=StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "lijsten-wachtwoord-1"
CARD = re.compile(r'data-covenant="([^"]+)"')


@pytest.fixture
def web(app: App) -> Iterator[tuple[App, TestClient, dict[str, str]]]:
    settings = app.settings.model_copy(update={"secret_key": "test-secret-" + "s" * 40})
    built = App(settings=settings, definition=app.definition)
    _synthetic().generate(settings.database_url, covenants=120, sectors=6, targets=3, years=2,
                          definition=built.definition, until=built.today())  # fmt: skip
    user = users.add_user(uow=built.uow(), name="coordinator", role="coordinator",
                          password_hash=auth.hash_password(PASSWORD), now=built.now())  # fmt: skip
    token = auth.create_api_token(uow=built.uow(), user_id=user, name="t", now=built.now())
    with TestClient(create_app(built)) as client:
        yield built, client, {"Authorization": f"Bearer {token}"}


def _all(app: App) -> list[queries.StatusRow]:
    with app.uow(readonly=True) as uow:
        return queries.status(conn=uow.conn, today=app.today())


def test_whoami_names_the_tokens_user(web: tuple[App, TestClient, dict[str, str]]) -> None:
    _, client, bearer = web
    assert client.get("/api/v1/whoami", headers=bearer).json() == {
        "name": "coordinator",
        "role": "coordinator",
    }
    assert client.get("/api/v1/whoami").status_code == 401


def test_the_api_pages_with_a_cursor_that_new_covenants_do_not_shift(
    web: tuple[App, TestClient, dict[str, str]],
) -> None:
    app, client, bearer = web
    everyone = [r.slug for r in _all(app)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 25, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/v1/covenants", params=params, headers=bearer)
        assert answer.status_code == 200, answer.text
        seen += [row["slug"] for row in answer.json()]
        pages += 1
        cursor = answer.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in answer.headers
            break
        assert answer.headers["Link"] == f'</api/v1/covenants?limit=25&cursor={cursor}>; rel="next"'
        if pages == 2:  # someone opens a covenant meanwhile: it comes last, nothing shifts
            with app.uow() as uow:
                sector = uow.conn.execute(select(t.sector.c.id).limit(1)).scalar_one()
                open_covenant(
                    conn=uow.conn, definition=app.definition,
                    covenant=NewCovenant("nieuw-tijdens-bladeren", sector, "Nieuw", position=10**6),
                    actor="test", reason="nieuw", occurred_on=date(2016, 10, 1), now=app.now(),
                )  # fmt: skip
                uow.commit()
    assert seen == [*everyone, "nieuw-tijdens-bladeren"]
    assert pages == 5
    first = client.get("/api/v1/covenants", headers=bearer).json()
    assert len(first) == listing.API_PAGE and first[0].keys() >= {"slug", "stage", "next_target"}


@pytest.mark.parametrize(
    "params", [{"cursor": "niet-geldig"}, {"cursor": "MTIuMy40"}, {"limit": 0}, {"limit": 501}]
)
def test_a_bad_cursor_or_limit_is_refused_in_dutch(
    web: tuple[App, TestClient, dict[str, str]], params: dict[str, object]
) -> None:
    _, client, bearer = web
    answer = client.get("/api/v1/covenants", params=params, headers=bearer)
    assert answer.status_code == 422
    assert answer.json()["detail"]


def _login(client: TestClient) -> None:
    form = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert found is not None
    data = {"csrf_token": found[1], "name": "coordinator", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_the_board_counts_filters_and_searches(web: tuple[App, TestClient, dict[str, str]]) -> None:
    app, client, _ = web
    _login(client)
    rows = _all(app)
    with app.uow(readonly=True) as uow:
        groups = dict(uow.conn.execute(select(t.sector.c.name, t.sector.c.group)).all())
    cases = {
        (): rows,
        (("groep", "overige"),): [r for r in rows if groups[r.sector] == "overige"],
        (("te_laat", "1"),): [r for r in rows if r.overdue],
        (("zoek", "KLIMAAT"),): [r for r in rows if "klimaat" in r.title.lower()],
        (("groep", "risicosector"), ("te_laat", "1"), ("zoek", "loon")): [
            r for r in rows
            if groups[r.sector] == "risicosector" and r.overdue and "loon" in r.title.lower()
        ],
    }  # fmt: skip
    for params, expected in cases.items():
        page = client.get("/", params=dict(params))
        assert page.status_code == 200
        for stage in app.definition.stages:
            column = page.text.split(f'id="kolom-{stage}"', 1)[1].split("</section>", 1)[0]
            wanted = [r.slug for r in expected if r.stage == stage]
            assert f"<span>{len(wanted)}</span></h2>" in column, (params, stage)
            assert CARD.findall(column) == wanted[: listing.BOARD_PAGE], (params, stage)
    assert client.get("/", params={"zoek": "100%_"}).status_code == 200  # LIKE signs are text


def test_more_cards_load_in_place_and_without_javascript(
    web: tuple[App, TestClient, dict[str, str]],
) -> None:
    app, client, _ = web
    _login(client)
    stage, wanted = max(
        ((s, [r.slug for r in _all(app) if r.stage == s]) for s in app.definition.stages),
        key=lambda found: len(found[1]),
    )
    assert len(wanted) > listing.BOARD_PAGE
    board = client.get("/").text
    column = board.split(f'id="kolom-{stage}"', 1)[1].split("</section>", 1)[0]
    link = re.search(r'class="more" href="([^"]+)" hx-get="([^"]+)"', column)
    assert link is not None
    plain, fragment = (u.replace("&amp;", "&") for u in link.groups())
    more = client.get(fragment, headers={"HX-Request": "true"})
    assert more.status_code == 200 and "<html" not in more.text
    assert CARD.findall(more.text) == wanted[listing.BOARD_PAGE : 2 * listing.BOARD_PAGE]
    opened = client.get(plain).text  # no JavaScript: the board with that column's next page
    column = opened.split(f'id="kolom-{stage}"', 1)[1].split("</section>", 1)[0]
    assert CARD.findall(column) == wanted[listing.BOARD_PAGE : 2 * listing.BOARD_PAGE]
    assert "Terug naar de eerste kaarten" in column
    assert client.get("/bord/meer", params={"fase": "nergens", "na": "MS4x"}).status_code == 422

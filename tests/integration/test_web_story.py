"""The story and the targets on the covenant page and in the API, over HTTP, both databases.

A coordinator writes a note, edits the summary, sets and re-sets a target from the page (the
htmx forms), a viewer sees them read-only and is refused the forms; the live period preview
answers as you type; the API does the same with JSON; every refusal is a 4xx with a Dutch
message and writes nothing.
"""

from __future__ import annotations

import re

import test_web
from sqlalchemy import func, select
from test_web import Site, assert_api_refusal, form_token, snapshot

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import MAX_TEXT

site = test_web.site
password_hashes = test_web.password_hashes

PAGE = "/convenanten/natuursteen"
HTMX = {"HX-Request": "true"}


def notes_count(app: App) -> int:
    with app.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(t.note)).scalar_one())


def state(app: App) -> tuple[object, ...]:
    with app.uow(readonly=True) as uow:
        summary = uow.conn.execute(
            select(t.covenant.c.summary).where(t.covenant.c.slug == "natuursteen")
        ).scalar_one()
    return (snapshot(app), notes_count(app), summary)


def open_target_id(app: App, milestone: str | None = None) -> int:
    tg = t.target
    with app.uow(readonly=True) as uow:
        query = select(tg.c.id).join(t.covenant, t.covenant.c.id == tg.c.covenant_id)
        query = query.where(t.covenant.c.slug == "natuursteen", tg.c.status == "open")
        if milestone:
            query = query.where(tg.c.milestone == milestone)
        return int(uow.conn.execute(query.order_by(tg.c.id)).scalars().first() or 0)


def test_the_page_shows_the_seeded_story_and_the_forms(site: Site) -> None:
    page = site.login("coordinator").get(PAGE).text
    assert 'data-testid="current-note"' in page and "Voortgangsrapportage 2016" in page
    assert "01-11-2016" in page
    for field in ("note-text", "note-date", "summary-text", "summary-reason", "target-phrase"):
        assert re.search(rf'<label for="{field}"', page), field
    assert 'hx-get="/perioden/voorbeeld"' in page and 'aria-live="polite"' in page
    assert 'hx-trigger="input changed delay:300ms"' in page


def test_a_viewer_reads_the_story_but_gets_no_forms_and_is_refused(site: Site) -> None:
    viewer = site.login("viewer")
    page = viewer.get(PAGE).text
    assert 'data-testid="current-note"' in page
    assert "note-text" not in page and "target-phrase" not in page
    before = state(site.app)
    token = form_token(viewer, "/account")
    for path, data in (
        ("notities", {"text": "kijker"}),
        ("samenvatting", {"text": "kijker", "reason": "x"}),
        ("doelen", {"stage": "ondertekend", "phrase": "Q2 2017"}),
    ):
        answer = viewer.post(f"{PAGE}/{path}", data={**data, "csrf_token": token})
        assert answer.status_code == 403, path
    assert state(site.app) == before


def test_a_coordinator_writes_a_note_from_the_page(site: Site) -> None:
    client = site.login("coordinator")
    token = form_token(client, PAGE)
    answer = client.post(
        f"{PAGE}/notities",
        data={"csrf_token": token, "text": "SER-overleg\r\nmet NGO's", "written_on": "2016-10-28"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert 'id="covenant"' in answer.text and "Notitie van 28-10-2016 vastgelegd" in answer.text
    # The seed's note (1 November) stays the current one: the new one is older.
    assert "Eerdere notities (1)" in answer.text and "SER-overleg\nmet NGO&#39;s" in answer.text


def test_bad_notes_from_the_page_are_refused_with_a_message(site: Site) -> None:
    client = site.login("coordinator")
    token = form_token(client, PAGE)
    before = state(site.app)
    for data, status, words in (
        ({"text": ""}, 422, "leeg"),
        ({"text": "morgen", "written_on": "2016-11-02"}, 422, "na vandaag"),
        ({"text": "x", "written_on": "2016-02-30"}, 422, "geen datum"),
        ({"text": "x" * (MAX_TEXT + 1)}, 422, "te lang"),
        ({"text": "bel\x07"}, 422, "stuurteken"),
    ):
        answer = client.post(f"{PAGE}/notities", data={**data, "csrf_token": token}, headers=HTMX)
        assert answer.status_code == status, data
        assert 'role="alert"' in answer.text and words in answer.text, data
    assert state(site.app) == before


def test_the_summary_is_edited_with_a_reason_and_its_history_shown(site: Site) -> None:
    client = site.login("coordinator")
    token = form_token(client, PAGE)
    before = state(site.app)
    refused = client.post(
        f"{PAGE}/samenvatting", data={"csrf_token": token, "text": "Nieuw", "reason": ""}
    )
    assert refused.status_code == 422 and "reden" in refused.text
    assert state(site.app) == before
    answer = client.post(
        f"{PAGE}/samenvatting",
        data={"csrf_token": token, "text": "Nieuwe samenvatting", "reason": "na overleg"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "Eerdere samenvattingen (1 wijziging)" in answer.text
    assert "coordinator: na overleg" in answer.text


def test_a_target_is_set_and_reset_from_the_page(site: Site) -> None:
    client = site.login("coordinator")
    token = form_token(client, PAGE)
    made = client.post(
        f"{PAGE}/doelen",
        data={
            "csrf_token": token,
            "milestone": "Plan van aanpak",
            "phrase": "Q1 van 2017",
            "reference": "2016-11-01",
            "reason": "SER",
        },
        headers=HTMX,
    )
    assert made.status_code == 200, made.text
    assert "deadline 31-03-2017" in made.text
    target_id = open_target_id(site.app, "Plan van aanpak")
    changed = client.post(
        f"{PAGE}/doelen/wijzigen",
        data={
            "csrf_token": token,
            "target_id": str(target_id),
            "phrase": "Q2 2017",
            "reason": "uitstel",
        },
        headers=HTMX,
    )
    assert changed.status_code == 200
    assert "Termijn gewijzigd" in changed.text and "(was “Q1 van 2017”)" in changed.text
    assert "“Q1 van 2017” (31-03-2017) → “Q2 2017” (30-06-2017) · coordinator: uitstel" in (
        changed.text
    )


def test_bad_targets_from_the_page_are_refused_and_write_nothing(site: Site) -> None:
    client = site.login("coordinator")
    token = form_token(client, PAGE)
    before = state(site.app)
    for path, data, status, words in (
        ("doelen", {"stage": "ondertekend", "phrase": "ooit"}, 422, "Voorbeelden"),
        (
            "doelen",
            {"stage": "ondertekend", "phrase": "20 oktober 2016"},
            422,
            "het veld &#39;Peildatum&#39;",
        ),
        (
            "doelen",
            {"stage": "ondertekend", "phrase": "Q2 2017", "reference": "2017-01-01"},
            422,
            "na vandaag",
        ),
        ("doelen", {"stage": "ondertekend", "milestone": "ook", "phrase": "Q2 2017"}, 422, "óf"),
        (
            "doelen/wijzigen",
            {"target_id": "99999", "phrase": "Q2 2017", "reason": "r"},
            404,
            "doel",
        ),
        (
            "doelen/wijzigen",
            {"target_id": str(open_target_id(site.app)), "phrase": "Q2 2017"},
            422,
            "reden",
        ),
    ):
        answer = client.post(f"{PAGE}/{path}", data={**data, "csrf_token": token}, headers=HTMX)
        assert answer.status_code == status, (data, answer.text[:200])
        assert words in answer.text, data
    assert state(site.app) == before


def test_the_period_preview_answers_as_you_type(site: Site) -> None:
    client = site.login("viewer")
    good = client.get("/perioden/voorbeeld", params={"phrase": "Q1 van 2017"})
    assert good.status_code == 200
    assert "1 januari 2017 – 31 maart 2017, deadline 31-03-2017" in good.text
    dated = client.get(
        "/perioden/voorbeeld", params={"phrase": "eind december", "reference": "2017-12-25"}
    )
    assert "21 december 2017 – 31 december 2017" in dated.text
    bad = client.get("/perioden/voorbeeld", params={"phrase": "op korte termijn"})
    assert bad.status_code == 422 and "Voorbeelden" in bad.text
    assert client.get("/perioden/voorbeeld", params={"phrase": "<b>x"}).text.count("<b>") == 0
    assert client.get("/perioden/voorbeeld", params={"phrase": " "}).text == ""
    wrong_day = client.get("/perioden/voorbeeld", params={"phrase": "Q1", "reference": "gisteren"})
    assert wrong_day.status_code == 422


def test_the_api_writes_and_reads_notes_and_the_summary(site: Site) -> None:
    api = site.client(headers=site.bearer("coordinator"))
    made = api.post(
        "/api/v1/covenants/natuursteen/notes",
        json={"text": "regel 1\nregel 2", "written_on": "2016-10-30"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["author"] == "coordinator"
    listed = api.get("/api/v1/covenants/natuursteen/notes").json()
    # the seed's note is dated the report's date, 31 October 2016 (issue 13)
    assert [n["written_on"] for n in listed] == ["2016-10-31", "2016-10-30"]
    then = api.get("/api/v1/covenants/natuursteen/notes", params={"as_of": "2016-10-30"}).json()
    assert [n["text"] for n in then] == ["regel 1\nregel 2"]
    edited = api.put(
        "/api/v1/covenants/natuursteen/summary", json={"text": "Nieuw", "reason": "overleg"}
    )
    assert edited.status_code == 200 and edited.json()["old_text"].startswith("De partijen")
    summary = api.get("/api/v1/covenants/natuursteen/summary").json()
    assert summary["text"] == "Nieuw" and len(summary["history"]) == 1
    preview = api.get("/api/v1/periods/preview", params={"phrase": "Q1 2017"}).json()
    assert (preview["start"], preview["end"]) == ("2017-01-01", "2017-03-31")


def test_the_api_refuses_bad_story_input_as_json_and_writes_nothing(site: Site) -> None:
    api = site.client(headers=site.bearer("coordinator"))
    viewer = site.client(headers=site.bearer("viewer"))
    before = state(site.app)
    notes = "/api/v1/covenants/natuursteen/notes"
    assert_api_refusal(api.post(notes, json={"text": ""}), 422)
    assert_api_refusal(api.post(notes, json={"text": "x", "written_on": "2016-11-02"}), 422)
    assert_api_refusal(api.post(notes, json={"text": "x" * (MAX_TEXT + 1)}), 422)
    assert_api_refusal(api.post(notes, json={"text": "a\u0000b"}), 422)
    assert_api_refusal(api.post("/api/v1/covenants/natuursteem/notes", json={"text": "x"}), 404)
    assert_api_refusal(viewer.post(notes, json={"text": "x"}), 403)
    summary = "/api/v1/covenants/natuursteen/summary"
    assert_api_refusal(api.put(summary, json={"text": "x"}), 422)
    assert_api_refusal(api.put(summary, json={"text": "x", "reason": " "}), 422)
    assert_api_refusal(api.get(notes, params={"as_of": "1066-10-14"}), 422)
    assert_api_refusal(api.get("/api/v1/periods/preview", params={"phrase": "ooit"}), 422)
    late = api.put(
        "/api/v1/covenants/natuursteen/targets",
        json={"stage": "ondertekend", "phrase": "20 oktober 2016"},
    )
    assert_api_refusal(late, 422)
    assert '"reference"' in late.json()["detail"]
    assert state(site.app) == before

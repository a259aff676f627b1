"""Closing milestones: reached on a date or dropped with a reason; planned against actual.

A coordinator closes a milestone (one chain entry, `mijlpaal_gesloten`, with the target's
closed_on, closed_at and close_reason in the same transaction), or closes it in the step that
signs the covenant; what is left open when the covenant reaches a terminal stage is dropped
then ("vervallen: convenant Ondertekend"), so no terminal covenant keeps an overdue deadline.
Refusals (unknown id, a stage target, closed twice, dropped without a reason, future date,
overlong or control characters) write nothing. Both databases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import signing_helpers
from signing_helpers import counts, entries, milestone, party, row, verified

from helpers import closing_uow
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import InvalidInput, NotFound, RequirementMissing
from imvo_workflow.services import queries
from imvo_workflow.services.milestones import MilestoneClosing, MilestoneResult, close_milestone
from imvo_workflow.services.moves import move

MakeCovenant = Callable[..., int]
web, api_client, page_client = (
    signing_helpers.web,
    signing_helpers.api_client,
    signing_helpers.page_client,
)


@pytest.fixture
def covenant(make_covenant: MakeCovenant) -> int:
    return make_covenant("natuursteen", path=("dialoog",), start=date(2016, 3, 1))


@pytest.fixture
def harvest(app: App, covenant: int) -> int:
    return milestone(app, covenant, "Oogstdag", date(2016, 9, 30))


def _close(app: App, target_id: int, outcome: str, **kwargs: Any) -> MilestoneResult:
    with closing_uow(app) as uow:
        return close_milestone(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            target_id=target_id,
            outcome=outcome,
            actor="A. de Vries",
            now=app.now(),
            **kwargs,
        )


def _targets(app: App) -> list[queries.TargetView]:
    with app.uow(readonly=True) as uow:
        return queries.detail(conn=uow.conn, covenant="natuursteen", today=app.today()).targets


def test_a_milestone_reached_late_shows_planned_against_actual(
    app: App, covenant: int, harvest: int
) -> None:
    result = _close(app, harvest, "bereikt", on=date(2016, 10, 3))
    assert (result.milestone, result.outcome, result.closed_on) == (
        "Oogstdag",
        "bereikt",
        date(2016, 10, 3),
    )
    target = row(app, t.target, harvest)
    assert (target.status, target.closed_on, target.close_reason) == (
        "met",
        date(2016, 10, 3),
        None,
    )
    (view,) = _targets(app)
    assert (view.days_late, view.overdue) == (3, False)
    ((kind, detail, on, _),) = entries(app, covenant)[1:]
    assert kind == "mijlpaal_gesloten" and on == date(2016, 10, 3)
    assert detail == {"target_id": harvest, "milestone": "Oogstdag", "outcome": "bereikt"}
    assert verified(app)


def test_a_dropped_milestone_keeps_its_reason(app: App, covenant: int, harvest: int) -> None:
    _close(app, harvest, "vervallen", reason="geen oogst dit jaar")
    (view,) = _targets(app)
    assert (view.status, view.close_reason, view.days_late) == (
        "cancelled",
        "geen oogst dit jaar",
        32,  # closed today (1 November), deadline 30 September
    )
    assert entries(app, covenant)[-1][3] == "geen oogst dit jaar"


REFUSED = [
    ("unknown", "bereikt", {}, NotFound, "Onbekende mijlpaal"),
    ("huge", "bereikt", {}, NotFound, "Onbekende mijlpaal"),
    ("stage", "bereikt", {}, InvalidInput, "geen mijlpaal"),
    ("harvest", "vervallen", {}, RequirementMissing, "reden"),
    ("harvest", "bereikt", {"on": date(2016, 11, 2)}, InvalidInput, "toekomst"),
    ("harvest", "vervallen", {"reason": "x" * 2001}, InvalidInput, "te lang"),
    ("harvest", "vervallen", {"reason": "ok\x1b[2J"}, InvalidInput, "stuurteken"),
    ("harvest", "gehaald", {}, InvalidInput, "bereikt of vervallen"),
]


@pytest.mark.parametrize(("which", "outcome", "extra", "error", "message"), REFUSED)
def test_a_refused_closing_writes_nothing(
    app: App,
    covenant: int,
    harvest: int,
    which: str,
    outcome: str,
    extra: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    ids = {
        "unknown": harvest + 100,
        "huge": 2**70,
        "stage": milestone(app, covenant, "", date(2017, 3, 31), stage="ondertekend"),
        "harvest": harvest,
    }
    before = counts(app)
    with pytest.raises(error, match=message):
        _close(app, ids[which], outcome, **extra)
    assert counts(app) == before


def test_a_closed_milestone_cannot_be_closed_again(app: App, covenant: int, harvest: int) -> None:
    _close(app, harvest, "bereikt", on=date(2016, 9, 1))
    before = counts(app)
    with pytest.raises(InvalidInput, match="al gesloten op 2016-09-01"):
        _close(app, harvest, "vervallen", reason="toch niet")
    assert counts(app) == before


def test_signing_closes_milestones_in_the_same_step_and_drops_the_rest(
    app: App, covenant: int, harvest: int
) -> None:
    party(app, covenant, "NVN")
    plan = milestone(app, covenant, "Plan van aanpak", date(2016, 12, 31))
    other = milestone(app, covenant, "Rapport", date(2017, 1, 31))
    move(
        uow=app.uow(),
        definition=app.definition,
        covenant="natuursteen",
        to="ondertekend",
        actor="A",
        reason="getekend",
        occurred_on=date(2016, 10, 1),
        signatories=("NVN",),
        milestones=(MilestoneClosing(harvest, "bereikt", date(2016, 9, 28)),),
        now=app.now(),
    )
    states = {v.id: (v.status, v.closed_on, v.close_reason, v.days_late) for v in _targets(app)}
    assert states[harvest] == ("met", date(2016, 9, 28), None, -2)
    for dropped in (plan, other):
        assert states[dropped][:3] == (
            "cancelled",
            date(2016, 10, 1),
            "vervallen: convenant Ondertekend",
        )
    kinds = [e[0] for e in entries(app, covenant)]
    assert kinds == [
        "dialoog_starten",
        "ondertekenen",
        "ondertekenaar",
        "mijlpaal_gesloten",
        "mijlpaal_gesloten",
        "mijlpaal_gesloten",
    ]
    assert not any(v.overdue for v in _targets(app))
    assert verified(app)


def test_an_ordinary_move_leaves_milestones_alone(app: App, covenant: int, harvest: int) -> None:
    move(
        uow=app.uow(),
        definition=app.definition,
        covenant="natuursteen",
        to="intentieverklaring",
        actor="A",
        occurred_on=date(2016, 10, 1),
        now=app.now(),
    )
    assert row(app, t.target, harvest).status == "open"
    assert [e[0] for e in entries(app, covenant)] == [
        "dialoog_starten",
        "intentieverklaring_tekenen",
    ]


def test_a_refused_closing_in_a_move_refuses_the_move(
    app: App, covenant: int, harvest: int
) -> None:
    party(app, covenant, "NVN")
    before = counts(app)
    with pytest.raises(InvalidInput, match="geen mijlpaal"):
        move(
            uow=app.uow(),
            definition=app.definition,
            covenant="natuursteen",
            to="ondertekend",
            actor="A",
            reason="getekend",
            occurred_on=date(2016, 10, 1),
            milestones=(
                MilestoneClosing(
                    milestone(app, covenant, "", date(2017, 3, 31), stage="ondertekend"),
                    "bereikt",
                ),
            ),
            now=app.now(),
        )
    after = counts(app)
    assert after["transition"] == before["transition"]
    assert row(app, t.target, harvest).status == "open"


def test_the_api_closes_a_milestone_and_answers_json_refusals(
    app: App, covenant: int, harvest: int, api_client: Any
) -> None:
    path = f"/api/v1/covenants/natuursteen/targets/{harvest}/close"
    missing = api_client.post(path, json={"outcome": "vervallen"})
    assert missing.status_code == 422 and "reden" in missing.json()["detail"]
    unknown = api_client.post(
        "/api/v1/covenants/natuursteen/targets/99999/close", json={"outcome": "bereikt"}
    )
    assert unknown.status_code == 404
    huge = api_client.post(
        f"/api/v1/covenants/natuursteen/targets/{2**70}/close", json={"outcome": "bereikt"}
    )
    assert huge.status_code in (404, 422)
    done = api_client.post(path, json={"outcome": "bereikt", "on": "2016-09-29"})
    assert done.status_code == 200, done.text
    assert done.json()["closed_on"] == "2016-09-29"
    shown = api_client.get("/api/v1/covenants/natuursteen/targets").json()
    assert shown[0]["days_late"] == -1


def test_the_move_api_closes_milestones(
    app: App, covenant: int, harvest: int, api_client: Any
) -> None:
    party(app, covenant, "NVN")
    done = api_client.post(
        "/api/v1/covenants/natuursteen/move",
        json={
            "to": "ondertekend",
            "reason": "getekend",
            "occurred_on": "2016-10-01",
            "milestones": [{"target_id": harvest, "outcome": "vervallen", "reason": "te laat"}],
        },
    )
    assert done.status_code == 200, done.text
    assert row(app, t.target, harvest).close_reason == "te laat"
    bad = api_client.post(
        "/api/v1/covenants/natuursteen/move",
        json={"to": "afzien", "reason": "x", "milestones": [{"target_id": 1, "outcome": "nee"}]},
    )
    assert bad.status_code == 422


def test_the_page_closes_a_milestone_and_offers_the_open_ones_when_signing(
    app: App, covenant: int, harvest: int, page_client: Any
) -> None:
    coordinator = page_client("coordinator")
    page = coordinator.get("/convenanten/natuursteen")
    assert f'for="close-outcome-{harvest}"' in page.text  # every input has its label
    extra = coordinator.get("/convenanten/natuursteen/stap-opties", params={"to": "ondertekenen"})
    assert f'for="ms-outcome-{harvest}"' in extra.text
    assert "vervallen automatisch" in extra.text
    plain = coordinator.get(
        "/convenanten/natuursteen/stap-opties", params={"to": "intentieverklaring_tekenen"}
    )
    assert "milestone_id" not in plain.text
    token = page_client.csrf(page.text)
    path = f"/convenanten/natuursteen/mijlpalen/{harvest}/sluiten"
    refused = coordinator.post(path, data={"outcome": "vervallen", "csrf_token": token})
    assert refused.status_code == 422 and "reden" in refused.text
    done = coordinator.post(
        path, data={"outcome": "bereikt", "on": "2016-09-29", "csrf_token": token}
    )
    assert done.status_code == 200 and "1 dag eerder" in done.text
    viewer = page_client("viewer").get("/convenanten/natuursteen")
    assert "1 dag eerder" in viewer.text and "/sluiten" not in viewer.text


def test_the_move_form_closes_milestones_with_the_step(
    app: App, covenant: int, harvest: int, page_client: Any
) -> None:
    party(app, covenant, "NVN")
    coordinator = page_client("coordinator")
    page = coordinator.get("/convenanten/natuursteen")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version is not None
    done = coordinator.post(
        "/convenanten/natuursteen/stap",
        data={
            "to": "ondertekenen",
            "version": version.group(1),
            "reason": "getekend",
            "on": "2016-10-01",
            "signatory": ["NVN"],
            "milestone_id": [str(harvest)],
            "milestone_outcome": ["bereikt"],
            "milestone_on": ["2016-09-30"],
            "milestone_reason": [""],
            "csrf_token": page_client.csrf(page.text),
        },
    )
    assert done.status_code == 200, done.text
    assert row(app, t.target, harvest).closed_on == date(2016, 9, 30)
    assert "op tijd" in done.text and "NVN — 01-10-2016" in done.text

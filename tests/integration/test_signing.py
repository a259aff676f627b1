"""Signing a covenant: in one step with its signatories, by parties only, on a possible date.

A covenant in dialogue is signed by the move to ondertekend that carries its signatories;
each signature is a `signature` row and an `ondertekenaar` entry with the agreed payload, in
the same transaction, so `audit verify` covers it. A non-party, an unknown organisation, a
date in the future or before the dialogue began, a second signature, overlong text or
control characters are refused and write nothing. Both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import signing_helpers
from signing_helpers import counts, entries, organisation, party, row, verified

from helpers import closing_uow
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import DomainError, InvalidInput, NotFound
from imvo_workflow.services import history
from imvo_workflow.services.moves import move
from imvo_workflow.services.signatures import SignResult, sign, signatures_on

MakeCovenant = Callable[..., int]
# the HTTP fixtures
web, api_client, page_client = (
    signing_helpers.web,
    signing_helpers.api_client,
    signing_helpers.page_client,
)
DIALOGUE = date(2016, 3, 1)


@pytest.fixture
def covenant(make_covenant: MakeCovenant) -> int:
    """natuursteen in dialogue since 1 March 2016 with parties NVN (partij), SER (facilitator)."""
    return make_covenant("natuursteen", path=("dialoog",), start=DIALOGUE)


@pytest.fixture
def parties(app: App, covenant: int) -> dict[str, int]:
    return {
        "NVN": party(app, covenant, "NVN"),
        "SER": party(app, covenant, "SER", role="facilitator"),
        "Later": party(app, covenant, "Later", since=date(2016, 9, 1)),
    }


def _sign(app: App, *names: str, on: date = date(2016, 10, 1), **kwargs: Any) -> SignResult:
    with closing_uow(app) as uow:
        return sign(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            organisations=names,
            signed_on=on,
            actor="A. de Vries",
            now=app.now(),
            **kwargs,
        )


def test_a_covenant_is_signed_in_one_step_with_its_signatories(
    app: App, covenant: int, parties: dict[str, int]
) -> None:
    result = _sign(app, "NVN", "SER")
    assert (result.moved, result.signed, result.signed_on) == (
        True,
        ["NVN", "SER"],
        date(2016, 10, 1),
    )
    with app.uow(readonly=True) as uow:
        head = history.read_head(uow.conn, "natuursteen")
        signed = signatures_on(uow.conn, covenant, None, None)
    assert (head.stage, head.stage_since, head.version) == (
        "ondertekend",
        date(2016, 10, 1),
        result.version,
    )
    assert [(s.organisation, s.signed_on) for s in signed] == [
        ("NVN", date(2016, 10, 1)),
        ("SER", date(2016, 10, 1)),
    ]
    found = entries(app, covenant)
    assert [e[0] for e in found] == [
        "dialoog_starten",
        "ondertekenen",
        "ondertekenaar",
        "ondertekenaar",
    ]
    nvn = found[2]
    assert nvn[1] == {
        "organisation": "NVN",
        "organisation_id": row(app, t.participation, parties["NVN"]).organisation_id,
        "signature_id": signed[0].signature_id,
    }
    assert set(nvn[1]) == {"organisation", "organisation_id", "signature_id"}
    assert nvn[2] == date(2016, 10, 1)
    assert "NVN, SER" in found[1][3]  # the move's reason says who signed
    assert verified(app)


def test_a_signed_covenant_gets_extra_signatories_without_a_move(
    app: App, covenant: int, parties: dict[str, int]
) -> None:
    first = _sign(app, "NVN")
    later = _sign(app, "Later", on=date(2016, 10, 20))
    assert (later.moved, later.version) == (False, first.version + 1)
    with app.uow(readonly=True) as uow:
        assert [s.organisation for s in signatures_on(uow.conn, covenant, None, None)] == [
            "NVN",
            "Later",
        ]
        # as of a day, and as known at a moment: the chain folded
        assert [
            s.organisation for s in signatures_on(uow.conn, covenant, date(2016, 10, 5), None)
        ] == ["NVN"]
        assert signatures_on(uow.conn, covenant, None, app.now().replace(year=2015)) == []
    assert verified(app)


def test_a_non_party_is_added_as_party_in_the_same_step_when_asked(
    app: App, covenant: int, parties: dict[str, int]
) -> None:
    organisation(app, "FNV", "vakbond")
    with pytest.raises(InvalidInput, match="geen partij"):
        _sign(app, "NVN", "FNV")
    _sign(app, "NVN", "FNV", add_as_party=True)
    kinds = [e[0] for e in entries(app, covenant)]
    assert kinds == [
        "dialoog_starten",
        "ondertekenen",
        "ondertekenaar",
        "partij_toegevoegd",
        "ondertekenaar",
    ]
    joined = entries(app, covenant)[3]
    assert set(joined[1]) == {"organisation", "organisation_id", "role", "participation_id"}
    assert (joined[1]["role"], joined[2]) == ("partij", date(2016, 10, 1))
    added = row(app, t.participation, joined[1]["participation_id"])
    assert (added.role, added.since, added.until) == ("partij", date(2016, 10, 1), None)
    assert verified(app)


REFUSED = [
    (("Nobody",), {}, NotFound, "Onbekende organisatie"),
    (("Later",), {}, InvalidInput, "geen partij"),  # a party only from 1 September... on 1 Aug
    (("NVN",), {"on": date(2016, 11, 2)}, InvalidInput, "toekomst"),
    (("NVN",), {"on": date(2016, 2, 1)}, InvalidInput, "vóór het begin van de dialoog"),
    (("N" * 201,), {}, InvalidInput, "te lang"),
    (("NVN\x1b",), {}, InvalidInput, "stuurteken"),
    (("NVN",), {"reason": "x" * 2001}, InvalidInput, "te lang"),
    ((), {}, DomainError, "minstens één"),
]


@pytest.mark.parametrize(("names", "extra", "error", "message"), REFUSED)
def test_a_refused_signature_writes_nothing(
    app: App,
    covenant: int,
    parties: dict[str, int],
    names: tuple[str, ...],
    extra: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    before = counts(app)
    extra = dict(extra)  # the parameters are shared by both databases
    on = extra.pop("on", date(2016, 8, 1))
    with pytest.raises(error, match=message):
        _sign(app, *names, on=on, **extra)
    assert counts(app) == before


def test_a_second_signature_of_the_same_organisation_is_refused(
    app: App, covenant: int, parties: dict[str, int]
) -> None:
    _sign(app, "NVN")
    before = counts(app)
    with pytest.raises(InvalidInput, match="al ondertekend"):
        _sign(app, "NVN", on=date(2016, 10, 2))
    assert counts(app) == before


def test_signatories_belong_to_the_move_to_ondertekend_only(
    app: App, covenant: int, parties: dict[str, int]
) -> None:
    before = counts(app)
    with pytest.raises(InvalidInput, match="horen bij de stap naar 'ondertekend'"):
        move(
            uow=app.uow(),
            definition=app.definition,
            covenant="natuursteen",
            to="intentieverklaring",
            actor="A",
            occurred_on=date(2016, 10, 1),
            signatories=("NVN",),
            now=app.now(),
        )
    assert counts(app) == before


# --- over HTTP: the API and the page -----------------------------------------------------


def test_the_api_signs_and_lists_and_refuses_with_json(
    app: App, covenant: int, parties: dict[str, int], api_client: Any
) -> None:
    refused = api_client.post(
        "/api/v1/covenants/natuursteen/signatures",
        json={"organisations": ["Nobody"], "signed_on": "2016-10-01"},
    )
    assert refused.status_code == 404 and "Onbekende organisatie" in refused.json()["detail"]
    future = api_client.post(
        "/api/v1/covenants/natuursteen/signatures",
        json={"organisations": ["NVN"], "signed_on": "2016-11-02"},
    )
    assert future.status_code == 422 and "toekomst" in future.json()["detail"]
    long = api_client.post(
        "/api/v1/covenants/natuursteen/signatures", json={"organisations": ["N" * 201]}
    )
    assert long.status_code == 422
    done = api_client.post(
        "/api/v1/covenants/natuursteen/signatures",
        json={"organisations": ["NVN", "SER"], "signed_on": "2016-10-01"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["moved"] is True
    listed = api_client.get("/api/v1/covenants/natuursteen/signatures")
    assert [s["organisation"] for s in listed.json()] == ["NVN", "SER"]
    assert api_client.get("/api/v1/covenants/nergens/signatures").status_code == 404


def test_the_api_move_takes_signatories(
    app: App, covenant: int, parties: dict[str, int], api_client: Any
) -> None:
    done = api_client.post(
        "/api/v1/covenants/natuursteen/move",
        json={
            "to": "ondertekend",
            "reason": "getekend",
            "occurred_on": "2016-10-01",
            "signatories": ["NVN"],
        },
    )
    assert done.status_code == 200, done.text
    assert done.headers["ETag"] == f'"{done.json()["version"]}"'
    with app.uow(readonly=True) as uow:
        assert len(signatures_on(uow.conn, covenant, None, None)) == 1


def test_the_page_shows_signatures_and_the_signing_part_of_the_move_form(
    app: App, covenant: int, parties: dict[str, int], page_client: Any
) -> None:
    coordinator = page_client("coordinator")
    extra = coordinator.get("/convenanten/natuursteen/stap-opties", params={"to": "ondertekenen"})
    assert 'name="signatory" value="NVN"' in extra.text
    assert 'name="signatory" value="Later"' in extra.text
    page = coordinator.get("/convenanten/natuursteen")
    token = page_client.csrf(page.text)
    done = coordinator.post(
        "/convenanten/natuursteen/stap",
        data={
            "to": "ondertekenen",
            "version": str(history_version(app)),
            "reason": "getekend",
            "on": "2016-10-01",
            "signatory": ["NVN", "SER"],
            "csrf_token": token,
        },
    )
    assert done.status_code == 200, done.text
    assert "NVN — 01-10-2016" in done.text and "SER — 01-10-2016" in done.text
    refused = coordinator.post(
        "/convenanten/natuursteen/ondertekening",
        data={"organisation": "Nobody", "on": "2016-10-02", "csrf_token": token},
    )
    assert refused.status_code == 404 and "Onbekende organisatie" in refused.text
    viewer = page_client("viewer").get("/convenanten/natuursteen")
    assert "NVN — 01-10-2016" in viewer.text
    assert "/ondertekening" not in viewer.text  # read-only for a viewer


def history_version(app: App) -> int:
    with app.uow(readonly=True) as uow:
        return history.read_head(uow.conn, "natuursteen").version

"""One covenant on a day, folded from its history (services/covenant_day.py), and the same view
over the API (`GET /api/v1/covenants/{slug}/as-of/{day}`), on SQLite and PostgreSQL.

Goud is signed in June 2017 (entered on 21 June) with a first term and a progress note; the
view for 1 January 2017 must show the dialogue without signatures, the "februari" target not
yet due, and the source's text as the note; the view for 1 July 2017 the signing, the target
met 112 days late, the term and the new note; the view "as known at" 20 June 2017 (the day
before it was entered) must not know of the signing yet.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from test_web import Site, password_hashes, site  # noqa: F401  (fixtures)

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import notes, signatures, terms
from imvo_workflow.services.covenant_day import covenant_on
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016

ENTERED = datetime(2017, 6, 21, 10, 0, tzinfo=AMSTERDAM)


def _sign_goud(app: App) -> None:
    signatures.sign(
        uow=app.uow(),
        definition=app.definition,
        covenant="goud",
        organisations=("FGZ", "FNV"),
        signed_on=date(2017, 6, 20),
        actor="coördinator",
        reason="Convenant Verantwoorde Goudketen",
        now=ENTERED,
    )
    terms.set_term(
        uow=app.uow(),
        definition=app.definition,
        covenant="goud",
        ends_on=date(2020, 6, 19),
        actor="coördinator",
        now=ENTERED,
    )
    notes.write_note(
        uow=app.uow(),
        definition=app.definition,
        covenant="goud",
        text="Ondertekend op 20 juni 2017.",
        written_on=date(2017, 6, 20),
        actor="coördinator",
        now=ENTERED,
    )


@pytest.fixture
def signed(app: App) -> App:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    _sign_goud(app)
    return app


def test_the_day_before_and_after_the_signing(signed: App) -> None:
    with signed.uow(readonly=True) as uow:
        before = covenant_on(conn=uow.conn, covenant="goud", day=date(2017, 1, 1))
        after = covenant_on(conn=uow.conn, covenant="goud", day=date(2017, 7, 1))
        unknown = covenant_on(conn=uow.conn, covenant="goud", day=date(2017, 6, 20), known_at=True)
        known = covenant_on(conn=uow.conn, covenant="goud", day=date(2017, 6, 20))
    assert (before.stage, before.signatures, before.terms) == ("dialoog", [], [])
    assert [(t.phrase, t.status, t.overdue) for t in before.targets] == [
        ("februari", "open", False)
    ]
    assert before.note is not None and before.note.text.startswith("Na het tekenen")
    assert before.parties.current and not before.parties.past

    assert (after.stage, after.since) == ("ondertekend", date(2017, 6, 20))
    assert [s.organisation for s in after.signatures] == ["FGZ", "FNV"]
    (met,) = [t for t in after.targets if t.stage == "ondertekend"]
    assert (met.status, met.closed_on, met.days_late) == ("met", date(2017, 6, 20), 112)
    assert [(t.number, t.current) for t in after.terms] == [(1, True)]
    assert after.note is not None and after.note.text == "Ondertekend op 20 juni 2017."

    # Entered on the 21st: at the end of the 20th the database did not know it yet.
    assert (unknown.stage, unknown.signatures) == ("dialoog", [])
    assert known.stage == "ondertekend"


def test_a_day_before_the_covenant_existed_is_refused(signed: App) -> None:
    with signed.uow(readonly=True) as uow, pytest.raises(InvalidInput, match="bestond op"):
        covenant_on(conn=uow.conn, covenant="goud", day=date(2014, 1, 1))


def test_the_api_answers_the_same_view(site: Site) -> None:  # noqa: F811
    _sign_goud(site.app)
    api, headers = site.client(), site.bearer("viewer")
    then = api.get("/api/v1/covenants/goud/as-of/2017-07-01", headers=headers)
    assert then.status_code == 200, then.text
    body = then.json()
    assert (body["stage"], body["since"]) == ("ondertekend", "2017-06-20")
    assert [s["organisation"] for s in body["signatures"]] == ["FGZ", "FNV"]
    earlier = api.get("/api/v1/covenants/goud/as-of/2014-01-01", headers=headers)
    assert earlier.status_code == 422 and "bestond op" in earlier.json()["detail"]
    bad = api.get("/api/v1/covenants/goud/as-of/2017-13-01", headers=headers)
    assert bad.status_code == 422

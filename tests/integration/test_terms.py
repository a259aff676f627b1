"""A signed covenant's terms: the first from the signing, a renewal from the day after the
previous end, each a `looptijd` entry in the chain with its end watched as a milestone.

The real case: Duurzame kleding en textiel, signed on 4 July 2016 for five years (to 4 July
2021) and extended. Both databases; refusals write nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from terms_helpers import TEXTIEL, TEXTILE_SIGNED, app_at, at, open_textile, seed_2016, snapshot

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import DomainError, InvalidInput, NotFound, RequirementMissing
from imvo_workflow.domain.record import read_detail
from imvo_workflow.services import audit
from imvo_workflow.services.asof import end_of_day
from imvo_workflow.services.terms import TermResult, list_terms, renew_term, set_term, terms_on

FIRST_END = date(2021, 7, 4)
SECOND_END = date(2023, 7, 4)
RENEWED = "Partijen verlengen het convenant met twee jaar."


@pytest.fixture
def textile(app: App) -> int:
    seed_2016(app)
    return open_textile(app)


def _set(app: App, **kwargs: object) -> TermResult:
    args: dict[str, object] = {"ends_on": FIRST_END, "actor": "A. de Vries"} | kwargs
    return set_term(
        uow=app.uow(),
        definition=app.definition,
        covenant=str(args.pop("covenant", TEXTIEL)),
        now=app.now(),
        **args,  # type: ignore[arg-type]
    )


def _renew(app: App, **kwargs: object) -> TermResult:
    args: dict[str, object] = {"ends_on": SECOND_END, "actor": "A. de Vries"} | kwargs
    args.setdefault("reason", RENEWED)
    return renew_term(
        uow=app.uow(),
        definition=app.definition,
        covenant=str(args.pop("covenant", TEXTIEL)),
        now=app.now(),
        **args,  # type: ignore[arg-type]
    )


def _entry(app: App, covenant_id: int, seq: int) -> object:
    with app.uow(readonly=True) as uow:
        return uow.conn.execute(
            select(t.transition).where(
                t.transition.c.covenant_id == covenant_id, t.transition.c.seq == seq
            )
        ).one()


def _end_targets(app: App, covenant_id: int) -> list[tuple[object, ...]]:
    tg = t.target
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(tg.c.milestone, tg.c.deadline, tg.c.status, tg.c.closed_on)
            .where(tg.c.covenant_id == covenant_id, tg.c.milestone.like("Einde looptijd%"))
            .order_by(tg.c.id)
        ).all()
    return [tuple(r) for r in rows]


def test_the_first_term_starts_at_the_signing_and_is_a_chain_entry(app: App, textile: int) -> None:
    result = _set(app, reason="Looptijd vijf jaar")
    term = result.term
    assert (term.number, term.starts_on, term.ends_on, term.previous_id) == (
        1,
        TEXTILE_SIGNED,
        FIRST_END,
        None,
    )
    entry = _entry(app, textile, term.seq)
    assert (entry.trigger, entry.occurred_on, entry.reason) == (  # type: ignore[attr-defined]
        "looptijd",
        TEXTILE_SIGNED,
        "Looptijd vijf jaar",
    )
    assert read_detail(entry.detail) == {  # type: ignore[attr-defined]
        "term_id": term.id,
        "number": 1,
        "starts_on": "2016-07-04",
        "ends_on": "2021-07-04",
        "previous_term_id": None,
    }
    assert _end_targets(app, textile) == [("Einde looptijd (termijn 1)", FIRST_END, "open", None)]
    assert audit.verify(uow=app.uow(readonly=True)).ok


def test_a_term_may_start_after_the_signing(app: App, textile: int) -> None:
    result = _set(app, starts_on=date(2016, 9, 1))
    assert result.term.starts_on == date(2016, 9, 1)


def test_a_renewal_opens_the_next_term_linked_to_the_previous_and_meets_its_end(
    app: App, textile: int
) -> None:
    first = _set(app).term
    with app_at(app, at("2021-05-03")) as later:
        second = _renew(later).term
        with later.uow(readonly=True) as uow:
            listed = list_terms(conn=uow.conn, covenant="Kleding en textiel", today=later.today())
    assert (second.number, second.starts_on, second.ends_on, second.previous_id) == (
        2,
        date(2021, 7, 5),
        SECOND_END,
        first.id,
    )
    assert [(v.number, v.current) for v in listed] == [(1, True), (2, False)]
    assert _end_targets(app, textile) == [
        ("Einde looptijd (termijn 1)", FIRST_END, "met", date(2021, 5, 3)),
        ("Einde looptijd (termijn 2)", SECOND_END, "open", None),
    ]
    with app.uow(readonly=True) as uow:
        triggers = (
            uow.conn.execute(
                select(t.transition.c.trigger, t.transition.c.detail)
                .where(t.transition.c.covenant_id == textile)
                .order_by(t.transition.c.seq)
            )
        ).all()
    closed = [read_detail(d) for trig, d in triggers if trig == "mijlpaal_gesloten"]
    assert [c["milestone"] for c in closed] == ["Einde looptijd (termijn 1)"]
    assert closed[0]["outcome"] == "bereikt"
    assert [trig for trig, _ in triggers].count("looptijd") == 2
    assert audit.verify(uow=app.uow(readonly=True)).ok


def test_the_as_of_view_shows_the_term_in_force_then(app: App, textile: int) -> None:
    _set(app)
    with app_at(app, at("2021-05-03")) as later:
        _renew(later)
    with app.uow(readonly=True) as uow:
        before_signing = terms_on(uow.conn, textile, date(2016, 7, 3), None)
        in_2020 = terms_on(uow.conn, textile, date(2020, 1, 1), None)
        in_2022 = terms_on(uow.conn, textile, date(2022, 1, 1), None)
        known_2021 = terms_on(uow.conn, textile, date(2022, 1, 1), end_of_day(date(2021, 5, 2)))
    assert before_signing == []
    assert [(v.number, v.current) for v in in_2020] == [(1, True)]
    assert [(v.number, v.current) for v in in_2022] == [(1, False), (2, True)]
    assert [v.number for v in known_2021] == [1]  # the renewal was entered on 3 May 2021


def _refused(app: App, error: type[DomainError], call: object, **kwargs: object) -> str:
    before = snapshot(app)
    with pytest.raises(error) as refused:
        call(app, **kwargs)  # type: ignore[operator]
    assert snapshot(app) == before
    return refused.value.message


def test_a_covenant_that_is_not_signed_has_no_term(app: App, textile: int) -> None:
    message = _refused(app, InvalidInput, _set, covenant="chemie", ends_on=date(2020, 1, 1))
    assert "niet ondertekend" in message
    _refused(app, NotFound, _set, covenant="textile-convenant")


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"ends_on": TEXTILE_SIGNED}, InvalidInput, "eindigen na het begin"),
        ({"ends_on": date(2016, 1, 1)}, InvalidInput, "eindigen na het begin"),
        ({"starts_on": date(2016, 7, 3)}, InvalidInput, "vóór de ondertekening"),
        ({"ends_on": date(9999, 1, 1)}, InvalidInput, "ligt niet tussen"),
        ({"reason": "x" * 2001}, InvalidInput, "te lang"),
        ({"reason": "vijf\x07jaar"}, InvalidInput, "stuurteken"),
        ({"actor": "A.\nde Vries"}, InvalidInput, "stuurteken"),
        ({"actor": " "}, RequirementMissing, "wie"),
    ],
)
def test_a_bad_first_term_is_refused_and_writes_nothing(
    app: App, textile: int, kwargs: dict[str, object], error: type[DomainError], words: str
) -> None:
    assert words in _refused(app, error, _set, **kwargs).lower()


def test_a_second_first_term_is_refused(app: App, textile: int) -> None:
    _set(app)
    assert "verlenging" in _refused(app, InvalidInput, _set, ends_on=date(2022, 1, 1))


def test_a_renewal_without_a_term_is_refused(app: App, textile: int) -> None:
    assert "nog geen looptijd" in _refused(app, InvalidInput, _renew)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"starts_on": FIRST_END}, InvalidInput, "overlapt"),
        ({"starts_on": date(2021, 6, 1)}, InvalidInput, "overlapt"),
        ({"starts_on": date(2021, 7, 6)}, InvalidInput, "sluit niet aan"),
        ({"ends_on": date(2021, 7, 5)}, InvalidInput, "eindigen na het begin"),
        ({"reason": ""}, RequirementMissing, "reden"),
        ({"reason": "\x1b[2J"}, InvalidInput, "stuurteken"),
    ],
)
def test_a_renewal_that_does_not_follow_on_is_refused_and_writes_nothing(
    app: App, textile: int, kwargs: dict[str, object], error: type[DomainError], words: str
) -> None:
    _set(app)
    assert words in _refused(app, error, _renew, **kwargs).lower()

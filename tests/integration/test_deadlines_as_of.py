"""`imvo deadlines --as-of D | --known-at D`: what was due and overdue on D, from the history.

A target set after D is not listed; its deadline is the one it had on D (a later re-set
does not reach back, unless it was stated before D: then "as of" shows it and "known at"
does not); a target met by D is not overdue, one met after D still is; the stage shown is
the covenant's stage on D. Both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import pytest

from helpers import closing_uow
from imvo_workflow.bootstrap import App
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import alert_queries
from imvo_workflow.services.alert_queries import DeadlineView
from imvo_workflow.services.asof_deadlines import deadlines_on
from imvo_workflow.services.moves import move
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.services.targets import set_target

MakeCovenant = Callable[..., int]


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), AMSTERDAM)


def _target(app: App, phrase: str, reference: date, entered: date, **kw: str | None) -> None:
    with closing_uow(app) as uow:
        set_target(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            phrase=phrase,
            reference=reference,
            stage=kw.get("stage"),
            milestone=kw.get("milestone"),
            actor="A. de Vries",
            reason=kw.get("reason") or "",
            now=at(entered),
        )


def on(app: App, day: date, within: int = 30, *, known: bool = False) -> list[DeadlineView]:
    with app.uow(readonly=True) as uow:
        return deadlines_on(conn=uow.conn, day=day, within_days=within, known_at=known)


def listed(app: App, day: date, within: int = 30, *, known: bool = False) -> dict[str, tuple]:
    return {v.what: (v.deadline, v.overdue, v.stage) for v in on(app, day, within, known=known)}


@pytest.fixture
def story(app: App, make_covenant: MakeCovenant) -> App:
    """Natuursteen in dialoog since 4 January 2016, with three targets set on 1 November
    2016; on 1 February 2017 the signing target is restated as said on 15 December 2016;
    intentieverklaring is reached on 10 January 2017, entered on 20 January."""
    make_covenant("natuursteen", path=("dialoog",))
    report = date(2016, 11, 1)
    _target(app, "Q1 van 2017", report, report, stage="ondertekend")
    _target(app, "eind 2016", report, report, stage="intentieverklaring")
    _target(app, "20 december 2016", report, report, milestone="Oogstdag")
    _target(app, "Q2 2017", date(2016, 12, 15), date(2017, 2, 1), stage="ondertekend")
    move(
        uow=app.uow(),
        definition=app.definition,
        covenant="natuursteen",
        to="intentieverklaring",
        actor="A. de Vries",
        occurred_on=date(2017, 1, 10),
        now=at(date(2017, 1, 20)),
    )
    return app


def test_targets_set_after_the_day_are_not_listed(story: App) -> None:
    assert on(story, date(2016, 10, 15), within=365) == []
    assert on(story, date(2016, 10, 15), within=365, known=True) == []


def test_the_deadline_is_the_one_it_had_on_the_day(story: App) -> None:
    assert listed(story, date(2016, 12, 1), within=365) == {
        "Oogstdag": (date(2016, 12, 20), False, "dialoog"),
        "fase intentieverklaring": (date(2016, 12, 31), False, "dialoog"),
        "fase ondertekend": (date(2017, 3, 31), False, "dialoog"),
    }
    assert set(listed(story, date(2016, 12, 1))) == {"Oogstdag", "fase intentieverklaring"}


def test_a_restatement_reaches_back_as_of_but_not_as_known_then(story: App) -> None:
    day = date(2017, 1, 5)
    assert listed(story, day, within=365)["fase ondertekend"][0] == date(2017, 6, 30)
    assert listed(story, day, within=365, known=True)["fase ondertekend"][0] == date(2017, 3, 31)


def test_met_by_the_day_is_not_overdue_met_after_it_still_was(story: App) -> None:
    before = listed(story, date(2017, 1, 5))
    assert before["fase intentieverklaring"] == (date(2016, 12, 31), True, "dialoog")
    assert before["Oogstdag"] == (date(2016, 12, 20), True, "dialoog")
    after = listed(story, date(2017, 1, 15))
    assert "fase intentieverklaring" not in after
    assert after["Oogstdag"] == (date(2016, 12, 20), True, "intentieverklaring")
    # Entered on 20 January: on the 15th the database still had it open and late.
    known = listed(story, date(2017, 1, 15), known=True)
    assert known["fase intentieverklaring"] == (date(2016, 12, 31), True, "dialoog")


def test_days_left_count_from_the_day(story: App) -> None:
    (oogst,) = [v for v in on(story, date(2016, 12, 10)) if v.what == "Oogstdag"]
    assert (oogst.days_left, oogst.overdue) == (10, False)


def test_as_of_today_is_todays_list(app: App) -> None:
    """On the seeded report the history and today's rows must agree on the report date."""
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    with app.uow(readonly=True) as uow:
        today = alert_queries.deadlines(conn=uow.conn, today=app.today(), within_days=90)
    history = on(app, app.today(), within=90)
    assert today and sorted(map(repr, history)) == sorted(map(repr, today))


@pytest.mark.parametrize(("day", "within"), [(date(1066, 1, 1), 30), (date(2016, 11, 1), -1)])
def test_a_bad_day_or_horizon_is_refused(story: App, day: date, within: int) -> None:
    with pytest.raises(InvalidInput):
        on(story, day, within)

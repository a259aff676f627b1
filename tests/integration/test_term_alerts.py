"""A term's end goes through the same alert pipeline as every deadline: the scan raises the
lead-time reminders and the overdue alert for "Einde looptijd (termijn N)" of a signed (so
terminal) covenant, and the outbox delivers them to the subscribers' inbox and log.

The textile covenant, signed on 4 July 2016, term to Sunday 4 July 2021. Both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from terms_helpers import TEXTIEL, app_at, at, open_textile, seed_2016

from helpers import closing_uow
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.scheduler import AlertScheduler
from imvo_workflow.services import users
from imvo_workflow.services.terms import TermResult, renew_term, set_term

END = date(2021, 7, 4)


@pytest.fixture
def term(app: App) -> Iterator[TermResult]:
    seed_2016(app)
    open_textile(app)
    with closing_uow(app) as uow:
        users.add_user(
            uow=uow, name="Anna", role="coordinator", email="anna@example.org", now=app.now()
        )
    for channel in ("inbox", "log"):
        with closing_uow(app) as uow:
            users.subscribe(uow=uow, user="Anna", channel=channel, sector=None, address="")
    with closing_uow(app) as uow:
        yield set_term(
            uow=uow,
            definition=app.definition,
            covenant=TEXTIEL,
            ends_on=END,
            actor="A. de Vries",
            reason="Looptijd vijf jaar",
            now=app.now(),
        )


def _tick(app: App, day: str) -> None:
    with app_at(app, at(day)) as then:
        AlertScheduler(then).tick()


def _alerts(app: App, target_id: int) -> list[tuple[str, int, list[tuple[str, str]]]]:
    """(kind, days, [(channel, delivery status)]) of the target's alerts, in firing order."""
    a, d = t.alert, t.delivery
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(a.c.id, a.c.kind, a.c.days, d.c.channel, d.c.status)
            .join(d, d.c.alert_id == a.c.id)
            .where(a.c.target_id == target_id)
            .order_by(a.c.fire_at, a.c.id, d.c.channel)
        ).all()
    found: dict[int, tuple[str, int, list[tuple[str, str]]]] = {}
    for r in rows:
        found.setdefault(r.id, (r.kind, r.days, []))[2].append((r.channel, r.status))
    return list(found.values())


def test_the_scan_reminds_before_a_terms_end_and_alerts_when_it_passed(
    app: App, term: TermResult
) -> None:
    with app.uow(readonly=True) as uow:
        stage = uow.conn.execute(
            select(t.covenant.c.stage).where(t.covenant.c.slug == TEXTIEL)
        ).scalar_one()
    assert app.definition.stages[stage].terminal  # signed: the scan still watches its term
    _tick(app, "2021-05-01")
    assert _alerts(app, term.target_id) == []  # nothing due two months ahead
    _tick(app, "2021-06-07")
    sent = [("inbox", "sent"), ("log", "sent")]
    assert _alerts(app, term.target_id) == [("reminder", 30, sent)]
    _tick(app, "2021-06-28")
    assert _alerts(app, term.target_id) == [("reminder", 30, sent), ("reminder", 7, sent)]
    _tick(app, "2021-07-05")
    assert _alerts(app, term.target_id)[-1] == ("due", 0, sent)
    _tick(app, "2021-07-06")  # a second scan raises nothing new
    assert len(_alerts(app, term.target_id)) == 3


def test_a_renewal_before_the_end_stops_the_overdue_alert(app: App, term: TermResult) -> None:
    _tick(app, "2021-06-07")
    with app_at(app, at("2021-06-10")) as later, closing_uow(later) as uow:
        renewed = renew_term(
            uow=uow,
            definition=later.definition,
            covenant=TEXTIEL,
            ends_on=date(2023, 7, 4),
            actor="A. de Vries",
            reason="Verlengd met twee jaar",
            now=later.now(),
        )
    _tick(app, "2021-07-06")
    assert [kind for kind, *_ in _alerts(app, term.target_id)] == ["reminder"]
    assert _alerts(app, renewed.target_id) == []  # its end is two years away

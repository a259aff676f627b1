"""The alert scan against a real database: one alert per event, however often it runs.

DESIGN.md ("Alerts"): a second scan, a restart, a catch-up after downtime and three scheduler
processes on one PostgreSQL all end with exactly one alert per event, and one delivery per
alert, channel and recipient. The running example is a covenant in dialogue whose signing
target is "20 december 2016" (a Tuesday): reminder 30 days ahead on Friday 18 November
(the 20th is a Sunday), reminder 7 days ahead on 13 December, due on 21 December and the
escalation on 19 January 2017, each at 09:00 Amsterdam.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from helpers import closing_uow, slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.alerts import TargetState, due_events, superseded
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.services import alert_queries, users
from imvo_workflow.services.alerts import ScanResult, policy_from, scan
from imvo_workflow.services.moves import move
from imvo_workflow.services.targets import TargetResult, set_target
from imvo_workflow.settings import Settings

MakeCovenant = Callable[..., int]
ROOT = Path(__file__).resolve().parents[2]
REFERENCE = date(2016, 11, 1)
SIGNING = "20 december 2016"
#: The four events of the running example, as (kind, days).
ALL_FOUR = [("reminder", 30), ("reminder", 7), ("due", 0), ("escalation", 30)]


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=AMSTERDAM)


def run_scan(app: App, now: datetime) -> ScanResult:
    with closing_uow(app) as uow:
        return scan(uow=uow, policy=policy_from(app.definition.reminders), now=now)


def add_target(
    app: App,
    covenant_id: int,
    phrase: str = SIGNING,
    *,
    stage: str | None = "ondertekend",
    milestone: str | None = None,
    reference: date = REFERENCE,
    now: datetime | None = None,
) -> TargetResult:
    with closing_uow(app) as uow:
        return set_target(
            uow=uow,
            definition=app.definition,
            covenant=slug_of(app, covenant_id),
            phrase=phrase,
            reference=reference,
            stage=None if milestone else stage,
            milestone=milestone,
            actor="test",
            reason="planning",
            now=now or app.now(),
        )


def add_subscriber(app: App, name: str, *routes: tuple[str, str | None, str]) -> None:
    """A user with subscriptions given as (channel, sector or None, address)."""
    with closing_uow(app) as uow:
        users.add_user(
            uow=uow,
            name=name,
            role="coordinator",
            email=f"{name.lower()}@example.org",
            now=app.now(),
        )
    for channel, sector, address in routes:
        # subscribe()'s True/False is tested in test_targets.py; here only the rows matter
        with closing_uow(app) as uow:
            users.subscribe(uow=uow, user=name, channel=channel, sector=sector, address=address)


def do_move(app: App, covenant_id: int, to: str, now: datetime, reason: str = "") -> None:
    with closing_uow(app) as uow:
        move(
            uow=uow,
            definition=app.definition,
            covenant=slug_of(app, covenant_id),
            to=to,
            actor="test",
            reason=reason,
            now=now,
        )


def alerts(app: App) -> list[tuple[str, int, date]]:
    """(kind, days, deadline) of every alert, in firing order."""
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(t.alert.c.kind, t.alert.c.days, t.alert.c.deadline).order_by(
                t.alert.c.fire_at, t.alert.c.id
            )
        ).all()
    return [(r.kind, r.days, r.deadline) for r in rows]


def count(app: App, table: Any) -> int:
    with app.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def signing(app: App, make_covenant: MakeCovenant) -> int:
    """The running example: natuursteen in dialogue, signing due 20 December 2016; Anna's inbox."""
    covenant_id = make_covenant("natuursteen", path=("dialoog",))
    add_target(app, covenant_id)
    add_subscriber(app, "Anna", ("inbox", None, ""))
    return covenant_id


def test_a_second_scan_raises_nothing_new(app: App, signing: int) -> None:
    first = run_scan(app, at("2016-12-14"))
    assert (first.due, first.raised, first.deliveries) == (2, 2, 2)
    second = run_scan(app, at("2016-12-14"))
    assert (second.due, second.raised, second.deliveries) == (2, 0, 0)
    later = run_scan(app, at("2016-12-14", 16))
    assert (later.raised, later.deliveries) == (0, 0)
    assert alerts(app) == [
        ("reminder", 30, date(2016, 12, 20)),
        ("reminder", 7, date(2016, 12, 20)),
    ]
    assert count(app, t.delivery) == 2


def test_a_restarted_scheduler_raises_nothing_new(
    app: App, signing: int, database_url: str
) -> None:
    run_scan(app, at("2016-12-14"))
    app.close()
    restarted = App(
        settings=Settings(
            database_url=database_url, stages_file=app.settings.stages_file, now=at("2016-12-14")
        ),
        definition=app.definition,
    )
    try:
        again = run_scan(restarted, restarted.now())
        assert (again.raised, again.deliveries) == (0, 0)
        # and it goes on where the first left off: the due alert, once
        assert run_scan(restarted, at("2016-12-21")).raised == 1
        assert run_scan(restarted, at("2016-12-21")).raised == 0
    finally:
        restarted.close()
    assert [(kind, days) for kind, days, _ in alerts(app)] == ALL_FOUR[:3]
    assert count(app, t.delivery) == 3


def test_a_scheduler_down_across_several_fire_times_catches_up_once_per_event(
    app: App, signing: int
) -> None:
    assert run_scan(app, at("2016-11-01")).raised == 0
    assert run_scan(app, at("2016-11-18", 8)).raised == 0  # the reminder is at 09:00
    caught_up = run_scan(app, at("2017-02-01"))
    assert (caught_up.raised, caught_up.deliveries) == (4, 4)
    assert [(kind, days) for kind, days, _ in alerts(app)] == ALL_FOUR
    assert run_scan(app, at("2017-02-02")).raised == 0
    assert count(app, t.alert) == count(app, t.delivery) == 4


def _alert_deliveries(app: App) -> list[tuple[str, int, str | None, str]]:
    a, d = t.alert, t.delivery
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(a.c.kind, a.c.days, a.c.superseded_by, d.c.status)
            .join(d, d.c.alert_id == a.c.id)
            .order_by(a.c.fire_at)
        ).all()
    return [(r.kind, r.days, r.superseded_by, r.status) for r in rows]


def test_catching_up_sends_only_the_most_advanced_alert_and_skips_the_rest(
    app: App, signing: int
) -> None:
    """Issue 11: a first start against old data sent "te laat" and then both reminders."""
    assert run_scan(app, at("2017-02-01")).raised == 4
    [target_id] = [r.id for r in _targets(app)]
    latest = f"t{target_id}/escalation/30/2016-12-20"
    assert _alert_deliveries(app) == [
        ("reminder", 30, latest, "skipped"),
        ("reminder", 7, latest, "skipped"),
        ("due", 0, latest, "skipped"),
        ("escalation", 30, None, "pending"),
    ]
    with app.uow(readonly=True) as uow:
        inbox = alert_queries.alerts(conn=uow.conn)
        history = alert_queries.alerts(conn=uow.conn, include_acked=True)
    assert [(v.kind.value, v.superseded_by) for v in inbox] == [("escalation", None)]
    assert sorted((v.kind.value, v.days, v.superseded_by) for v in history) == [
        ("due", 0, latest),
        ("escalation", 30, None),
        ("reminder", 7, latest),
        ("reminder", 30, latest),
    ]


def test_scans_on_time_skip_nothing(app: App, signing: int) -> None:
    for moment in ("2016-11-18", "2016-12-13", "2016-12-21", "2017-01-19"):
        assert run_scan(app, at(moment)).raised == 1
    assert {(superseded_by, status) for *_, superseded_by, status in _alert_deliveries(app)} == {
        (None, "pending")
    }


def _targets(app: App) -> list[Any]:
    with app.uow(readonly=True) as uow:
        return list(uow.conn.execute(select(t.target.c.id)).all())


def test_the_scan_tells_the_next_fire_time_for_the_alarm_job(app: App, signing: int) -> None:
    # (it looks a couple of days past the scan window: enough for the alarm before the next scan)
    assert run_scan(app, at("2016-11-17")).next_fire_at == at("2016-11-18", 9)
    assert run_scan(app, at("2016-12-13", 9)).next_fire_at == at("2016-12-21", 9)


def test_a_target_met_before_its_deadline_gets_no_due_alert(app: App, signing: int) -> None:
    assert run_scan(app, at("2016-11-20")).raised == 1
    do_move(app, signing, "ondertekend", at("2016-12-01"), reason="getekend")
    assert run_scan(app, at("2017-02-01")).raised == 0
    assert alerts(app) == [("reminder", 30, date(2016, 12, 20))]


def test_afgezien_cancels_every_later_alert(app: App, make_covenant: MakeCovenant) -> None:
    covenant_id = make_covenant("textiel", path=("dialoog",))
    add_target(app, covenant_id, "eind december 2016", stage="intentieverklaring")
    add_target(app, covenant_id, SIGNING, milestone="conferentie")
    add_subscriber(app, "Anna", ("inbox", None, ""))
    before = run_scan(app, at("2016-12-14"))
    # intentieverklaring (31 Dec): reminder 30 on 1 Dec; conferentie: reminders 18 Nov, 13 Dec
    assert before.raised == 3
    do_move(app, covenant_id, "afgezien", at("2016-12-14", 11), reason="geen draagvlak")
    assert run_scan(app, at("2017-03-01")).raised == 0
    assert count(app, t.alert) == count(app, t.delivery) == 3
    with app.uow(readonly=True) as uow:
        closed = set(uow.conn.execute(select(t.target.c.status, t.target.c.closed_on)).all())
    assert closed == {("cancelled", date(2016, 12, 14))}


def test_a_changed_target_gets_alerts_for_its_new_deadline(app: App, signing: int) -> None:
    assert run_scan(app, at("2016-11-20")).raised == 1
    changed = add_target(
        app, signing, "februari 2017", reference=date(2016, 11, 25), now=at("2016-11-25")
    )
    assert (changed.created, changed.old_deadline, changed.deadline) == (
        False,
        date(2016, 12, 20),
        date(2017, 2, 28),
    )
    # the old deadline's reminder 7 and due alert no longer come
    assert run_scan(app, at("2016-12-22")).raised == 0
    # new: reminder 30 on Friday 27 January (29 Jan is a Sunday), 7 on 21 Feb, due on 1 March
    assert run_scan(app, at("2017-03-01")).raised == 3
    assert alerts(app) == [
        ("reminder", 30, date(2016, 12, 20)),
        ("reminder", 30, date(2017, 2, 28)),
        ("reminder", 7, date(2017, 2, 28)),
        ("due", 0, date(2017, 2, 28)),
    ]


def _sector(app: App, slug: str, parent: str | None = None) -> None:
    with app.uow() as uow:
        parent_id = (
            uow.conn.execute(select(t.sector.c.id).where(t.sector.c.slug == parent)).scalar_one()
            if parent
            else None
        )
        uow.conn.execute(
            insert(t.sector),
            {
                "slug": slug,
                "name": slug.title(),
                "group": "risicosector",
                "parent_id": parent_id,
                "position": 0,
            },
        )
        uow.commit()


def test_deliveries_follow_subscriptions_by_channel_sector_and_parent_sector(
    app: App, make_covenant: MakeCovenant
) -> None:
    _sector(app, "voedingsmiddelen")
    _sector(app, "eiwitten", parent="voedingsmiddelen")
    for slug in ("eiwitten", "textiel"):
        add_target(app, make_covenant(slug, path=("dialoog",)))
    hook = "https://hooks.example.org/imvo"
    add_subscriber(app, "Anna", ("inbox", None, ""), ("email", None, ""), ("webhook", None, hook))
    add_subscriber(app, "Bram", ("inbox", "textiel", ""))
    add_subscriber(app, "Carla", ("inbox", "voedingsmiddelen", ""))
    # Dirk is subscribed twice over (child and parent): still one delivery per alert
    add_subscriber(app, "Dirk", ("log", "eiwitten", ""), ("log", "voedingsmiddelen", ""))
    result = run_scan(app, at("2016-12-14"))
    assert result.raised == 4  # reminders 30 and 7 for both covenants
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(t.covenant.c.slug, t.alert.c.days, t.delivery.c.channel, t.delivery.c.recipient)
            .join(t.alert, t.alert.c.id == t.delivery.c.alert_id)
            .join(t.covenant, t.covenant.c.id == t.alert.c.covenant_id)
        ).all()
    got = Counter((r.slug, r.days, r.channel, r.recipient) for r in rows)
    expected: Counter[tuple[str, int, str, str]] = Counter()
    for days in (30, 7):
        for slug in ("eiwitten", "textiel"):
            expected[(slug, days, "inbox", "Anna")] += 1
            expected[(slug, days, "email", "anna@example.org")] += 1
            expected[(slug, days, "webhook", hook)] += 1
        expected[("textiel", days, "inbox", "Bram")] += 1
        expected[("eiwitten", days, "inbox", "Carla")] += 1
        expected[("eiwitten", days, "log", "Dirk")] += 1
    assert got == expected
    assert result.deliveries == sum(expected.values()) == 18


def test_the_alert_key_refuses_a_direct_duplicate(app: App) -> None:
    row = {
        "key": "t1/due/0/2016-12-20",
        "kind": "due",
        "days": 0,
        "fire_at": at("2016-12-21", 9),
        "raised_at": at("2016-12-21", 9),
        "lines": [],
    }
    with app.uow() as uow:
        uow.conn.execute(insert(t.alert), row)
        uow.commit()
    with pytest.raises(IntegrityError), app.uow() as uow:
        uow.conn.execute(insert(t.alert), row | {"raised_at": at("2016-12-22", 9)})
    assert count(app, t.alert) == 1


# -- three scheduler processes on one PostgreSQL ------------------------------------------

PROCESSES = 3
COVENANTS = 8
TICK_NOW = "2017-02-01T10:00:00+01:00"


def _tick_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    return env | {
        "IMVO_DATABASE_URL": database_url,
        "IMVO_NOW": TICK_NOW,
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "PYTHONIOENCODING": "utf-8",
        "PGCONNECT_TIMEOUT": "5",
    }


def _waiting_to_insert_alerts(app: App) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO alert %'"
                )
            ).scalar_one()
        )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_scheduler_processes_raise_and_send_each_alert_once(
    app: App, make_covenant: MakeCovenant, database_url: str
) -> None:
    for n in range(COVENANTS):
        covenant_id = make_covenant(f"proces-{n}", path=("dialoog",))
        add_target(app, covenant_id)  # reminders 30 and 7, due, escalation: 4 events
        # 30 Nov: reminder 30 (31 Oct) predates the target; 7, due, escalation: 3 events
        add_target(app, covenant_id, "eind november 2016", milestone="conferentie")
    add_subscriber(app, "Anna", ("inbox", None, ""))
    add_subscriber(app, "Bram", ("log", None, ""))
    with app.uow(readonly=True) as uow:
        states = [
            TargetState(r.id, r.deadline, r.reference_date, r.closed_on)
            for r in uow.conn.execute(select(t.target))
        ]
    due = due_events(
        states, policy_from(app.definition.reminders), datetime.fromisoformat(TICK_NOW)
    )
    expected = {ev.key for ev in due}
    assert len(expected) == COVENANTS * 7
    # A first scan catches up: per target only the most advanced event is sent (issue 11).
    skipped = set(superseded(due))
    assert len(skipped) == COVENANTS * 5

    command = [sys.executable, "-m", "imvo_workflow", "scheduler", "tick", "--json"]
    # Hold every insert into `alert` until all three have scanned and wait to insert: their
    # scans then really race, instead of one process finishing before the next one starts.
    gate = app.engine.connect()
    gate.begin()
    gate.execute(text("LOCK TABLE alert IN SHARE MODE"))
    workers = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=_tick_env(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
        )
        for _ in range(PROCESSES)
    ]
    outputs: list[dict[str, Any]] = []
    try:
        give_up = time.monotonic() + 45
        while _waiting_to_insert_alerts(app) < PROCESSES:
            assert all(w.poll() is None for w in workers), "a scheduler stopped before inserting"
            assert time.monotonic() < give_up, "the schedulers never got to the insert"
            time.sleep(0.05)
        gate.rollback()
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=60)
            assert worker.returncode == 0, stderr
            outputs.append(json.loads(stdout))
    finally:
        gate.close()
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()

    with app.uow(readonly=True) as uow:
        keys = Counter(uow.conn.execute(select(t.alert.c.key)).scalars())
        key_of = dict(uow.conn.execute(select(t.alert.c.id, t.alert.c.key)).all())
        deliveries = uow.conn.execute(
            select(
                t.delivery.c.alert_id,
                t.delivery.c.channel,
                t.delivery.c.recipient,
                t.delivery.c.status,
                t.delivery.c.attempts,
                t.delivery.c.sent_at,
            )
        ).all()
    assert set(keys) == expected and set(keys.values()) == {1}
    # each event was raised by exactly one of the three processes
    assert sum(out["scan"]["raised"] for out in outputs) == len(expected)
    routes = Counter((d.alert_id, d.channel, d.recipient) for d in deliveries)
    assert len(deliveries) == len(routes) == 2 * len(expected)
    assert set(routes.values()) == {1}
    sent = [d for d in deliveries if key_of[d.alert_id] not in skipped]
    assert {(d.status, d.attempts, d.sent_at) for d in deliveries if d not in sent} == {
        ("skipped", 0, None)
    }
    # every other inbox/log delivery claimed once and sent once, by one process or another
    assert {(d.status, d.attempts) for d in sent} == {("sent", 1)}
    assert all(d.sent_at is not None for d in sent)
    assert sum(out["drain"]["sent"] for out in outputs) == len(sent) == 2 * 2 * COVENANTS
    assert sum(out["drain"]["failed"] for out in outputs) == 0

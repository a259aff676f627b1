"""The APScheduler wiring, on the real clock: jobs, the alarm at the next fire time, a prompt drain.

DESIGN.md ("Alerts"): the scan runs at start (the catch-up) and on an interval, coalesced and
one at a time, never dropped however late; a date job ("alarm") waits for the next known fire
time, so an alert goes out within seconds of its moment rather than at the next scan; a scan
that raised something delivers it in the same job. The intervals here are an hour, so anything
that happens within the test's seconds happened because of the alarm or the scan job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from helpers import closing_uow, dutch, slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.scheduler import AlertScheduler
from imvo_workflow.services import users
from imvo_workflow.services.targets import set_target
from imvo_workflow.settings import DEFAULT_STAGES_FILE, Settings

MakeCovenant = Callable[..., int]
STAGES_FILE = DEFAULT_STAGES_FILE


@pytest.fixture
def live(database_url: str, definition: WorkflowDefinition) -> Iterator[App]:
    """The app on the real clock (no IMVO_NOW), with hour-long scan and drain intervals."""
    settings = Settings(
        database_url=database_url,
        stages_file=STAGES_FILE,
        now=None,
        scan_interval_seconds=3600,
        drain_interval_seconds=3600,
    )
    app = App(settings=settings, definition=definition)
    yield app
    app.close()


@pytest.fixture
def scheduler(live: App) -> Iterator[AlertScheduler]:
    running = AlertScheduler(live)
    yield running
    if running.scheduler.running:
        running.scheduler.shutdown(wait=True)


def today() -> date:
    return datetime.now(AMSTERDAM).date()


def target_on(app: App, covenant_id: int, deadline: date, reference: date) -> None:
    """A signing target with an exact date as its phrase ("3 december 2026")."""
    with closing_uow(app) as uow:
        set_target(
            uow=uow,
            definition=app.definition,
            covenant=slug_of(app, covenant_id),
            phrase=dutch(deadline),
            reference=reference,
            stage="ondertekend",
            milestone=None,
            actor="test",
            reason="planning",
            now=app.now(),
        )


def due_moment(deadline: date) -> datetime:
    """The due alert of a deadline: 09:00 Amsterdam the day after (data/stages.yaml)."""
    return datetime.combine(deadline + timedelta(days=1), datetime.min.time(), AMSTERDAM).replace(
        hour=9
    )


def wait_for(check: Callable[[], object], seconds: float = 20.0) -> object:
    """Poll `check` until it returns something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"nothing after {seconds} s")


def test_every_job_is_coalesced_one_at_a_time_and_never_dropped(
    scheduler: AlertScheduler,
) -> None:
    scheduler.start()
    jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
    assert {"scan", "drain", "digest", "checkpoint"} <= set(jobs)
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    digest = jobs["digest"].trigger
    assert isinstance(digest, CronTrigger)
    assert str(digest.timezone) == "Europe/Amsterdam"
    assert str(digest.fields[digest.FIELD_NAMES.index("hour")]) == "9"


def test_the_alarm_waits_for_the_next_fire_time_and_follows_a_nearer_one(
    live: App, scheduler: AlertScheduler, make_covenant: Callable[..., int]
) -> None:
    later = make_covenant("natuursteen", path=("dialoog",))
    # Stated today, due within the week: its reminders fall before today and are skipped, so
    # its next event is the due alert.
    target_on(live, later, today() + timedelta(days=5), today())
    scheduler.start()  # the first scan runs at once and sets the alarm
    alarm = wait_for(lambda: scheduler.scheduler.get_job("alarm"))
    assert alarm.next_run_time == due_moment(today() + timedelta(days=5))  # type: ignore[attr-defined]

    nearer = make_covenant("textiel", path=("dialoog",))
    target_on(live, nearer, today() + timedelta(days=2), today())
    scheduler.scan_once()
    alarms = [job for job in scheduler.scheduler.get_jobs() if job.id == "alarm"]
    assert [job.next_run_time for job in alarms] == [due_moment(today() + timedelta(days=2))]


def test_a_scan_that_raised_an_alert_has_it_delivered_at_once(
    live: App, scheduler: AlertScheduler, make_covenant: Callable[..., int]
) -> None:
    # The start-up scan must have finished, not only started (its next run time is set as it
    # starts): a scan still running would have the early run below skipped as a second
    # instance, and the next one is an hour away.
    finished: set[str] = set()
    scheduler.scheduler.add_listener(
        lambda event: finished.add(event.job_id), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
    )
    scheduler.start()

    def first_runs_done() -> bool:  # the start-up scan ran; the next scan and drain in an hour
        soon = datetime.now(AMSTERDAM) + timedelta(minutes=30)
        jobs = [scheduler.scheduler.get_job(name) for name in ("scan", "drain")]
        started = all(job is not None and job.next_run_time > soon for job in jobs)
        return started and "scan" in finished

    wait_for(first_runs_done)
    covenant_id = make_covenant("natuursteen", path=("dialoog",))
    # Stated five days ago, due three days ago: the due alert is the one event by now.
    target_on(live, covenant_id, today() - timedelta(days=3), today() - timedelta(days=5))
    with closing_uow(live) as uow:
        users.add_user(uow=uow, name="Anna", role="coordinator", email=None, now=live.now())
    with closing_uow(live) as uow:
        users.subscribe(uow=uow, user="Anna", channel="inbox", sector=None, address="")

    started = time.monotonic()
    # The scan job's next turn, now (as its interval or a restart would bring it), while the
    # drain job may still be busy with its own start-up round.
    scheduler.scheduler.modify_job("scan", next_run_time=datetime.now(AMSTERDAM))

    def sent() -> list[str]:
        with live.uow(readonly=True) as uow:
            return list(
                uow.conn.execute(
                    select(t.delivery.c.status).where(t.delivery.c.status == "sent")
                ).scalars()
            )

    assert wait_for(sent) == ["sent"]
    assert time.monotonic() - started < 20  # not the hour-long drain interval
    with live.uow(readonly=True) as uow:
        assert list(uow.conn.execute(select(t.alert.c.kind)).scalars()) == ["due"]

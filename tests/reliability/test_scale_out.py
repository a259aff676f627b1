"""The compose deployment, scaled out, run by hand: two web processes, three schedulers.

The services' commands are read from docker-compose.yml (tests/e2e/test_compose.py checks
them) and run as subprocesses on loopback against a PostgreSQL database of this test's own,
on the wall clock. Moves go through both web processes at once with the version they read;
targets that are overdue today make the three schedulers race for the same alerts and
deliveries. What must come out: every accepted move in the history once, one alert per due
event, every delivery sent, every alert at the receiver, and a clean stop on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from db_checks import alert_keys, delivery_statuses, history_counts, superseded_keys
from processes import Fleet, fleet, wait_until
from receivers import WebhookReceiver
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from helpers import dutch, free_port, open_in_new_sector, slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import migrate
from imvo_workflow.db import tables as t
from imvo_workflow.domain.alerts import TargetState, due_events
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.services.alerts import policy_from
from imvo_workflow.services.audit import verify
from imvo_workflow.services.auth import create_api_token
from imvo_workflow.services.targets import set_target
from imvo_workflow.services.users import add_user, subscribe
from imvo_workflow.settings import DEFAULT_STAGES_FILE, Settings

ROOT = Path(__file__).resolve().parents[2]
STAGES = DEFAULT_STAGES_FILE
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
LOOPBACK = "127.0.0.1"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
SEEDED_COVENANTS = 21
#: A cycle through the graph that any coordinator may walk, forever.
NEXT = {
    "verkenning": "kwartiermaker",
    "kwartiermaker": "dialoog",
    "dialoog": "afgezien",
    "afgezien": "verkenning",
}
MOVE_ATTEMPTS = 120
MOVERS = 6
MOVED = ("schaal-a", "schaal-b", "schaal-c")
WATCHED = "schaal-doelen"


# -- the compose services' commands ------------------------------------------------------


def compose_commands() -> dict[str, list[str]]:
    """Each app service's argv as the container runs it: entrypoint (the image's) + command."""
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    found = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    assert found, "the Dockerfile has no exec-form ENTRYPOINT"
    image_entrypoint = json.loads(found.group(1))
    commands = {}
    for name in ("migrate", "web", "scheduler"):
        service = services[name]
        entrypoint = service.get("entrypoint", image_entrypoint)
        commands[name] = [*entrypoint, *service["command"]]
    return commands


def on_loopback(argv: list[str], port: int) -> list[str]:
    """The web command with `--host 127.0.0.1 --port <port>` in place of the container's."""
    argv = list(argv)
    for option, value in (("--host", LOOPBACK), ("--port", str(port))):
        argv[argv.index(option) + 1] = value
    return argv


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The services' environment on loopback: wall clock (no IMVO_NOW), `imvo` on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "IMVO_DATABASE_URL": database_url,
        "IMVO_STAGES_FILE": str(STAGES),
        "IMVO_SECRET_KEY": "scale-out-test-" + uuid.uuid4().hex,
        "IMVO_WEBHOOK_TIMEOUT_SECONDS": "10",
        "PGCONNECT_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
        "NO_PROXY": LOOPBACK,
        "no_proxy": LOOPBACK,
    }
    return env | extra


# -- processes ---------------------------------------------------------------------------


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of `admin_url`, dropped WITH (FORCE) at the end."""
    admin = create_engine(
        Settings(database_url=admin_url).database_url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
    )
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the environment, not the code
        admin.dispose()
        pytest.fail(f"PostgreSQL at {admin_url} is needed for this test: {exc}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ready(client: httpx.Client, base: str) -> bool:
    try:
        return client.get(f"{base}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


# -- the situation, built in-process on the same database --------------------------------


def overdue_targets(app: App, covenant_id: int, count: int) -> None:
    """Targets whose due alerts (and for some, reminders and escalations) fired already.

    Stated on its deadline three days ago, a target has only its due alert (fired two days
    ago at 09:00); stated weeks before a deadline long past it has reminders and an
    escalation as well. Which ones exactly is left to domain.alerts.due_events.
    """
    today = app.today()
    for n in range(count):
        if n % 2 == 0:
            deadline = today - timedelta(days=3 + n)
            phrase, stated = dutch(deadline), deadline
        else:
            deadline = today - timedelta(days=35 + n)
            phrase, stated = f"uiterlijk {dutch(deadline)}", deadline - timedelta(days=40)
        set_target(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug_of(app, covenant_id),
            phrase=phrase,
            reference=stated,
            milestone=f"Mijlpaal {n + 1}",
            actor="test",
            now=app.now(),
        )


def coordinator_token(app: App, name: str) -> str:
    user_id = add_user(uow=app.uow(), name=name, role="coordinator", now=app.now())
    return create_api_token(uow=app.uow(), user_id=user_id, name="test", now=app.now())


def wall_clock_app(database_url: str) -> App:
    settings = Settings(database_url=database_url, stages_file=STAGES, now=None)
    return App(settings=settings, definition=load_definition(STAGES))


# -- reading the outcome -----------------------------------------------------------------


def expected_alert_keys(app: App, now: datetime) -> set[str]:
    tg = t.target
    with app.uow(readonly=True) as uow:
        states = [
            TargetState(r.id, r.deadline, r.reference_date, r.closed_on)
            for r in uow.conn.execute(
                select(tg.c.id, tg.c.deadline, tg.c.reference_date, tg.c.closed_on)
            )
        ]
    return {ev.key for ev in due_events(states, policy_from(app.definition.reminders), now)}


def received_keys(webhook: WebhookReceiver) -> set[str]:
    return {str(body["key"]) for _, body in webhook.accepted()}


# -- driving moves -----------------------------------------------------------------------


@dataclass
class MoveLog:
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, slug: str, status: int, body: str) -> None:
        with self.lock:
            self.outcomes.append((slug, status, body))

    def count(self, status: int, slug: str | None = None) -> int:
        return sum(1 for s, code, _ in self.outcomes if code == status and slug in (None, s))


def move_once(client: httpx.Client, base: str, token: str, slug: str, log: MoveLog) -> None:
    """Read the covenant, then move it one step on with the version read (If-Match)."""
    auth = {"Authorization": f"Bearer {token}"}
    got = client.get(f"{base}/api/v1/covenants/{slug}", headers=auth)
    if got.status_code != 200:
        log.add(slug, -got.status_code, got.text)
        return
    to = NEXT[got.json()["status"]["stage"]]
    moved = client.post(
        f"{base}/api/v1/covenants/{slug}/move",
        json={"to": to, "reason": "schaaltest"},
        headers=auth | {"If-Match": got.headers["ETag"]},
    )
    log.add(slug, moved.status_code, moved.text)


def drive_moves(bases: list[str], token: str, log: MoveLog) -> None:
    def mover(worker: int) -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            for attempt in range(worker, MOVE_ATTEMPTS, MOVERS):
                move_once(client, bases[attempt % 2], token, MOVED[attempt % len(MOVED)], log)

    with ThreadPoolExecutor(MOVERS) as pool:
        for done in [pool.submit(mover, n) for n in range(MOVERS)]:
            done.result(timeout=90)


# -- the test ----------------------------------------------------------------------------


@pytest.mark.slow
def test_two_web_and_three_schedulers_on_one_postgresql(
    webhook_server: WebhookReceiver, tmp_path: Path
) -> None:
    commands = compose_commands()
    admin_url = os.environ.get("IMVO_TEST_DATABASE_URL", PG_DEFAULT)
    with (
        scratch_database(admin_url, "imvo_scale") as url,
        fleet(tmp_path, app_env(url)) as processes,
    ):
        # migrate: the compose service's `sh -c "imvo db upgrade && imvo seed"`
        processes.run("migrate", commands["migrate"], timeout=90)
        app = wall_clock_app(url)
        try:
            _scale_out(app, commands, processes, webhook_server)
        finally:
            app.close()


def _scale_out(
    app: App, commands: dict[str, list[str]], processes: Fleet, webhook: WebhookReceiver
) -> None:
    with app.uow(readonly=True) as uow:
        seeded = uow.conn.execute(select(func.count()).select_from(t.covenant)).scalar_one()
    assert seeded == SEEDED_COVENANTS
    token = coordinator_token(app, "coco")
    for slug in MOVED:
        open_in_new_sector(app, slug)
    overdue_targets(app, open_in_new_sector(app, WATCHED), 8)
    # Subscriptions before the schedulers start: deliveries are made when an alert is raised.
    subscribe(uow=app.uow(), user="coco", channel="inbox")
    subscribe(uow=app.uow(), user="coco", channel="webhook", sector=WATCHED, address=webhook.url)
    webhook.delay = 0.05

    ports = [free_port(), free_port()]
    for n, port in enumerate(ports):
        processes.start(f"web{n + 1}", on_loopback(commands["web"], port))
    for n in range(3):
        processes.start(
            f"scheduler{n + 1}",
            commands["scheduler"],
            IMVO_SCAN_INTERVAL_SECONDS="1",
            IMVO_DRAIN_INTERVAL_SECONDS="0.5",
        )
    bases = [f"http://{LOOPBACK}:{port}" for port in ports]
    with httpx.Client(timeout=10, trust_env=False) as client:
        for base in bases:
            wait_until(lambda base=base: ready(client, base), 40, f"{base}/readyz", processes)

        started = time.monotonic()
        log = MoveLog()
        drive_moves(bases, token, log)
        moving = time.monotonic() - started
        # A move sent with a version that is no longer current: 412 (RFC 9110, issue 11).
        odd = [o for o in log.outcomes if o[1] not in (200, 412)]
        assert not odd, f"moves answered other than 200/412: {odd[:5]}"
        assert len(log.outcomes) == MOVE_ATTEMPTS
        assert log.count(200) > 0

        # Every accepted move is in the history once: creation row + one row per 200.
        counts = history_counts(app)
        for slug in MOVED:
            assert counts[slug] == (1 + log.count(200, slug), 1 + log.count(200, slug)), slug
        assert all(rows == version for rows, version in counts.values()), counts

        # The schedulers raise every due alert once and deliver all of it.
        watched = set(alert_keys(app, WATCHED))

        def settled() -> bool:
            nonlocal watched
            keys = alert_keys(app)
            statuses = delivery_statuses(app)
            watched = set(alert_keys(app, WATCHED))
            # A catch-up sends only each target's latest alert; the rest are skipped.
            return (
                set(keys) == expected_alert_keys(app, app.now())
                and set(statuses) <= {"sent", "skipped"}
                and bool(watched)
                and received_keys(webhook) >= watched - superseded_keys(app)
            )

        waited = wait_until(settled, 45, "complete raising and delivery", processes)
        keys = alert_keys(app)
        assert [k for k, n in Counter(keys).items() if n > 1] == []
        assert len(keys) == len(expected_alert_keys(app, app.now()))
        assert len(watched) >= 8  # at least the due alert of each watched target
        statuses = delivery_statuses(app)
        # One inbox delivery per alert, plus the webhook for the watched covenant's alerts;
        # those of superseded alerts skipped, never sent (issue 11).
        skipped = superseded_keys(app)
        assert statuses == Counter(
            {
                "sent": len(keys) + len(watched) - len(skipped) - len(watched & skipped),
                "skipped": len(skipped) + len(watched & skipped),
            }
        )
        assert received_keys(webhook) == watched - skipped

        audit = verify(uow=app.uow(readonly=True))
        assert audit.ok, audit.problems
        assert audit.rows == sum(rows for rows, _ in counts.values())

        for base in bases:
            assert client.get(f"{base}/readyz").status_code == 200
            metrics = client.get(f"{base}/metrics")
            assert metrics.status_code == 200
            assert f"imvo_history_rows {float(audit.rows)}" in metrics.text

    print(
        f"\nscale-out: {log.count(200)} moves accepted, {log.count(412)} conflicts in "
        f"{moving:.1f} s; {len(keys)} alerts, {statuses['sent']} deliveries settled "
        f"{waited:.1f} s later; webhook calls {len(webhook.calls)} for {len(watched)} keys"
    )
    codes = processes.terminate_all(seconds=20)
    schedulers = {name: code for name, code in codes.items() if name.startswith("scheduler")}
    assert schedulers == dict.fromkeys(schedulers, 0), f"{codes}\n{processes.all_logs()}"
    # The web processes must shut down cleanly; their exit status has a test of its own
    # (test_web_process_exits_0_on_sigterm) so that this one reports the scale-out alone.
    for name in ("web1", "web2"):
        assert codes[name] in (0, -signal.SIGTERM), f"{name}: {codes[name]}\n{processes.log(name)}"
        assert "Application shutdown complete" in processes.log(name), processes.log(name)


def test_web_process_exits_0_on_sigterm(tmp_path: Path) -> None:
    """`docker compose stop` sends SIGTERM: a clean shutdown must exit 0, as the scheduler does.

    uvicorn (>= 0.29) re-raises a captured SIGTERM once it has shut down, so without a
    handler of the CLI's own the process dies of the signal (exit 143) after a clean stop.
    """
    url = f"sqlite:///{tmp_path / 'imvo.db'}"
    port = free_port()
    with fleet(tmp_path, app_env(url)) as processes:
        migrate.upgrade(url)
        web = processes.start("web", on_loopback(compose_commands()["web"], port))
        with httpx.Client(timeout=10, trust_env=False) as client:
            base = f"http://{LOOPBACK}:{port}"
            wait_until(lambda: ready(client, base), 40, f"{base}/readyz", processes)
        web.send_signal(signal.SIGTERM)
        code = web.wait(timeout=20)
        assert "Application shutdown complete" in processes.log("web")
        assert code == 0, f"exit {code} after a clean shutdown:\n{processes.log('web')}"


#: The race (issue 14): clients moving one covenant with the same If-Match at once.
RACERS, RACE_ROUNDS = 8, 4


@pytest.mark.slow
def test_clients_racing_for_one_version_on_two_web_processes(tmp_path: Path) -> None:
    """Per version exactly one move is accepted, every other one is 412, whichever of the two
    web processes it reached (one may have moved the covenant itself and remember its head,
    the other not); the history has one row per accepted move, no gap, and verifies."""
    admin_url = os.environ.get("IMVO_TEST_DATABASE_URL", PG_DEFAULT)
    with (
        scratch_database(admin_url, "imvo_race") as url,
        fleet(tmp_path, app_env(url)) as processes,
    ):
        app = wall_clock_app(url)
        try:
            migrate.upgrade(app.settings.database_url)
            open_in_new_sector(app, "wedloop")
            token = coordinator_token(app, "coco")
            ports = [free_port(), free_port()]
            for n, port in enumerate(ports):
                processes.start(f"web{n + 1}", on_loopback(compose_commands()["web"], port))
            bases = [f"http://{LOOPBACK}:{port}" for port in ports]
            answers = _race(bases, token, processes)
            for codes in answers:
                assert sorted(codes) == [200] + [412] * (RACERS - 1), answers
            counts = history_counts(app)
            assert counts["wedloop"] == (1 + RACE_ROUNDS, 1 + RACE_ROUNDS)
            with app.uow(readonly=True) as uow:
                seqs = list(
                    uow.conn.execute(
                        select(t.transition.c.seq).order_by(t.transition.c.seq)
                    ).scalars()
                )
            assert seqs == list(range(1, 2 + RACE_ROUNDS))
            audit = verify(uow=app.uow(readonly=True))
            assert audit.ok, audit.problems
        finally:
            app.close()


def _race(bases: list[str], token: str, processes: Fleet) -> list[list[int]]:
    """RACE_ROUNDS rounds of RACERS clients (alternating between the web processes) posting
    the same move with the same If-Match at once; each round's status codes."""
    clients = [
        httpx.Client(base_url=bases[n % 2], timeout=30, trust_env=False) for n in range(RACERS)
    ]
    try:
        for client in clients:
            wait_until(lambda c=client: ready(c, ""), 40, f"{client.base_url}readyz", processes)
        auth = {"Authorization": f"Bearer {token}"}
        etag = clients[0].get("/api/v1/covenants/wedloop", headers=auth).headers["ETag"]
        stage, rounds = "verkenning", []
        with ThreadPoolExecutor(RACERS) as pool:
            for _ in range(RACE_ROUNDS):
                body = {"to": NEXT[stage], "reason": "wedloop"}
                answers = _at_once(pool, clients, body, auth | {"If-Match": etag})
                rounds.append([answer.status_code for answer in answers])
                won = [answer for answer in answers if answer.status_code == 200]
                if won:
                    etag, stage = won[0].headers["ETag"], NEXT[stage]
    finally:
        for client in clients:
            client.close()
    return rounds


def _at_once(
    pool: ThreadPoolExecutor,
    clients: list[httpx.Client],
    body: dict[str, str],
    headers: dict[str, str],
) -> list[httpx.Response]:
    """The same move posted by every client, released together."""
    start = threading.Barrier(len(clients))

    def post(client: httpx.Client) -> httpx.Response:
        start.wait()
        return client.post("/api/v1/covenants/wedloop/move", json=body, headers=headers)

    return list(pool.map(post, clients, timeout=60))

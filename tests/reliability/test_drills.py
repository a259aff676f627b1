"""Drills: the disk fills up, a scheduler is killed again and again, PostgreSQL restarts.

Each drill runs the real `imvo` processes (the CLI, `imvo scheduler run`, `imvo serve`) as
subprocesses on loopback and ends with the same questions: did every refusal come out as a
message (exit 2, HTTP 503 with a JSON `detail`) rather than a traceback, a 500 or a hang; did
the processes recover by themselves; and is the database whole (integrity check, audit
chain, covenant version == history rows, one alert per event, every delivery sent)?

The PostgreSQL restart runs against a throwaway cluster of this test's own (initdb in a temp
directory, its own port): restarting the shared local server would cut the connections of
every other test and engineer using it at the same time.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from db_checks import alert_keys, delivery_statuses, history_counts
from processes import Fleet, fleet, wait_until
from receivers import WebhookReceiver
from sqlalchemy import text, update

from helpers import dutch, free_port, open_in_new_sector, slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import migrate
from imvo_workflow.db import tables as t
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.services.audit import verify
from imvo_workflow.services.auth import create_api_token
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.services.targets import set_target
from imvo_workflow.services.users import add_user, subscribe
from imvo_workflow.settings import DEFAULT_STAGES_FILE, Settings

ROOT = Path(__file__).resolve().parents[2]
STAGES = DEFAULT_STAGES_FILE
LOOPBACK = "127.0.0.1"
SEEDED_COVENANTS = 21
NEXT = {
    "verkenning": "kwartiermaker",
    "kwartiermaker": "dialoog",
    "dialoog": "afgezien",
    "afgezien": "verkenning",
}


# -- processes ---------------------------------------------------------------------------


def imvo_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "imvo_workflow", *args]


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """`imvo` on loopback and the wall clock (no IMVO_NOW), fast scheduler intervals."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    env |= {
        "IMVO_DATABASE_URL": database_url,
        "IMVO_STAGES_FILE": str(STAGES),
        "IMVO_SECRET_KEY": "drill-test-secret-" + "d" * 40,
        "IMVO_SCAN_INTERVAL_SECONDS": "1",
        "IMVO_DRAIN_INTERVAL_SECONDS": "0.5",
        "IMVO_WEBHOOK_TIMEOUT_SECONDS": "10",
        "PGCONNECT_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "COLUMNS": "200",
        "NO_PROXY": LOOPBACK,
        "no_proxy": LOOPBACK,
    }
    return env | extra


# -- building the situation in-process ---------------------------------------------------


def wall_clock_app(database_url: str) -> App:
    settings = Settings(database_url=database_url, stages_file=STAGES, now=None)
    return App(settings=settings, definition=load_definition(STAGES))


def overdue_milestone(app: App, covenant_id: int, name: str) -> None:
    """Stated on its deadline three days ago: exactly one event, its due alert, fired already."""
    deadline = app.today() - timedelta(days=3)
    set_target(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug_of(app, covenant_id),
        phrase=dutch(deadline),
        reference=deadline,
        milestone=name,
        actor="test",
        now=app.now(),
    )


def received_keys(webhook: WebhookReceiver) -> set[str]:
    return {str(body["key"]) for _, body in webhook.accepted()}


def assert_whole(app: App) -> None:
    """The audit chain verifies and every covenant's version counts its history rows."""
    audit = verify(uow=app.uow(readonly=True))
    assert audit.ok, audit.problems
    counts = history_counts(app)
    assert {s: c for s, c in counts.items() if c[0] != c[1]} == {}


# == c. the disk is full =================================================================
#
# chmod does not stop root (CI runs as root), and a small filesystem needs mount rights. A
# file size limit does work for root: RLIMIT_FSIZE set in the child makes every write past
# the limit fail with EFBIG (SIGXFSZ ignored, else the signal kills the process first),
# which SQLite reports as an I/O error, as it would a full disk. The test keeps a connection
# open so the -shm file (32 KiB) already exists and the WAL starts empty: the limit then
# caps exactly what the command can write.


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the 2016 seed, loaded once in-process for the module."""
    path = tmp_path_factory.mktemp("seeded") / "imvo.db"
    app = wall_clock_app(f"sqlite:///{path}")
    try:
        migrate.upgrade(app.settings.database_url)
        seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    finally:
        app.close()
    return path


def copy_database(source: Path, target: Path) -> str:
    """A consistent copy through SQLite's backup API (a WAL file is not left behind)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


@contextmanager
def emptied_wal(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection held open with the WAL checkpointed to nothing and the -shm in place."""
    with closing(sqlite3.connect(path, timeout=30)) as held:
        held.execute("PRAGMA journal_mode=WAL")
        busy, _, _ = held.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
        yield held


def wal_size(path: Path) -> int:
    return (path.parent / f"{path.name}-wal").stat().st_size


def run_with_file_limit(url: str, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = app_env(url)
    # Not measured by coverage: its data file would hit the same limit at exit.
    env.pop("COVERAGE_PROCESS_CONFIG", None)
    return subprocess.run(
        imvo_argv(*args),
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=90,
        preexec_fn=limited,
        check=False,
    )


def sqlite_state(path: Path) -> tuple[str, int, int]:
    """(integrity check, covenants, history rows), read with the plain driver."""
    with closing(sqlite3.connect(path, timeout=30)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        covenants = db.execute("SELECT count(*) FROM covenant").fetchone()[0]
        rows = db.execute("SELECT count(*) FROM transition").fetchone()[0]
    return str(integrity), int(covenants), int(rows)


def assert_refused_cleanly(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert "Fout:" in done.stderr, done.stderr


def test_seed_on_a_full_disk_fails_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "imvo.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    with emptied_wal(path):
        # 64 KiB of WAL: the seed's first frames fit, its commit does not.
        done = run_with_file_limit(url, 64 * 1024, "seed")
        assert wal_size(path) == 64 * 1024  # cut off in the middle of writing its commit
    assert_refused_cleanly(done)
    integrity, covenants, rows = sqlite_state(path)
    assert integrity == "ok"
    assert (covenants, rows) == (0, 0)  # all of the seed or none of it: none

    # With room again, the seed loads everything.
    app = wall_clock_app(url)
    try:
        seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    finally:
        app.close()
    assert sqlite_state(path)[:2] == ("ok", SEEDED_COVENANTS)


def test_move_on_a_full_disk_fails_cleanly_and_writes_nothing(
    seeded_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "imvo.db"
    url = copy_database(seeded_template, path)
    app = wall_clock_app(url)
    try:
        before = history_counts(app)["chemie"]
        with emptied_wal(path):
            # One WAL frame fits; a move writes at least the covenant and a history page.
            done = run_with_file_limit(
                url, 8 * 1024, "move", "chemie", "kwartiermaker", "--by", "t"
            )
            assert wal_size(path) == 8 * 1024  # cut off in the middle of writing its commit
        assert_refused_cleanly(done)
        assert sqlite_state(path)[0] == "ok"
        assert history_counts(app)["chemie"] == before
        assert_whole(app)

        again = run_with_file_limit(
            url, resource.RLIM_INFINITY, "move", "chemie", "kwartiermaker", "--by", "t"
        )
        assert again.returncode == 0, again.stderr
        assert history_counts(app)["chemie"] == (before[0] + 1, before[1] + 1)
        assert_whole(app)
    finally:
        app.close()


def test_full_disk_message_names_the_write_not_the_url(
    seeded_template: Path, tmp_path: Path
) -> None:
    """A full disk is not an unreachable database: the CLI must not send the operator to
    IMVO_DATABASE_URL when the database answered every read and only the write failed."""
    path = tmp_path / "imvo.db"
    url = copy_database(seeded_template, path)
    with emptied_wal(path):
        done = run_with_file_limit(url, 8 * 1024, "move", "chemie", "kwartiermaker", "--by", "t")
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "disk I/O error" in message or "disk is full" in message, message
    assert "niet bereiken" not in message and "IMVO_DATABASE_URL" not in message, message


# == b. a scheduler killed ten times in a row mid-delivery ================================

KILLS = 10
TARGETS = 20


def lapse_leases(app: App) -> int:
    """Make the killed scheduler's claims lapse now.

    A claim holds a 2-minute lease (outbox.LEASE) before another process may take it over;
    waiting that out ten times is not a test. Another process's clock cannot be patched, so
    the lease is moved into the past in the database, exactly what two minutes would do.
    """
    d = t.delivery
    with app.uow() as uow:
        lapsed = uow.conn.execute(
            update(d)
            .where(d.c.status == "sending")
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        ).rowcount
        uow.commit()
    return int(lapsed)


#: `imvo scheduler run` (the same `main()` as `python -m imvo_workflow`), imported ahead and
#: started by a line on stdin. The next scheduler warms up while the current one delivers, so
#: a restart costs the scheduler's own start, not the interpreter's and the imports' (seconds
#: each on a busy two-core CI machine, eleven times over).
WARM_SCHEDULER = """
import sys
import imvo_workflow.cli
import imvo_workflow.scheduler
sys.stdin.readline()
sys.argv = ["imvo", "scheduler", "run"]
imvo_workflow.cli.main()
"""


def warm_scheduler(processes: Fleet, name: str) -> subprocess.Popen[bytes]:
    return processes.start(name, [sys.executable, "-c", WARM_SCHEDULER], stdin=subprocess.PIPE)


def go(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None and process.poll() is None
    process.stdin.write(b"go\n")
    process.stdin.close()


@pytest.mark.slow
def test_scheduler_killed_ten_times_mid_delivery_loses_and_doubles_nothing(
    webhook_server: WebhookReceiver, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'imvo.db'}"
    migrate.upgrade(url)
    app = wall_clock_app(url)
    rng = random.Random(20161101)
    try:
        covenant_id = open_in_new_sector(app, "kill-doelen")
        for n in range(1, TARGETS + 1):
            overdue_milestone(app, covenant_id, f"Mijlpaal {n}")
        add_user(uow=app.uow(), name="dirk", role="coordinator", now=app.now())
        subscribe(
            uow=app.uow(),
            user="dirk",
            channel="webhook",
            sector="kill-doelen",
            address=webhook_server.url,
        )
        webhook_server.delay = 0.5  # a slow receiver: the kills land mid-send
        lapsed_total = 0
        with fleet(tmp_path, app_env(url)) as processes:
            spare = warm_scheduler(processes, "scheduler1")
            for kill in range(1, KILLS + 1):
                current, before = spare, len(webhook_server.calls)
                go(current)
                spare = warm_scheduler(processes, f"scheduler{kill + 1}")
                # Let 1-3 sends begin, so some deliveries finish between kills and some don't.
                wanted = before + 1 + kill % 3
                wait_until(
                    lambda wanted=wanted: len(webhook_server.calls) >= wanted,
                    40,
                    f"webhook call #{wanted} from scheduler {kill}",
                    processes,
                )
                time.sleep(rng.uniform(0, 0.4))
                current.send_signal(signal.SIGKILL)
                assert current.wait(timeout=10) == -signal.SIGKILL
                processes.forget(f"scheduler{kill}")
                lapsed_total += lapse_leases(app)

            go(spare)
            wait_until(
                lambda: set(delivery_statuses(app)) == {"sent"},
                60,
                "complete delivery after the last restart",
                processes,
            )
            last = f"scheduler{KILLS + 1}"
            assert processes.terminate(last) == 0, processes.log(last)

        keys = alert_keys(app)
        assert len(keys) == TARGETS
        assert [k for k, n in Counter(keys).items() if n > 1] == []
        assert delivery_statuses(app) == Counter({"sent": TARGETS})
        assert received_keys(webhook_server) == set(keys)
        assert lapsed_total >= KILLS  # every kill left at least its current claim behind
        repeats = len(webhook_server.calls) - TARGETS
        # Each kill repeats at most the one send it interrupted (issue 11; was whole batches).
        assert repeats <= KILLS, repeats
        print(f"\nkill drill: {len(webhook_server.calls)} webhook calls, {repeats} repeats")
    finally:
        app.close()


# == a. PostgreSQL restarts under a web process and a scheduler ==========================


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail("PostgreSQL server binaries are needed: apt-get install -y postgresql")
    return found[-1].parent


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster in a temp directory, on its own loopback port."""

    root: Path
    port: int
    bin: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 60) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, capture_output=True, encoding="utf-8", timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.root / "data"), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses={LOOPBACK} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
                  "-w", "-t", "30", "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "-t", "30", "stop")

    def ready(self) -> bool:
        done = subprocess.run(
            ["pg_isready", "-h", LOOPBACK, "-p", str(self.port), "-t", "2"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        return done.returncode == 0

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not self.ready():
            if time.monotonic() > deadline:
                pytest.fail(f"the drill's PostgreSQL is not up after {seconds} s")
            time.sleep(0.2)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="imvo-pgdrill-", dir="/tmp"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(root, free_port(), postgres_bin())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            if (root / "data" / "postmaster.pid").exists():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Outcome:
    started: float
    kind: str  # "list" or "move"
    status: int | None  # None: no answer (timeout or connection error)
    elapsed: float
    body: str


@dataclass
class Traffic:
    """A thread that lists covenants and moves one, every ~100 ms, recording every answer."""

    base: str
    token: str
    slug: str
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(
        self, kind: str, started: float, response: httpx.Response | None, error: str
    ) -> None:
        outcome = Outcome(
            started,
            kind,
            None if response is None else response.status_code,
            time.monotonic() - started,
            error if response is None else response.text[:500],
        )
        with self.lock:
            self.outcomes.append(outcome)

    def _call(
        self, client: httpx.Client, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = client.request(method, f"{self.base}{path}", **kw)
        except httpx.HTTPError as exc:
            self._record(kind, started, None, f"{type(exc).__name__}: {exc}")
            return None
        self._record(kind, started, response, "")
        return response

    def run(self) -> None:
        auth = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=10, trust_env=False) as client:
            while not self.stop.is_set():
                self._call(client, "list", "GET", "/api/v1/covenants", headers=auth)
                got = self._call(
                    client, "read", "GET", f"/api/v1/covenants/{self.slug}", headers=auth
                )
                if got is not None and got.status_code == 200:
                    to = NEXT[got.json()["status"]["stage"]]
                    self._call(
                        client, "move", "POST", f"/api/v1/covenants/{self.slug}/move",
                        json={"to": to, "reason": "drill"},
                        headers=auth | {"If-Match": got.headers["ETag"]},
                    )  # fmt: skip
                self.stop.wait(0.1)

    def since(self, moment: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.started >= moment]

    def all(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)


@pytest.mark.slow
def test_postgresql_restart_under_web_and_scheduler(
    webhook_server: WebhookReceiver, tmp_path: Path
) -> None:
    with private_cluster() as cluster:
        admin = wall_clock_app(cluster.admin_url)
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text('CREATE DATABASE "imvo_drill"'))
        admin.close()
        url = cluster.admin_url.rsplit("/", 1)[0] + "/imvo_drill"
        migrate.upgrade(Settings(database_url=url).database_url)
        app = wall_clock_app(url)
        try:
            with fleet(tmp_path, app_env(url)) as processes:
                _restart_drill(cluster, app, processes, webhook_server)
        finally:
            app.close()


def _restart_drill(cluster: Cluster, app: App, processes: Fleet, webhook: WebhookReceiver) -> None:
    user_id = add_user(uow=app.uow(), name="coco", role="coordinator", now=app.now())
    token = create_api_token(uow=app.uow(), user_id=user_id, name="drill", now=app.now())
    open_in_new_sector(app, "drill-a")
    watched = open_in_new_sector(app, "drill-doelen")
    overdue_milestone(app, watched, "Voor de herstart")
    subscribe(
        uow=app.uow(), user="coco", channel="webhook", sector="drill-doelen", address=webhook.url
    )

    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    processes.start(
        "web", imvo_argv("serve", "--host", LOOPBACK, "--port", str(port), "--no-scheduler")
    )
    processes.start("scheduler", imvo_argv("scheduler", "run"))
    with httpx.Client(timeout=10, trust_env=False) as client:

        def ready() -> bool:
            try:
                return client.get(f"{base}/readyz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 40, f"{base}/readyz", processes)
    wait_until(lambda: len(received_keys(webhook)) == 1, 30, "the first alert", processes)

    traffic = Traffic(base, token, "drill-a")
    worker = threading.Thread(target=traffic.run, daemon=True)
    worker.start()
    try:
        time.sleep(1.0)
        down = time.monotonic()
        cluster.stop("fast")
        time.sleep(2.0)
        cluster.start()
        cluster.wait_ready()
        up = time.monotonic()

        def served(kind: str) -> bool:
            return any(o.kind == kind and o.status == 200 for o in traffic.since(up))

        processes.check_alive()
        list_back = wait_until(
            lambda: served("list"), 10, "successful GET after the restart", processes
        )
        move_back = wait_until(
            lambda: served("move"), 10, "successful move after the restart", processes
        )

        # The scheduler's next scan works: a target overdue now gets its alert, delivered.
        overdue_milestone(app, watched, "Na de herstart")
        scan_back = wait_until(
            lambda: len(received_keys(webhook)) == 2,
            15,
            "the alert raised after the restart",
            processes,
        )
    finally:
        traffic.stop.set()
        worker.join(timeout=15)
    assert not worker.is_alive()

    outcomes = traffic.all()
    during = [o for o in outcomes if down <= o.started < up]
    assert during, "no request was made while the database was down"
    unanswered = [o for o in outcomes if o.status is None]
    assert unanswered == [], f"requests without an answer: {unanswered[:3]}"
    odd = [o for o in outcomes if o.status not in (200, 409, 503)]
    assert odd == [], f"answers other than 200/409/503: {odd[:3]}"
    for o in outcomes:
        if o.status == 503:
            body = json.loads(o.body)
            assert isinstance(body.get("detail"), str) and body["detail"], o
    slowest = max(o.elapsed for o in outcomes)
    assert slowest < 10, f"slowest request took {slowest:.1f} s"

    # Nothing half-written: the chain verifies, versions count rows, moves add up.
    assert_whole(app)
    moves = [o for o in outcomes if o.kind == "move"]
    accepted = sum(1 for o in moves if o.status == 200)
    unsure = sum(1 for o in moves if o.status == 503)  # refused, or committed but unanswered
    rows, _ = history_counts(app)["drill-a"]
    assert 1 + accepted <= rows <= 1 + accepted + unsure
    keys = alert_keys(app, "drill-doelen")
    assert len(keys) == len(set(keys)) == 2
    assert delivery_statuses(app) == Counter({"sent": 2})

    assert processes.terminate("scheduler") == 0, processes.log("scheduler")
    assert processes.terminate("web") in (0, -signal.SIGTERM), processes.log(
        "web"
    )  # see test_scale_out
    print(
        f"\nrestart drill: {len(outcomes)} requests, {len(during)} during the outage "
        f"({Counter(o.status for o in during)}); back after: GET {list_back:.1f} s, move "
        f"{move_back:.1f} s, new alert {scan_back:.1f} s; slowest request {slowest:.2f} s"
    )

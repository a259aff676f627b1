"""What every bench script shares: scratch databases built by the migrations, and the verdict.

A bench compares two ways of doing the same work in one run on one machine, so the figure is
a ratio and survives a noisy or slower machine. Each script makes its own databases (a SQLite
file in a temp dir, a `imvo_bench_<random>` PostgreSQL database dropped at the end) so it never
touches the data of a developer or of a test run.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from imvo_workflow.db import migrate
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.settings import DEFAULT_STAGES_FILE

ROOT = Path(__file__).resolve().parents[1]

STAGES = DEFAULT_STAGES_FILE
#: The report's date, as in the tests: dates never go backwards and never lie in the future.
NOW = datetime(2016, 11, 1, 10, 0, tzinfo=AMSTERDAM)


def default_postgres_url() -> str:
    return (
        os.environ.get("IMVO_BENCH_POSTGRES_URL")
        or os.environ.get("IMVO_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/test"
    )


def libpq_url(url: str) -> str:
    """The URL for psycopg.connect (no SQLAlchemy `+driver` part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    """A migrated SQLite file in a temp dir; yields its SQLAlchemy URL."""
    with tempfile.TemporaryDirectory(prefix="imvo_bench_") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        yield url


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A migrated database of its own next to `admin_url`'s; yields its SQLAlchemy URL."""
    name = f"imvo_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
        rendered = url.render_as_string(hide_password=False)
        migrate.upgrade(rendered)
        yield rendered
    finally:
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def on_both_databases(
    measure: Callable[[str, str], tuple[list[str], list[str]]],
    *,
    postgres_url: str | None,
) -> int:
    """`measure(url, suffix)` on a scratch SQLite file and, unless `postgres_url` is None, on
    a scratch PostgreSQL database ("_postgresql"); the verdict over both (exit code)."""
    with scratch_sqlite() as url:
        passed, missed = measure(url, "")
    if postgres_url is not None:
        try:
            with scratch_postgres(postgres_url) as url:
                ok, not_ok = measure(url, "_postgresql")
            passed, missed = passed + ok, missed + not_ok
        except psycopg.OperationalError as exc:
            missed.append(f"PostgreSQL at {postgres_url} failed ({str(exc).splitlines()[0]})")
    return verdict(passed, missed)


def verdict(passed: list[str], missed: list[str]) -> int:
    """Print the verdict line (last, as DESIGN.md asks); the exit code: 0 PASS, 1 FAIL."""
    if missed:
        print(f"verdict: FAIL ({'; '.join(missed)})")
        return 1
    print(f"verdict: PASS ({', '.join(passed)})")
    return 0


def bare_connection(url: str) -> Any:
    """The bare DBAPI connection of a scratch database, as a floor uses it.

    SQLite: sqlite3 with make_engine's pragmas and isolation_level=None, so the caller issues
    BEGIN (IMMEDIATE) itself as the engine does. PostgreSQL: psycopg 3, autocommit off (a
    transaction begins with the first statement and ends with commit()).
    """
    if not url.startswith("sqlite"):
        return psycopg.connect(libpq_url(url), autocommit=False)
    conn = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def bulk_load(conn: Any, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    """`rows` into `table` as fast as the bare driver goes, then the planner's statistics.

    SQLite: executemany in chunks of 50,000 in one transaction, with a 256 MB page cache on
    this connection for the indexes. PostgreSQL: COPY in its text format, written in blocks
    (far cheaper than write_row's per-value dumping; the values hold no tabs, newlines or
    backslashes). The connection is left in autocommit afterwards.
    """
    if isinstance(conn, sqlite3.Connection):
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN IMMEDIATE")
        marks = ", ".join("?" * len(columns.split(",")))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        while chunk := [row for _, row in zip(range(50_000), rows, strict=False)]:
            conn.executemany(sql, chunk)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        return
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := [row for _, row in zip(range(20_000), rows, strict=False)]:
            copy.write("".join(_copy_line(row) for row in chunk))
    conn.commit()
    conn.autocommit = True
    conn.execute(f"VACUUM ANALYZE {table}")


def _copy_line(row: tuple[Any, ...]) -> str:
    return "\t".join("\\N" if value is None else str(value) for value in row) + "\n"


def sqlite_stamp(moment: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite DateTime stores it: in UTC, naive, with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def add_covenants(conn: Any, *, sectors: int, covenants: int) -> list[int]:
    """`sectors` sectors and `covenants` covenants spread over them (bare SQL, committed)."""
    sqlite = isinstance(conn, sqlite3.Connection)
    mark, on = ("?", NOW.date().isoformat()) if sqlite else ("%s", NOW.date())
    cur = conn.cursor()
    if sqlite:
        cur.execute("BEGIN IMMEDIATE")
    sector_ids = []
    for i in range(sectors):
        cur.execute(
            f'INSERT INTO sector (slug, name, "group", parent_id, position)'
            f" VALUES ({mark}, {mark}, 'overige', NULL, {mark}) RETURNING id",
            (f"bench-sector-{i}", f"Bench sector {i}", i),
        )
        sector_ids.append(cur.fetchone()[0])
    ids = []
    for i in range(covenants):
        cur.execute(
            "INSERT INTO covenant (slug, sector_id, parent_id, title, summary, notes, stage,"
            " stage_since, version, definition_version, last_seq, head_hash, position)"
            f" VALUES ({mark}, {mark}, NULL, {mark}, '', '[]', 'verkenning', {mark}, 1, '1', 0,"
            f" '', {mark}) RETURNING id",
            (f"bench-{i}", sector_ids[i % sectors], f"Bench convenant {i}", on, i),
        )
        ids.append(cur.fetchone()[0])
    if sqlite:
        cur.execute("COMMIT")
    else:
        conn.commit()
    return ids


def load_script(stem: str) -> ModuleType:
    """The sibling bench script `bench/<stem>.py` as module `bench_<stem>`, to reuse its helpers.

    Loaded from its path under its own name, it does not depend on how the running script
    was started (its folder on sys.path or not). Loaded once per process.
    """
    name = f"bench_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{stem}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no bench script {stem}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@contextmanager
def serving(database_url: str, secret_key: str) -> Iterator[tuple[str, int]]:
    """`imvo serve --no-scheduler` as it is deployed, in its own process on a free loopback
    port, its log in a file (a pipe nobody reads fills up and stalls it mid-request); yields its
    URL and process id once it answers /readyz, and stops it after."""
    import httpx  # only the scripts that serve need it

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "IMVO_DATABASE_URL": database_url,
        "IMVO_STAGES_FILE": str(STAGES),
        "IMVO_NOW": NOW.isoformat(),
        "IMVO_SECRET_KEY": secret_key,
        "IMVO_ACCESS_LOG": "false",
    }
    command = [sys.executable, "-m", "imvo_workflow", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--no-scheduler"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=1, trust_env=False).status_code == 200
        except httpx.TransportError:
            return False

    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not ready():
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"imvo serve did not start: {log.read().decode()[-2000:]}")
                time.sleep(0.1)
            yield base, server.pid
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

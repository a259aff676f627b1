"""Alerts delivered per second through the outbox against bare HTTP POSTs, on SQLite and PostgreSQL.

The engine side is `services.outbox.drain()` with the real `webhook_sender`, called as the
scheduler calls it (default batch sizes, again until nothing is due): claim a batch in one
transaction, POST each alert's JSON outside any transaction, record each outcome in its own
transaction. The floor is what no outbox can beat: the same POSTs (the very bodies and
idempotency keys the receiver got from the engine in the warm-up, so the same sizes) with
urllib.request in a plain loop, one request per alert and a new connection each time, as
urllib does, and no database at all. Both talk to the same loopback receiver, a
ThreadingHTTPServer in a thread of this process answering 200 with an empty body, so both pay
the same GIL sharing with it.

Setup per database (scratch, migrations only): --deliveries open targets whose deadline was
yesterday, one user with a webhook subscription for all sectors, then one engine `scan()`
raises one alert and queues one webhook delivery per target. Before each engine round every
delivery goes back to pending (outside the clock). After a warm-up of each side, engine and
floor rounds alternate and the best round of each counts, because the machine is noisy.

Budget (ours): the outbox reaches >= 0.5 of the bare POST rate. Its extra work per alert is
a share of a claim transaction and one finish transaction; on loopback an HTTP request costs
about as much, so a well-built outbox lands between 0.5 and 1.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import threading
import time
import urllib.request
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from sqlalchemy import Engine, text, update

from _common import (  # first: it keeps the bench folder from shadowing `transitions`
    NOW,
    STAGES,
    add_covenants,
    bare_connection,
    default_postgres_url,
    scratch_postgres,
    scratch_sqlite,
    sqlite_stamp,
    verdict,
)
from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.notify.channels import IDEMPOTENCY_HEADER, Sender, webhook_sender
from imvo_workflow.services.alerts import policy_from, scan
from imvo_workflow.services.outbox import Backoff, drain
from imvo_workflow.settings import Settings

BUDGET = 0.5
TARGET = (
    "INSERT INTO target (covenant_id, stage, milestone, description, phrase, reference_date,"
    " period_start, deadline, status, closed_on, created_at)"
    " VALUES ({m}, 'ondertekend', NULL, '', 'gisteren', {m}, {m}, {m}, 'open', NULL, {m})"
)


class Receiver(ThreadingHTTPServer):
    """Loopback webhook receiver: 200 for every POST, keeping (idempotency key, body)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            self.server.got.append((self.headers.get(IDEMPOTENCY_HEADER, ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


def setup(url: str, count: int, hook: str) -> Engine:
    """`count` due targets, a webhook subscriber, one scan: `count` pending deliveries."""
    conn = bare_connection(url)
    sqlite = isinstance(conn, sqlite3.Connection)
    covenants = add_covenants(conn, sectors=4, covenants=100)
    stated, deadline = NOW.date() - timedelta(days=4), NOW.date() - timedelta(days=1)
    values: tuple[Any, ...] = (stated, stated, deadline, NOW)
    if sqlite:
        values = (stated.isoformat(), stated.isoformat(), deadline.isoformat(), sqlite_stamp(NOW))
    cur = conn.cursor()
    if sqlite:
        cur.execute("BEGIN IMMEDIATE")
    cur.executemany(
        TARGET.format(m="?" if sqlite else "%s"),
        [(covenants[i % len(covenants)], *values) for i in range(count)],
    )
    mark = "?" if sqlite else "%s"
    cur.execute(
        "INSERT INTO user_account (name, email, role, password_hash, created_at)"
        f" VALUES ('bench', NULL, 'coordinator', NULL, {mark}) RETURNING id",
        (values[-1],),
    )
    user = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO subscription (user_id, sector_id, channel, address)"
        f" VALUES ({mark}, NULL, 'webhook', {mark})",
        (user, hook),
    )
    cur.execute("COMMIT") if sqlite else conn.commit()
    conn.close()
    engine = make_engine(url)
    policy = policy_from(load_definition(STAGES).reminders)
    uow = UnitOfWork(engine)
    result = scan(uow=uow, policy=policy, now=NOW)
    uow.close()
    if result.raised != count or result.deliveries != count:
        raise RuntimeError(f"setup: {result}, expected {count} alerts and deliveries")
    return engine


def requeue(engine: Engine) -> None:
    """Every delivery back to pending and due now (outside the clock)."""
    d = t.delivery
    with engine.begin() as db:
        db.execute(
            update(d).values(
                status="pending", attempts=0, next_attempt_at=NOW.astimezone(UTC), lease_until=None,
                last_error=None, sent_at=None,
            )
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as db:
            db.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM delivery"))


def run_engine(uow: UnitOfWork, senders: dict[str, Sender], count: int) -> float:
    backoff, sent = Backoff(), 0
    start = time.perf_counter()
    while True:
        result = drain(uow=uow, senders=senders, clock=lambda: NOW, backoff=backoff)
        if result.failed:
            raise RuntimeError(f"engine: {result.failed} deliveries failed")
        if not result.sent:
            break
        sent += result.sent
    elapsed = time.perf_counter() - start
    if sent != count:
        raise RuntimeError(f"engine: sent {sent}, expected {count}")
    return count / elapsed


def run_bare(hook: str, sends: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    for key, body in sends:
        request = urllib.request.Request(
            hook,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", IDEMPOTENCY_HEADER: key},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    return len(sends) / (time.perf_counter() - start)


def measure(url: str, receiver: Receiver, args: argparse.Namespace) -> tuple[float, float, int]:
    """Best alerts/s of the engine and of the bare loop, and the mean body size in bytes."""
    engine = setup(url, args.deliveries, receiver.url)
    uow = UnitOfWork(engine)
    senders = {"webhook": webhook_sender(Settings())}
    try:
        requeue(engine)
        receiver.got.clear()
        run_engine(uow, senders, args.deliveries)  # warm-up, and the bodies the floor will send
        sends = list(receiver.got)
        if len({key for key, _ in sends}) != args.deliveries:
            raise RuntimeError("the receiver did not get each alert once")
        run_bare(receiver.url, sends)
        best = {"engine": 0.0, "bare": 0.0}
        for rnd in range(args.rounds):
            for name in sorted(best, reverse=bool(rnd % 2)):
                receiver.got.clear()
                if name == "engine":
                    requeue(engine)
                    rate = run_engine(uow, senders, args.deliveries)
                else:
                    rate = run_bare(receiver.url, sends)
                if len(receiver.got) != args.deliveries:
                    raise RuntimeError(f"{name}: the receiver got {len(receiver.got)} requests")
                best[name] = max(best[name], rate)
    finally:
        uow.close()
        engine.dispose()
    return best["engine"], best["bare"], sum(len(body) for _, body in sends) // len(sends)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--deliveries", type=int, default=1500, help="deliveries per round")
    parser.add_argument("--rounds", type=int, default=3, help="best of K alternating rounds")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    passed: list[str] = []
    missed: list[str] = []
    try:
        for db in ("sqlite", "postgresql"):
            if db == "postgresql" and args.skip_postgres:
                continue
            try:
                scratch = (
                    scratch_sqlite() if db == "sqlite" else scratch_postgres(args.postgres_url)
                )
                with scratch as url:
                    engine_rate, bare_rate, size = measure(url, receiver, args)
            except psycopg.OperationalError as exc:
                missed.append(
                    f"PostgreSQL at {args.postgres_url} failed ({str(exc).splitlines()[0]}); see --skip-postgres"
                )
                continue
            ratio = engine_rate / bare_rate
            print(
                f"dispatch_rate_{db}: {engine_rate:.0f} alerts/s (bare POST: {bare_rate:.0f}/s),"
                f" {args.deliveries} per round, {size} bytes each"
            )
            print(f"dispatch_vs_bare_post_{db}: {ratio:.2f} (budget: >= {BUDGET})")
            ok = ratio >= BUDGET
            (passed if ok else missed).append(f"{db} {ratio:.2f} {'>=' if ok else '<'} {BUDGET}")
    finally:
        receiver.shutdown()
        receiver.server_close()
    return verdict(passed, missed)


if __name__ == "__main__":
    sys.exit(main())

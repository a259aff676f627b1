"""Alerts delivered per second through the outbox against bare HTTP POSTs, on SQLite and PostgreSQL.

Engine: `services.outbox.drain()` with the real `webhook_sender`, called as the scheduler
calls it (default batch sizes, again until nothing is due): claim a batch in one transaction,
POST each alert's JSON outside any transaction, record each outcome in its own transaction.
Floor, what no outbox can beat: the very bodies and idempotency keys the receiver got from the
engine in the warm-up (so the same sizes), POSTed with urllib.request in a plain loop, one
request per alert and a new connection each time as urllib does, no database at all.

Both POST to the same loopback receiver: a ThreadingHTTPServer answering 200 with an empty
body, served from a thread of a child process (default) or, with --receiver thread, of this
process. In this process its threads take the GIL from the code under test: right after each
response the handler thread still needs the GIL while the engine goes on with its database
work, so the engine loses up to a switch interval (5 ms) per alert that the idle bare loop
does not; that measures the GIL, not the outbox, hence the child process by default.

Setup per database (scratch, migrations only): --deliveries open targets whose deadline was
yesterday, one user with a (signing) webhook subscription for all sectors, then one engine `scan()`
raises one alert and queues one webhook delivery per target. Before each engine round every
delivery goes back to pending (outside the clock). After a warm-up of each side, engine and
floor rounds alternate and the best round of each counts, because the machine is noisy.

Budget: the outbox reaches >= 0.5 of the bare POST rate: its own work per alert (a share of a
claim transaction, one outcome write) may cost about as much as a loopback POST, not more.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
import urllib.request
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, text, update

from _common import (
    NOW,
    STAGES,
    add_covenants,
    bare_connection,
    default_postgres_url,
    scratch_postgres,
    scratch_sqlite,
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


class Receiver(ThreadingHTTPServer):
    """Loopback webhook receiver: 200 for every POST, keeping (idempotency key, body)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()


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


def serve(pipe: Connection) -> None:
    """Run a Receiver in a thread; answer "take" with what came in since, stop on "stop"."""
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    pipe.send(f"http://127.0.0.1:{receiver.server_address[1]}/hook")
    while pipe.recv() == "take":
        with receiver.lock:
            got, receiver.got = receiver.got, []
        pipe.send(got)
    receiver.shutdown()
    receiver.server_close()


def take(pipe: Connection) -> list[tuple[str, bytes]]:
    pipe.send("take")
    got: list[tuple[str, bytes]] = pipe.recv()
    return got


def setup(url: str, count: int, hook: str) -> Engine:
    """`count` due targets, a webhook subscriber, one scan: `count` pending deliveries."""
    conn = bare_connection(url)
    covenants = add_covenants(conn, sectors=4, covenants=100)
    conn.close()
    stated, deadline = NOW.date() - timedelta(days=4), NOW.date() - timedelta(days=1)
    # Milestones, each its own (a covenant has one open target per stage).
    target: dict[str, object] = {"stage": None, "description": "", "status": "open"}
    target |= {"phrase": "gisteren", "reference_date": stated, "period_start": stated}
    target["deadline"] = deadline
    engine = make_engine(url)
    with engine.begin() as db:
        rows = [
            target | {"covenant_id": covenants[i % len(covenants)], "milestone": f"mijlpaal {i}"}
            for i in range(count)
        ]
        db.execute(insert(t.target).values(created_at=NOW.astimezone(UTC)), rows)
        user = db.execute(
            insert(t.user).returning(t.user.c.id),
            {"name": "bench", "role": "coordinator", "created_at": NOW.astimezone(UTC)},
        ).scalar_one()
        db.execute(
            insert(t.subscription),
            {
                "user_id": user,
                "sector_id": None,
                "channel": "webhook",
                "address": hook,
                "secret": "bench-secret",  # signed, as every new subscription is
            },
        )
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


def measure(
    url: str, hook: str, pipe: Connection, args: argparse.Namespace
) -> tuple[float, float, int]:
    """Best alerts/s of the engine and of the bare loop, and the mean body size in bytes."""
    engine = setup(url, args.deliveries, hook)
    uow = UnitOfWork(engine)
    senders = {"webhook": webhook_sender(Settings())}
    try:
        requeue(engine)
        take(pipe)
        run_engine(uow, senders, args.deliveries)  # warm-up, and the bodies the floor will send
        sends = take(pipe)
        if len({key for key, _ in sends}) != args.deliveries:
            raise RuntimeError("the receiver did not get each alert once")
        run_bare(hook, sends)
        best = {"engine": 0.0, "bare": 0.0}
        for rnd in range(args.rounds):
            for name in sorted(best, reverse=bool(rnd % 2)):
                take(pipe)
                if name == "engine":
                    requeue(engine)
                    rate = run_engine(uow, senders, args.deliveries)
                else:
                    rate = run_bare(hook, sends)
                if (got := len(take(pipe))) != args.deliveries:
                    raise RuntimeError(f"{name}: the receiver got {got} requests")
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
    parser.add_argument(
        "--receiver", choices=("process", "thread"), default="process",
        help="run the receiver's server thread in a child process, or in this one",
    )  # fmt: skip
    args = parser.parse_args(argv)
    pipe, theirs = multiprocessing.Pipe()
    worker: threading.Thread | multiprocessing.process.BaseProcess
    if args.receiver == "thread":
        worker = threading.Thread(target=serve, args=(theirs,), daemon=True)
    else:
        worker = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs,))
    worker.start()
    hook: str = pipe.recv()
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
                    engine_rate, bare_rate, size = measure(url, hook, pipe, args)
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
        pipe.send("stop")
        worker.join()
    return verdict(passed, missed)


if __name__ == "__main__":
    sys.exit(main())

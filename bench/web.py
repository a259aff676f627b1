"""The web layer: board latency with 1,000 covenants, and the API's move rate against the service's.

The real app (`imvo serve`, in its own process as deployed, on 127.0.0.1) runs on a scratch
database seeded through the service functions: 50 sectors x 20 covenants opened in
verkenning, each with two open targets ("Q1 2017"; "eind 2016" or the overdue "Q3 2016"),
then spread over the stages with `move`. A coordinator logs in through the /login form and
GETs the board 200 times in a row on one keep-alive connection (httpx); every latency counts,
client included (budget: p95 < 150 ms).

Moves: N moves via POST /api/v1/covenants/{slug}/move (Bearer token, If-Match with the ETag
the previous answer gave) against N calls of `services.moves.move` with one reused UnitOfWork
on the app's own engine (same database, same run, same role and expected version), each side
on its own covenants, round-robin through verkenning -> afgezien -> verkenning ->
kwartiermaker -> afgezien -> ... (no dates needed); and, as the framework's floor, N calls of
GET /api/v1/whoami with the same token (authenticated, nothing else). The three take turns in
chunks of CHUNK calls, each going first in turn; rates are the best of K rounds, p50s are over
every call. The HTTP client runs in this process, so the API figures include its cost.
Budgets (issue 14): on SQLite, where one HTTP round trip costs more CPU than a whole move, the
API move's p50 <= 1.3 x (floor p50 + service move p50); on PostgreSQL the API's move rate
>= 0.5 of the service's. Also printed, to say what bounds them: each side's CPU per call (the
server, this process, PostgreSQL; bench/_cpu.py) and the floor's own rate against the
service's, the most any API move could reach.
"""

from __future__ import annotations

import argparse
import itertools
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy import insert, select

from _common import NOW, STAGES, default_postgres_url, on_both_databases
from _common import serving as _common_serving
from _cpu import CpuPerCall, sample
from imvo_workflow.bootstrap import App, bootstrap
from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.services.auth import create_api_token, hash_password
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.moves import move
from imvo_workflow.services.targets import TargetSpec, record_target
from imvo_workflow.services.users import add_user
from imvo_workflow.settings import Settings

BOARD_P95_MS, MOVE_RATIO, OVERHEAD = 150.0, 0.5, 1.3
SECTORS, PER_SECTOR, WARMUP, CHUNK = 50, 20, 10, 100
USER, PASSWORD, REASON = "bench", "bench-wachtwoord", "bench: rondje"
OPENED = date(2016, 3, 1)  # covenants open (and targets are stated) before NOW
# i % 10 -> the moves that spread covenant i over the stages; the first four stay in verkenning
SPREAD: tuple[tuple[str, ...], ...] = (
    *((),) * 4, *(("kwartiermaker",),) * 2, ("dialoog",), ("intentieverklaring",),
    ("dialoog", "ondertekend"), ("afgezien",),
)  # fmt: skip
DIALOOG = ("eind 2016", "Q3 2016")  # every fourth covenant's dialoog target is overdue
CYCLE = ("afgezien", "verkenning", "kwartiermaker", "afgezien", "verkenning")


def rotation(keys: list[Any]) -> Iterator[tuple[Any, str]]:
    """Round-robin over `keys`, each walking CYCLE from verkenning, for ever."""
    for k in itertools.count():
        yield keys[k % len(keys)], CYCLE[(k // len(keys)) % len(CYCLE)]


def seed(app: App) -> tuple[list[int], str]:
    """1,000 covenants over the stages and a coordinator; the ids left in verkenning, a token."""
    definition, uow, ids = app.definition, app.uow(), []
    with uow:
        for i in range(SECTORS * PER_SECTOR):
            if i % PER_SECTOR == 0:
                row = {"slug": f"s-{i}", "name": f"Sector {i}", "group": "overige", "position": i}
                sector = uow.conn.execute(
                    insert(t.sector).returning(t.sector.c.id), row
                ).scalar_one()
            new = NewCovenant(slug=f"bench-{i}", sector_id=sector, title=f"Bench {i}", position=i)
            cid = open_covenant(
                conn=uow.conn, definition=definition, covenant=new, actor=USER,
                reason="aangemaakt", occurred_on=OPENED, now=NOW,
            )  # fmt: skip
            for stage, phrase in (("dialoog", DIALOOG[i % 4 == 0]), ("ondertekend", "Q1 2017")):
                spec = TargetSpec(new.slug, phrase, OPENED, USER, stage=stage)
                record_target(uow.conn, definition, spec, now=NOW)
            ids.append(cid)
        uow.commit()
    for i in range(len(ids)):
        for dest in SPREAD[i % len(SPREAD)]:
            move(
                uow=uow, definition=definition, covenant=f"bench-{i}", to=dest, actor=USER,
                reason=REASON, occurred_on=NOW.date(), now=NOW,
            )  # fmt: skip
    hashed = hash_password(PASSWORD)
    user_id = add_user(uow=uow, name=USER, role="coordinator", password_hash=hashed, now=NOW)
    token = create_api_token(uow=uow, user_id=user_id, name="bench", now=NOW)
    with app.engine.begin() as conn:  # statistics, as autovacuum would have them
        conn.exec_driver_sql("ANALYZE")
    return [cid for i, cid in enumerate(ids) if not SPREAD[i % len(SPREAD)]], token


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[str, int]]:
    """`imvo serve` on the settings' database (bench/_common.serving); its URL and process id."""
    with _common_serving(settings.database_url, settings.secret_key or "") as server:
        yield server


def board_latencies(url: str, count: int) -> list[float]:
    """Log in through the /login form, then GET / `count` times; milliseconds per request."""
    with httpx.Client(base_url=url, timeout=60) as client:
        form = client.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if form.status_code != 200 or found is None:
            raise RuntimeError(f"GET /login: {form.status_code}")
        data = {"csrf_token": found[1], "name": USER, "password": PASSWORD, "next": "/"}
        if (done := client.post("/login", data=data)).status_code != 303:
            raise RuntimeError(f"POST /login: {done.status_code} {done.text[:200]}")
        for _ in range(WARMUP):
            page = client.get("/")
            counted = sum(int(n) for n in re.findall(r"<span>(\d+)</span></h2>", page.text))
            if page.status_code != 200 or counted != SECTORS * PER_SECTOR:
                raise RuntimeError(f"GET /: {page.status_code}, not a board of 1,000 covenants")
        times = []
        for _ in range(count):
            start = time.perf_counter()
            page = client.get("/")
            times.append((time.perf_counter() - start) * 1000)
            if page.status_code != 200:
                raise RuntimeError(f"GET /: {page.status_code}")
    return times


def move_timings(
    app: App, server: tuple[str, int], token: str, ids: list[int], args: argparse.Namespace
) -> dict[str, Timing]:
    """Each side's moves/s (best round), milliseconds per call (every call of every round) and
    CPU per call of the server, this process and PostgreSQL (bench/_cpu.py)."""
    url, pid = server
    database = None if app.engine.dialect.name == "sqlite" else app.engine.url.database
    api_ids, service_ids = ids[0::2][: args.covenants], ids[1::2][: args.covenants]
    with app.engine.connect() as conn:
        rows = conn.execute(select(t.covenant.c.id, t.covenant.c.slug, t.covenant.c.version))
        slug: dict[int, str] = {}
        version: dict[int | str, Any] = {}  # ids: the service's versions; slugs: the API's ETags
        for cid, name, v in rows:
            slug[cid], version[cid], version[name] = name, v, f'"{v}"'
    client = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})
    uow = UnitOfWork(app.engine)

    def api(plan: list[tuple[Any, str]], times: list[float]) -> None:
        for s, dest in plan:
            body, match = {"to": dest, "reason": REASON}, {"If-Match": version[s]}
            start = time.perf_counter()
            answer = client.post(f"/api/v1/covenants/{s}/move", json=body, headers=match)
            times.append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise RuntimeError(f"API move {s} -> {dest}: {answer.status_code} {answer.text}")
            version[s] = answer.headers["ETag"]

    def floor(plan: list[tuple[Any, str]], times: list[float]) -> None:
        for _ in plan:
            start = time.perf_counter()
            answer = client.get("/api/v1/whoami")
            times.append(time.perf_counter() - start)
            if answer.status_code != 200 or answer.json()["name"] != USER:
                raise RuntimeError(f"GET /api/v1/whoami: {answer.status_code} {answer.text}")

    def service(plan: list[tuple[Any, str]], times: list[float]) -> None:
        for cid, dest in plan:
            start = time.perf_counter()
            version[cid] = move(
                uow=uow, definition=app.definition, covenant=slug[cid], to=dest, actor=USER,
                reason=REASON, expected_version=version[cid], role="coordinator", now=NOW,
            ).version  # fmt: skip
            times.append(time.perf_counter() - start)

    Side = Callable[[list[tuple[Any, str]], list[float]], None]
    sides: dict[str, tuple[Side, Iterator[tuple[Any, str]]]] = {
        "api": (api, rotation([slug[cid] for cid in api_ids])),
        "floor": (floor, rotation([slug[cid] for cid in api_ids])),
        "service": (service, rotation(service_ids)),
    }
    best = dict.fromkeys(sides, 0.0)
    samples: dict[str, list[float]] = {name: [] for name in sides}
    cpu = {name: CpuPerCall() for name in sides}
    with client:
        for run, plans in sides.values():  # warm up: pool, statement caches, threads
            run(list(itertools.islice(plans, CHUNK)), [])
        for _ in range(args.rounds):
            spent = dict.fromkeys(sides, 0.0)
            for turn, done in enumerate(range(0, args.moves, CHUNK)):
                names = sorted(sides)
                for name in names[turn % 3 :] + names[: turn % 3]:  # each side first in turn
                    run, plans = sides[name]
                    plan = list(itertools.islice(plans, min(CHUNK, args.moves - done)))
                    before = sample([pid], database)
                    run(plan, samples[name])
                    after = sample([pid], database)
                    spent[name] += after.wall - before.wall
                    cpu[name].add(before, after, len(plan))
            best = {name: max(best[name], args.moves / spent[name]) for name in sides}
    uow.close()
    return {
        name: Timing(best[name], statistics.median(samples[name]) * 1000, cpu[name])
        for name in sides
    }


@dataclass(frozen=True, slots=True)
class Timing:
    rate: float  # calls per second, the best round
    p50_ms: float
    cpu: CpuPerCall


def measure(url: str, args: argparse.Namespace, suffix: str) -> tuple[list[str], list[str]]:
    """Seed, serve, measure and print the figures of one database; (passed, missed)."""
    settings = Settings(
        database_url=url, stages_file=STAGES, now=NOW, secret_key=secrets.token_urlsafe(32)
    )
    app = bootstrap(settings)
    ids, token = seed(app)
    with serving(settings) as server:
        times = board_latencies(server[0], args.requests)
        timing = move_timings(app, server, token, ids, args)
    app.close()
    p50, p95 = statistics.median(times), statistics.quantiles(times, n=100)[94]
    api, floor, service = timing["api"], timing["floor"], timing["service"]
    overhead = api.p50_ms / (floor.p50_ms + service.p50_ms)
    rate_ratio = api.rate / service.rate
    print(f"board_p50_ms{suffix}: {p50:.1f}")
    print(f"board_p95_ms{suffix}: {p95:.1f} (budget: < {BOARD_P95_MS:.0f})")
    print(f"api_floor_p50_ms{suffix}: {floor.p50_ms:.2f} (GET /api/v1/whoami, same token)")
    print(f"service_move_p50_ms{suffix}: {service.p50_ms:.2f}")
    print(f"api_move_p50_ms{suffix}: {api.p50_ms:.2f}")
    print(f"api_floor_rate{suffix}: {floor.rate:.0f} requests/s")
    print(f"api_move_rate{suffix}: {api.rate:.0f} moves/s")
    print(f"service_move_rate{suffix}: {service.rate:.0f} moves/s")
    print(f"api_floor_cpu{suffix}: {floor.cpu.text()}")
    print(f"api_move_cpu{suffix}: {api.cpu.text()}")
    print(f"service_move_cpu{suffix}: {service.cpu.text()} (server idle)")
    # The most an API move could reach: an authenticated request that does nothing else.
    print(f"api_floor_vs_service{suffix}: {floor.rate / service.rate:.2f} (whoami vs move())")
    sqlite = not suffix
    # SQLite: an HTTP round trip costs more than the move itself, so the API is held to its
    # own floor plus the move; PostgreSQL: the database dominates, so to the service's rate.
    budget = "" if sqlite else f" (budget: >= {MOVE_RATIO})"
    print(f"api_move_vs_service{suffix}: {rate_ratio:.2f}{budget}")
    budget = f" (budget: <= {OVERHEAD})" if sqlite else ""
    print(f"api_move_vs_floor_plus_service{suffix}: {overhead:.2f}{budget}")
    checks = {f"board p95{suffix} {p95:.0f} ms < {BOARD_P95_MS:.0f}": p95 < BOARD_P95_MS}
    if sqlite:
        checks[f"api p50 {overhead:.2f} <= {OVERHEAD} x (floor + service)"] = overhead <= OVERHEAD
    else:
        checks[f"api/service{suffix} {rate_ratio:.2f} >= {MOVE_RATIO}"] = rate_ratio >= MOVE_RATIO
    return [c for c, ok in checks.items() if ok], [f"not {c}" for c, ok in checks.items() if not ok]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200, help="board requests measured")
    parser.add_argument("--moves", type=int, default=500, help="moves per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="best of K alternating rounds")
    parser.add_argument("--covenants", type=int, default=100, help="covenants per moving side")
    parser.add_argument("--postgres", action="store_true", help="also measure on PostgreSQL")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    args = parser.parse_args(argv)
    return on_both_databases(
        lambda url, suffix: measure(url, args, suffix),
        postgres_url=args.postgres_url if args.postgres else None,
    )


if __name__ == "__main__":
    sys.exit(main())

"""Many writers on one PostgreSQL: two `imvo serve` processes and 1, 4, 16 API clients.

Deployed as the README's scale-out says: two web processes (`imvo serve --no-scheduler`, one
secret key; no scheduler, since nothing here raises alerts) on a scratch database made by the
migrations and dropped at the end. Each API client is a thread with its own keep-alive
httpx connection and the coordinator's Bearer token, talking to one of the two servers
(client i to server i % 2), moving covenants of its own round-robin through verkenning ->
afgezien -> verkenning -> kwartiermaker -> afgezien -> ... with the ETag its previous move
returned as If-Match. The floor is the same moves by hand (bench/move_floor.py's four
statements and commit, psycopg 3), one connection per thread on covenants of its own. Both
run with 1, 4 and 16 at once, taking turns, best of K rounds; the rate is all moves over
the wall time from a shared start to the last one done. Budget: API with 16 clients >= 0.5 of
the floor with 16 connections. The HTTP clients run in this process, so the API figure
includes their cost. Each side's CPU per move (servers, clients, PostgreSQL; bench/_cpu.py)
and the cores they kept busy are printed too: on two cores they say what bounds the rate.

Then the race: 16 clients (8 per server) send the same move of one covenant with the same
If-Match at once, round after round: per version exactly one must get 200 and every other
one 412, and afterwards the covenant's history must run 1..N with one row per 200, and
`audit verify` must find nothing wrong with any chain the API wrote.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from functools import partial
from typing import Any

import httpx
import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from _common import (
    NOW,
    STAGES,
    default_postgres_url,
    load_script,
    scratch_postgres,
    verdict,
)
from _common import serving as _common_serving
from _cpu import CpuPerCall, sample
from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.services.audit import verify
from imvo_workflow.services.auth import create_api_token
from imvo_workflow.services.users import add_user

FLOOR = load_script("move_floor")  # setup, Workload, open_floor, run_floor: the same moves
CLIENTS = (1, 4, 16)
SERVERS, RATIO, RACERS = 2, 0.5, 16
USER, REASON, SECRET = "bench", "bench: rondje", "bench-writers-secret-key-0123456789abcdef"
#: The race covenant's two moves, back and forth (afzien needs the reason every move gives).
RACE = {"verkenning": "afgezien", "afgezien": "verkenning"}


def serving(url: str) -> AbstractContextManager[tuple[str, int]]:
    """`imvo serve --no-scheduler` on `url` (bench/_common.serving); its URL and process id."""
    return _common_serving(url, SECRET)


def together(workers: list[Callable[[], None]]) -> float:
    """Run each worker in a thread of its own from one start; seconds until the last is done."""
    start = threading.Barrier(len(workers) + 1)
    failed: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # reported below: a bench must not hide a failure
            failed.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(workers)} workers failed: {failed[0]!r}")
    return time.perf_counter() - began


class Client:
    """One API client: its own keep-alive connection to one server, its own covenants."""

    def __init__(self, base: str, token: str, slugs: list[str], work: Any, etags: dict[str, str]):
        self.http = httpx.Client(
            base_url=base, timeout=60, trust_env=False, headers={"Authorization": f"Bearer {token}"}
        )
        self.work, self.etags = work, etags
        self.http.get("/readyz")  # connect now, not on the clock

    def moves(self, count: int) -> Callable[[], None]:
        plan = self.work.plan(count)

        def run() -> None:
            for slug, dest, _trigger, _cancels in plan:
                body, match = {"to": dest, "reason": REASON}, {"If-Match": self.etags[slug]}
                answer = self.http.post(f"/api/v1/covenants/{slug}/move", json=body, headers=match)
                if answer.status_code != 200:
                    raise RuntimeError(f"{slug} -> {dest}: {answer.status_code} {answer.text}")
                self.etags[slug] = answer.headers["ETag"]

        return run


def rates(
    clients: list[Client],
    floors: list[Any],
    work: list[Any],
    args: argparse.Namespace,
    version: str,
    watched: tuple[list[int], str],
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], CpuPerCall]]:
    """Best moves/s of each side with 1, 4 and 16 writers at once, over args.rounds rounds,
    and the CPU per move of the servers, the clients and PostgreSQL (`watched`: the servers'
    pids and the database's name; bench/_cpu.py)."""

    def floor_moves(n: int, count: int) -> Callable[[], None]:
        plan = work[n].plan(count)
        return lambda: FLOOR.run_floor(floors[n], plan, version)

    sides: dict[str, Callable[[int, int], Callable[[], None]]] = {
        "api": lambda n, count: clients[n].moves(count),
        "floor": floor_moves,
    }
    for make in sides.values():  # warm up: connections, prepared statements, known heads
        together([make(n, 2 * args.covenants) for n in range(RACERS)])
    best: dict[tuple[str, int], float] = {}
    cpu = {(name, n): CpuPerCall() for name in sides for n in CLIENTS}
    for round_ in range(args.rounds):
        for turn, writers in enumerate(CLIENTS):
            for name in sorted(sides, reverse=bool((round_ + turn) % 2)):
                work_ = [sides[name](n, args.moves) for n in range(writers)]
                before = sample(*watched)
                seconds = together(work_)
                cpu[name, writers].add(before, sample(*watched), writers * args.moves)
                rate = writers * args.moves / seconds
                best[name, writers] = max(best.get((name, writers), 0.0), rate)
    return best, cpu


def race(bases: list[str], token: str, slug: str, etag: str, rounds: int) -> tuple[int, int]:
    """RACERS clients send the same move with the same If-Match, `rounds` times; returns
    (rounds where not exactly one got 200 and all the others 412, moves accepted)."""
    auth = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack:
        clients = [
            stack.enter_context(
                httpx.Client(base_url=bases[n % len(bases)], timeout=60, trust_env=False)
            )
            for n in range(RACERS)
        ]
        for client in clients:
            client.get("/readyz")  # connect now
        stage, wrong, accepted = "verkenning", 0, 0
        for _ in range(rounds):
            body, headers = {"to": RACE[stage], "reason": REASON}, auth | {"If-Match": etag}
            answers = all_at_once(clients, f"/api/v1/covenants/{slug}/move", body, headers)
            if Counter(a.status_code for a in answers) != Counter({200: 1, 412: RACERS - 1}):
                wrong += 1
            won = [answer for answer in answers if answer.status_code == 200]
            accepted += len(won)
            if won:
                etag, stage = won[0].headers["ETag"], RACE[stage]
    return wrong, accepted


def all_at_once(
    clients: list[httpx.Client], path: str, body: dict[str, str], headers: dict[str, str]
) -> list[httpx.Response]:
    """The same POST from every client, all released at once; their answers."""
    answers: list[httpx.Response] = []

    def send(client: httpx.Client) -> None:
        answers.append(client.post(path, json=body, headers=headers))

    together([partial(send, client) for client in clients])
    return answers


def history_problems(engine: Any, slugs: list[str], race_slug: str, accepted: int) -> list[str]:
    """What is wrong with the chains the API wrote: `audit verify`, and the race covenant's
    seqs (1..N, one row per accepted move after its opening and targets)."""
    audit = verify(uow=UnitOfWork(engine, readonly=True))
    problems = [
        f"{p.covenant} #{p.seq}: {p.message}" for p in audit.problems if p.covenant in slugs
    ]
    c, tr = t.covenant, t.transition
    with engine.connect() as conn:
        cid, version = conn.execute(select(c.c.id, c.c.version).where(c.c.slug == race_slug)).one()
        seqs = list(
            conn.execute(
                select(tr.c.seq).where(tr.c.covenant_id == cid).order_by(tr.c.seq)
            ).scalars()
        )
        moves = conn.execute(
            select(tr.c.seq).where(
                tr.c.covenant_id == cid, tr.c.trigger.in_(("afzien", "heropenen"))
            )
        ).all()
    if seqs != list(range(1, len(seqs) + 1)) or version != len(seqs):
        problems.append(f"{race_slug}: seqs {seqs[:5]}... of {len(seqs)} rows, version {version}")
    if len(moves) != accepted:
        problems.append(f"{race_slug}: {len(moves)} moves in the history, {accepted} accepted")
    return problems


def measure(url: str, definition: WorkflowDefinition, args: argparse.Namespace) -> bool:
    """Seed, serve, measure, print the figures; whether every budget holds."""
    engine = make_engine(url)
    per = args.covenants
    api_ids, floor_ids = FLOOR.setup(engine, definition, RACERS * per + 1, 2)
    user = add_user(uow=UnitOfWork(engine), name=USER, role="coordinator", now=NOW)
    token = create_api_token(uow=UnitOfWork(engine), user_id=user, name="bench", now=NOW)
    with engine.connect() as conn:
        rows = conn.execute(select(t.covenant.c.id, t.covenant.c.slug, t.covenant.c.version))
        slug, etags = {}, {}
        for cid, name, version in rows:
            slug[cid], etags[name] = name, f'"{version}"'
    own = [[slug[cid] for cid in api_ids[n * per : (n + 1) * per]] for n in range(RACERS)]
    race_slug = slug[api_ids[-1]]
    floors = [FLOOR.open_floor(url) for _ in range(RACERS)]
    floor_work = [
        FLOOR.Workload(floor_ids[n * per : (n + 1) * per], definition) for n in range(RACERS)
    ]
    with ExitStack() as stack:
        served = [stack.enter_context(serving(url)) for _ in range(SERVERS)]
        bases, pids = [base for base, _ in served], [pid for _, pid in served]
        clients = [
            Client(bases[n % SERVERS], token, own[n], FLOOR.Workload(own[n], definition), etags)
            for n in range(RACERS)
        ]
        try:
            watched = (pids, make_url(url).database or "")
            best, cpu = rates(clients, floors, floor_work, args, definition.version, watched)
            wrong, accepted = race(bases, token, race_slug, etags[race_slug], args.race_rounds)
        finally:
            for client in clients:
                client.http.close()
    for floor in floors:
        floor.conn.close()
    written = [name for names in own for name in names] + [race_slug]
    problems = history_problems(engine, written, race_slug, accepted)
    engine.dispose()
    for n in CLIENTS:
        print(f"writers_api_rate_{n}_postgresql: {best['api', n]:.0f} moves/s ({n} clients)")
        print(
            f"writers_floor_rate_{n}_postgresql: {best['floor', n]:.0f} moves/s ({n} connections)"
        )
    for side, n in cpu:
        print(
            f"writers_{side}_cpu_{n}_postgresql: {cpu[side, n].text()} (busy: {cpu[side, n].cores():.2f} of {os.cpu_count()} cores)"
        )
    growth = {
        side: " -> ".join(f"{best[side, n]:.0f}" for n in CLIENTS) for side in ("api", "floor")
    }
    print(f"writers_growth_postgresql: API {growth['api']}, floor {growth['floor']} (1 -> 4 -> 16)")
    ratio = best["api", 16] / best["floor", 16]
    print(f"writers_api_vs_floor_16_postgresql: {ratio:.2f} (budget: >= {RATIO})")
    print(
        f"writers_race_postgresql: {args.race_rounds} versions, {RACERS} clients, {accepted} moved"
    )
    print(f"writers_race_wrong_rounds_postgresql: {wrong} (budget: == 0)")
    print(f"writers_history_problems_postgresql: {len(problems)} (budget: == 0)")
    for problem in problems[:5]:
        print(f"  {problem}")
    return ratio >= RATIO and wrong == 0 and not problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--moves", type=int, default=100, help="moves per writer per turn")
    parser.add_argument("--rounds", type=int, default=3, help="best of K rounds")
    parser.add_argument("--covenants", type=int, default=4, help="covenants per writer")
    parser.add_argument("--race-rounds", type=int, default=30, help="versions raced for")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--skip-postgres", action="store_true", help="measure nothing")
    args = parser.parse_args(argv)
    if args.skip_postgres:  # many writers is a PostgreSQL deployment's question only
        return verdict(["skipped: PostgreSQL only"], [])
    definition = load_definition(STAGES)
    try:
        with scratch_postgres(args.postgres_url) as url:
            ok = measure(url, definition, args)
    except psycopg.OperationalError as exc:
        return verdict(
            [], [f"PostgreSQL at {args.postgres_url} failed ({str(exc).splitlines()[0]})"]
        )
    if ok:
        return verdict(["writers on PostgreSQL"], [])
    return verdict([], ["writers on PostgreSQL: a budget above is missed"])


if __name__ == "__main__":
    sys.exit(main())

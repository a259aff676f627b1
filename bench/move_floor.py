"""Moves per second of `services.moves.move()` against the physical floor, on SQLite and PostgreSQL.

The floor is the same move written by hand with the bare driver (sqlite3 / psycopg 3) on the
same database in the same run: one transaction with the same statements and the same rows
(read the covenant, UPDATE it guarded by its version, INSERT the history row, UPDATE its
targets), but no FSM check, no hashing (a constant 64-character hash) and no SQLAlchemy. Each
side moves its own covenants round-robin through verkenning -> afgezien -> verkenning ->
kwartiermaker -> afgezien -> ...; within a round engine and floor take turns in chunks of
CHUNK moves, so both see the same load from whatever else runs on the machine (a database
server shared with test runs), and the best round of each counts. At the end both sides must
have written the same rows.

Budgets (DESIGN.md, "Performance"): >= 0.5 of the floor on PostgreSQL, where a move waits on
round trips and a commit, so a Python layer costs relatively little; >= 0.2 on SQLite, where the
whole write takes ~45 µs and any Python layer dominates.

On PostgreSQL a third side takes its turns too (issue 14): `move()` with the version the
previous move returned, as the API (If-Match) and the web form (hidden version) call it. This
process committed that head, so the move is one statement plus the commit; budget: >= 1.0 of
the same four-statement floor.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, select, text

from _common import (
    NOW,
    STAGES,
    bare_connection,
    default_postgres_url,
    scratch_postgres,
    scratch_sqlite,
    sqlite_stamp,
    verdict,
)
from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.moves import move
from imvo_workflow.services.targets import TargetSpec, record_target

BUDGETS = {"sqlite": 0.2, "postgresql": 0.5}
ONE_TRIP_BUDGET = 1.0  # `move()` with a known version on PostgreSQL vs the same floor
CHUNK = 100  # moves per turn: short enough that a burst of load hits both sides alike
CYCLE = ("afgezien", "verkenning", "kwartiermaker", "afgezien", "verkenning")
TARGETS = (("ondertekend", "Q1 2017"), ("dialoog", "eind 2016"))
ACTOR, REASON, HASH = "bench", "bench: rondje", "f" * 64
ON, RECORDED = NOW.date(), NOW.astimezone(UTC)

Step = tuple[
    Any, str, str, bool
]  # covenant (floor: id, engine: name), destination, trigger, cancels

READ = "SELECT stage, stage_since, version, last_seq, head_hash FROM covenant WHERE id = ?"
WRITE = (
    "UPDATE covenant SET stage = ?, stage_since = ?, version = ?, last_seq = ?, head_hash = ?,"
    " definition_version = ? WHERE id = ? AND version = ?"
)
APPEND = (
    "INSERT INTO transition (covenant_id, seq, from_stage, to_stage, trigger, actor, reason,"
    " occurred_on, recorded_at, definition_version, prev_hash, hash, corrects_seq)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The cycle never reaches a terminal stage, so no target becomes unreachable on the way.
CLOSE = (
    "UPDATE target SET status = CASE WHEN stage = ? THEN 'met' ELSE 'cancelled' END,"
    " closed_on = ? WHERE covenant_id = ? AND status = 'open' AND (stage = ? OR ?)"
)


class Workload:
    """Round-robin over `ids`, each covenant walking CYCLE; carries on across rounds."""

    def __init__(self, ids: list[Any], definition: WorkflowDefinition) -> None:
        self.ids, self.done = ids, 0
        self.steps = [
            (dest, definition.resolve(CYCLE[i - 1], dest).trigger, cancels)
            for i, dest in enumerate(CYCLE)
            for cancels in [definition.stages[dest].cancels_targets]
        ]

    def plan(self, n: int) -> list[Step]:
        """The next `n` moves, computed before the clock starts."""
        count = len(self.ids)
        out = [
            (self.ids[k % count], *self.steps[(k // count) % len(self.steps)])
            for k in range(self.done, self.done + n)
        ]
        self.done += n
        return out


@dataclass
class Floor:
    """The bare DBAPI connection and how its dialect begins, commits and stores dates."""

    conn: Any
    begin: str | None  # SQLite's explicit BEGIN IMMEDIATE; psycopg begins by itself
    mark: str
    on: object
    recorded: object


def open_floor(url: str) -> Floor:
    conn = bare_connection(url)
    if isinstance(conn, sqlite3.Connection):  # stores dates as SQLAlchemy's SQLite types do
        return Floor(conn, "BEGIN IMMEDIATE", "?", ON.isoformat(), sqlite_stamp(NOW))
    return Floor(conn, None, "%s", ON, RECORDED)


def run_floor(floor: Floor, plan: list[Step], version: str) -> list[int]:
    cur, clock, times = floor.conn.cursor(), time.perf_counter_ns, []
    read, write, append, close = (s.replace("?", floor.mark) for s in (READ, WRITE, APPEND, CLOSE))
    begin, on, same = floor.begin, floor.on, (ACTOR, REASON, floor.on, floor.recorded, version)
    commit: Callable[[], object] = (lambda: cur.execute("COMMIT")) if begin else floor.conn.commit
    for cid, dest, trigger, cancels in plan:
        start = clock()
        if begin:
            cur.execute(begin)
        cur.execute(read, (cid,))
        stage, _since, old, last_seq, head = cur.fetchone()
        seq = last_seq + 1
        cur.execute(write, (dest, on, old + 1, seq, HASH, version, cid, old))
        if cur.rowcount != 1:
            raise RuntimeError(f"floor: covenant {cid} changed under us")
        cur.execute(append, (cid, seq, stage, dest, trigger, *same, head, HASH, None))
        cur.execute(close, (dest, on, cid, dest, cancels))
        commit()
        times.append(clock() - start)
    return times


def run_engine(
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    plan: list[Step],
    versions: dict[str, int] | None = None,
) -> list[int]:
    """`move()` for each step; with `versions`, each states the version its covenant's
    previous move returned (and keeps the new one there)."""
    clock, times = time.perf_counter_ns, []
    for name, dest, _trigger, _cancels in plan:
        start = clock()
        done = move(
            uow=uow, definition=definition, covenant=name, to=dest, actor=ACTOR, reason=REASON,
            occurred_on=None, expected_version=None if versions is None else versions[name], role=None, now=NOW,
        )  # fmt: skip
        times.append(clock() - start)
        if versions is not None:
            versions[name] = done.version
    return times


def setup(
    engine: Engine, definition: WorkflowDefinition, count: int, sides: int
) -> tuple[list[int], ...]:
    """`count` covenants per side, interleaved, each with open targets for its moves to close."""
    uow, ids = UnitOfWork(engine), []
    with uow:
        sector = uow.conn.execute(
            insert(t.sector).returning(t.sector.c.id),
            {"slug": "bench", "name": "Bench", "group": "overige", "position": 0},
        ).scalar_one()
        for i in range(sides * count):
            new = NewCovenant(slug=f"bench-{i}", sector_id=sector, title=f"Bench {i}")
            cid = open_covenant(
                conn=uow.conn, definition=definition, covenant=new, actor=ACTOR,
                reason="aangemaakt", occurred_on=ON, now=NOW,
            )  # fmt: skip
            for stage, phrase in TARGETS:
                spec = TargetSpec(new.slug, phrase, ON, ACTOR, stage=stage)
                record_target(uow.conn, definition, spec, now=NOW)
            ids.append(cid)
        uow.commit()
    uow.close()
    with engine.begin() as conn:  # statistics, as autovacuum would have them: else PostgreSQL
        conn.exec_driver_sql("ANALYZE")  # scans every open target for each move's bookkeeping
    return tuple(ids[side::sides] for side in range(sides))


def fingerprint(engine: Engine, ids: list[int]) -> Counter[tuple[Any, ...]]:
    """The rows a side wrote, raw as the database holds them, minus ids and hashes."""
    where = ", ".join(map(str, ids))
    queries = (
        "SELECT 'c', stage, stage_since, version, last_seq, definition_version FROM covenant"
        f" WHERE id IN ({where})",
        "SELECT 'h', seq, from_stage, to_stage, trigger, actor, reason, occurred_on, recorded_at,"
        f" definition_version, corrects_seq FROM transition WHERE covenant_id IN ({where})",
        f"SELECT 't', stage, status, closed_on FROM target WHERE covenant_id IN ({where})",
    )
    with engine.connect() as conn:
        rows = [tuple(row) for sql in queries for row in conn.execute(text(sql))]
    return Counter(rows)


@dataclass
class Figures:
    """Best rate of each side (moves/s) and the median move (µs) of that round."""

    rate: dict[str, float]
    p50: dict[str, float]


def measure(url: str, definition: WorkflowDefinition, args: argparse.Namespace) -> Figures:
    engine = make_engine(url)
    names = (
        ("engine", "floor", "one_trip")
        if engine.dialect.name == "postgresql"
        else ("engine", "floor")
    )
    ids = dict(zip(names, setup(engine, definition, args.covenants, len(names)), strict=True))
    uow, floor = UnitOfWork(engine, keep_connection=True), open_floor(url)
    with engine.connect() as conn:  # the engine's moves name their covenant, as a user does
        rows = conn.execute(select(t.covenant.c.id, t.covenant.c.slug, t.covenant.c.version))
        slugs, versions = {}, {}
        for cid, slug, version in rows:
            slugs[cid], versions[slug] = slug, version
    work = {
        name: Workload(side if name == "floor" else [slugs[cid] for cid in side], definition)
        for name, side in ids.items()
    }
    sides: dict[str, Callable[[list[Step]], list[int]]] = {
        "engine": lambda plan: run_engine(uow, definition, plan),
        "floor": lambda plan: run_floor(floor, plan, definition.version),
        "one_trip": lambda plan: run_engine(uow, definition, plan, versions),
    }
    sides = {name: sides[name] for name in names}
    best: dict[str, tuple[float, list[int]]] = {name: (0.0, []) for name in sides}
    for name in sides:  # warm up caches, prepared statements, the WAL and the known heads
        sides[name](work[name].plan(args.covenants * len(CYCLE)))
    for _ in range(args.rounds):
        spent = dict.fromkeys(sides, 0.0)
        times: dict[str, list[int]] = {name: [] for name in sides}
        for turn, done in enumerate(range(0, args.moves, CHUNK)):
            order = sorted(sides)  # each side first in turn
            order = order[turn % len(order) :] + order[: turn % len(order)]
            for name in order:
                plan = work[name].plan(min(CHUNK, args.moves - done))
                start = time.perf_counter()
                times[name] += sides[name](plan)
                spent[name] += time.perf_counter() - start
        for name, seconds in spent.items():
            if args.moves / seconds > best[name][0]:
                best[name] = (args.moves / seconds, times[name])
    uow.close()
    floor.conn.close()
    wrote = fingerprint(engine, ids["floor"])
    for name in names:
        if fingerprint(engine, ids[name]) != wrote:
            raise RuntimeError(f"the floor did not write the same rows as {name}")
    engine.dispose()
    return Figures(
        {name: rate for name, (rate, _) in best.items()},
        {name: statistics.median(times) / 1000 for name, (_, times) in best.items()},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--moves", type=int, default=3000, help="moves per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="best of K alternating rounds")
    parser.add_argument("--covenants", type=int, default=200, help="covenants per side")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    definition = load_definition(STAGES)
    passed: list[str] = []
    missed: list[str] = []
    for db in ("sqlite", "postgresql"):
        if db == "postgresql" and args.skip_postgres:
            continue
        try:
            scratch = scratch_sqlite() if db == "sqlite" else scratch_postgres(args.postgres_url)
            with scratch as url:
                fig = measure(url, definition, args)
        except psycopg.OperationalError as exc:
            missed.append(
                f"PostgreSQL at {args.postgres_url} failed ({str(exc).splitlines()[0]}); see --skip-postgres"
            )
            continue
        rate, p50, floor = fig.rate, fig.p50, fig.rate["floor"]
        ratio, budget = rate["engine"] / floor, BUDGETS[db]
        print(f"move_rate_{db}: {rate['engine']:.0f} moves/s (driver floor: {floor:.0f} moves/s)")
        print(f"move_vs_driver_floor_{db}: {ratio:.2f} (budget: >= {budget})")
        print(f"move_p50_us_{db}: {p50['engine']:.0f} (engine) vs {p50['floor']:.0f} (floor)")
        judged = [(db, ratio, budget)]
        if "one_trip" in rate:
            one = rate["one_trip"] / floor
            print(f"move_one_trip_rate_{db}: {rate['one_trip']:.0f} moves/s (known version)")
            print(f"move_one_trip_vs_driver_floor_{db}: {one:.2f} (budget: >= {ONE_TRIP_BUDGET})")
            print(f"move_one_trip_p50_us_{db}: {p50['one_trip']:.0f} vs {p50['floor']:.0f} (floor)")
            judged.append((f"{db} one trip", one, ONE_TRIP_BUDGET))
        for what, value, limit in judged:
            (passed if value >= limit else missed).append(
                f"{what} {value:.2f} {'>=' if value >= limit else '<'} {limit}"
            )
    return verdict(passed, missed)


if __name__ == "__main__":
    sys.exit(main())

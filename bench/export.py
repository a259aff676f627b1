"""History export at 1,000,000 rows: `export_history` must stream, so its memory stays flat.

Workload, per database (a scratch SQLite file and, unless --skip-postgres, a scratch
`imvo_bench_*` PostgreSQL database; schema only by the migrations): --covenants covenants
(default 4,000) spread over 10 sectors, and --rows history rows (default 1,000,000, so 250 per
covenant) bulk-inserted with the bare driver (sqlite3 executemany in one transaction /
psycopg COPY). Rows look real (stages and triggers the graph allows, dates, reasons, 64-hex
hashes chained by prev_hash) but the hashes are not the canonical ones and do not verify.

What is measured: for each size, a child process (`bench/export.py --child`) that imports the
app, builds the engine and runs `export_history` once, writing CSV (or --format json) to
/dev/null through a real file handle, and nothing else. Its peak resident set size is read
inside the child at the end (VmHWM from /proc/self/status), so the figure includes C-level
buffers (libpq's result, SQLite's page cache) that tracemalloc would miss. Not ru_maxrss:
on Linux a child's ru_maxrss (RUSAGE_CHILDREN, wait4) starts at the spawning process's
high-water mark, and the process that filled a million rows is bigger than any export child,
so every child reported the parent's size. 100,000 rows = the same database filtered with
--sector to the one sector holding a tenth of the covenants; 1,000,000 rows = no filter. A
third child exports a sector without rows: the baseline of interpreter, imports and
connection, printed so the growth above it can be read too. Rows/s is the child's own clock
around the export call.

Budget: the peak at 1,000,000 rows is at most 1.2x the peak at 100,000 rows (a streamed export
does not grow with the history). Verdict last; exit 1 on FAIL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg

from _common import (
    NOW,
    add_covenants,
    bare_connection,
    bulk_load,
    default_postgres_url,
    scratch_postgres,
    scratch_sqlite,
    sqlite_stamp,
    verdict,
)
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.services.export import ExportFilter, export_history

BUDGET = 1.2
SECTORS = 10
SMALL_SECTOR = "bench-sector-0"  # covenant i sits in sector i % SECTORS: a tenth of them
EMPTY_SECTOR = "bench-sector-none"  # a sector without covenants: the baseline
COLUMNS = (
    "covenant_id, seq, from_stage, to_stage, trigger, actor, reason, occurred_on, recorded_at,"
    " definition_version, prev_hash, hash, corrects_seq"
)
FIRST_DAY = date(2015, 1, 1)


def walk(length: int) -> list[tuple[str | None, str, str]]:
    """A path the graph allows: creation, dialoog, then intentieverklaring and dialoog by turns."""
    steps: list[tuple[str | None, str, str]] = [
        (None, "verkenning", "aanmaken"),
        ("verkenning", "dialoog", "dialoog_starten"),
    ]
    while len(steps) < length:
        steps.append(
            ("dialoog", "intentieverklaring", "intentieverklaring_tekenen")
            if steps[-1][1] == "dialoog"
            else ("intentieverklaring", "dialoog", "dialoog_starten")
        )
    return steps[:length]


def history_rows(
    covenants: list[int], per_covenant: int, sqlite: bool
) -> Iterator[tuple[Any, ...]]:
    """`per_covenant` chained rows for each covenant, as tuples for executemany / COPY."""
    recorded = sqlite_stamp(NOW) if sqlite else NOW.isoformat()
    dates = [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(per_covenant)]
    path = walk(per_covenant)
    for cid in covenants:
        previous = "0" * 64
        for seq, (source, dest, trigger) in enumerate(path, 1):
            digest = hashlib.sha256(f"{cid}/{seq}/{previous}".encode()).hexdigest()
            yield (cid, seq, source, dest, trigger, "Bench coordinator",
                   f"Stap {seq} van convenant {cid}: voortgang besproken met de partijen",
                   dates[seq - 1], recorded, "1", previous, digest, None)  # fmt: skip
            previous = digest


def fill(url: str, rows: int, covenants: int) -> float:
    """Covenants and `rows` history rows with the bare driver, then ANALYZE; seconds taken."""
    start, conn = time.perf_counter(), bare_connection(url)
    sqlite = isinstance(conn, sqlite3.Connection)
    ids = add_covenants(conn, sectors=SECTORS, covenants=covenants)
    mark = "?" if sqlite else "%s"
    conn.execute(  # the export refuses an unknown sector, so the empty one must exist
        f'INSERT INTO sector (slug, name, "group", parent_id, position)'
        f" VALUES ({mark}, 'Bench sector zonder convenanten', 'overige', NULL, {SECTORS})",
        (EMPTY_SECTOR,),
    )
    conn.commit()
    source = history_rows(ids, rows // covenants, sqlite)
    bulk_load(conn, "transition", COLUMNS, source)
    conn.close()
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    """This process's peak resident set size since exec (Linux VmHWM), in MB."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:  # not Linux: ru_maxrss, which may include the parent's high-water mark
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kb) / 1024


def child(url: str, fmt: str, sector: str) -> None:
    """The measured process: one export to /dev/null; rows, seconds and peak MB on stdout."""
    engine = make_engine(url)
    where = ExportFilter(sector=sector or None)
    with open(os.devnull, "w", encoding="utf-8", newline="") as sink:
        start = time.perf_counter()
        count = export_history(
            uow=UnitOfWork(engine, readonly=True), out=sink, fmt=fmt, where=where
        )
        seconds = time.perf_counter() - start
    engine.dispose()
    print(json.dumps({"rows": count, "seconds": seconds, "peak_mb": peak_rss_mb()}))


def measure_child(url: str, fmt: str, sector: str) -> dict[str, float]:
    """Run one export child; its rows, seconds and peak RSS in MB."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", url, fmt, sector]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"export child failed ({done.returncode}) for sector {sector!r}")
    found: dict[str, float] = json.loads(done.stdout)
    return found


def measure(url: str, args: argparse.Namespace, suffix: str) -> tuple[list[str], list[str]]:
    fill_s = fill(url, args.rows, args.covenants)
    stored = args.rows // args.covenants * args.covenants
    print(f"export_fill_s{suffix}: {fill_s:.1f} for {stored} rows ({stored / fill_s:,.0f} rows/s)")
    base = measure_child(url, args.format, EMPTY_SECTOR)
    small = measure_child(url, args.format, SMALL_SECTOR)
    big = measure_child(url, args.format, "")
    if base["rows"] != 0 or big["rows"] != stored or small["rows"] * 10 != stored:
        raise RuntimeError(f"unexpected row counts: {base['rows']}, {small['rows']}, {big['rows']}")
    ratio = big["peak_mb"] / small["peak_mb"]
    print(f"export_baseline_mb{suffix}: {base['peak_mb']:.1f} (interpreter, imports, no rows)")
    print(f"export_peak_mb_100k{suffix}: {small['peak_mb']:.1f}")
    print(f"export_peak_mb_1m{suffix}: {big['peak_mb']:.1f}")
    print(
        f"export_growth_mb{suffix}: {small['peak_mb'] - base['peak_mb']:.1f} (100k),"
        f" {big['peak_mb'] - base['peak_mb']:.1f} (1m) above the baseline"
    )
    print(
        f"export_rows_per_s{suffix}: {big['rows'] / big['seconds']:,.0f} (1m),"
        f" {small['rows'] / small['seconds']:,.0f} (100k, filtered), {args.format}"
    )
    name = f"export_memory_1m_vs_100k{suffix}"
    print(f"{name}: {ratio:.2f} (budget: <= {BUDGET})")
    ok = ratio <= BUDGET
    line = f"{name} {ratio:.2f} {'<=' if ok else '>'} {BUDGET}"
    return ([line], []) if ok else ([], [line])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="history rows in all")
    parser.add_argument("--covenants", type=int, default=4_000, help="covenants holding them")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    args = parser.parse_args(argv)
    if args.covenants % SECTORS or args.rows < args.covenants:
        parser.error(f"--covenants must be a multiple of {SECTORS} and at most --rows")
    passed: list[str] = []
    missed: list[str] = []
    for db in ("sqlite", "postgresql"):
        if db == "postgresql" and args.skip_postgres:
            continue
        suffix = "" if db == "sqlite" else "_postgresql"
        scratch: AbstractContextManager[str] = (
            scratch_sqlite() if db == "sqlite" else scratch_postgres(args.postgres_url)
        )
        try:
            with scratch as url:
                ok, not_ok = measure(url, args, suffix)
        except psycopg.OperationalError as exc:
            missed.append(
                f"PostgreSQL at {args.postgres_url} failed ({str(exc).splitlines()[0]});"
                " see --skip-postgres"
            )
            continue
        passed, missed = passed + ok, missed + not_ok
    return verdict(passed, missed)


if __name__ == "__main__":
    sys.exit(main())

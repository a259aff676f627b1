"""The progress report at scale: 1,000 covenants with ten years of history, html and docx.

Workload, per database (a scratch SQLite file and, unless --skip-postgres, a scratch
PostgreSQL database): bench/synthetic.py fills it with N covenants (in N/20 sectors, four
targets each) that lived through ten years of moves, parties, targets, notes, signatures and
terms, every one an entry in its hash chain. The report is for the generator's last day,
since a year before.

Floor: the same rows read with the bare driver. One report is built with SQLAlchemy's
`before_cursor_execute` listening, which records every statement and its parameters as the
driver received them; the floor runs exactly those statements on a bare sqlite3 / psycopg
connection and fetches every row. What the report costs above the floor is its own work:
folding the chains, laying out the document, rendering.

Both sides run with CPython's cycle collector paused, as the report runs
(reports/collector.py): with it running, the floor's own allocations set off collections
that walked the report the bench holds, and a floor so slowed flattered the ratio by up to a
fifth. The report a round replaces is let go before its build is timed, not inside it.

Figures (best of --rounds, the sides taking turns):
- `report_vs_driver_floor`: (build_report + render html + render_docx) / floor (budget <= 5).
- `report_memory_per_covenant_1000_vs_100`: peak traced memory (tracemalloc) per covenant of
  building and rendering the report for N covenants, against the same for N/10 covenants on
  a database of its own (budget <= 1.2: the report's memory grows with its size, not faster).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bare_connection, default_postgres_url, scratch_postgres, scratch_sqlite, verdict
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.reports.collector import collector_paused
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import render
from imvo_workflow.reports.word import render_docx
from imvo_workflow.settings import DEFAULT_STAGES_FILE
from synthetic import UNTIL, generate

YEARS = 10
SINCE = UNTIL - timedelta(days=365)


def report_bytes(url: str, definition: WorkflowDefinition) -> int:
    """Build the report for UNTIL since SINCE and render it as html and docx; its size."""
    engine = make_engine(url)
    try:
        report = build_report(
            uow=UnitOfWork(engine, readonly=True), definition=definition, as_of=UNTIL, since=SINCE
        )
        html = render(report, definition, "html")
        return len(html) + len(render_docx(report, definition))
    finally:
        engine.dispose()


def statements_of_a_report(url: str, definition: WorkflowDefinition) -> list[tuple[str, Any]]:
    """Every statement (and its parameters) one report sends, as the driver receives them:
    those SQLAlchemy sends (its before_cursor_execute event) and those the report's large
    reads send straight to the driver (db/driver.DriverStatement, which SQLAlchemy never sees).
    """
    engine = make_engine(url)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    straight = DriverStatement.execute

    def record_straight(self: DriverStatement, conn: Any, params: dict[str, Any]) -> Any:
        sent.append(self.sent(conn, params))
        return straight(self, conn, params)

    DriverStatement.execute = record_straight  # type: ignore[method-assign]
    try:
        build_report(
            uow=UnitOfWork(engine, readonly=True), definition=definition, as_of=UNTIL, since=SINCE
        )
    finally:
        DriverStatement.execute = straight  # type: ignore[method-assign]
        engine.dispose()
    return sent


@collector_paused()
def floor(url: str, statements: list[tuple[str, Any]]) -> int:
    """The report's statements on the bare driver, every row fetched; the row count. The
    cycle collector is paused, as it is while a report is built."""
    conn = bare_connection(url)
    try:
        rows = 0
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith(("BEGIN", "SET", "PRAGMA")):
                continue
            cursor = conn.cursor()
            cursor.execute(statement, parameters)
            rows += len(cursor.fetchall())
        if not url.startswith("sqlite"):
            conn.rollback()
        return rows
    finally:
        conn.close()


def best_of(
    rounds: int,
    sides: dict[str, Callable[[], object]],
    before: dict[str, Callable[[], object]] | None = None,
) -> dict[str, float]:
    """Each side's fastest run; the sides take turns, the first alternating. `before[name]`
    runs untimed before each run of that side."""
    best = {name: float("inf") for name in sides}
    names = list(sides)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            (before or {}).get(name, lambda: None)()
            started = time.perf_counter()
            sides[name]()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def peak_memory(url: str, definition: WorkflowDefinition) -> int:
    """Peak traced bytes while building and rendering one report (after a warm-up run)."""
    report_bytes(url, definition)
    tracemalloc.start()
    try:
        report_bytes(url, definition)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@contextmanager
def database(kind: str, args: argparse.Namespace, covenants: int) -> Iterator[str]:
    scratch = scratch_sqlite() if kind == "sqlite" else scratch_postgres(args.postgres_url)
    with scratch as url:
        made = generate(
            url, covenants=covenants, sectors=max(1, covenants // 20), targets=4, years=YEARS
        )
        print(
            f"# {kind}: {covenants} covenants, {made.rows.get('transition', 0)} history rows,"
            f" generated in {made.seconds:.1f} s",
            flush=True,
        )
        yield url


def measure(kind: str, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    definition = load_definition(DEFAULT_STAGES_FILE)
    suffix = "" if kind == "sqlite" else "_postgresql"
    passed: list[str] = []
    missed: list[str] = []
    with database(kind, args, args.covenants) as url:
        statements = statements_of_a_report(url, definition)
        rows = floor(url, statements)
        engine = make_engine(url)
        report_holder: dict[str, Any] = {}

        def build() -> None:
            report_holder["r"] = build_report(
                uow=UnitOfWork(engine, readonly=True),
                definition=definition,
                as_of=UNTIL,
                since=SINCE,
            )

        build()
        best = best_of(
            args.rounds,
            {
                "floor": lambda: floor(url, statements),
                "build": build,
                "html": lambda: render(report_holder["r"], definition, "html"),
                "docx": lambda: render_docx(report_holder["r"], definition),
            },
            before={"build": report_holder.clear},
        )
        engine.dispose()
        large = peak_memory(url, definition)
    with database(kind, args, max(1, args.covenants // 10)) as url:
        small = peak_memory(url, definition)
    total = best["build"] + best["html"] + best["docx"]
    print(f"report_statements{suffix}: {len(statements)} ({rows} rows)")
    for name in ("floor", "build", "html", "docx"):
        print(f"report_{name}_ms{suffix}: {best[name] * 1000:.1f}")
    figure = f"report_vs_driver_floor{suffix}"
    ratio = total / best["floor"]
    print(f"{figure}: {ratio:.2f} (budget: <= 5)")
    (passed if ratio <= 5 else missed).append(figure)
    per_large = large / args.covenants
    per_small = small / max(1, args.covenants // 10)
    memory = f"report_memory_per_covenant_1000_vs_100{suffix}"
    print(f"report_peak_kib_per_covenant{suffix}: {per_large / 1024:.1f} vs {per_small / 1024:.1f}")
    print(f"{memory}: {per_large / per_small:.2f} (budget: <= 1.2)")
    (passed if per_large / per_small <= 1.2 else missed).append(memory)
    return passed, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--covenants", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--postgres-url", default=default_postgres_url())
    args = parser.parse_args(argv)
    passed: list[str] = []
    missed: list[str] = []
    for kind in ("sqlite", "postgresql"):
        if kind == "postgresql" and args.skip_postgres:
            continue
        ok, failed = measure(kind, args)
        passed += ok
        missed += failed
    return verdict(passed, missed)


if __name__ == "__main__":
    raise SystemExit(main())

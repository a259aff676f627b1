"""Every bench script runs end to end, at a toy size, on SQLite and PostgreSQL.

`make bench` is not part of `make test` (it takes minutes and its figures need a quiet
machine), so without this a change in the app can break a bench unnoticed: it happened
twice (the export refusing an unknown sector, a server log pipe nobody read). Here each
script builds its scratch databases, runs both sides and prints its figures and a verdict.
The verdict itself is not checked: at these sizes fixed costs dominate and the ratios mean
nothing. `bench/peer.py` needs Django (bench/requirements-peer.txt, which `make bench`
installs) and is left to `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

#: script -> (toy-size arguments, the figures it must print)
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "move_floor": (
        ["--moves", "40", "--rounds", "1", "--covenants", "10"],
        [
            "move_vs_driver_floor_sqlite",
            "move_vs_driver_floor_postgresql",
            "move_one_trip_vs_driver_floor_postgresql",
        ],
    ),
    "deadline_scan": (
        ["--targets", "20000", "--due", "50", "--rounds", "1"],
        ["deadline_scan_vs_indexed_query_sqlite", "deadline_scan_1m_vs_100k_postgresql"],
    ),
    "dispatch": (
        ["--deliveries", "60", "--rounds", "1"],
        ["dispatch_vs_bare_post_sqlite", "dispatch_vs_bare_post_postgresql"],
    ),
    "export": (
        ["--rows", "4000", "--covenants", "100"],
        ["export_memory_1m_vs_100k", "export_memory_1m_vs_100k_postgresql"],
    ),
    "cli_start": (
        ["--runs", "1"],
        ["import_floor_ms", "status_json_ms", "status_json_vs_import_floor"],
    ),
    "web": (
        ["--requests", "5", "--moves", "20", "--rounds", "1", "--covenants", "10", "--postgres"],
        [
            "board_p95_ms",
            "api_move_vs_floor_plus_service",
            "api_move_vs_service_postgresql",
            "api_floor_vs_service_postgresql",
            "api_move_cpu_postgresql",
        ],
    ),
    "scale": (
        ["--covenants", "120", "--sectors", "6", "--requests", "10"],
        ["scale_board_p95_ms", "api_page_p95_ms_postgresql", "status_json_vs_driver"],
    ),
    "report": (
        ["--covenants", "20", "--rounds", "1"],
        [
            "report_vs_driver_floor",
            "report_memory_per_covenant_1000_vs_100",
            "report_vs_driver_floor_postgresql",
        ],
    ),
    "writers": (
        ["--moves", "4", "--rounds", "1", "--covenants", "1", "--race-rounds", "3"],
        [
            "writers_api_vs_floor_16_postgresql",
            "writers_api_cpu_16_postgresql",
            "writers_race_wrong_rounds_postgresql",
            "writers_history_problems_postgresql",
        ],
    ),
}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_bench_script_runs_and_prints_its_figures(script: str) -> None:
    arguments, figures = RUNS[script]
    # Not measured by coverage (`make test` measures the subprocesses it starts): a bench is
    # no test of the code it times, its loops under the tracer took minutes of the suite, and
    # everything it runs is covered by the tests themselves.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    env["IMVO_BENCH_POSTGRES_URL"] = os.environ.get("IMVO_TEST_DATABASE_URL", PG_DEFAULT)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{script}.py"), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode in (0, 1), report  # 1 is a FAIL verdict, anything else a crash
    assert "Traceback" not in done.stderr, report
    printed = {line.split(":", 1)[0] for line in done.stdout.splitlines()}
    assert set(figures) <= printed, report
    assert done.stdout.rstrip().splitlines()[-1].startswith("verdict: "), report

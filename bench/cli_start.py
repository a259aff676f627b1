"""How fast `imvo status --json` answers on the seeded database, against importing its libraries.

Issue 14, point 4: a coordinator's shell command should cost little more than the libraries it
needs. The floor is `python -c "import sqlalchemy, typer, rich"` in a fresh interpreter; the
command is `imvo status --json` (a fresh interpreter too, the console script) on a migrated
SQLite file holding the 2016 seed. Both run alternately, several times each, in this run; the
figure is the ratio of their medians (budget: <= 2). Also counted: the modules of the web
framework, the scheduler and the calendar library that `import imvo_workflow.cli` loads
(budget: none), and the command's answer is checked (one row per seeded covenant).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import NOW, STAGES, scratch_sqlite, verdict
from imvo_workflow.bootstrap import App
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import Settings

FLOOR = [sys.executable, "-c", "import sqlalchemy, typer, rich"]
#: What a status has no use for: importing any of these is a budget miss.
HEAVY = ("fastapi", "starlette", "uvicorn", "apscheduler", "icalendar", "jinja2", "docx", "alembic")
BUDGET = 2.0


def imvo_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m imvo_workflow`."""
    script = Path(sys.executable).with_name("imvo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "imvo_workflow"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def heavy_modules() -> list[str]:
    probe = (
        "import sys, imvo_workflow.cli; "
        f"print(' '.join(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each side")
    args = parser.parse_args(argv)
    with scratch_sqlite() as url:
        settings = Settings(database_url=url, stages_file=STAGES, now=NOW)
        app = App(settings=settings, definition=load_definition(STAGES))
        loaded = seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=NOW)
        app.close()
        env = {**os.environ, "IMVO_DATABASE_URL": url, "IMVO_NOW": NOW.date().isoformat()}
        command = [*imvo_command(), "status", "--json"]
        timed(FLOOR, env), timed(command, env)  # warm the file cache and the bytecode
        floors, statuses = [], []
        for _ in range(args.runs):
            floors.append(timed(FLOOR, env)[0])
            took, answer = timed(command, env)
            statuses.append(took)
        rows = json.loads(answer)
    floor, status = statistics.median(floors), statistics.median(statuses)
    ratio = status / floor
    heavy = heavy_modules()
    print(f"import_floor_ms: {floor * 1000:.0f} (budget: reference, median of {args.runs})")
    print(f"status_json_ms: {status * 1000:.0f} (budget: reference, median of {args.runs})")
    print(f"status_json_vs_import_floor: {ratio:.2f} (budget: <= {BUDGET})")
    print(f"cli_import_heavy_modules: {len(heavy)} (budget: == 0)")
    passed, missed = [f"{args.runs} runs each"], []
    (passed if ratio <= BUDGET else missed).append(f"status {ratio:.2f}x the import floor")
    if heavy:
        missed.append(f"`import imvo_workflow.cli` loads {', '.join(sorted(heavy))}")
    if len(rows) != loaded.covenants_added:
        missed.append(f"status answered {len(rows)} rows, {loaded.covenants_added} seeded")
    return verdict(passed, missed)


if __name__ == "__main__":
    sys.exit(main())

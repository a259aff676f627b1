"""Run every bench script, gather each `name: value (budget: ...)` line into one table, judge.

Each script in SCRIPTS that exists in bench/ runs as a subprocess of this interpreter, one after
the other (they would disturb each other's timings), with a timeout each; its output is echoed
as it comes, indented. Options a script accepts are passed on: --skip-postgres and
--postgres-url, whichever its source mentions. Every figure line with a budget becomes a row
(name, value, budget, pass/FAIL; `?` when the budget is no plain comparison, which the script's
own verdict then covers); the machine and date head the table, which is also written as Markdown
to bench/results/latest.md (git-ignored) for updating the README. Exit 1 when a budget is
missed, a script fails, times out or prints no PASS verdict.
"""

from __future__ import annotations

import argparse
import operator
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from _common import ROOT, verdict

#: In the order they run.
SCRIPTS = (
    "move_floor",
    "deadline_scan",
    "dispatch",
    "export",
    "web",
    "scale",
    "report",
    "cli_start",
    "writers",
    "peer",
)
RESULTS = ROOT / "bench" / "results" / "latest.md"
FIGURE = re.compile(r"^(?P<name>[\w.-]+): (?P<value>.+?) \(budget: (?P<budget>[^)]*)\)\s*$")
BOUND = re.compile(r"^\s*(?P<op><=|>=|<|>|==)\s*(?P<limit>-?\d+(?:\.\d+)?)")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}


@dataclass
class Figure:
    """One `name: value (budget: ...)` line and whether the value keeps the budget."""

    script: str
    name: str
    value: str
    budget: str

    @property
    def status(self) -> str:
        bound, number = BOUND.match(self.budget), NUMBER.search(self.value)
        if bound is None or number is None:
            return "?"
        ok = OPERATORS[bound["op"]](float(number[0]), float(bound["limit"]))
        return "pass" if ok else "FAIL"


@dataclass
class Outcome:
    """How one script ended: its exit code (None: timed out), verdict line and figures."""

    script: str
    seconds: float
    returncode: int | None
    verdict: str = ""
    figures: list[Figure] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.returncode is None:
            return "timed out"
        if self.returncode == 0 and self.verdict.startswith("verdict: PASS"):
            return "pass"
        return f"FAIL (exit {self.returncode})"


def options_for(path: Path, args: argparse.Namespace) -> list[str]:
    """The options of this run that the script understands."""
    source = path.read_text(encoding="utf-8")
    options = []
    if args.skip_postgres and '"--skip-postgres"' in source:
        options.append("--skip-postgres")
    if args.postgres_url and '"--postgres-url"' in source:
        options += ["--postgres-url", args.postgres_url]
    return options


def run_script(name: str, args: argparse.Namespace) -> Outcome:
    """Run bench/<name>.py, echo its output, and collect its figures and verdict."""
    path = ROOT / "bench" / f"{name}.py"
    command = [sys.executable, str(path), *options_for(path, args)]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    lines: list[str] = []
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,  # its own process group, so a timeout ends all of it
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            print(f"   {line}", end="", flush=True)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        returncode: int | None = proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        # SIGINT first: KeyboardInterrupt runs the script's cleanup (scratch databases dropped)
        for stop in (signal.SIGINT, signal.SIGKILL):
            os.killpg(proc.pid, stop)
            try:
                proc.wait(timeout=30)
                break
            except subprocess.TimeoutExpired:
                continue
        proc.wait()
        returncode = None
    reader.join(timeout=10)
    outcome = Outcome(name, time.perf_counter() - start, returncode, tail=lines[-5:])
    for line in lines:
        if line.startswith("verdict:"):
            outcome.verdict = line
        elif found := FIGURE.match(line):
            outcome.figures.append(Figure(name, found["name"], found["value"], found["budget"]))
    print(f"== {name}: {outcome.status} in {outcome.seconds:.0f} s", flush=True)
    return outcome


def machine() -> str:
    """Platform, CPU count and, where lscpu tells, the CPU model."""
    described = f"{platform.platform()}, Python {platform.python_version()}"
    cpus = f"{os.cpu_count()} CPUs"
    if shutil.which("lscpu"):
        listing = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in listing.splitlines():
            if line.startswith("Model name:"):
                cpus += f" ({line.split(':', 1)[1].strip()})"
                break
    return f"{described}; {cpus}"


def table(rows: list[list[str]], header: list[str]) -> tuple[str, str]:
    """The same rows as aligned text and as a Markdown table."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, ["-" * w for w in widths], *rows]
    ]
    markdown = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows),
    ]
    return "\n".join(text), "\n".join(markdown)


def report(outcomes: list[Outcome], started: datetime) -> tuple[list[str], list[str]]:
    """Print the tables, write bench/results/latest.md; returns (passed, missed) for the verdict."""
    figures = [f for o in outcomes for f in o.figures]
    fig_text, fig_md = table(
        [[f.name, f.value, f.budget, f.status, f.script] for f in figures],
        ["figure", "value", "budget", "status", "script"],
    )
    run_text, run_md = table(
        [[o.script, f"{o.seconds:.0f} s", o.status, o.verdict] for o in outcomes],
        ["script", "took", "status", "verdict"],
    )
    head = f"Bench run of {started.isoformat(timespec='seconds')} on {machine()}"
    print(f"\n{head}\n\n{fig_text}\n\n{run_text}\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"# Bench results\n\n{head}.\n\n{fig_md}\n\n{run_md}\n", encoding="utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    missed = [f"{f.name} {f.value} (budget: {f.budget})" for f in figures if f.status == "FAIL"]
    for o in outcomes:
        if o.status != "pass":
            missed.append(f"{o.script} {o.status}: {o.tail[-1] if o.tail else 'no output'}")
    passed = [f"{len(figures)} figures", f"{len(outcomes)} scripts"]
    return passed, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    available = [name for name in SCRIPTS if (ROOT / "bench" / f"{name}.py").exists()]
    parser.add_argument(
        "--only", action="append", choices=available, help="run just this script (repeatable)"
    )
    parser.add_argument("--timeout", type=float, default=15 * 60, help="seconds per script")
    parser.add_argument("--postgres-url", help="passed on to the scripts that take it")
    parser.add_argument("--skip-postgres", action="store_true", help="passed on likewise")
    args = parser.parse_args(argv)
    started = datetime.now().astimezone()
    chosen = [name for name in available if not args.only or name in args.only]
    outcomes = [run_script(name, args) for name in chosen]
    return verdict(*report(outcomes, started))


if __name__ == "__main__":
    sys.exit(main())

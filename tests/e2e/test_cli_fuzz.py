"""Every `imvo` command with generated arguments: never a traceback, and a refusal writes nothing.

The command tree is read from the CLI itself (`typer.main.get_command`), so a command added
later is fuzzed without being listed here. For each command hypothesis builds argument lists
from each parameter's type and name: real slugs, stage and trigger names and phrases mixed
with free text, control characters, huge numbers, dates from year 1 to 9999, output paths in a
missing folder or naming a folder, unknown options. Each example runs in-process
(typer.testing.CliRunner, through the same refusal table as `imvo`'s `main()`) against a fresh
copy of a seeded SQLite file, in a folder of its own. The promises checked:

- the exit code is 0, 1 or 2 (2 for a refusal, 1 for `audit verify` finding tampering);
- nothing escapes that `main()` would show as a traceback;
- after a refusal (any exit code but 0) every table is as it was (a digest of the dump).

A few commands also run as real subprocesses (`python -m imvo_workflow`), the way a user
meets them. `serve` and `scheduler run` are left out: with valid arguments they run until
stopped. The size fits `make test`; IMVO_FUZZ_EXAMPLES sets the examples per command.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imvo_workflow.cli import cli
from imvo_workflow.cli.errors import refusal
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.settings import DEFAULT_STAGES_FILE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("IMVO_FUZZ_EXAMPLES", "6"))
#: Commands that, given valid arguments, run until stopped.
LONG_RUNNING = {"imvo serve", "imvo scheduler run"}
#: Tracebacks this suite found that other parts of issue 11 fix (point 3: ids beyond 64 bits
#: are "not found"; point 9: an output path that is a folder, and Alembic's own refusals, are
#: plain messages). Tolerated here, by command and exception type only, until those land:
#: remove an entry once its fix is merged, so the fuzz guards it from then on.
FIXED_ELSEWHERE: set[tuple[str, str]] = set()
#: Exit codes the CLI promises: 0 done, 1 "audit verify found a problem", 2 refused.
EXIT_CODES = {0, 1, 2}

DEFINITION = load_definition(DEFAULT_STAGES_FILE)
NAMES = sorted({*DEFINITION.stages, *(tr.trigger for tr in DEFINITION.transitions)})
SLUGS = ["natuursteen", "goud", "chemie", "bouw", "toerisme-suriname", "natuursteem"]
PHRASES = ["Q1 2017", "eerste helft 2017", "eind 2016", "nog dit jaar", "29 februari", "ooit"]
#: Paths relative to the example's folder: a file, one in a missing folder, a folder, odd ones.
PATHS = [
    "uit.txt",
    "uit.md",
    "uit.docx",
    "ontbreekt/diep/uit.txt",
    "map",
    ".",
    "map/",
    "-",
    "bestaat-niet.yaml",
]

text = st.text(max_size=40)
odd_text = st.sampled_from(
    ["", " ", "\x00", "a\nb", "\x1b[31m", "é\u0301", "x" * 5000, "--json", "-1", "💥"]
)
free = text | odd_text
huge = st.sampled_from([2**63, 2**64 + 1, -(2**63) - 1, 10**30])
number = st.integers(min_value=-5, max_value=60) | st.integers() | huge
day = (
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
    | st.sampled_from(["2016-11-01", "2016-02-30", "gisteren", "0000-01-01"])
    | free
)

#: Values by parameter name (the CLI's own names), then by type; anything else: free text.
BY_NAME: dict[str, st.SearchStrategy[str]] = {
    "name": st.sampled_from(SLUGS) | free,
    "to": st.sampled_from(NAMES) | free,
    "what": st.sampled_from(NAMES) | free,
    "sector": st.sampled_from(SLUGS) | free,
    "organisation": st.sampled_from(["SER", "VNO-NCW", "FNV"]) | free,
    "phrase": st.sampled_from(PHRASES) | free,
    "by": st.sampled_from(["A. de Vries"]) | free,
    "actor": st.sampled_from(["A. de Vries", "seed"]) | free,
    "reason": st.sampled_from(["omdat het moet"]) | free,
    "fmt": st.sampled_from(["md", "html", "docx", "csv", "json", "pdf"]) | free,
    "role": st.sampled_from(["admin", "coordinator", "viewer", "root"]) | free,
    "channel": st.sampled_from(["email", "webhook", "inbox", "log", "fax"]) | free,
    "address": st.sampled_from(["iemand@example.org", "http://127.0.0.1:9/haak"]) | free,
    "email": st.sampled_from(["iemand@example.org", "geen-adres"]) | free,
    "revision": st.sampled_from(["head", "base", "0001", "-1"]) | free,
}
DATES = {"on", "as_of", "known_at", "reference", "since", "until"}


def _annotation(param: Any) -> Any:
    """The Python type of a Typer parameter, `X | None` unwrapped."""
    found = getattr(getattr(param, "type_descriptor", None), "annotation", str)
    if isinstance(found, types.UnionType) or typing.get_origin(found) is typing.Union:
        found = next(arg for arg in typing.get_args(found) if arg is not type(None))
    return found


def _value(param: Any) -> st.SearchStrategy[str]:
    kind = _annotation(param)
    if param.name in BY_NAME:
        return BY_NAME[param.name]
    if param.name in DATES:
        return day
    if kind is int:
        return number.map(str) | free
    if kind is Path:
        return st.sampled_from(PATHS) | free
    return free


def _arguments(command: Any) -> st.SearchStrategy[list[str]]:
    """Positional arguments in order (sometimes one short or one too many), then options in
    any order, each present or not, and now and then an option the command does not have."""
    params = [p for p in command.params if p.name != "help"]
    positional = [_value(p) for p in params if p.param_type_name == "argument"]
    options = []
    for p in (p for p in params if p.param_type_name == "option"):
        flag = p.opts[0]
        if getattr(p, "is_flag", False):
            options.append(st.just([flag]))
        else:
            options.append(_value(p).map(lambda value, flag=flag: [flag, value]))
    chosen_options = st.lists(st.sampled_from(options), max_size=len(options)) if options else None
    extra = st.sampled_from([[], [], [], ["--bestaat-niet"], ["overbodig"]])

    @st.composite
    def build(draw: st.DrawFn) -> list[str]:
        args = [draw(s) for s in positional]
        if args and draw(st.integers(0, 9)) == 0:
            args = args[:-1]  # one argument short
        if chosen_options is not None:
            for pair in draw(chosen_options):
                args += draw(pair)
        return args + draw(extra)

    return build()


def _commands(command: Any, path: str = "imvo") -> Iterator[tuple[str, Any]]:
    subs = getattr(command, "commands", None)
    if subs and getattr(command, "invoke_without_command", False):
        yield path, command  # a group that is a command too (`imvo report --as-of D`)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from _commands(sub, f"{path} {name}")
    else:
        yield path, command


ROOT_COMMAND = typer.main.get_command(cli)
COMMANDS = [(path, c) for path, c in _commands(ROOT_COMMAND) if path not in LONG_RUNNING]


def _digest(path: Path) -> str:
    """Every table's rows (and the schema) of a SQLite file, as one digest."""
    with closing(sqlite3.connect(path)) as conn:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the 2016 report and an alert scan, made by the CLI."""
    path = tmp_path_factory.mktemp("fuzz-template") / "imvo.db"
    runner = CliRunner()
    env = {"IMVO_DATABASE_URL": f"sqlite:///{path}", "IMVO_NOW": "2016-12-02"}
    for args in (["db", "upgrade"], ["seed"], ["scheduler", "tick"]):
        done = runner.invoke(cli, args, env=env, catch_exceptions=False)
        assert done.exit_code == 0, done.output
    return path


def run_in_process(
    runner: CliRunner, path: str, args: list[str], env: dict[str, str]
) -> tuple[int, str]:
    """`imvo ARGS` as `main()` runs it: an exception the refusal table knows becomes its exit
    code; one it does not know is what a user would see as a traceback."""
    done = runner.invoke(cli, [*path.split()[1:], *args], env=env, catch_exceptions=True)
    shown = f"{path} {args!r}\n--- output\n{done.output}"
    exc = done.exception
    if exc is not None and not isinstance(exc, SystemExit):
        found = refusal(exc)
        if found is None and (path, type(exc).__name__) in FIXED_ELSEWHERE:
            return 2, shown
        assert found is not None, f"{shown}\n--- traceback: {type(exc).__name__}: {exc}"
        return found[0], shown
    return done.exit_code, shown


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_generated_arguments_never_crash_or_write_on_refusal(
    path: str, command: Any, seeded: Path, tmp_path: Path
) -> None:
    runner = CliRunner()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(args=_arguments(command))
    def check(args: list[str]) -> None:
        folder = tmp_path / "run"
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "map").mkdir(parents=True)
        database = folder / "imvo.db"
        shutil.copy(seeded, database)
        before = _digest(database)
        env = {
            "IMVO_DATABASE_URL": f"sqlite:///{database}",
            "IMVO_NOW": "2016-12-02",
        }
        cwd = Path.cwd()
        os.chdir(folder)
        try:
            code, shown = run_in_process(runner, path, args, env)
        finally:
            os.chdir(cwd)
        assert code in EXIT_CODES, shown
        if code != 0:
            assert _digest(database) == before, f"a refusal changed the database\n{shown}"

    check()


def test_the_walk_reaches_every_command() -> None:
    paths = {p for p, _ in COMMANDS}
    assert {"imvo move", "imvo targets set", "imvo audit correct", "imvo db backup"} <= paths
    assert len(paths) >= 20


#: Commands run as real subprocesses too, with a few generated argument lists each.
SMOKE = ["imvo move", "imvo targets set", "imvo report", "imvo audit export"]


@pytest.mark.parametrize("path", SMOKE)
def test_generated_arguments_as_a_subprocess(path: str, seeded: Path, tmp_path: Path) -> None:
    command = dict(COMMANDS)[path]
    words = path.split()[1:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    env |= {"IMVO_NOW": "2016-12-02", "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}

    @settings(
        max_examples=max(2, EXAMPLES // 4),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(args=_arguments(command))
    def check(args: list[str]) -> None:
        if any("\x00" in a for a in args):  # the OS cannot pass a NUL in an argument
            return
        folder = tmp_path / "run"
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "map").mkdir(parents=True)
        database = folder / "imvo.db"
        shutil.copy(seeded, database)
        before = _digest(database)
        done = subprocess.run(
            [sys.executable, "-m", "imvo_workflow", *words, *args],
            cwd=folder,
            env={**env, "IMVO_DATABASE_URL": f"sqlite:///{database}"},
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=60,
            check=False,
        )
        shown = f"imvo {words + args!r}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr, shown
        assert done.returncode in EXIT_CODES, shown
        if done.returncode != 0:
            assert _digest(database) == before, f"a refusal changed the database\n{shown}"

    check()

"""Running `imvo ARGS` for a test: in this process by default, as a subprocess when asked.

A subprocess pays for a new interpreter, every import and (under `make test`) coverage's
start-up: about a second of CPU per call, and the CLI tests make well over a thousand calls.
In this process a call runs the same `main()` (the refusal table, the exit codes, the Dutch
"Fout:" line) with the same environment and separate stdout and stderr, via click's
CliRunner isolation. What only a real process shows (the console script, an uncaught
exception's traceback, a signal, the interpreter's encoding) keeps `in_process=False`, and
each CLI test module keeps at least one such call so the entry point itself stays tested.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from imvo_workflow.cli import common
from imvo_workflow.cli.app import main

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Done:
    """What a finished `imvo` call left: the fields of subprocess.CompletedProcess tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_imvo(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    in_process: bool = True,
    cwd: Path = ROOT,
    timeout: int = 60,
) -> Done:
    """`imvo ARGS` with exactly the environment `env` (not merged into this one), in `cwd`.

    In this process, calls must not overlap: sys.stdout, os.environ and the working
    directory are the process's own.
    """
    if not in_process:
        done = subprocess.run(
            [sys.executable, "-m", "imvo_workflow", *args],
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )
        return Done(list(args), done.returncode, done.stdout, done.stderr)
    overrides: dict[str, str | None] = {k: v for k, v in env.items() if os.environ.get(k) != v}
    overrides |= {k: None for k in os.environ if k not in env}
    code, before = 0, Path.cwd()
    # A long-running command points the root logger at its stderr (logs.configure): put
    # pytest's handlers back afterwards, as a process's end would have.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    # A process's consoles take their width from COLUMNS when they are made, and output that
    # is no terminal is 80 wide without it; these were made once, by whichever call came first.
    consoles = (common.out, common.err)
    widths = [console.width for console in consoles]
    with CliRunner().isolation(env=overrides) as (stdout, stderr, _):
        for console in consoles:
            console.width = int(env.get("COLUMNS", "80"))
        os.chdir(cwd)
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception:  # what a user would see: main() let it through
            sys.stderr.write(traceback.format_exc())
            code = 1
        finally:
            os.chdir(before)
            root.handlers[:], root.level = handlers, level
            for console, width in zip(consoles, widths, strict=True):
                console.width = width
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = stdout.getvalue(), stderr.getvalue()
    return Done(list(args), code, out.decode("utf-8"), err.decode("utf-8", "backslashreplace"))

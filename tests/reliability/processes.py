"""The processes a reliability test starts (`imvo serve`, schedulers), watched and cleaned up.

A plain module beside the tests (pytest puts this folder on the import path). Each process
logs to a file of its own, so a failure can show what every process said; whatever is still
running at the end of the test is killed.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Fleet:
    """The processes a test started, each logging to a file; `kill_all` ends what is left."""

    logs: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def run(self, name: str, argv: list[str], timeout: float = 60) -> str:
        """Run one command to its end (bounded) and return its output; fail on exit != 0."""
        done = subprocess.run(
            argv, cwd=ROOT, env=self.env, capture_output=True, timeout=timeout, check=False
        )
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        assert done.returncode == 0, f"{name}: {argv} exited {done.returncode}:\n{output}"
        return output

    def start(
        self, name: str, argv: list[str], *, stdin: int | None = None, **env: str
    ) -> subprocess.Popen[bytes]:
        """Start `argv` as `name`, with `env` on top of the fleet's environment."""
        with (self.logs / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env | env,
                stdin=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace")[-6000:] if path.exists() else ""

    def all_logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)}" for name in self.running)

    def check_alive(self, *names: str) -> None:
        """Fail the test, with the process's log, if one of `names` (default: all) exited."""
        for name in names or tuple(self.running):
            process = self.running[name]
            if process.poll() is not None:
                pytest.fail(f"{name} exited early with {process.returncode}:\n{self.log(name)}")

    def terminate(self, name: str, seconds: float = 20) -> int | None:
        """SIGTERM to one process; its exit code (None: still running after `seconds`)."""
        process = self.running[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def terminate_all(self, seconds: float = 20) -> dict[str, int | None]:
        """SIGTERM to every process at once, then their exit codes (None: still running)."""
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + seconds
        codes: dict[str, int | None] = {}
        for name, process in self.running.items():
            try:
                codes[name] = process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                codes[name] = None
        return codes

    def forget(self, name: str) -> None:
        """A process the test ended on purpose (and waited for): no longer watched."""
        process = self.running.pop(name)
        assert process.poll() is not None
        if process.stdin is not None:
            process.stdin.close()

    def kill_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            if process.stdin is not None:
                process.stdin.close()


@contextmanager
def fleet(logs: Path, env: dict[str, str]) -> Iterator[Fleet]:
    processes = Fleet(logs, env)
    try:
        yield processes
    finally:
        processes.kill_all()


def wait_until(done: Callable[[], bool], seconds: float, what: str, processes: Fleet) -> float:
    """Poll `done` until true; fail (with the processes' logs) after `seconds`; seconds taken."""
    start = time.monotonic()
    while not done():
        processes.check_alive()
        if time.monotonic() - start > seconds:
            pytest.fail(f"no {what} within {seconds} s\n{processes.all_logs()}")
        time.sleep(0.1)
    return time.monotonic() - start

"""Where a bench's CPU goes: the server processes, this process (the clients), PostgreSQL.

On two shared cores a rate is bounded by CPU as much as by anything the product waits for,
so bench/web.py and bench/writers.py say how much CPU one request costs each party: the web
servers (by pid), this process (its clients) and the PostgreSQL server processes of the bench's
own database (found by name in their process titles, plus the WAL writer they share; only when
PostgreSQL runs on this machine). Read from /proc: on a system without it the figures are
left out (None), never guessed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _ticks_per_second() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return 100


TICK = _ticks_per_second()


def process_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` (all its threads); None if unreadable."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_seconds(database: str) -> float | None:
    """CPU seconds of the local PostgreSQL processes serving `database`, and its WAL writer;
    None when no such process can be seen (PostgreSQL elsewhere, or no /proc)."""
    total, found = 0.0, False
    try:
        entries = list(PROC.iterdir())
    except OSError:
        return None
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and (f" {database} " in title or "walwriter" in title):
            seconds = process_seconds(int(entry.name))
            if seconds is not None:
                total += seconds
                found = found or database in title
    return total if found else None


@dataclass(frozen=True, slots=True)
class Sample:
    """CPU seconds so far of the servers, this process and PostgreSQL; wall time."""

    servers: float | None
    client: float
    postgres: float | None
    wall: float


def sample(servers: Iterable[int], database: str | None) -> Sample:
    seconds = [process_seconds(pid) for pid in servers]
    server = None if any(s is None for s in seconds) else sum(s for s in seconds if s)
    return Sample(
        server,
        time.process_time(),
        None if database is None else postgres_seconds(database),
        time.perf_counter(),
    )


@dataclass(slots=True)
class CpuPerCall:
    """CPU milliseconds per call of each party, summed over the spans `add` was given."""

    servers: float | None = 0.0
    client: float = 0.0
    postgres: float | None = 0.0
    calls: int = 0
    wall: float = 0.0

    def add(self, before: Sample, after: Sample, calls: int) -> None:
        self.calls += calls
        self.wall += after.wall - before.wall
        self.client += after.client - before.client
        self.servers = _plus(self.servers, before.servers, after.servers)
        self.postgres = _plus(self.postgres, before.postgres, after.postgres)

    def text(self) -> str:
        """`server 2.10 + client 1.05 + postgresql 0.70 = 3.85 ms CPU per call`."""
        if not self.calls:
            return "no calls"
        parts = [("server", self.servers), ("client", self.client), ("postgresql", self.postgres)]
        known = [(name, ms * 1000 / self.calls) for name, ms in parts if ms is not None]
        total = sum(ms for _, ms in known)
        shown = " + ".join(f"{name} {ms:.2f}" for name, ms in known)
        return f"{shown} = {total:.2f} ms CPU per call"

    def cores(self) -> float:
        """How many cores these parties kept busy on average while they ran."""
        spent = sum(s for s in (self.servers, self.client, self.postgres) if s is not None)
        return spent / self.wall if self.wall else 0.0


def _plus(total: float | None, before: float | None, after: float | None) -> float | None:
    if total is None or before is None or after is None:
        return None
    return total + after - before

"""A move whose caller states the version: one round trip on PostgreSQL (issue 14).

What must not change: the chain (every hash recomputes, `audit verify` passes), the version
guard and the conflict it raises, on both databases. What is new, on PostgreSQL: a move with
the version this process committed last sends one statement, committed as it completes, and
nothing else (counted on the wire, with libpq's trace); a head remembered wrongly, or moved on
by another process (another engine), never writes a wrong entry.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from typing import Any

import pytest
from psycopg import pq

from helpers import open_in_new_sector
from imvo_workflow.bootstrap import App
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.errors import ConcurrentUpdate
from imvo_workflow.services import history, known_heads, queries
from imvo_workflow.services.audit import verify
from imvo_workflow.services.moves import MoveResult, move

#: Moves any coordinator may make, round and round, without a date.
NEXT = {"verkenning": "afgezien", "afgezien": "verkenning"}


def _move(app: App, uow: UnitOfWork, slug: str, to: str, version: int | None) -> MoveResult:
    return move(
        uow=uow, definition=app.definition, covenant=slug, to=to, actor="test", reason="rondje",
        expected_version=version, now=app.now(),
    )  # fmt: skip


def _chain_holds(app: App, slug: str, rows: int) -> None:
    with app.uow(readonly=True) as uow:
        entries = queries.history(conn=uow.conn, covenant=slug)
        head = history.read_head(uow.conn, slug)
    assert [e.seq for e in entries] == list(range(1, rows + 1))
    assert (head.version, head.last_seq, head.head_hash) == (rows, rows, entries[-1].hash)
    audit = verify(uow=app.uow(readonly=True))
    assert audit.ok, audit.problems


def test_moves_with_the_version_chain_like_any_move(app: App) -> None:
    open_in_new_sector(app, "keten")
    uow, version, stage = app.uow(), 1, "verkenning"
    for _ in range(6):
        result = _move(app, uow, "keten", NEXT[stage], version)
        assert (result.from_stage, result.version, result.seq) == (stage, version + 1, version + 1)
        version, stage = result.version, result.to_stage
    _chain_holds(app, "keten", 7)


def test_a_stale_version_is_refused_and_writes_nothing(app: App) -> None:
    open_in_new_sector(app, "oud")
    _move(app, app.uow(), "oud", "afgezien", 1)
    with pytest.raises(ConcurrentUpdate, match="versie 2, jij had versie 1"):
        _move(app, app.uow(), "oud", "verkenning", 1)
    _chain_holds(app, "oud", 2)


def test_a_move_by_another_process_is_seen(app: App) -> None:
    """Another process (another engine on the same database) moved the covenant on: this
    one's remembered head is no longer current, for the new version and the old one alike."""
    open_in_new_sector(app, "elders")
    _move(app, app.uow(), "elders", "afgezien", 1)  # this process remembers version 2
    other = App(settings=app.settings, definition=app.definition)
    try:
        _move(other, other.uow(), "elders", "verkenning", 2)
    finally:
        other.close()
    with pytest.raises(ConcurrentUpdate, match="versie 3, jij had versie 2"):
        _move(app, app.uow(), "elders", "afgezien", 2)
    assert _move(app, app.uow(), "elders", "afgezien", 3).version == 4
    _chain_holds(app, "elders", 4)


@pytest.mark.parametrize(
    "wrong",
    [
        {"head_hash": "0" * 64},
        {"last_seq": 7},
        {"stage": "afgezien"},
        {"covenant_id": 10_000},
    ],
    ids=["hash", "seq", "stage", "id"],
)
def test_a_head_remembered_wrongly_never_writes_a_wrong_entry(
    app: App, wrong: dict[str, Any]
) -> None:
    open_in_new_sector(app, "mis")
    first = _move(app, app.uow(), "mis", "afgezien", 1)
    with app.uow(readonly=True) as uow:
        head = history.read_head(uow.conn, "mis")
    known_heads.remember(app.engine, replace(head, **wrong))
    second = _move(app, app.uow(), "mis", "verkenning", first.version)
    assert (second.from_stage, second.version) == ("afgezien", 3)
    _chain_holds(app, "mis", 3)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_move_with_a_known_version_is_one_round_trip(app: App) -> None:
    open_in_new_sector(app, "snel")
    uow = UnitOfWork(app.engine, keep_connection=True)
    with uow:  # the connection the moves will reuse
        driver = uow.conn.connection.driver_connection
    first = _move(app, uow, "snel", "afgezien", 1)
    with tempfile.TemporaryFile() as trace:
        driver.pgconn.trace(trace.fileno())  # type: ignore[union-attr]
        driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)  # type: ignore[union-attr]
        _move(app, uow, "snel", "verkenning", first.version)  # remembered: no read
        _move(app, uow, "snel", "afgezien", None)  # no version stated: read, then write
        driver.pgconn.untrace()  # type: ignore[union-attr]
        assert driver.autocommit is False  # type: ignore[union-attr]  # back as it was
        trace.seek(0)
        sent = [line.split("\t") for line in trace.read().decode().splitlines()]
    uow.close()
    # A round trip ends with a simple Query (BEGIN, COMMIT) or an extended query's Sync.
    trips = [f[3].strip() if f[2] == "Query" else "statement" for f in sent if f[0] == "F"
             and f[2] in ("Query", "Sync")]  # fmt: skip
    assert trips == [
        "statement",  # autocommit: PostgreSQL commits it as it completes
        '"BEGIN"', "statement", "statement", '"COMMIT"',
    ]  # fmt: skip
    _chain_holds(app, "snel", 4)

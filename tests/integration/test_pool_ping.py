"""The PostgreSQL pool's ping (db/session.py): skipped for a connection in use a moment ago,
made for one idle longer, and a connection the server dropped never reaches a caller twice.

PostgreSQL only: SQLite has no server to lose.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, exc, select, text

from imvo_workflow.db import session
from imvo_workflow.db.errors import DatabaseProblem, classify
from imvo_workflow.db.session import UnitOfWork, make_engine


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pool's pings (one entry per ping)."""
    counted: list[int] = []
    ping = engine.dialect.do_ping

    def counting(dbapi_conn: Any) -> bool:
        counted.append(1)
        return ping(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return counted


def _backend_pid(engine: Engine) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        return int(uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(postgres_url: str, pid: int) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # waits (up to 5 s) until the backend is gone
        assert conn.execute(select(text(f"pg_terminate_backend({pid}, 5000)"))).scalar_one()
    admin.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_and_an_idle_one_is(
    engine: Engine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)  # a new connection: nothing to ping
    assert _backend_pid(engine) == first
    assert pings == []
    monkeypatch.setattr(session, "PING_AFTER_IDLE_SECONDS", 0.05)
    time.sleep(0.1)
    assert _backend_pid(engine) == first
    assert pings == [1]


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: Engine, postgres_url: str, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    _kill(postgres_url, first)
    monkeypatch.setattr(session, "PING_AFTER_IDLE_SECONDS", 0.05)
    time.sleep(0.1)
    assert _backend_pid(engine) != first  # the ping failed; the caller never saw it
    assert pings == [1]


def test_a_connection_dropped_within_the_window_fails_once_and_is_discarded(
    engine: Engine, postgres_url: str, pings: list[int]
) -> None:
    first = _backend_pid(engine)
    _kill(postgres_url, first)
    with pytest.raises(exc.DBAPIError) as raised:  # used a moment ago: handed out unpinged
        _backend_pid(engine)
    assert classify(raised.value) is DatabaseProblem.UNREACHABLE  # the API's 503
    assert _backend_pid(engine) != first
    assert pings == []

"""Coordinators moving the same covenants at once: no lost update, every refusal a conflict."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import insert, select

from helpers import slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import ConcurrentUpdate
from imvo_workflow.domain.replay import replay
from imvo_workflow.services import queries
from imvo_workflow.services.covenants import NewCovenant, open_covenant
from imvo_workflow.services.moves import move

THREADS = 6
MOVES_PER_THREAD = 60
#: A cycle of moves with no date requirement: the next stage for each stage.
NEXT = {"verkenning": "afgezien", "afgezien": "verkenning"}


@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_threads_moving_the_same_covenants_lose_nothing(app: App) -> None:
    with app.uow() as uow:
        sector_id = uow.conn.execute(
            insert(t.sector).returning(t.sector.c.id),
            {"slug": "druk", "name": "Druk", "group": "overige", "position": 0},
        ).scalar_one()
        ids = [
            open_covenant(
                conn=uow.conn,
                definition=app.definition,
                covenant=NewCovenant(slug=f"druk-{i}", sector_id=sector_id, title="druk"),
                actor="test",
                reason="",
                occurred_on=date(2016, 1, 1),
                now=app.now(),
            )
            for i in range(3)
        ]
        uow.commit()
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def coordinator(n: int) -> None:
        rng = random.Random(n)
        uow = app.uow()
        start.wait()
        for _ in range(MOVES_PER_THREAD):
            cid = rng.choice(ids)
            with app.uow(readonly=True) as reader:
                stage, version = reader.conn.execute(
                    select(t.covenant.c.stage, t.covenant.c.version).where(t.covenant.c.id == cid)
                ).one()
            try:
                move(
                    uow=uow,
                    definition=app.definition,
                    covenant=slug_of(app, cid),
                    to=NEXT[stage],
                    actor=f"coordinator-{n}",
                    reason="drukte",
                    expected_version=version,
                    now=app.now(),
                )
                outcome = "moved"
            except ConcurrentUpdate:
                outcome = "conflict"
            except BaseException as exc:  # any other outcome fails the test below
                with lock:
                    unexpected.append(exc)
                continue
            with lock:
                outcomes[outcome] += 1
        uow.close()

    threads = [threading.Thread(target=coordinator, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not unexpected, unexpected[:3]
    assert outcomes["moved"] + outcomes["conflict"] == THREADS * MOVES_PER_THREAD
    with app.uow(readonly=True) as uow:
        recorded = 0
        for cid in ids:
            row = uow.conn.execute(
                select(t.covenant.c.stage, t.covenant.c.version).where(t.covenant.c.id == cid)
            ).one()
            rows = queries.history(conn=uow.conn, covenant=slug_of(app, cid))
            assert replay(rows, app.definition) == row.stage
            assert row.version == len(rows)
            recorded += len(rows) - 1
    # every successful move is in the history exactly once: nothing lost, nothing doubled
    assert recorded == outcomes["moved"]
    if app.engine.dialect.name == "postgresql":
        assert outcomes["conflict"] > 0, "the test should provoke real conflicts"

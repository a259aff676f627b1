"""The synthetic data the scale benches use holds up like real data: `audit verify` passes,
replaying each chain gives the covenant's stage, and every kind of record entry occurs.

bench/synthetic.py writes history rows in bulk instead of through services/history.py, so a
change in how the chain is hashed or in what an entry's detail holds would leave the benches
measuring broken data; this catches that at a toy size on both databases.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from sqlalchemy import select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.services import asof, audit, queries

ROOT = Path(__file__).resolve().parents[2]


def _synthetic() -> ModuleType:
    """bench/synthetic.py, loaded from its path (bench/ is no package of the product)."""
    if "bench_synthetic" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "bench_synthetic", ROOT / "bench" / "synthetic.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_synthetic"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_synthetic"]


def test_generated_history_verifies_and_replays(app: App) -> None:
    made = _synthetic().generate(
        app.settings.database_url, covenants=40, sectors=4, targets=3, years=4,
        definition=app.definition, until=app.today(),
    )  # fmt: skip
    assert made.rows["covenant"] == 40
    result = audit.verify(uow=app.uow())
    assert result.ok, result.problems[:3]
    assert result.covenants == 40 and result.rows == made.rows["transition"]
    with app.uow(readonly=True) as uow:
        now = {r.slug: r.stage for r in queries.status(conn=uow.conn, today=app.today())}
        replayed = asof.status_on(conn=uow.conn, day=app.today(), known_at=False)
        kinds = set(uow.conn.execute(select(t.transition.c.trigger).distinct()).scalars())
    assert {r.slug: r.stage for r in replayed} == now
    # Not generated: an issued report (no change to the covenant's story) and a target dropped
    # as never meant (the seed's own revisions make those).
    story = set(RecordKind) - {RecordKind.REPORT_ISSUED, RecordKind.TARGET_DROPPED}
    assert {kind.value for kind in story} <= kinds
    assert len(set(now.values())) >= 4  # spread over the stages, not all in one column


def test_a_second_run_adds_to_the_same_database(app: App) -> None:
    synthetic = _synthetic()
    first = synthetic.generate(app.settings.database_url, covenants=5, sectors=2, years=1,
                               definition=app.definition, until=app.today())  # fmt: skip
    second = synthetic.generate(app.settings.database_url, covenants=5, sectors=2, years=1,
                                definition=app.definition, until=app.today())  # fmt: skip
    assert first.rows["covenant"] == second.rows["covenant"] == 5
    assert audit.verify(uow=app.uow()).ok


def test_the_report_bench_floor_replays_every_statement_the_report_sends(app: App) -> None:
    """bench/report.py's floor is the report's own statements on the bare driver: those
    SQLAlchemy sends and those sent straight to the driver (db/driver.DriverStatement), which
    SQLAlchemy's event never sees. Without the second kind the floor would leave out the
    history, the targets and the parties, the report's largest reads."""
    made = _synthetic().generate(
        app.settings.database_url, covenants=10, sectors=2, targets=2, years=2,
        definition=app.definition, until=app.today(),
    )  # fmt: skip
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec is not None and spec.loader is not None
    bench_report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_report)
    sent = bench_report.statements_of_a_report(app.settings.database_url, app.definition)
    read = " ".join(statement for statement, _ in sent)
    for table in ("FROM transition", "FROM target", "FROM participation", "FROM sector"):
        assert table in read
    # every history row is read once, by the one chain statement, and more rows besides
    assert bench_report.floor(app.settings.database_url, sent) > made.rows["transition"]

"""A move: FSM check, requirements, optimistic lock, history row, target bookkeeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from helpers import slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.chain import GENESIS, ChainEntry, entry_hash
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    ForbiddenTransition,
    InvalidInput,
    RequirementMissing,
)
from imvo_workflow.domain.replay import replay
from imvo_workflow.services import queries
from imvo_workflow.services.moves import move
from imvo_workflow.services.targets import TargetSpec, record_target

MakeCovenant = Callable[..., int]


def _move(app: App, covenant_id: int, to: str, **kwargs: object) -> object:
    args: dict[str, object] = {"actor": "A. de Vries", "reason": "", "now": app.now()} | kwargs
    return move(
        uow=app.uow(), definition=app.definition, covenant=slug_of(app, covenant_id), to=to, **args
    )  # type: ignore[arg-type]


def _history(app: App, covenant_id: int) -> list[queries.HistoryEntry]:
    with app.uow(readonly=True) as uow:
        return queries.history(conn=uow.conn, covenant=slug_of(app, covenant_id))


def _covenant(app: App, covenant_id: int) -> object:
    with app.uow(readonly=True) as uow:
        return uow.conn.execute(select(t.covenant).where(t.covenant.c.id == covenant_id)).one()


def test_move_writes_history_stage_since_and_version(app: App, make_covenant: MakeCovenant) -> None:
    cid = make_covenant("natuursteen", path=("dialoog",))
    result = _move(
        app, cid, "ondertekend", reason="getekend op 14 februari", occurred_on=date(2016, 10, 14)
    )
    row = _covenant(app, cid)
    assert (row.stage, row.stage_since, row.version) == ("ondertekend", date(2016, 10, 14), 3)
    last = _history(app, cid)[-1]
    assert (last.seq, last.from_stage, last.to_stage, last.trigger) == (
        3,
        "dialoog",
        "ondertekend",
        "ondertekenen",
    )
    assert (last.actor, last.reason, last.occurred_on) == (
        "A. de Vries",
        "getekend op 14 februari",
        date(2016, 10, 14),
    )
    assert result.hash == last.hash  # type: ignore[attr-defined]


def test_move_by_trigger_name_equals_move_by_destination(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("chemie")
    _move(app, cid, "kwartiermaker_starten")
    assert _covenant(app, cid).stage == "kwartiermaker"  # type: ignore[attr-defined]


def test_forbidden_move_lists_the_allowed_ones_and_writes_nothing(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("chemie")
    with pytest.raises(ForbiddenTransition) as refused:
        _move(app, cid, "ondertekend", reason="x")
    assert "kwartiermaker" in refused.value.message and "afgezien" in refused.value.message
    assert len(_history(app, cid)) == 1 and _covenant(app, cid).version == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "to", "kwargs", "needle"),
    [
        ((), "afgezien", {"reason": "  "}, "reden"),
        (("dialoog",), "ondertekend", {}, "reden"),
        ((), "intentieverklaring", {}, "datum"),
        ((), "kwartiermaker", {"actor": ""}, "wie"),
    ],
)
def test_requirements_are_refused_with_a_plain_message(
    app: App,
    make_covenant: MakeCovenant,
    path: tuple[str, ...],
    to: str,
    kwargs: dict[str, object],
    needle: str,
) -> None:
    cid = make_covenant("bouw", path=path)
    with pytest.raises(RequirementMissing, match=needle):
        _move(app, cid, to, **kwargs)


def test_dates_in_the_future_or_before_the_last_step_are_refused(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("goud", start=date(2016, 3, 1))
    with pytest.raises(InvalidInput, match="toekomst"):
        _move(app, cid, "kwartiermaker", occurred_on=date(2016, 11, 2))
    with pytest.raises(InvalidInput, match="vóór"):
        _move(app, cid, "kwartiermaker", occurred_on=date(2016, 2, 1))


def test_backdated_move_keeps_both_dates(app: App, make_covenant: MakeCovenant) -> None:
    cid = make_covenant("goud", start=date(2015, 6, 1))
    _move(app, cid, "intentieverklaring", occurred_on=date(2015, 12, 15))
    last = _history(app, cid)[-1]
    assert last.occurred_on == date(2015, 12, 15)
    assert last.recorded_at.date() == date(2016, 11, 1)


def test_stale_version_is_a_conflict_and_nothing_is_written(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("hout")
    _move(app, cid, "dialoog", expected_version=1)
    with pytest.raises(ConcurrentUpdate, match="versie 2"):
        _move(app, cid, "afgezien", reason="te laat gezien", expected_version=1)
    assert _covenant(app, cid).stage == "dialoog"  # type: ignore[attr-defined]
    assert len(_history(app, cid)) == 2


def test_reaching_a_stage_meets_its_target_and_afgezien_cancels_the_rest(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("eiwitten")
    with app.uow() as uow:
        for stage, phrase in (
            ("intentieverklaring", "eind november"),
            ("ondertekend", "nog in 2016"),
        ):
            record_target(
                uow.conn,
                app.definition,
                TargetSpec("eiwitten", phrase, date(2016, 11, 1), "test", stage=stage),
                now=app.now(),
            )
        record_target(
            uow.conn,
            app.definition,
            TargetSpec(
                "eiwitten", "20 december 2016", date(2016, 11, 1), "test", milestone="oogstdag"
            ),
            now=app.now(),
        )
        uow.commit()
    _move(app, cid, "intentieverklaring", occurred_on=date(2016, 10, 30))
    _move(app, cid, "afgezien", reason="coalitie valt uiteen")
    with app.uow(readonly=True) as uow:
        states = dict(uow.conn.execute(select(t.target.c.phrase, t.target.c.status)).all())
    assert states == {
        "eind november": "met",
        "nog in 2016": "cancelled",
        "20 december 2016": "cancelled",
    }


def test_signing_cancels_targets_for_stages_that_can_no_longer_be_reached(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("hout", path=("dialoog",))
    with app.uow() as uow:
        record_target(
            uow.conn,
            app.definition,
            TargetSpec("hout", "Q1 2017", date(2016, 11, 1), "test", stage="intentieverklaring"),
            now=app.now(),
        )
        uow.commit()
    _move(app, cid, "ondertekend", reason="getekend")
    with app.uow(readonly=True) as uow:
        assert uow.conn.execute(select(t.target.c.status)).scalar_one() == "cancelled"


def test_reopening_afgezien_and_the_chain_links_every_row(
    app: App, make_covenant: MakeCovenant
) -> None:
    cid = make_covenant("bouw", path=("afgezien", "verkenning", "dialoog"))
    rows = _history(app, cid)
    assert replay(rows, app.definition) == _covenant(app, cid).stage == "dialoog"  # type: ignore[attr-defined]
    previous = GENESIS
    with app.uow(readonly=True) as uow:
        for row in uow.conn.execute(select(t.transition).order_by(t.transition.c.seq)):
            assert row.prev_hash == previous
            fields = {k: getattr(row, k) for k in ChainEntry.__dataclass_fields__}
            assert entry_hash(ChainEntry(**fields)) == row.hash
            previous = row.hash
    assert _covenant(app, cid).head_hash == previous  # type: ignore[attr-defined]

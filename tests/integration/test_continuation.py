"""A covenant process continuing in another: recorded as a move with its date and reason,
reported as "opgegaan in ...", never as abandoned; refusals write nothing.

The real case: the metal branches' own talks (Metallurgische industrie, Technologische
industrie, in the 2016 seed) joined the broader covenant for metal and electrical engineering.
Both databases; the seeded 2016 data, seen from 1 July 2019.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from terms_helpers import (
    METALEKTRO,
    app_at,
    at,
    open_metalektro,
    open_textile,
    seed_2016,
    snapshot,
)

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import (
    DomainError,
    ForbiddenTransition,
    InvalidInput,
    NotFound,
    RequirementMissing,
)
from imvo_workflow.domain.record import read_detail
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import render
from imvo_workflow.services import asof, audit, queries
from imvo_workflow.services.continuation import (
    continuation_of,
    continue_in,
    continued_here,
    stage_label,
)
from imvo_workflow.services.moves import MoveResult, move

JOINED = date(2018, 6, 1)
WHY = "De brancheafspraken gaan op in het bredere convenant Metaal en elektrotechniek."


@pytest.fixture
def later(app: App) -> Iterator[App]:
    seed_2016(app)
    with app_at(app, at("2019-07-01")) as moved_on:
        open_metalektro(moved_on)
        yield moved_on


def _continue(app: App, covenant: str, into: str = METALEKTRO, **kwargs: object) -> MoveResult:
    args: dict[str, object] = {"on": JOINED, "reason": WHY, "actor": "A. de Vries"} | kwargs
    return continue_in(
        uow=app.uow(),
        definition=app.definition,
        covenant=covenant,
        into=into,
        now=app.now(),
        **args,  # type: ignore[arg-type]
    )


def _id(app: App, slug: str) -> int:
    with app.uow(readonly=True) as uow:
        return int(
            uow.conn.execute(select(t.covenant.c.id).where(t.covenant.c.slug == slug)).scalar_one()
        )


def test_continuing_is_a_move_with_its_date_reason_and_the_other_covenant(later: App) -> None:
    result = _continue(later, "metallurgische-industrie")
    assert (result.from_stage, result.to_stage, result.trigger) == (
        "kwartiermaker",
        "opgegaan",
        "opgaan_in",
    )
    with later.uow(readonly=True) as uow:
        row = uow.conn.execute(
            select(t.covenant).where(t.covenant.c.slug == "metallurgische-industrie")
        ).one()
        entry = uow.conn.execute(
            select(t.transition).where(
                t.transition.c.covenant_id == row.id, t.transition.c.seq == result.seq
            )
        ).one()
        open_targets = uow.conn.execute(
            select(t.target.c.id).where(
                t.target.c.covenant_id == row.id, t.target.c.status == "open"
            )
        ).all()
    assert row.continued_in_id == _id(later, METALEKTRO)
    assert (row.stage, row.stage_since) == ("opgegaan", JOINED)
    assert (entry.occurred_on, entry.reason) == (JOINED, WHY)
    assert read_detail(entry.detail) == {"into": METALEKTRO}
    assert open_targets == []  # its own signing target is no longer meetable
    assert audit.verify(uow=later.uow(readonly=True)).ok


def test_both_metal_branches_show_where_they_went_and_the_broad_covenant_what_joined(
    later: App,
) -> None:
    _continue(later, "metallurgische-industrie")
    _continue(later, "technologische-industrie", on=date(2018, 7, 2))
    with later.uow(readonly=True) as uow:
        rows = {r.slug: r for r in queries.status(conn=uow.conn, today=later.today())}
        joined = continued_here(uow.conn, _id(later, METALEKTRO))
        before = continued_here(uow.conn, _id(later, METALEKTRO), day=date(2018, 6, 30))
    metal = rows["metallurgische-industrie"]
    assert (metal.continued_in, metal.continued_in_title) == (
        METALEKTRO,
        "IMVO-convenant Metaal en elektrotechniek",
    )
    assert stage_label(later.definition, metal) == (
        "Opgegaan in IMVO-convenant Metaal en elektrotechniek"
    )
    assert rows["chemie"].continued_in is None
    assert stage_label(later.definition, rows["chemie"]) == "Verkenning"
    assert [(v.slug, v.on) for v in joined] == [
        ("metallurgische-industrie", JOINED),
        ("technologische-industrie", date(2018, 7, 2)),
    ]
    assert [v.slug for v in before] == ["metallurgische-industrie"]


def test_the_as_of_views_show_the_continuation_only_from_its_date(later: App) -> None:
    _continue(later, "metallurgische-industrie")
    covenant_id = _id(later, "metallurgische-industrie")
    with later.uow(readonly=True) as uow:
        assert continuation_of(uow.conn, covenant_id, day=date(2018, 5, 31)) is None
        found = continuation_of(uow.conn, covenant_id, day=JOINED)
        on_day = {r.slug: r for r in asof.status_on(conn=uow.conn, day=JOINED)}
        day_before = {r.slug: r for r in asof.status_on(conn=uow.conn, day=date(2018, 5, 31))}
        # recorded on 1 July 2019: the database did not know it on 30 June 2019
        known = {
            r.slug: r for r in asof.status_on(conn=uow.conn, day=date(2019, 6, 30), known_at=True)
        }
    assert found is not None
    assert (found.into, found.into_title, found.on, found.reason) == (
        METALEKTRO,
        "IMVO-convenant Metaal en elektrotechniek",
        JOINED,
        WHY,
    )
    assert on_day["metallurgische-industrie"].continued_in == METALEKTRO
    assert day_before["metallurgische-industrie"].stage == "kwartiermaker"
    assert day_before["metallurgische-industrie"].continued_in is None
    assert known["metallurgische-industrie"].continued_in is None


def test_the_report_says_opgegaan_in_and_never_counts_it_as_abandoned(later: App) -> None:
    _continue(later, "metallurgische-industrie")
    built = build_report(uow=later.uow(readonly=True), definition=later.definition, as_of=JOINED)
    text = render(built, later.definition, "md")
    assert (
        "**Fase:** Opgegaan in IMVO-convenant Metaal en elektrotechniek, sinds 01-06-2018" in text
    )
    counts = {s.stage: s.covenants for s in built.stages}
    assert counts["opgegaan"] == 1
    assert counts["afgezien"] == 2  # Bouw and Detailhandel, as in 2016: nothing added
    html = render(built, later.definition, "html")
    assert "Opgegaan in IMVO-convenant Metaal en elektrotechniek" in html


def test_the_2016_report_is_unchanged_by_a_later_continuation(later: App) -> None:
    def report() -> str:
        built = build_report(
            uow=later.uow(readonly=True), definition=later.definition, as_of=date(2016, 11, 1)
        )
        return render(built, later.definition, "md")

    before = report()
    _continue(later, "metallurgische-industrie")
    assert report() == before


def _refused(later: App, error: type[DomainError], covenant: str, **kwargs: object) -> str:
    before = snapshot(later)
    with pytest.raises(error) as refused:
        _continue(later, covenant, **kwargs)
    assert snapshot(later) == before
    return refused.value.message


def test_continuing_in_itself_is_refused(later: App) -> None:
    message = _refused(later, InvalidInput, "chemie", into="Chemie")
    assert "zichzelf" in message


def test_continuing_in_an_unknown_covenant_is_refused_with_a_suggestion(later: App) -> None:
    message = _refused(later, NotFound, "chemie", into="metalektr")
    assert METALEKTRO in message


def test_continuing_in_a_covenant_that_continued_in_this_one_is_refused(later: App) -> None:
    _continue(later, "technologische-industrie", into="metallurgische-industrie")
    message = _refused(
        later, InvalidInput, "metallurgische-industrie", into="technologische-industrie"
    )
    assert "kring" in message


def test_continuing_in_a_covenant_that_itself_continued_elsewhere_is_refused(later: App) -> None:
    _continue(later, "technologische-industrie")
    message = _refused(later, InvalidInput, "chemie", into="technologische-industrie")
    assert METALEKTRO in message


def test_continuing_from_a_terminal_stage_is_refused(later: App) -> None:
    open_textile(later)
    message = _refused(later, InvalidInput, "kleding-en-textiel")
    assert "eindfase" in message
    _refused(later, ForbiddenTransition, "bouw")  # afgezien: reopen first


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"on": date(2019, 7, 2)}, InvalidInput, "toekomst"),
        ({"into": "kleding-en-textiel", "on": date(2016, 10, 30)}, InvalidInput, "vóór de vorige"),
        ({"on": date(2017, 12, 1)}, InvalidInput, "bestond"),
        ({"reason": ""}, RequirementMissing, "reden"),
        ({"reason": "x" * 2001}, InvalidInput, "lang"),
        ({"reason": "gaat op\x00in"}, InvalidInput, "stuurteken"),
        ({"actor": "A.\x1b[31m"}, InvalidInput, "stuurteken"),
        ({"on": date(1, 1, 1)}, InvalidInput, "ligt niet tussen"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_writes_nothing(
    later: App, kwargs: dict[str, object], error: type[DomainError], words: str
) -> None:
    open_textile(later)  # signed in 2016: a covenant one can continue in from then on
    message = _refused(later, error, "metallurgische-industrie", **kwargs)
    assert words in message.lower()


def test_an_ordinary_move_to_opgegaan_points_to_the_continuation(later: App) -> None:
    before = snapshot(later)
    with pytest.raises(RequirementMissing) as refused:
        move(
            uow=later.uow(),
            definition=later.definition,
            covenant="chemie",
            to="opgegaan",
            actor="A. de Vries",
            reason=WHY,
            now=later.now(),
        )
    assert "imvo continue" in refused.value.message
    assert snapshot(later) == before


def test_continuing_twice_is_refused(later: App) -> None:
    _continue(later, "chemie")
    message = _refused(later, InvalidInput, "chemie")
    assert "eindfase" in message

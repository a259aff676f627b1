"""A covenant's story: progress notes and the summary, and targets, as entries of its chain.

Each note, summary edit and target setting writes its row and its chain entry in one
transaction (so `audit verify` covers it); the note current on a day and the summary on a
day are read back as of that day and as known on it; every refusal writes nothing.
Both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import closing_uow
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import MAX_TEXT
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import (
    InvalidInput,
    NotFound,
    RequirementMissing,
    UnparseablePeriod,
)
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.services import audit, notes
from imvo_workflow.services.asof import end_of_day
from imvo_workflow.services.notes import NoteView, SummaryChange
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016, read_seed_file
from imvo_workflow.services.targets import TargetResult, reset_target, set_target

MakeCovenant = Callable[..., int]
TODAY = date(2016, 11, 1)  # conftest's REPORT_NOW


@pytest.fixture
def natuursteen(make_covenant: MakeCovenant) -> int:
    return make_covenant("natuursteen", path=("dialoog",))


def _note(app: App, text: str, on: date | None = None, *, now: datetime | None = None) -> NoteView:
    with closing_uow(app) as uow:
        return notes.write_note(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            text=text,
            written_on=on,
            actor="A. de Vries",
            now=now or app.now(),
        )


def _summary(app: App, text: str, reason: str = "bijgewerkt", **kw: datetime) -> SummaryChange:
    with closing_uow(app) as uow:
        return notes.edit_summary(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            text=text,
            actor="B. Jansen",
            reason=reason,
            now=kw.get("now", app.now()),
        )


def _target(app: App, phrase: str, **kw: object) -> TargetResult:
    args: dict[str, object] = {
        "stage": "ondertekend",
        "reference": TODAY,
        "actor": "A. de Vries",
        "now": app.now(),
    } | kw
    with closing_uow(app) as uow:
        return set_target(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            phrase=phrase,
            **args,  # type: ignore[arg-type]
        )


def _entries(app: App, kind: RecordKind) -> list[dict[str, object]]:
    tr = t.transition
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(tr.c.detail, tr.c.occurred_on, tr.c.reason, tr.c.actor)
            .where(tr.c.trigger == kind.value)
            .order_by(tr.c.covenant_id, tr.c.seq)
        )
        return [
            read_detail(r.detail) | {"_on": r.occurred_on, "_reason": r.reason, "_by": r.actor}
            for r in rows
        ]


def _state(app: App) -> tuple[int, ...]:
    """What a refusal must leave as it was: rows of every table it could write, the version."""
    with app.uow(readonly=True) as uow:
        counts = tuple(
            int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.note, t.transition, t.target, t.target_change)
        )
        version = uow.conn.execute(select(func.sum(t.covenant.c.version))).scalar_one()
    return (*counts, int(version or 0))


def _verified(app: App) -> bool:
    return audit.verify(uow=app.uow(readonly=True)).ok


# -- notes ------------------------------------------------------------------------------------


def test_a_note_is_a_row_and_a_chain_entry_with_its_text(app: App, natuursteen: int) -> None:
    note = _note(app, "Eerste regel\nTweede regel", date(2016, 10, 20))
    assert (note.written_on, note.author) == (date(2016, 10, 20), "A. de Vries")
    (entry,) = _entries(app, RecordKind.NOTE)
    assert entry["note_id"] == note.id and entry["text"] == "Eerste regel\nTweede regel"
    assert entry["_on"] == date(2016, 10, 20)
    with app.uow(readonly=True) as uow:
        assert notes.notes(uow.conn, natuursteen) == [note]
        seq = uow.conn.execute(select(t.covenant.c.last_seq)).scalar_one()
    assert note.seq == seq
    assert _verified(app)


def test_a_browsers_crlf_is_stored_as_a_newline(app: App, natuursteen: int) -> None:
    assert _note(app, "regel\r\nregel").text == "regel\nregel"


def test_a_note_without_a_date_is_written_today(app: App, natuursteen: int) -> None:
    assert _note(app, "vandaag").written_on == TODAY


@pytest.mark.parametrize(
    ("text", "on", "error", "words"),
    [
        ("", None, RequirementMissing, "leeg"),
        (" \n\t ", None, RequirementMissing, "leeg"),
        ("morgen", TODAY + timedelta(days=1), InvalidInput, "na vandaag"),
        ("x" * (MAX_TEXT + 1), None, InvalidInput, f"maximaal {MAX_TEXT}"),
        ("belletje\x07", None, InvalidInput, "stuurteken"),
        ("nul\x00", None, InvalidInput, "stuurteken"),
        ("los\rteken", None, InvalidInput, "stuurteken"),
        ("oud", date(1066, 10, 14), InvalidInput, "1900"),
    ],
    ids=["empty", "blank", "future", "overlong", "bell", "nul", "lone-cr", "year"],
)
def test_a_bad_note_is_refused_and_writes_nothing(
    app: App, natuursteen: int, text: str, on: date | None, error: type, words: str
) -> None:
    before = _state(app)
    with pytest.raises(error, match=words):
        _note(app, text, on)
    assert _state(app) == before


def test_a_note_on_an_unknown_covenant_suggests_one(app: App, natuursteen: int) -> None:
    before = _state(app)
    with closing_uow(app) as uow, pytest.raises(NotFound, match="natuursteen"):
        notes.write_note(
            uow=uow,
            definition=app.definition,
            covenant="natuursteem",
            text="x",
            written_on=None,
            actor="A",
            now=app.now(),
        )
    assert _state(app) == before


def test_a_note_needs_an_author(app: App, natuursteen: int) -> None:
    with closing_uow(app) as uow, pytest.raises(RequirementMissing):
        notes.write_note(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            text="x",
            written_on=None,
            actor="  ",
            now=app.now(),
        )


def test_the_note_current_on_a_day_is_the_newest_written_by_then(
    app: App, natuursteen: int
) -> None:
    september = _note(app, "september", date(2016, 9, 1))
    october = _note(app, "oktober", date(2016, 10, 1))
    late = _note(app, "juli, later opgeschreven", date(2016, 7, 1))
    with app.uow(readonly=True) as uow:
        assert notes.note_on(uow.conn, natuursteen, None, None) == october
        assert notes.note_on(uow.conn, natuursteen, date(2016, 9, 15), None) == september
        assert notes.note_on(uow.conn, natuursteen, date(2016, 8, 1), None) == late
        assert notes.note_on(uow.conn, natuursteen, date(2016, 6, 1), None) is None
        assert [n.text for n in notes.notes(uow.conn, natuursteen)] == [
            "oktober",
            "september",
            "juli, later opgeschreven",
        ]


def test_known_at_leaves_out_a_note_entered_later(app: App, natuursteen: int) -> None:
    entered = datetime(2016, 11, 1, 10, 0, tzinfo=AMSTERDAM)
    first = _note(app, "toen bekend", date(2016, 9, 1), now=entered - timedelta(days=20))
    _note(app, "later ingevoerd, over september", date(2016, 9, 20), now=entered)
    with app.uow(readonly=True) as uow:
        known = end_of_day(date(2016, 10, 15))
        assert notes.note_on(uow.conn, natuursteen, date(2016, 10, 15), known) == first
        assert notes.note_on(uow.conn, natuursteen, date(2016, 10, 15), None) != first


# -- summary ----------------------------------------------------------------------------------


def test_a_summary_edit_keeps_the_old_text_in_the_chain(app: App, natuursteen: int) -> None:
    with app.uow() as uow:
        uow.conn.execute(t.covenant.update().values(summary="Origineel"))
        uow.commit()
    first = _summary(app, "Tweede\ntekst", "SER-overleg")
    assert (first.old_text, first.text, first.reason) == (
        "Origineel",
        "Tweede\ntekst",
        "SER-overleg",
    )
    later = datetime(2016, 11, 20, 10, 0, tzinfo=AMSTERDAM)
    _summary(app, "Derde", now=later)
    (one, two) = _entries(app, RecordKind.SUMMARY)
    assert (one["text"], one["old_text"], one["_reason"]) == (
        "Tweede\ntekst",
        "Origineel",
        "SER-overleg",
    )
    assert (two["old_text"], two["_on"]) == ("Tweede\ntekst", date(2016, 11, 20))
    with app.uow(readonly=True) as uow:
        stored = uow.conn.execute(select(t.covenant.c.summary)).scalar_one()
        history = notes.summary_history(uow.conn, natuursteen)
        on = notes.summary_on
        assert stored == "Derde" == on(uow.conn, natuursteen, None, None)
        assert on(uow.conn, natuursteen, date(2016, 11, 10), None) == "Tweede\ntekst"
        assert on(uow.conn, natuursteen, date(2016, 10, 1), None) == "Origineel"
        known = end_of_day(date(2016, 11, 25))
        assert on(uow.conn, natuursteen, date(2016, 11, 25), end_of_day(TODAY)) == "Tweede\ntekst"
        assert on(uow.conn, natuursteen, date(2016, 11, 25), known) == "Derde"
    assert [h.text for h in history] == ["Derde", "Tweede\ntekst"]
    assert _verified(app)


@pytest.mark.parametrize(
    ("text", "reason", "error", "words"),
    [
        ("", "r", RequirementMissing, "leeg"),
        ("nieuw", "  ", RequirementMissing, "reden"),
        ("x" * (MAX_TEXT + 1), "r", InvalidInput, "te lang"),
        ("nieuw", "x" * (MAX_TEXT + 1), InvalidInput, "te lang"),
        ("esc\x1b[31m", "r", InvalidInput, "stuurteken"),
        ("Convenant natuursteen", "niets veranderd", InvalidInput, "niet veranderd"),
    ],
    ids=["empty", "no-reason", "overlong", "overlong-reason", "escape", "unchanged"],
)
def test_a_bad_summary_edit_is_refused_and_writes_nothing(
    app: App, natuursteen: int, text: str, reason: str, error: type, words: str
) -> None:
    with app.uow() as uow:
        uow.conn.execute(t.covenant.update().values(summary="Convenant natuursteen"))
        uow.commit()
    before = _state(app)
    with pytest.raises(error, match=words):
        _summary(app, text, reason)
    assert _state(app) == before


# -- targets as chain entries -----------------------------------------------------------------


def test_setting_and_resetting_a_target_are_chain_entries(app: App, natuursteen: int) -> None:
    first = _target(app, "Q1 van 2017", reason="afspraak")
    again = _target(app, "eerste helft 2017", reason="uitstel")
    one, two = _entries(app, RecordKind.TARGET_SET)
    assert one == {
        "target_id": first.target_id,
        "what": "fase ondertekend",
        "phrase": "Q1 van 2017",
        "reference_date": "2016-11-01",
        "period_start": "2017-01-01",
        "deadline": "2017-03-31",
        "old_phrase": None,
        "old_deadline": None,
        "_on": TODAY,
        "_reason": "afspraak",
        "_by": "A. de Vries",
    }
    assert (two["target_id"], two["old_phrase"], two["old_deadline"]) == (
        again.target_id,
        "Q1 van 2017",
        "2017-03-31",
    )
    assert two["deadline"] == "2017-06-30"
    assert _verified(app)


def test_a_deadline_before_the_reference_says_how_to_give_the_reference(
    app: App, natuursteen: int
) -> None:
    before = _state(app)
    with pytest.raises(InvalidInput) as refused:
        _target(app, "20 oktober 2016")
    for where in ("Peildatum", "--reference", '"reference"'):
        assert where in refused.value.message
    assert _state(app) == before


@pytest.mark.parametrize(
    ("phrase", "kw", "error"),
    [
        ("op korte termijn", {}, UnparseablePeriod),
        ("Q1 2017", {"reference": TODAY + timedelta(days=1)}, InvalidInput),
        ("Q1 2017", {"reason": "x" * (MAX_TEXT + 1)}, InvalidInput),
        ("Q1\x002017", {}, InvalidInput),
    ],
    ids=["unparseable", "future-reference", "overlong-reason", "control"],
)
def test_a_bad_target_is_refused_and_writes_nothing(
    app: App, natuursteen: int, phrase: str, kw: dict[str, object], error: type
) -> None:
    before = _state(app)
    with pytest.raises(error) as refused:
        _target(app, phrase, **kw)
    if error is UnparseablePeriod:
        assert "Voorbeelden" in refused.value.message
    assert _state(app) == before


def _reset(app: App, target_id: int, phrase: str, reason: str = "uitstel") -> TargetResult:
    with closing_uow(app) as uow:
        return reset_target(
            uow=uow,
            definition=app.definition,
            covenant="natuursteen",
            target_id=target_id,
            phrase=phrase,
            reference=TODAY,
            actor="A. de Vries",
            reason=reason,
            now=app.now(),
        )


def test_a_target_is_reset_by_its_id_with_a_reason(app: App, natuursteen: int) -> None:
    made = _target(app, "Q1 van 2017", milestone="Plan van aanpak", stage=None)
    result = _reset(app, made.target_id, "Q2 2017")
    assert (result.target_id, result.old_phrase, result.deadline) == (
        made.target_id,
        "Q1 van 2017",
        date(2017, 6, 30),
    )
    before = _state(app)
    for target_id, reason, error in (
        (made.target_id + 99, "r", NotFound),
        (2**70, "r", NotFound),
        (made.target_id, " ", RequirementMissing),
    ):
        with pytest.raises(error):
            _reset(app, target_id, "Q3 2017", reason)
    assert _state(app) == before


# -- the seed ---------------------------------------------------------------------------------


def test_the_seed_writes_the_source_text_as_each_covenants_first_note(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    data = read_seed_file(SEED_2016)
    with app.uow(readonly=True) as uow:
        ids = dict(uow.conn.execute(select(t.covenant.c.slug, t.covenant.c.id)).all())
        for item in data.covenants:
            (note,) = notes.notes(uow.conn, ids[item.slug])
            assert (note.text, note.written_on) == (item.summary, data.report_date)
            assert note.author == item.history[0].by
        targets = uow.conn.execute(select(func.count()).select_from(t.target)).scalar_one()
    assert len(_entries(app, RecordKind.TARGET_SET)) == targets
    assert {e["_on"] for e in _entries(app, RecordKind.TARGET_SET)} == {data.report_date}
    assert _verified(app)

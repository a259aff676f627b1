"""Readable history and corrections of every kind of entry.

Each entry is described in one Dutch line ("Dialoog → Ondertekend", "Ondertekend door: NVN",
"Correctie van rij 3 (Dialoog → Ondertekend): datum 2016-10-01 → 2016-09-30"); a corrected
entry names its latest correction. Correcting a move's date also moves the date its targets
were met; correcting a record entry's date moves its projection row (signature, party,
milestone, note, term). `audit verify` finds a record entry whose detail was changed, and
the export carries the detail. Both databases.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
from signing_helpers import entries, milestone, party, row, verified
from sqlalchemy import insert, update

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import render
from imvo_workflow.services import audit, history, queries
from imvo_workflow.services.export import export_history
from imvo_workflow.services.moves import move
from imvo_workflow.services.signatures import sign
from imvo_workflow.services.targets import set_target
from tampering import tampering

MakeCovenant = Callable[..., int]


@pytest.fixture
def signed(app: App, make_covenant: MakeCovenant) -> int:
    """natuursteen: dialogue 1 March 2016, signed by NVN on 1 October (rows 2, 3, 4)."""
    covenant = make_covenant("natuursteen", path=("dialoog",), start=date(2016, 3, 1))
    party(app, covenant, "NVN")
    sign(
        uow=app.uow(),
        definition=app.definition,
        covenant="natuursteen",
        organisations=("NVN",),
        signed_on=date(2016, 10, 1),
        actor="A",
        now=app.now(),
    )
    return covenant


def _correct(app: App, seq: int, on: date) -> int:
    return audit.correct(
        uow=app.uow(),
        covenant="natuursteen",
        seq=seq,
        actor="B",
        reason="datum klopte niet",
        occurred_on=on,
        now=app.now(),
    )


def _history(app: App) -> list[queries.HistoryEntry]:
    labels = {name: s.label.nl for name, s in app.definition.stages.items()}
    with app.uow(readonly=True) as uow:
        return queries.history(conn=uow.conn, covenant="natuursteen", labels=labels)


def test_entries_are_described_and_a_corrected_one_is_marked(app: App, signed: int) -> None:
    new_seq = _correct(app, 3, date(2016, 9, 30))
    rows = _history(app)
    said = {r.seq: r.description for r in rows}
    assert said[1] == "Aangemaakt in Verkenning"
    assert said[2] == "Verkenning → Dialoog"
    assert said[3] == "Dialoog → Ondertekend"
    assert said[4] == "Ondertekend door: NVN"
    assert said[new_seq] == (
        "Correctie van rij 3 (Dialoog → Ondertekend): datum 2016-10-01 → 2016-09-30"
    )
    by_seq = {r.seq: r for r in rows}
    assert (by_seq[3].corrected_by, by_seq[new_seq].corrects_seq) == (new_seq, 3)
    assert by_seq[2].corrected_by is None
    again = _correct(app, 3, date(2016, 9, 29))
    assert _history(app)[-1].description.endswith("datum 2016-09-30 → 2016-09-29")
    assert {r.seq: r.corrected_by for r in _history(app)}[3] == again


def test_correcting_a_moves_date_moves_the_day_its_targets_were_met(
    app: App, make_covenant: MakeCovenant
) -> None:
    covenant = make_covenant("natuursteen", path=("dialoog",), start=date(2016, 3, 1))
    target = milestone(app, covenant, "", date(2016, 12, 31), stage="intentieverklaring")
    move(
        uow=app.uow(),
        definition=app.definition,
        covenant="natuursteen",
        to="intentieverklaring",
        actor="A",
        occurred_on=date(2016, 10, 1),
        now=app.now(),
    )
    assert row(app, t.target, target).closed_on == date(2016, 10, 1)
    _correct(app, 3, date(2016, 9, 15))
    assert (row(app, t.target, target).status, row(app, t.target, target).closed_on) == (
        "met",
        date(2016, 9, 15),
    )
    assert verified(app)


def test_correcting_a_signature_moves_its_date(app: App, signed: int) -> None:
    (signature_id,) = [
        e[1]["signature_id"] for e in entries(app, signed) if e[0] == "ondertekenaar"
    ]
    _correct(app, 4, date(2016, 9, 20))
    assert row(app, t.signature, signature_id).signed_on == date(2016, 9, 20)
    with pytest.raises(InvalidInput, match="vóór het begin van de dialoog"):
        _correct(app, 4, date(2016, 2, 1))
    assert row(app, t.signature, signature_id).signed_on == date(2016, 9, 20)


def test_correcting_a_party_a_milestone_a_note_and_a_term(app: App, signed: int) -> None:
    """Entries other engineers write, corrected from their agreed payloads."""
    participation = party(app, signed, "FNV", since=date(2016, 5, 1))
    target = milestone(app, signed, "Oogstdag", date(2016, 9, 30))
    moment = app.now()
    with app.uow() as uow:
        conn = uow.conn
        uow.conn.execute(
            update(t.target)
            .where(t.target.c.id == target)
            .values(status="met", closed_on=date(2016, 9, 30), closed_at=moment)
        )
        head = history.read_head(conn, "natuursteen")
        seqs = {}
        note_id = conn.execute(
            insert(t.note).returning(t.note.c.id),
            {
                "covenant_id": signed,
                "seq": head.last_seq + 3,
                "written_on": date(2016, 10, 10),
                "author": "A",
                "text": "Voortgang",
                "recorded_at": moment,
            },
        ).scalar_one()
        term_id = conn.execute(
            insert(t.term).returning(t.term.c.id),
            {
                "covenant_id": signed,
                "number": 1,
                "starts_on": date(2016, 10, 1),
                "ends_on": date(2021, 10, 1),
                "seq": head.last_seq + 4,
                "recorded_at": moment,
            },
        ).scalar_one()
        for kind, detail, on in [
            (
                RecordKind.PARTY_JOINED,
                {"organisation": "FNV", "organisation_id": 0, "role": "partij",
                 "participation_id": participation},
                date(2016, 5, 1),
            ),
            (
                RecordKind.MILESTONE_CLOSED,
                {"target_id": target, "milestone": "Oogstdag", "outcome": "bereikt"},
                date(2016, 9, 30),
            ),
            (RecordKind.NOTE, {"note_id": note_id, "text": "Voortgang"}, date(2016, 10, 10)),
            (
                RecordKind.TERM,
                {"term_id": term_id, "number": 1, "starts_on": "2016-10-01",
                 "ends_on": "2021-10-01", "previous_term_id": None},
                date(2016, 10, 1),
            ),
        ]:  # fmt: skip
            seq, _ = history.record(
                conn, head, kind, detail, actor="A", reason="", occurred_on=on,
                definition_version=app.definition.version, now=moment,
            )  # fmt: skip
            head = history.read_head(conn, "natuursteen")
            seqs[kind] = seq
        uow.commit()
    _correct(app, seqs[RecordKind.PARTY_JOINED], date(2016, 4, 1))
    _correct(app, seqs[RecordKind.MILESTONE_CLOSED], date(2016, 9, 25))
    _correct(app, seqs[RecordKind.NOTE], date(2016, 10, 9))
    _correct(app, seqs[RecordKind.TERM], date(2016, 10, 2))
    assert row(app, t.participation, participation).since == date(2016, 4, 1)
    assert row(app, t.target, target).closed_on == date(2016, 9, 25)
    assert row(app, t.note, note_id).written_on == date(2016, 10, 9)
    assert row(app, t.term, term_id).starts_on == date(2016, 10, 2)
    said = [r.description for r in _history(app)]
    assert "Partij toegevoegd: FNV (partij)" in said
    assert "Mijlpaal gesloten: Oogstdag (bereikt)" in said
    assert "Looptijd: termijn 1: 2016-10-01 t/m 2021-10-01" in said
    assert verified(app)
    # the stage's date stays that of the signing move
    with app.uow(readonly=True) as uow:
        assert history.read_head(uow.conn, "natuursteen").stage_since == date(2016, 10, 1)


def test_verify_finds_a_changed_record_detail(app: App, signed: int) -> None:
    assert verified(app)
    tr = t.transition
    with tampering(app, "transition") as conn:
        conn.execute(
            update(tr)
            .where(tr.c.covenant_id == signed, tr.c.seq == 4)
            .values(detail='{"organisation":"Iemand anders","organisation_id":1,"signature_id":1}')
        )
    result = audit.verify(uow=app.uow(readonly=True))
    assert [(p.covenant, p.seq) for p in result.problems] == [("natuursteen", 4)]


def test_verify_finds_a_removed_record_detail(app: App, signed: int) -> None:
    tr = t.transition
    with tampering(app, "transition") as conn:
        conn.execute(
            update(tr).where(tr.c.covenant_id == signed, tr.c.seq == 4).values(detail=None)
        )
    result = audit.verify(uow=app.uow(readonly=True))
    assert [(p.covenant, p.seq) for p in result.problems] == [("natuursteen", 4)]


def test_the_export_carries_the_detail(app: App, signed: int) -> None:
    out = io.StringIO()
    export_history(uow=app.uow(readonly=True), out=out, fmt="csv")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(",detail")
    signature_line = next(line for line in lines if ",ondertekenaar," in line)
    assert '""organisation"":""NVN""' in signature_line


def test_the_report_shows_signatures_milestones_and_corrections(app: App, signed: int) -> None:
    harvest = set_target(
        uow=app.uow(), definition=app.definition, covenant="natuursteen",
        phrase="30 september 2016", reference=date(2016, 6, 1), milestone="Oogstdag",
        actor="A", now=app.now(),
    ).target_id  # fmt: skip
    fix = audit.correct(
        uow=app.uow(), covenant="natuursteen", seq=3, actor="B", reason="typfout",
        occurred_on=date(2016, 9, 29), now=app.now(),
    )  # fmt: skip
    with app.uow() as uow:
        uow.conn.execute(
            update(t.target)
            .where(t.target.c.id == harvest)
            .values(status="met", closed_on=date(2016, 10, 2), closed_at=app.now())
        )
        uow.commit()
    built = build_report(uow=app.uow(readonly=True), definition=app.definition, as_of=app.today())
    text = render(built, app.definition, "md")
    assert "**Ondertekend door:** NVN (01-10-2016)" in text
    assert (
        "| Oogstdag | “30 september 2016” | 30-09-2016 | gehaald | 02-10-2016, 2 dagen te laat |"
        in text
    )
    assert f"3. 29-09-2016: Dialoog → Ondertekend (gecorrigeerd in rij {fix})" in text
    assert "Correctie van rij 3 (Dialoog → Ondertekend): datum 2016-10-01 → 2016-09-29" in text
    html = render(built, app.definition, "html")
    assert f"gecorrigeerd in rij {fix}" in html and "NVN (01-10-2016)" in html
    before = build_report(
        uow=app.uow(readonly=True), definition=app.definition, as_of=date(2016, 9, 15)
    )
    assert "Ondertekend door" not in render(before, app.definition, "md")


def test_with_a_since_date_the_history_is_the_periods(app: App, signed: int) -> None:
    """The history lists the entries dated in the period; a correction in it still names the
    row it corrects and the date that row had before, from a correction outside the period."""
    first = audit.correct(
        uow=app.uow(), covenant="natuursteen", seq=3, actor="B", reason="typfout",
        occurred_on=date(2016, 9, 29), now=app.now(),
    )  # fmt: skip
    again = audit.correct(
        uow=app.uow(), covenant="natuursteen", seq=3, actor="B", reason="toch later",
        occurred_on=date(2016, 10, 5), now=app.now(),
    )  # fmt: skip
    since = date(2016, 10, 1)
    built = build_report(
        uow=app.uow(readonly=True), definition=app.definition, as_of=app.today(), since=since
    )
    entry = next(e for _, es in built.groups for e in es if e.heading.startswith("Natuursteen"))
    assert entry.record is not None
    lines = entry.record.history
    assert lines and all(since < line.occurred_on <= app.today() for line in lines)
    assert first not in {line.seq for line in lines}
    text = render(built, app.definition, "md")
    assert f"3. 05-10-2016: Dialoog → Ondertekend (gecorrigeerd in rij {again})" in text
    assert "Correctie van rij 3 (Dialoog → Ondertekend): datum 2016-09-29 → 2016-10-05" in text
    whole = build_report(uow=app.uow(readonly=True), definition=app.definition, as_of=app.today())
    everything = next(
        e for _, es in whole.groups for e in es if e.heading.startswith("Natuursteen")
    )
    assert everything.record is not None
    assert {line.seq for line in everything.record.history} >= {1, 3, first, again}

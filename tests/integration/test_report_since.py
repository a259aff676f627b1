"""The report for 1 November 2017 since 1 November 2016 (issue 13): what changed, every target
planned against actual, the figures at the top, in md, html and Word, the same bytes on SQLite
and PostgreSQL, and issued reports proven by their hash in the chain.

The year between the two reports is made through the services (tests/report_year.py); the
database is the seeded 2016 report. Runs on SQLite and PostgreSQL (the `app` fixture) unless a
test says otherwise.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import html5lib
import pytest
from docx import Document
from sqlalchemy import create_engine, func, select, text, update

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.db.tables import metadata
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.reports.issue import issue_report
from imvo_workflow.reports.progress import ProgressReport, build_report
from imvo_workflow.reports.render import format_for, render_bytes
from imvo_workflow.reports.word import render_docx
from imvo_workflow.services import audit, issued
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import Settings
from report_year import NEXT, PREVIOUS, WHO, build_year, on
from tampering import tampering


def _year(app: App) -> App:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    build_year(app)
    return app


@pytest.fixture
def year(app: App) -> App:
    return _year(app)


def _report(app: App, since: date | None = PREVIOUS, **kwargs: object) -> ProgressReport:
    return build_report(
        uow=app.uow(readonly=True), definition=app.definition, as_of=NEXT, since=since, **kwargs
    )  # type: ignore[arg-type]


def _entry(report: ProgressReport, slug: str) -> object:
    return next(
        e for _, es in report.groups for e in es if e.status is not None and e.status.slug == slug
    )


def _changes(report: ProgressReport, slug: str) -> list[tuple[date, str]]:
    return [(c.on, c.text) for c in _entry(report, slug).changes]  # type: ignore[attr-defined]


def test_the_change_section_tells_the_year(year: App) -> None:
    report = _report(year)
    assert [e.heading for e in report.changed] == [
        "Natuursteen",
        "Chemie",
        "Goud",
        "Houtsector",
        "Land- en tuinbouw",
        "Voedingsmiddelen",
    ]
    assert _changes(report, "natuursteen") == [
        (date(2017, 3, 1), "Partij toegevoegd: NVN (partij)"),
        (date(2017, 3, 15), "Fase: Dialoog → Ondertekend"),
        (date(2017, 3, 15), "Ondertekend door: NVN"),
        (
            date(2017, 3, 15),
            "Doel fase ondertekend (“Q1 van 2017”, uiterlijk 31-03-2017): gehaald op "
            "15-03-2017, 16 dagen eerder",
        ),
    ]
    assert _changes(report, "chemie") == [
        (
            date(2017, 1, 10),
            "Doel verschoven: Resultaten oriënterend onderzoek VNCI: van “tweede helft november "
            "2016” (30-11-2016) naar “Q2 2017” (30-06-2017)",
        )
    ]
    goud = _changes(report, "goud")
    assert goud[-1][1].endswith("gehaald op 19-06-2017, 111 dagen te laat")
    assert _changes(report, "voedingsmiddelen") == [
        (date(2017, 2, 1), "Partij toegevoegd: FNV (partij)"),
        (date(2017, 9, 1), "Partij vertrokken: NVS (partij)"),
    ]
    assert _changes(report, "land-en-tuinbouw") == [
        (date(2017, 10, 5), "Nieuw doel: Evaluatie: “Q1 2018” (31-03-2018)")
    ]
    assert _changes(report, "houtsector")[0][1].startswith("Voortgangsnotitie: De dialoog")
    # a since-date after the signing leaves it out; one after everything shows nothing
    later = _report(year, since=date(2017, 6, 1))
    assert "Natuursteen" not in [e.heading for e in later.changed]
    assert _report(year, since=date(2017, 10, 31)).changed == []


def test_the_summary_counts_stages_on_both_dates_and_the_period(year: App) -> None:
    report = _report(year)
    on_s = {s.stage: s.covenants_since for s in report.stages}
    on_d = {s.stage: s.covenants for s in report.stages}
    assert (on_s["dialoog"], on_d["dialoog"]) == (8, 6)
    assert (on_s["ondertekend"], on_d["ondertekend"]) == (0, 2)
    assert sum(on_s.values()) == sum(on_d.values()) == 21
    p = report.period
    assert p.signed == ("Natuursteen", "Goud")
    assert (p.met_on_time, p.met_late) == (1, 1)
    assert p.open_overdue + p.open_on_track == 21
    chemie = _entry(report, "chemie").record.targets  # type: ignore[attr-defined]
    assert [(v.phrase, v.deadline, v.overdue) for v in chemie] == [
        ("Q2 2017", date(2017, 6, 30), True)
    ]
    lanes = {lane.label: lane for lane in report.lanes}
    assert (date(2018, 3, 31), "Evaluatie") in lanes["Land- en tuinbouw"].marks
    assert "doel Evaluatie, uiterlijk 31-03-2018" in report.timeline


def test_every_covenant_shows_its_record_on_the_day(year: App) -> None:
    report = _report(year)
    text = render_bytes(report, year.definition, "md").decode()
    assert (
        "| fase ondertekend | “Q1 van 2017” | 31-03-2017 | gehaald | 15-03-2017, 16 dagen eerder |"
        in text
    )
    assert (
        "| fase ondertekend | “februari” | 28-02-2017 | gehaald | 19-06-2017, 111 dagen te laat |"
        in text
    )
    assert "| Evaluatie | “Q1 2018” | 31-03-2018 | open |  |" in text
    assert "**Ondertekend door:** NVN (15-03-2017)" in text
    hout = _entry(report, "houtsector")
    assert hout.note.written_on == date(2017, 10, 1)  # type: ignore[attr-defined]
    assert "**Voortgang** (notitie van 01-10-2017, M. Jansen):" in text
    food = _entry(report, "voedingsmiddelen")
    assert "NVS" not in food.parties and "FNV" in food.parties  # type: ignore[attr-defined]
    # unnamed participants the source mentions live in the notes, and are rendered
    assert any(e.unnamed for _, es in report.groups for e in es)
    assert "- **Niet bij naam genoemd:** “" in text


def test_without_since_the_last_issued_report_gives_it(year: App) -> None:
    plain = _report(year, since=None)
    assert plain.since is None and plain.changed == []
    assert (
        "geen overzicht van wat er veranderd is"
        in render_bytes(plain, year.definition, "md").decode()
    )
    done, _ = issue_report(
        uow=year.uow(), definition=year.definition, as_of=date(2017, 6, 1), since=None,
        fmt="md", actor=WHO, now=on(date(2017, 6, 2)),
    )  # fmt: skip
    defaulted = _report(year, since=None)
    assert (defaulted.since, defaulted.since_report) == (date(2017, 6, 1), done.id)
    assert render_bytes(defaulted, year.definition, "html") == render_bytes(
        _report(year, since=date(2017, 6, 1)), year.definition, "html"
    )


def test_an_issued_report_is_in_every_chain_and_proven_by_its_hash(year: App) -> None:
    done, data = issue_report(
        uow=year.uow(), definition=year.definition, as_of=NEXT, since=PREVIOUS, fmt="docx",
        actor=WHO, now=on(NEXT),
    )  # fmt: skip
    assert done.covenants == 21 and done.sha256 == issued.digest(data)
    with year.uow(readonly=True) as uow:
        entries = uow.conn.execute(
            select(func.count()).where(t.transition.c.trigger == "rapport_uitgebracht")
        ).scalar_one()
        assert entries == 21
        assert issued.check(uow.conn, data).ok
        assert not issued.check(uow.conn, data + b" ").ok
        assert issued.issued_reports(uow.conn) == [done]
    assert audit.verify(uow=year.uow(readonly=True)).ok
    # regenerated later, the issued report's bytes come back: its own entries are not reported
    assert render_docx(_report(year), year.definition) == data


def test_a_changed_issued_report_entry_is_found(year: App) -> None:
    """An issued report's entry is hashed like every other: rewriting what it says was sent
    (its digest, or the date it was for) breaks the chain where it stands."""
    issue_report(
        uow=year.uow(), definition=year.definition, as_of=NEXT, since=PREVIOUS, fmt="md",
        actor=WHO, now=on(NEXT),
    )  # fmt: skip
    tr = t.transition
    with year.uow(readonly=True) as uow:
        row = uow.conn.execute(
            select(tr.c.covenant_id, tr.c.seq, tr.c.detail, t.covenant.c.slug)
            .join(t.covenant, t.covenant.c.id == tr.c.covenant_id)
            .where(tr.c.trigger == "rapport_uitgebracht")
            .order_by(tr.c.covenant_id)
            .limit(1)
        ).one()
    forged = row.detail.replace('"as_of":"2017-11-01"', '"as_of":"2017-10-01"')
    assert forged != row.detail
    with tampering(year, "transition") as conn:
        conn.execute(
            update(tr)
            .where(tr.c.covenant_id == row.covenant_id, tr.c.seq == row.seq)
            .values(detail=forged)
        )
    problems = audit.verify(uow=year.uow(readonly=True)).problems
    assert [(p.covenant, p.seq) for p in problems] == [(row.slug, row.seq)]


def _count(app: App) -> tuple[int, int]:
    with app.uow(readonly=True) as uow:
        return (
            uow.conn.execute(select(func.count()).select_from(t.transition)).scalar_one(),
            uow.conn.execute(select(func.count()).select_from(t.issued_report)).scalar_one(),
        )


#: (as_of, since, format, words of the refusal): every one refused, nothing written.
BAD_ISSUES: list[tuple[date, date | None, str, str]] = [
    (NEXT, NEXT, "md", "niet vóór de peildatum"),
    (NEXT, date(2018, 1, 1), "md", "niet vóór de peildatum"),
    (NEXT, date(1, 1, 1), "md", "vergelijkingsdatum"),
    (date(9999, 1, 1), None, "md", "peildatum"),
    (NEXT, PREVIOUS, "pdf", "Onbekend formaat"),
    (date(2018, 1, 1), PREVIOUS, "md", "na vandaag"),
    (date(2010, 1, 1), None, "md", "nog geen convenant"),
]


def test_issuing_refuses_bad_input_and_writes_nothing(year: App) -> None:
    before = _count(year)
    for as_of, since, fmt, words in BAD_ISSUES:
        with pytest.raises(InvalidInput) as refused:
            issue_report(
                uow=year.uow(), definition=year.definition, as_of=as_of, since=since, fmt=fmt,
                actor=WHO, now=on(NEXT),
            )  # fmt: skip
        assert words.lower() in refused.value.message.lower(), (as_of, since, fmt)
        assert _count(year) == before


def test_the_format_follows_the_file(tmp_path: Path) -> None:
    assert format_for(tmp_path / "r.docx", None) == "docx"
    assert format_for(tmp_path / "R.HTML", "html") == "html"
    assert format_for(None, None) == "md"
    for path, fmt in ((tmp_path / "r.txt", None), (tmp_path / "r.md", "html"), (None, "pdf")):
        with pytest.raises(InvalidInput):
            format_for(path, fmt)


def test_the_html_passes_a_strict_parse_and_the_docx_reads_back(year: App) -> None:
    report = _report(year)
    page = render_bytes(report, year.definition, "html").decode()
    html5lib.HTMLParser(strict=True).parse(page)  # raises on the first parse error
    assert "\x00" not in page and page.count("<svg") == 1  # the marks replaced, once
    data = render_docx(report, year.definition)
    assert data == render_docx(_report(year), year.definition)  # reproducible bytes
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {info.external_attr for info in archive.infolist()} == {0o644 << 16}
        assert any(name.endswith(".png") for name in archive.namelist())
        assert archive.testzip() is None  # every part's checksum holds
        assert {i.compress_type for i in archive.infolist() if i.filename.endswith(".png")} == {
            zipfile.ZIP_STORED  # compressed already
        }
    doc = Document(io.BytesIO(data))
    headings = [
        (p.style.name, p.text)
        for p in doc.paragraphs
        if p.style.name.startswith(("Heading", "Title"))
    ]
    names = [text for _, text in headings]
    assert names[:3] == [
        "Voortgang IMVO-convenanten",
        "Samenvatting",
        "Wat is er veranderd sinds 01-11-2016",
    ]
    assert names.index("Risicosectoren") < names.index("Overige sectoren")
    for _, entries in report.groups:
        for e in entries:
            assert e.heading in names
    texts = [p.text for p in doc.paragraphs]
    assert "01-03-2017: Partij toegevoegd: NVN (partij)" in texts
    assert "Ondertekend in de periode: 2 (Natuursteen, Goud)" in texts
    stages, *targets = doc.tables
    assert [c.text for c in stages.rows[0].cells] == [
        "Fase", "Op 01-11-2016", "Op 01-11-2017", "Dagen in fase (alle convenanten)",
        "Gemiddeld per verblijf",
    ]  # fmt: skip
    assert len(stages.rows) == 1 + len(year.definition.stages)
    with_targets = [e for _, es in report.groups for e in es if e.record and e.record.targets]
    assert len(targets) == len(with_targets)
    rows = [[c.text for c in row.cells] for table in targets for row in table.rows]
    assert [
        "fase ondertekend",
        "“Q1 van 2017”",
        "31-03-2017",
        "gehaald",
        "15-03-2017, 16 dagen eerder",
    ] in rows
    assert doc.core_properties.created.date() == NEXT  # type: ignore[union-attr]
    assert len(doc.inline_shapes) == 1  # the timeline


# -- the same bytes on both databases --------------------------------------------------------


@pytest.fixture
def both(
    sqlite_template: Path, postgres_url: str, definition: WorkflowDefinition, tmp_path: Path
) -> Iterator[tuple[App, App]]:
    """The same year on a SQLite file and on the (emptied) PostgreSQL test database."""
    path = tmp_path / "imvo.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(Settings(database_url=postgres_url).database_url)
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    apps = tuple(
        App(settings=Settings(database_url=url, now=on(PREVIOUS)), definition=definition)
        for url in (f"sqlite:///{path}", postgres_url)
    )
    yield apps  # type: ignore[misc]
    for made in apps:
        made.close()


def test_the_same_history_gives_the_same_bytes_on_sqlite_and_postgresql(
    both: tuple[App, App],
) -> None:
    lite, pg = (_year(made) for made in both)
    for fmt in ("md", "html", "docx"):
        for since in (PREVIOUS, None):
            one, two = (
                render_bytes(_report(made, since=since), made.definition, fmt)
                for made in (lite, pg)
            )
            assert one == two, (fmt, since)
        known = [
            render_bytes(_report(made, known_at=True), made.definition, fmt) for made in (lite, pg)
        ]
        assert known[0] == known[1], fmt

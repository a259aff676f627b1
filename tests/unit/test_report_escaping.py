"""Every value the progress report prints is escaped, in each place it is printed.

The HTML's covenant sections and the Word document's body are written as text from the
report's values (reports/html_sections.py, reports/word.py, each value escaped by
reports/escaped.py), not by an autoescaping template: here a report whose every value holds
markup (a script tag, an ampersand, a quote) must print each of them as text, the page must
still pass a strict parse and the Word document must read back with the values as written.
"""

from __future__ import annotations

import html
import io
from datetime import date
from xml.sax.saxutils import escape as xml_escape

import html5lib
import pytest
from docx import Document
from markupsafe import escape

from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.reports import word
from imvo_workflow.reports.chain_read import StoryNote
from imvo_workflow.reports.changes import Change, ChangeKind
from imvo_workflow.reports.escaped import _html_text, html_text, xml_text
from imvo_workflow.reports.layout import Entry
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.record_lines import HistoryLine, RecordLines
from imvo_workflow.reports.render import render
from imvo_workflow.reports.summary import PeriodSummary
from imvo_workflow.reports.timeline import Lane, timeline_svg
from imvo_workflow.reports.word import render_docx
from imvo_workflow.services.queries import StatusRow, TargetView
from imvo_workflow.services.signatures import SignatureView
from imvo_workflow.settings import DEFAULT_STAGES_FILE

DAY = date(2016, 11, 1)
#: Each place the report prints a value, with the value it is given there.
PLACES = (
    "heading", "slug", "stage_label", "trekker", "facilitator", "kwartiermaker", "party",
    "involved", "unnamed", "next", "signatory", "history", "target", "phrase", "reason",
    "author", "note", "summary", "change", "group", "signed", "lane",
)  # fmt: skip


def evil(place: str) -> str:
    return f'<script>{place}&"</script>'


@pytest.fixture(scope="module")
def definition() -> WorkflowDefinition:
    return load_definition(DEFAULT_STAGES_FILE)


def _target(what: str, phrase: str, reason: str | None = None) -> TargetView:
    return TargetView(
        1, None, what, "", phrase, DAY, DAY, date(2016, 6, 30), "met" if reason else "open",
        date(2016, 7, 2) if reason else None, not reason, 2 if reason else None, reason,
    )  # fmt: skip


def _report(definition: WorkflowDefinition) -> ProgressReport:
    status = StatusRow(
        evil("slug"), "titel", "sector", "risicosector", None, "dialoog", date(2015, 1, 1), 1,
        _target(evil("next"), "eind 2016"), True,
    )  # fmt: skip
    record = RecordLines(
        (SignatureView(evil("signatory"), date(2016, 2, 1), "hanna"),),
        (_target(evil("target"), evil("phrase"), evil("reason")),),
        (HistoryLine(7, date(2016, 3, 1), evil("history"), 9),),
    )
    entry = Entry(
        0, evil("heading"), status, evil("stage_label"), evil("trekker"), evil("facilitator"),
        (evil("party"),), evil("summary"), record, 1, evil("kwartiermaker"), (evil("involved"),),
        (evil("unnamed"),), StoryNote(3, date(2016, 4, 1), evil("author"), evil("note")),
        (Change(date(2016, 5, 1), ChangeKind.RECORD, evil("change")),),
    )  # fmt: skip
    lanes = [Lane(evil("lane"), [("dialoog", date(2015, 1, 1))], ((date(2016, 6, 30), "x"),))]
    colors = {name: stage.color for name, stage in definition.stages.items()}
    labels = {name: stage.label.nl for name, stage in definition.stages.items()}
    return ProgressReport(
        DAY, False, [(evil("group"), [entry])], timeline=timeline_svg(lanes, DAY, colors, labels),
        since=date(2016, 1, 1), period=PeriodSummary(date(2016, 1, 1), signed=(evil("signed"),)),
        lanes=lanes,
    )  # fmt: skip


def test_every_value_in_the_html_is_escaped_where_it_is_printed(
    definition: WorkflowDefinition,
) -> None:
    page = render(_report(definition), definition, "html")
    assert "<script>" not in page
    for place in PLACES:
        # the timeline is SVG text written with html.escape; the rest as Jinja's autoescape
        assert str(escape(evil(place))) in page or html.escape(evil(place)) in page, place
    html5lib.HTMLParser(strict=True).parse(page)


def test_every_value_in_the_word_document_reads_back_as_written(
    definition: WorkflowDefinition,
) -> None:
    document = Document(io.BytesIO(render_docx(_report(definition), definition)))
    said = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    for place in set(PLACES) - {"slug", "lane"}:  # the slug is no text; the lane is in the PNG
        assert evil(place) in said, place


def test_the_escapes_write_what_markupsafe_and_the_xml_escape_write() -> None:
    said = '<a href="x">Tom & Jerry\'s</a> > €'
    assert html_text(said) == _html_text(said) == str(escape(said))  # markupsafe's, or ours
    assert xml_text(said) == xml_escape(said)


def test_the_word_body_goes_in_at_the_marker_or_the_report_stops(
    definition: WorkflowDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The covenants' part replaces the marker paragraph as python-docx serializes it; were it
    serialized otherwise, the report would silently lack its covenants: it stops instead."""
    monkeypatch.setattr(word, "MARKER_XML", b"<w:p><w:r><w:t>elders</w:t></w:r></w:p>")
    with pytest.raises(RuntimeError, match="marker"):
        render_docx(_report(definition), definition)

"""The progress report as a Word document (python-docx): the ministry edits the annex in Word.

The same content as the Markdown and HTML reports, in Word's own structure so it opens without
repair prompts and edits well: headings (Title, Heading 1-4), real tables for the stage counts
and each covenant's targets, bullet lists for the changes, and the timeline as a PNG picture
(reports/timeline_png.py). The bytes are reproducible: the core properties carry the report's
date instead of the clock, and every zip entry carries a fixed time (python-docx stamps each
part with the time of saving, so the package is written here with python-docx's own
PackageWriter steps into a zip of fixed times).

python-docx builds the document, its properties, the summary and the picture; the covenants'
part (thousands of headings, lists and tables) is written as WordprocessingML text in the same
shapes python-docx makes (Blocks) and spliced into the serialized document at a marker
paragraph: python-docx's own calls cost about 0.1 ms per element and scan the body on every
insert (minutes for a thousand covenants), and parsing the text to elements only to serialize
them again cost as much as writing it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime, time
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.packuri import PackURI
from docx.opc.pkgwriter import PackageWriter
from docx.oxml import parse_xml
from docx.shared import Cm, Length, Pt
from docx.text.paragraph import Paragraph

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.reports.collector import collector_paused
from imvo_workflow.reports.escaped import xml_text as x
from imvo_workflow.reports.fixed_zip import FixedTimeZip, deflated
from imvo_workflow.reports.layout import Entry
from imvo_workflow.reports.memo import Memo
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.render import NO_SINCE, period_lines
from imvo_workflow.reports.timeline_png import lanes_fitting, timeline_pngs
from imvo_workflow.reports.wording import (
    TARGET_HEADERS,
    next_target_text,
    nl,
    people_fields,
    signed_text,
    target_cells,
)

#: The paragraph the covenants' part replaces, as python-docx serializes it.
MARKER = "imvo-workflow: hier komen de convenanten"
MARKER_XML = f"<w:p><w:r><w:t>{MARKER}</w:t></w:r></w:p>".encode()
DOCUMENT_PART = "/word/document.xml"


def _para(doc: DocxDocument, text: str = "", style_id: str | None = None) -> Paragraph:
    """A paragraph in a style of the default template, named by its id.

    python-docx resolves a style *name* by scanning every style of the document on each call
    (about 5 ms here): thousands of paragraphs took a minute. The ids are fixed in its default
    template, so they are set directly (CT_P.style is python-docx's own setter for pStyle).
    """
    paragraph = doc.add_paragraph(text)
    if style_id is not None:
        paragraph._p.style = style_id
    return paragraph


def _heading(doc: DocxDocument, text: str, level: int) -> None:
    _para(doc, text, "Title" if level == 0 else f"Heading{level}")


@collector_paused()
def render_docx(report: ProgressReport, definition: WorkflowDefinition) -> bytes:
    """The report as the bytes of a .docx file.

    A second thread compresses while this one writes: the timeline's pictures, drawn first,
    while the covenants' part is written (a thousand lanes' pictures take some 45 ms), and that
    part, megabytes of text, while the rest of the document is put together (reports/fixed_zip).
    """
    doc = Document()
    with ThreadPoolExecutor(max_workers=1) as encoder:
        pictures = _timeline(doc, report, definition, encoder)
        body = _body(report)
        packed_body = encoder.submit(deflated, *body, last=False)
        _properties(doc, report)
        _heading(doc, "Voortgang IMVO-convenanten", 0)
        stand = f"Stand per {nl(report.as_of)}" + (
            " (zoals bekend op die dag)" if report.known_at else ""
        )
        doc.add_paragraph(stand + ".")
        if report.since:
            doc.add_paragraph(f"Wijzigingen sinds {nl(report.since)}.")
        else:
            doc.add_paragraph(NO_SINCE)
        _summary(doc, report, definition, [picture.result() for picture in pictures])
        doc.add_paragraph(MARKER)
        return _package(doc, body, packed_body)


def _body(report: ProgressReport) -> list[bytes]:
    """The covenants' part: the change section and every covenant's, as WordprocessingML,
    encoded in pieces as it is written (Blocks.encode_written)."""
    blocks = Blocks()
    if report.since:
        blocks.heading(f"Wat is er veranderd sinds {nl(report.since)}", 1)
        for e in report.changed:
            blocks.heading(e.heading, 2)
            blocks.lines((f"{nl(c.on)}: {c.text}" for c in e.changes), "ListBullet")
            if len(blocks.parts) >= ENCODE_EVERY:
                blocks.encode_written()
        if not report.changed:
            blocks.lines(("Geen wijzigingen in deze periode.",))
    for title, entries in report.groups:
        blocks.heading(title, 1)
        for e in entries:
            _entry(blocks, report, e)
            if len(blocks.parts) >= ENCODE_EVERY:
                blocks.encode_written()
    blocks.encode_written()
    return blocks.encoded


#: Blocks written before they are encoded: a few hundred kB of text, encoded while it is still
#: in the processor's cache (the body of a thousand covenants, 8 MB, encoded at its end took
#: twice as long).
ENCODE_EVERY = 800


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: A table's properties as python-docx writes them for the "Table Grid" style.
TABLE_PROPERTIES = (
    '<w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="auto" w:w="0"/>'
    '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
    'w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr>'
)
#: A run of text up to its text, plain or bold; RUN_END closes it.
RUN = {
    False: '<w:r><w:t xml:space="preserve">',
    True: '<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">',
}
RUN_END = "</w:t></w:r>"
#: The text width of python-docx's default page (A4 less margins is less; Word reflows).
TEXT_WIDTH = 8640
#: The timeline's width on the page (wider than the text: Word lets a picture into the margin).
PICTURE_WIDTH = Cm(16.5)
#: A timeline picture must fit an A4 page, and the document's own page if that is shorter
#: (python-docx's template has US Letter, 27.9 cm).
A4_HEIGHT = Cm(29.7)
#: Under a picture on its page: its paragraph's space after (10 pt in the template), the
#: caption's line (9 pt type, single spaced) and its space after (10 pt), with some to spare.
CAPTION_ROOM = Pt(36)
#: The template spaces paragraphs at 1.15 lines (w:line="276"), and Word spaces a line that
#: holds a picture so too.
LINE_SPACING = 1.15
#: The timeline's caption; a timeline of several pictures says which part each one is.
CAPTION = "Tijdlijn{part}: fasen per convenant, met een ruit waar de deadline van elk doel lag."


def _opening(style: str | None) -> str:
    """A paragraph's start tag and properties: its style (an id of the default template)."""
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else "<w:p>"


class _Table:
    """A table's shape for its headers: its start (properties, grid, the bold header row) and
    its cells as written, each once per distinct text (targets repeat their dates and states).
    An empty cell has no run."""

    def __init__(self, headers: tuple[str, ...]) -> None:
        width = TEXT_WIDTH // len(headers)
        opening = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>'
        closing = f"{RUN_END}</w:p></w:tc>"
        empty, plain = f"{opening}</w:p></w:tc>", opening + RUN[False]
        grid = f'<w:gridCol w:w="{width}"/>' * len(headers)
        head = "".join(f"{opening}{RUN[True]}{x(h)}{closing}" if h else empty for h in headers)
        self.start = f"<w:tbl>{TABLE_PROPERTIES}<w:tblGrid>{grid}</w:tblGrid><w:tr>{head}</w:tr>"
        self.cells: Memo[str, str] = Memo(
            lambda text: f"{plain}{x(text)}{closing}" if text else empty
        )


class Blocks:
    """Body blocks (paragraphs, tables) as WordprocessingML text, every text escaped
    (reports/escaped.py), then parsed and moved in, or spliced into the document's part."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        #: The blocks encoded so far (encode_written), in order.
        self.encoded: list[bytes] = []
        #: Each table's shape, by its headers: a thousand covenants' targets tables share one.
        self.tables: Memo[tuple[str, ...], _Table] = Memo(_Table)

    def para(self, runs: list[tuple[str, bool]], style: str | None = None) -> None:
        """A paragraph of runs (text, bold); an empty run is left out."""
        text = "".join(f"{RUN[bold]}{x(said)}{RUN_END}" for said, bold in runs if said)
        self.parts.append(f"{_opening(style)}{text}</w:p>")

    def lines(self, texts: Iterable[str], style: str | None = None) -> None:
        """A paragraph of one plain run for each text: para([(text, False)], style) written
        out, for the thousands of list items and note lines."""
        opening, run = _opening(style), RUN[False]
        self.parts.extend(
            f"{opening}{run}{x(text)}{RUN_END}</w:p>" if text else f"{opening}</w:p>"
            for text in texts
        )

    def heading(self, text: str, level: int) -> None:
        self.lines((text,), f"Heading{level}")

    def field(self, label: str, text: str) -> None:
        """A paragraph "label: text", the label bold: para([(f"{label}: ", True), (text, False)])
        written out, for the five thousand a thousand covenants have."""
        run = f"{RUN[False]}{x(text)}{RUN_END}" if text else ""
        self.parts.append(f"<w:p>{RUN[True]}{x(label)}: {RUN_END}{run}</w:p>")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        """A table in python-docx's "Table Grid" shape: a bold header row, then plain rows."""
        shape = self.tables[tuple(headers)]
        cells = shape.cells.__getitem__
        self.parts.append(shape.start)
        self.parts.extend(f"<w:tr>{''.join(map(cells, values))}</w:tr>" for values in rows)
        self.parts.append("</w:tbl>")

    def text(self) -> str:
        return "".join(self.parts)

    def encode_written(self) -> None:
        """The blocks written so far, as UTF-8, onto `encoded`, and their text let go. Each is
        encoded on its own: most are ASCII (a copy), where one joined text with a single “ in
        it is wider and encodes at a third of the speed."""
        self.encoded.append(b"".join(map(str.encode, self.parts)))
        self.parts.clear()

    def move_to(self, doc: DocxDocument) -> None:
        """Parse every block once and put them at the end of `doc`'s body, in order."""
        body = parse_xml(f'<w:body xmlns:w="{W_NS}">{self.text()}</w:body>')
        end = doc.element.body.sectPr
        assert end is not None
        for block in list(body):
            end.addprevious(block)


def _properties(doc: DocxDocument, report: ProgressReport) -> None:
    moment = datetime.combine(report.as_of, time(0), UTC).replace(tzinfo=None)
    props = doc.core_properties
    props.title = f"Voortgang IMVO-convenanten per {nl(report.as_of)}"
    props.subject = "Voortgangsrapportage IMVO-convenanten"
    props.author = "imvo-workflow"
    props.last_modified_by = "imvo-workflow"
    props.comments = ""
    props.keywords = "IMVO, convenanten, voortgang"
    props.created = moment
    props.modified = moment
    props.last_printed = moment
    props.revision = 1


def _summary(
    doc: DocxDocument,
    report: ProgressReport,
    definition: WorkflowDefinition,
    pictures: list[bytes],
) -> None:
    _heading(doc, "Samenvatting", 1)
    headers = ["Fase"]
    if report.since:
        headers += [f"Op {nl(report.since)}", f"Op {nl(report.as_of)}"]
    else:
        headers += ["Nu in deze fase"]
    headers += ["Dagen in fase (alle convenanten)", "Gemiddeld per verblijf"]
    rows = [
        [s.label]
        + ([str(s.covenants_since)] if report.since else [])
        + [str(s.covenants), str(s.days_total), str(s.days_average)]
        for s in report.stages
    ]
    blocks = Blocks()
    blocks.table(headers, rows)
    blocks.move_to(doc)
    for label, value in period_lines(report):
        paragraph = _para(doc, "", "ListBullet")
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)
    for number, picture in enumerate(pictures, 1):
        doc.add_picture(io.BytesIO(picture), width=PICTURE_WIDTH)
        part = f" (deel {number} van {len(pictures)})" if len(pictures) > 1 else ""
        _para(doc, CAPTION.format(part=part), "Caption")


def _timeline(
    doc: DocxDocument, report: ProgressReport, definition: WorkflowDefinition, encoder: Executor
) -> list[Future[bytes]]:
    """The timeline's pictures, as many as it needs to fit a page each, compressed by
    `encoder`."""
    labels = {name: stage.label.nl for name, stage in definition.stages.items()}
    return timeline_pngs(
        report.lanes,
        report.as_of,
        {name: stage.color for name, stage in definition.stages.items()},
        labels,
        lanes_fitting(picture_room(doc), labels),
        encoder,
    )


def picture_room(doc: DocxDocument) -> float:
    """How tall a timeline picture may be, over its width, to fit on one page with its caption:
    the page (A4, or the document's own if shorter) less the top and bottom margins. A taller
    one ran off the page: a thousand lanes made one picture of 295 cm."""
    section = doc.sections[-1]
    page = min(A4_HEIGHT, section.page_height or A4_HEIGHT)
    margins = (section.top_margin or Length(0)) + (section.bottom_margin or Length(0))
    return (page - margins - CAPTION_ROOM) / LINE_SPACING / PICTURE_WIDTH


def _entry(blocks: Blocks, report: ProgressReport, e: Entry) -> None:
    blocks.heading(e.heading, min(2 + e.level, 4))
    if e.status is None:
        return
    blocks.field("Fase", f"{e.stage_label}, sinds {nl(e.status.since)}")
    for label, value in people_fields(e):
        blocks.field(label, value)
    target = e.status.next_target
    upcoming = (
        next_target_text(target) + (" — te laat" if e.status.overdue else "") if target else "geen"
    )
    blocks.field("Volgend doel", upcoming)
    record = e.record
    if record and record.signatures:
        blocks.field("Ondertekend door", signed_text(record.signatures))
    if record and record.history:
        blocks.para([("Geschiedenis", True)])
        blocks.lines(
            (
                f"{h.seq}. {nl(h.occurred_on)}: {h.description}"
                + (f" (gecorrigeerd in rij {h.corrected_by})" if h.corrected_by else "")
                for h in record.history
            ),
            "ListBullet",
        )
    if record and record.targets:
        blocks.para([(f"Doelen, gepland en werkelijk (stand op {nl(report.as_of)})", True)])
        blocks.table(TARGET_HEADERS, map(target_cells, record.targets))
    if e.note:
        blocks.para(
            [
                ("Voortgang", True),
                (f" (notitie van {nl(e.note.written_on)}, {e.note.author}):", False),
            ]
        )
        blocks.lines(e.note.text.split("\n"))
    if e.summary:
        blocks.lines((e.summary,))


class _PartWriter:
    """python-docx's physical package writer (its write; _package closes the zip) onto a zip of
    fixed entry times (reports/fixed_zip), that puts the covenants' WordprocessingML, deflated
    already, in place of the marker paragraph."""

    def __init__(self, body: list[bytes], packed_body: Future[bytes]) -> None:
        self.zip = FixedTimeZip()
        self.body, self.packed_body = body, packed_body

    def write(self, pack_uri: PackURI, blob: bytes) -> None:
        name = pack_uri.membername
        if pack_uri.ext in STORED_EXTENSIONS:  # a picture is compressed already (PNG)
            self.zip.stored(name, blob)
            return
        if pack_uri != DOCUMENT_PART:
            self.zip.deflate(name, blob)
            return
        before, marker, after = blob.partition(MARKER_XML)
        if not marker or MARKER_XML in after:
            raise RuntimeError("python-docx serialized the marker paragraph differently")
        # the body between the document's start and its end, each deflated on its own, and
        # not joined into one more copy of megabytes
        self.zip.deflated(
            name,
            (before, *self.body, after),
            (deflated(before, last=False), self.packed_body.result(), deflated(after)),
        )


#: Parts stored as they are: pictures, compressed already.
STORED_EXTENSIONS = frozenset({"png", "jpeg", "jpg"})


def _package(doc: DocxDocument, body: list[bytes], packed_body: Future[bytes]) -> bytes:
    """The .docx bytes: python-docx's PackageWriter steps (content types, package rels, every
    part and its rels) into a zip of fixed times, the body spliced in at the marker."""
    package = doc.part.package
    parts = list(package.iter_parts())
    for part in parts:  # as OpcPackage.save does first
        part.before_marshal()
    writer: Any = _PartWriter(body, packed_body)  # python-docx types it as its PhysPkgWriter
    PackageWriter._write_content_types_stream(writer, parts)  # type: ignore[no-untyped-call]
    PackageWriter._write_pkg_rels(writer, package.rels)  # type: ignore[no-untyped-call]
    PackageWriter._write_parts(writer, parts)
    return writer.zip.close()  # type: ignore[no-any-return]

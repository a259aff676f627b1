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
import zipfile
from datetime import UTC, datetime, time
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.packuri import PackURI
from docx.opc.pkgwriter import PackageWriter
from docx.oxml import parse_xml
from docx.shared import Cm
from docx.text.paragraph import Paragraph

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.reports.layout import Entry
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.render import NO_SINCE, period_lines
from imvo_workflow.reports.timeline_png import timeline_png
from imvo_workflow.reports.wording import TARGET_HEADERS, nl, target_cells

#: The time every zip entry carries (the zip format's earliest).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
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


def render_docx(report: ProgressReport, definition: WorkflowDefinition) -> bytes:
    """The report as the bytes of a .docx file."""
    doc = Document()
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
    _summary(doc, report, definition)
    doc.add_paragraph(MARKER)
    blocks = Blocks()
    if report.since:
        blocks.heading(f"Wat is er veranderd sinds {nl(report.since)}", 1)
        for e in report.changed:
            blocks.heading(e.heading, 2)
            for c in e.changes:
                blocks.para([(f"{nl(c.on)}: {c.text}", False)], "ListBullet")
        if not report.changed:
            blocks.para([("Geen wijzigingen in deze periode.", False)])
    for title, entries in report.groups:
        blocks.heading(title, 1)
        for e in entries:
            _entry(blocks, report, e)
    return _package(doc, "".join(blocks.parts).encode())


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: A table's properties as python-docx writes them for the "Table Grid" style.
TABLE_PROPERTIES = (
    '<w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="auto" w:w="0"/>'
    '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
    'w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr>'
)
#: A table cell's paragraph with one plain run, up to its text; an empty cell's paragraph.
RUN = '<w:p><w:r><w:t xml:space="preserve">'
EMPTY = "<w:p></w:p></w:tc>"
#: The text width of python-docx's default page (A4 less margins is less; Word reflows).
TEXT_WIDTH = 8640


class Blocks:
    """Body blocks (paragraphs, tables) as WordprocessingML text, parsed and moved in once."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    @staticmethod
    def _p(runs: list[tuple[str, bool]], style: str | None = None) -> str:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        text = "".join(
            "<w:r>"
            + ("<w:rPr><w:b/></w:rPr>" if bold else "")
            + f'<w:t xml:space="preserve">{escape(said)}</w:t></w:r>'
            for said, bold in runs
            if said
        )
        return f"<w:p>{props}{text}</w:p>"

    def para(self, runs: list[tuple[str, bool]], style: str | None = None) -> None:
        self.parts.append(self._p(runs, style))

    def heading(self, text: str, level: int) -> None:
        self.para([(text, False)], f"Heading{level}")

    def field(self, label: str, text: str) -> None:
        self.para([(f"{label}: ", True), (text, False)])

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        width = TEXT_WIDTH // len(headers)
        cell = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>{{}}</w:tc>'

        def row(values: list[str], bold: bool) -> str:
            return "<w:tr>" + "".join(cell.format(self._p([(v, bold)])) for v in values) + "</w:tr>"

        def plain_row(values: list[str]) -> str:  # row(values, False), written out: the hot path
            return (
                "<w:tr>"
                + "".join(
                    opening + (f"{RUN}{escape(v)}</w:t></w:r></w:p></w:tc>" if v else EMPTY)
                    for v in values
                )
                + "</w:tr>"
            )

        opening = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>'

        grid = f'<w:gridCol w:w="{width}"/>' * len(headers)
        self.parts.append(
            f"<w:tbl>{TABLE_PROPERTIES}<w:tblGrid>{grid}</w:tblGrid>{row(headers, True)}"
            + "".join(plain_row(values) for values in rows)
            + "</w:tbl>"
        )

    def move_to(self, doc: DocxDocument) -> None:
        """Parse every block once and put them at the end of `doc`'s body, in order."""
        body = parse_xml(f'<w:body xmlns:w="{W_NS}">{"".join(self.parts)}</w:body>')
        end = doc.element.body.sectPr
        assert end is not None
        for block in list(body):
            end.addprevious(block)
        self.parts = []


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


def _summary(doc: DocxDocument, report: ProgressReport, definition: WorkflowDefinition) -> None:
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
    picture = timeline_png(
        report.lanes,
        report.as_of,
        {name: stage.color for name, stage in definition.stages.items()},
        {name: stage.label.nl for name, stage in definition.stages.items()},
    )
    doc.add_picture(io.BytesIO(picture), width=Cm(16.5))
    _para(
        doc,
        "Tijdlijn: fasen per convenant, met een ruit waar de deadline van elk doel lag.",
        "Caption",
    )


def _entry(blocks: Blocks, report: ProgressReport, e: Entry) -> None:
    blocks.heading(e.heading, min(2 + e.level, 4))
    if e.status is None:
        return
    blocks.field("Fase", f"{e.stage_label}, sinds {nl(e.status.since)}")
    for label, value in (
        ("Trekker", e.trekker),
        ("Facilitator", e.facilitator),
        ("Kwartiermaker", e.kwartiermaker),
        ("Partijen", ", ".join(e.parties)),
        ("Betrokken", ", ".join(e.involved)),
        ("Niet bij naam genoemd", " ".join(f"“{u}”" for u in e.unnamed)),
    ):
        if value:
            blocks.field(label, value)
    target = e.status.next_target
    upcoming = (
        f"{target.what}: “{target.phrase}” (uiterlijk {nl(target.deadline)})"
        + (" — te laat" if e.status.overdue else "")
        if target
        else "geen"
    )
    blocks.field("Volgend doel", upcoming)
    record = e.record
    if record and record.signatures:
        signed = ", ".join(f"{s.organisation} ({nl(s.signed_on)})" for s in record.signatures)
        blocks.field("Ondertekend door", signed)
    if record and record.history:
        blocks.para([("Geschiedenis", True)])
        for h in record.history:
            line = f"{h.seq}. {nl(h.occurred_on)}: {h.description}"
            if h.corrected_by:
                line += f" (gecorrigeerd in rij {h.corrected_by})"
            blocks.para([(line, False)], "ListBullet")
    if record and record.targets:
        blocks.para([(f"Doelen, gepland en werkelijk (stand op {nl(report.as_of)})", True)])
        blocks.table(list(TARGET_HEADERS), [list(target_cells(v)) for v in record.targets])
    if e.note:
        blocks.para(
            [
                ("Voortgang", True),
                (f" (notitie van {nl(e.note.written_on)}, {e.note.author}):", False),
            ]
        )
        for part in e.note.text.split("\n"):
            blocks.para([(part, False)])
    if e.summary:
        blocks.para([(e.summary, False)])


class _FixedTimeZip:
    """python-docx's physical package writer (write, close), with fixed entry times, that
    puts the covenants' WordprocessingML in place of the marker paragraph."""

    def __init__(self, out: io.BytesIO, body: bytes) -> None:
        self.zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
        self.body = body

    def write(self, pack_uri: PackURI, blob: bytes) -> None:
        if pack_uri == DOCUMENT_PART:
            if blob.count(MARKER_XML) != 1:
                raise RuntimeError("python-docx serialized the marker paragraph differently")
            blob = blob.replace(MARKER_XML, self.body)
        info = zipfile.ZipInfo(pack_uri.membername, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, blob, compresslevel=COMPRESS_LEVEL)

    def close(self) -> None:
        self.zip.close()


#: zlib's level for the parts: the document of a thousand covenants is megabytes of text,
#: and level 1 compresses it about as well as the default in a fraction of the time.
COMPRESS_LEVEL = 1


def _package(doc: DocxDocument, body: bytes) -> bytes:
    """The .docx bytes: python-docx's PackageWriter steps (content types, package rels, every
    part and its rels) into a zip of fixed times, the body spliced in at the marker."""
    package = doc.part.package
    parts = list(package.iter_parts())
    for part in parts:  # as OpcPackage.save does first
        part.before_marshal()
    out = io.BytesIO()
    writer: Any = _FixedTimeZip(out, body)  # python-docx types it as its PhysPkgWriter
    PackageWriter._write_content_types_stream(writer, parts)  # type: ignore[no-untyped-call]
    PackageWriter._write_pkg_rels(writer, package.rels)  # type: ignore[no-untyped-call]
    PackageWriter._write_parts(writer, parts)
    writer.close()
    return out.getvalue()

"""The progress report as a Word document (python-docx): the ministry edits the annex in Word.

The same content as the Markdown and HTML reports, in Word's own structure so it opens without
repair prompts and edits well: headings (Title, Heading 1-4), real tables for the stage counts
and each covenant's targets, bullet lists for the changes, and the timeline as a PNG picture
(reports/timeline_png.py). The bytes are reproducible: the core properties carry the report's
date instead of the clock, and the zip is written again with fixed entry times (python-docx
stamps each part with the time of saving).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, time

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Cm

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.reports.layout import Entry
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.render import NO_SINCE, period_lines
from imvo_workflow.reports.timeline_png import timeline_png
from imvo_workflow.reports.wording import TARGET_HEADERS, nl, target_cells

#: The time every zip entry carries (the zip format's earliest).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def render_docx(report: ProgressReport, definition: WorkflowDefinition) -> bytes:
    """The report as the bytes of a .docx file."""
    doc = Document()
    _properties(doc, report)
    doc.add_heading("Voortgang IMVO-convenanten", level=0)
    stand = f"Stand per {nl(report.as_of)}" + (
        " (zoals bekend op die dag)" if report.known_at else ""
    )
    doc.add_paragraph(stand + ".")
    if report.since:
        doc.add_paragraph(f"Wijzigingen sinds {nl(report.since)}.")
    else:
        doc.add_paragraph(NO_SINCE)
    _summary(doc, report, definition)
    if report.since:
        doc.add_heading(f"Wat is er veranderd sinds {nl(report.since)}", level=1)
        for e in report.changed:
            doc.add_heading(e.heading, level=2)
            for c in e.changes:
                doc.add_paragraph(f"{nl(c.on)}: {c.text}", style="List Bullet")
        if not report.changed:
            doc.add_paragraph("Geen wijzigingen in deze periode.")
    for title, entries in report.groups:
        doc.add_heading(title, level=1)
        for e in entries:
            _entry(doc, report, e)
    return _fixed_zip(doc)


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
    doc.add_heading("Samenvatting", level=1)
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
    _table(doc, headers, rows)
    for label, value in period_lines(report):
        paragraph = doc.add_paragraph(style="List Bullet")
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)
    picture = timeline_png(
        report.lanes,
        report.as_of,
        {name: stage.color for name, stage in definition.stages.items()},
        {name: stage.label.nl for name, stage in definition.stages.items()},
    )
    doc.add_picture(io.BytesIO(picture), width=Cm(16.5))
    doc.add_paragraph(
        "Tijdlijn: fasen per convenant, met een ruit waar de deadline van elk doel lag.",
        style="Caption",
    )


def _table(doc: DocxDocument, headers: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text


def _field(doc: DocxDocument, label: str, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(text)


def _entry(doc: DocxDocument, report: ProgressReport, e: Entry) -> None:
    doc.add_heading(e.heading, level=min(2 + e.level, 4))
    if e.status is None:
        return
    _field(doc, "Fase", f"{e.stage_label}, sinds {nl(e.status.since)}")
    for label, value in (
        ("Trekker", e.trekker),
        ("Facilitator", e.facilitator),
        ("Kwartiermaker", e.kwartiermaker),
        ("Partijen", ", ".join(e.parties)),
        ("Betrokken", ", ".join(e.involved)),
        ("Niet bij naam genoemd", " ".join(f"“{u}”" for u in e.unnamed)),
    ):
        if value:
            _field(doc, label, value)
    target = e.status.next_target
    upcoming = (
        f"{target.what}: “{target.phrase}” (uiterlijk {nl(target.deadline)})"
        + (" — te laat" if e.status.overdue else "")
        if target
        else "geen"
    )
    _field(doc, "Volgend doel", upcoming)
    record = e.record
    if record and record.signatures:
        signed = ", ".join(f"{s.organisation} ({nl(s.signed_on)})" for s in record.signatures)
        _field(doc, "Ondertekend door", signed)
    if record and record.history:
        doc.add_paragraph().add_run("Geschiedenis").bold = True
        for h in record.history:
            line = f"{h.seq}. {nl(h.occurred_on)}: {h.description}"
            if h.corrected_by:
                line += f" (gecorrigeerd in rij {h.corrected_by})"
            doc.add_paragraph(line, style="List Bullet")
    if record and record.targets:
        doc.add_paragraph().add_run(
            f"Doelen, gepland en werkelijk (stand op {nl(report.as_of)})"
        ).bold = True
        _table(doc, list(TARGET_HEADERS), [list(target_cells(v)) for v in record.targets])
    if e.note:
        intro = doc.add_paragraph()
        intro.add_run("Voortgang").bold = True
        intro.add_run(f" (notitie van {nl(e.note.written_on)}, {e.note.author}):")
        for part in e.note.text.split("\n"):
            doc.add_paragraph(part)
    if e.summary:
        doc.add_paragraph(e.summary)


def _fixed_zip(doc: DocxDocument) -> bytes:
    saved = io.BytesIO()
    doc.save(saved)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(saved) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(item.filename))
    return out.getvalue()

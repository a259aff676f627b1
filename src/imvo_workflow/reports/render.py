"""Rendering the progress report: Markdown, a printable HTML page, or a Word document.

Markdown and HTML come from the Jinja templates beside this module, the HTML's covenant and
change sections from reports/html_sections.py; Word from reports/word.py. Every format says
the same things in the same words (reports/wording.py), and the same report gives the same
bytes every time (no clock, no random ids), so an issued report can be proven by its hash.
`-o FILE` picks the format from the file's extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.reports.collector import collector_paused
from imvo_workflow.reports.html_sections import html_sections
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.summary import PeriodSummary
from imvo_workflow.reports.wording import TARGET_HEADERS, nl, target_cells

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("md", "html", "docx")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
NO_SINCE = (
    "Er is geen vergelijkingsdatum: er is nog geen rapport uitgebracht vóór deze peildatum en "
    "er is geen --since gegeven. Dit rapport heeft daarom geen overzicht van wat er veranderd is."
)


def period_lines(report: ProgressReport) -> list[tuple[str, str]]:
    """The summary's lines under the stage table: signed, targets met, targets open."""
    p: PeriodSummary = report.period
    where = "in de periode" if report.since else f"tot {nl(report.as_of)}"
    signed = f"{len(p.signed)}" + (f" ({', '.join(p.signed)})" if p.signed else "")
    return [
        (f"Ondertekend {where}", signed),
        (f"Doelen gehaald {where}", f"{p.met_on_time} op tijd, {p.met_late} te laat"),
        (
            f"Doelen open op {nl(report.as_of)}",
            f"{p.open_overdue} over de deadline, {p.open_on_track} nog binnen de termijn",
        ),
    ]


def _cell(text: str) -> str:
    """Text as one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["nl"] = nl
_env.filters["cell"] = _cell
_env.globals.update(
    target_cells=target_cells,
    TARGET_HEADERS=TARGET_HEADERS,
    period_lines=period_lines,
    NO_SINCE=NO_SINCE,
)


@collector_paused()
def render(
    report: ProgressReport,
    definition: WorkflowDefinition,
    fmt: str,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The report as Markdown or HTML text; `links` (label, href) are download links the web
    page shows above an HTML report (never part of a file)."""
    if fmt not in ("md", "html"):
        raise InvalidInput(f"Onbekend tekstformaat '{fmt}'; kies md of html.")
    template = _env.get_template(f"report.{fmt}.j2")
    if fmt == "md":
        return template.render(report=report)
    colors = {name: stage.color for name, stage in definition.stages.items()}
    page = template.render(
        report=report, links=list(links), timeline=_TIMELINE_MARK, sections=_SECTIONS_MARK
    )
    before, rest = _split_once(page, _TIMELINE_MARK)
    between, after = _split_once(rest, _SECTIONS_MARK)
    return "".join([before, report.timeline, between, *html_sections(report, colors), after])


#: Where the page's two large parts go: the template writes these marks, and the page is
#: joined once around them (made in the template, the timeline and the sections were copied
#: three times each, a tenth of the rendering).
_TIMELINE_MARK = Markup("\x00timeline\x00")
_SECTIONS_MARK = Markup("\x00sections\x00")


def _split_once(page: str, mark: str) -> tuple[str, str]:
    before, found, after = page.partition(mark)
    if not found or mark in after:
        raise RuntimeError(f"the report template must write {mark!r} exactly once")
    return before, after


def render_bytes(report: ProgressReport, definition: WorkflowDefinition, fmt: str) -> bytes:
    """The report as the bytes of a file in `fmt` (md, html or docx)."""
    check_format(fmt)
    if fmt == "docx":
        from imvo_workflow.reports.word import render_docx

        return render_docx(report, definition)
    return render(report, definition, fmt).encode("utf-8")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"Onbekend formaat '{fmt}'; kies uit {', '.join(FORMATS)}.")
    return fmt


def format_for(output: Path | None, fmt: str | None) -> str:
    """The format a command writes: from `--format`, else from the extension of `-o FILE`
    (.md, .html, .docx), else md; an unknown extension or one that contradicts `--format` is
    refused."""
    if fmt is not None:
        check_format(fmt)
    if output is None:
        return fmt or "md"
    ext = output.suffix.lower().lstrip(".")
    ext = {"htm": "html", "markdown": "md"}.get(ext, ext)
    if ext not in FORMATS:
        raise InvalidInput(
            f"{output.name}: onbekende extensie '{output.suffix or '(geen)'}'; gebruik .md, "
            ".html of .docx (of geef --format)."
        )
    if fmt is not None and fmt != ext:
        raise InvalidInput(
            f"--format {fmt} past niet bij {output.name} (een .{ext}-bestand); kies één van beide."
        )
    return ext

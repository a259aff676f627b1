"""The HTML report's long part: what changed, and a section per covenant.

The page (head, summary, timeline) is the Jinja template's; these sections, tens of thousands of
lines for a thousand covenants, are written here, each value escaped (reports/escaped.py), in
the same bytes the template wrote them. Through the template, autoescape made a Markup object
for each of some 80,000 values and the sections cost three times the rest of the page.
"""

from __future__ import annotations

from imvo_workflow.reports.escaped import html_text as h
from imvo_workflow.reports.layout import Entry
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.record_lines import RecordLines
from imvo_workflow.reports.wording import (
    TARGET_HEADERS,
    next_target_text,
    nl,
    people_fields,
    signed_text,
    target_cells,
)

#: A target's row starts so, by whether it is overdue.
ROW_START = {False: "<tr>", True: '<tr class="overdue">'}
TARGETS_HEAD = (
    '  <table class="targets">\n'
    "    <caption>Doelen, gepland en werkelijk (stand op {})</caption>\n"
    "    <thead><tr>"
    + "".join(f'<th scope="col">{header}</th>' for header in TARGET_HEADERS)
    + "</tr></thead>\n    <tbody>\n"
)


def html_sections(report: ProgressReport, colors: dict[str, str]) -> list[str]:
    """The change section (given a since-date) and every group's covenants, as pieces of safe
    HTML (the page joins them once, with the rest of it: reports/render.py)."""
    out: list[str] = []
    if report.since:
        _changes(out, report)
    for title, entries in report.groups:
        out.append(f"<h2>{h(title)}</h2>\n")
        for e in entries:
            _covenant(out, report, e, colors)
    return out


def _changes(out: list[str], report: ProgressReport) -> None:
    assert report.since is not None
    out.append(
        '<section class="changes" aria-labelledby="veranderd">\n'
        f'<h2 id="veranderd">Wat is er veranderd sinds {nl(report.since)}</h2>\n'
    )
    changed = report.changed
    for e in changed:
        out.append(f'<h3>{h(e.heading)}</h3>\n<ul class="changes">\n')
        out.extend(
            f'  <li><time datetime="{c.on.isoformat()}">{nl(c.on)}</time>: {h(c.text)}</li>\n'
            for c in e.changes
        )
        out.append("</ul>\n")
    if not changed:
        out.append("<p>Geen wijzigingen in deze periode.</p>\n")
    out.append("</section>\n")


def _covenant(out: list[str], report: ProgressReport, e: Entry, colors: dict[str, str]) -> None:
    """One covenant's section: its heading, and with a stage its facts, targets and note."""
    heading = f"<h{3 + e.level}>{h(e.heading)}</h{3 + e.level}>"
    if e.status is None:
        out.append(f'<section class="covenant level-{e.level}">\n  {heading}\n</section>\n')
        return
    out.append(f'<section class="covenant level-{e.level}" id="{h(e.status.slug)}">\n  {heading}\n')
    _facts(out, e, colors)
    if e.record and e.record.targets:
        _targets(out, report, e.record)
    if e.note:
        out.append(
            '  <div class="note">\n'
            f"    <p><strong>Voortgang</strong> (notitie van {nl(e.note.written_on)}, "
            f"{h(e.note.author)}):</p>\n    <p>{h(e.note.text)}</p>\n  </div>\n"
        )
    if e.summary:
        out.append(f'<p class="summary-text">{h(e.summary)}</p>')
    out.append("</section>\n")


def _facts(out: list[str], e: Entry, colors: dict[str, str]) -> None:
    """The covenant's list of facts: stage, people, next target, signatures, history."""
    assert e.status is not None
    out.append(
        f'  <dl>\n    <dt>Fase</dt><dd><span class="stage" style="background: '
        f'{h(colors[e.status.stage])}">{h(e.stage_label)}</span> sinds {nl(e.status.since)}</dd>\n'
    )
    for label, value in people_fields(e):
        out.append(f"<dt>{label}</dt><dd>{h(value)}</dd>")
    target = e.status.next_target
    upcoming = "geen" if target is None else h(next_target_text(target))
    if target is not None and e.status.overdue:
        upcoming += ' <span class="overdue">te laat</span>'
    out.append(f"    <dt>Volgend doel</dt>\n    <dd>{upcoming}</dd>\n")
    if e.record:
        _record(out, e.record)
    out.append("  </dl>\n")


def _record(out: list[str], record: RecordLines) -> None:
    """Who signed, and the history of the period, corrected entries marked."""
    if record.signatures:
        out.append(f"<dt>Ondertekend door</dt><dd>{h(signed_text(record.signatures))}</dd>")
    if record.history:
        out.append('<dt>Geschiedenis</dt><dd><ol class="record">')
        out.extend(
            f'<li value="{line.seq}">{nl(line.occurred_on)}: {h(line.description)}'
            + (f" <em>(gecorrigeerd in rij {line.corrected_by})</em>" if line.corrected_by else "")
            + "</li>"
            for line in record.history
        )
        out.append("</ol></dd>")


def _targets(out: list[str], report: ProgressReport, record: RecordLines) -> None:
    """Every target planned against actual, an overdue one's row marked."""
    out.append(TARGETS_HEAD.format(nl(report.as_of)))
    out.extend(
        f"{ROW_START[target.overdue]}<td>{'</td><td>'.join(map(h, target_cells(target)))}</td></tr>\n"
        for target in record.targets
    )
    out.append("    </tbody>\n  </table>\n")

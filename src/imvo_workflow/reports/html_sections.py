"""The HTML report's long part: what changed, and a section per covenant.

The page (head, summary, timeline) is the Jinja template's; these sections, tens of thousands of
lines for a thousand covenants, are written here, each value escaped (reports/escaped.py), in
the same bytes the template wrote them. Through the template, autoescape made a Markup object
for each of some 80,000 values and the sections cost three times the rest of the page.
"""

from __future__ import annotations

from markupsafe import Markup

from imvo_workflow.reports.escaped import Escaped, html_escape
from imvo_workflow.reports.layout import Entry
from imvo_workflow.reports.progress import ProgressReport
from imvo_workflow.reports.record_lines import RecordLines
from imvo_workflow.reports.wording import (
    TARGET_HEADERS,
    next_target_text,
    nl,
    quoted,
    signed_text,
    target_cells,
)

#: A target's row (its cells: TARGET_HEADERS), by whether it is overdue.
_CELLS = "<td>{}</td>" * len(TARGET_HEADERS) + "</tr>\n"
TARGET_ROW = {False: "<tr>" + _CELLS, True: '<tr class="overdue">' + _CELLS}
TARGETS_HEAD = (
    '  <table class="targets">\n'
    "    <caption>Doelen, gepland en werkelijk (stand op {})</caption>\n"
    "    <thead><tr>"
    + "".join(f'<th scope="col">{header}</th>' for header in TARGET_HEADERS)
    + "</tr></thead>\n    <tbody>\n"
)


def html_sections(report: ProgressReport, colors: dict[str, str]) -> Markup:
    """The change section (given a since-date) and every group's covenants, as safe HTML."""
    out = Escaped(html_escape)
    if report.since:
        _changes(out, report)
    for title, entries in report.groups:
        out.add("<h2>{}</h2>\n", title)
        for e in entries:
            _covenant(out, report, e, colors)
    return Markup(out.text())


def _changes(out: Escaped, report: ProgressReport) -> None:
    assert report.since is not None
    out.add(
        '<section class="changes" aria-labelledby="veranderd">\n'
        '<h2 id="veranderd">Wat is er veranderd sinds {}</h2>\n',
        nl(report.since),
    )
    changed = report.changed
    for e in changed:
        out.add('<h3>{}</h3>\n<ul class="changes">\n', e.heading)
        for c in e.changes:
            out.add(
                '  <li><time datetime="{}">{}</time>: {}</li>\n', c.on.isoformat(), nl(c.on), c.text
            )
        out.add("</ul>\n")
    if not changed:
        out.add("<p>Geen wijzigingen in deze periode.</p>\n")
    out.add("</section>\n")


def _covenant(out: Escaped, report: ProgressReport, e: Entry, colors: dict[str, str]) -> None:
    """One covenant's section: its heading, and with a stage its facts, targets and note."""
    level, tag = str(e.level), str(3 + e.level)
    if e.status is None:
        out.add(
            '<section class="covenant level-{}">\n  <h{}>{}</h{}>\n</section>\n',
            level, tag, e.heading, tag,
        )  # fmt: skip
        return
    out.add(
        '<section class="covenant level-{}" id="{}">\n  <h{}>{}</h{}>\n',
        level, e.status.slug, tag, e.heading, tag,
    )  # fmt: skip
    _facts(out, e, colors)
    if e.record and e.record.targets:
        _targets(out, report, e.record)
    if e.note:
        out.add(
            '  <div class="note">\n'
            "    <p><strong>Voortgang</strong> (notitie van {}, {}):</p>\n"
            "    <p>{}</p>\n  </div>\n",
            nl(e.note.written_on),
            e.note.author,
            e.note.text,
        )
    if e.summary:
        out.add('<p class="summary-text">{}</p>', e.summary)
    out.add("</section>\n")


def _facts(out: Escaped, e: Entry, colors: dict[str, str]) -> None:
    """The covenant's list of facts: stage, people, next target, signatures, history."""
    assert e.status is not None
    out.add(
        '  <dl>\n    <dt>Fase</dt><dd><span class="stage" style="background: {}">{}</span>'
        " sinds {}</dd>\n",
        colors[e.status.stage],
        e.stage_label,
        nl(e.status.since),
    )
    for template, value in (
        ("<dt>Trekker</dt><dd>{}</dd>", e.trekker),
        ("<dt>Facilitator</dt><dd>{}</dd>", e.facilitator),
        ("<dt>Kwartiermaker</dt><dd>{}</dd>", e.kwartiermaker),
        ("<dt>Partijen</dt><dd>{}</dd>", ", ".join(e.parties)),
        ("<dt>Betrokken</dt><dd>{}</dd>", ", ".join(e.involved)),
        ("<dt>Niet bij naam genoemd</dt><dd>{}</dd>", quoted(e.unnamed)),
    ):
        if value:
            out.add(template, value)
    target = e.status.next_target
    if target is None:
        out.add("    <dt>Volgend doel</dt>\n    <dd>geen</dd>\n")
    elif e.status.overdue:
        out.add(
            '    <dt>Volgend doel</dt>\n    <dd>{} <span class="overdue">te laat</span></dd>\n',
            next_target_text(target),
        )
    else:
        out.add("    <dt>Volgend doel</dt>\n    <dd>{}</dd>\n", next_target_text(target))
    if e.record:
        _record(out, e.record)
    out.add("  </dl>\n")


def _record(out: Escaped, record: RecordLines) -> None:
    """Who signed, and the history of the period, corrected entries marked."""
    if record.signatures:
        out.add("<dt>Ondertekend door</dt><dd>{}</dd>", signed_text(record.signatures))
    if record.history:
        out.add('<dt>Geschiedenis</dt><dd><ol class="record">')
        for h in record.history:
            if h.corrected_by:
                out.add(
                    '<li value="{}">{}: {} <em>(gecorrigeerd in rij {})</em></li>',
                    str(h.seq),
                    nl(h.occurred_on),
                    h.description,
                    str(h.corrected_by),
                )
            else:
                out.add('<li value="{}">{}: {}</li>', str(h.seq), nl(h.occurred_on), h.description)
        out.add("</ol></dd>")


def _targets(out: Escaped, report: ProgressReport, record: RecordLines) -> None:
    """Every target planned against actual, an overdue one's row marked."""
    out.add(TARGETS_HEAD, nl(report.as_of))
    for target in record.targets:
        out.add(TARGET_ROW[target.overdue], *target_cells(target))
    out.add("    </tbody>\n  </table>\n")

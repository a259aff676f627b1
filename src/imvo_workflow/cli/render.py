"""Rich rendering of the read-side answers for the terminal (Dutch labels).

Tables must stay readable in an 80-column terminal: dates, times and short marks never wrap
or get cut (`no_wrap` with a `min_width`), names fold, free text wraps. Rich shrinks only the
columns that may wrap, so the columns that may not must fit side by side in 80 columns. On a
narrow terminal (below NARROW) `imvo status` leaves out the sector (`imvo show` has it) and
puts TE LAAT under the deadline, and a text cell that holds a date gets a fixed width, so it
wraps beside the date instead of through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.services.queries import (
    CovenantDetail,
    HistoryEntry,
    StatusRow,
    TargetChangeView,
    TargetView,
)

if TYPE_CHECKING:  # only named in annotations: a status need not import them
    from imvo_workflow.services.alert_queries import AlertView, DeadlineView
    from imvo_workflow.services.signatures import SignatureView

#: A target's status as people read it.
TARGET_STATUS = {"open": "open", "met": "gehaald", "cancelled": "vervallen"}

#: Below this width `imvo status` drops its sector column.
NARROW = 100
DATE = len("2016-11-01")


def _stage_label(definition: WorkflowDefinition, row: StatusRow) -> str:
    # imported on use: services.continuation brings the move machinery, a JSON status none
    from imvo_workflow.services.continuation import stage_label

    return stage_label(definition, row)


def _dagen(count: int) -> str:
    from imvo_workflow.notify.message import dagen  # with the alert rules (and holidays)

    return dagen(count)


def _fixed(table: Table, header: str, width: int = DATE) -> None:
    """A column that is never wrapped or cut: dates, numbers, short marks."""
    table.add_column(header, no_wrap=True, min_width=width)


def _text(table: Table, header: str, overflow: Literal["fold", "ellipsis"] = "fold") -> None:
    """A column that wraps at spaces (and folds a word longer than the column)."""
    table.add_column(header, overflow=overflow)


def _dated(console: Console, table: Table, header: str, width: int = DATE) -> None:
    """Text with a date in it ("Q1 van 2017 (2017-03-31)"): wraps between words, not inside
    the date. Rich may shrink a wrapping column below its min_width when the table is too
    wide, so on a narrow terminal the column gets exactly `width`."""
    if console.width < NARROW:
        table.add_column(header, width=width)
    else:
        table.add_column(header, min_width=width)


def _moment(at: datetime) -> str:
    """A stored moment in Dutch time; wraps between date and time rather than cutting either."""
    return f"{at.astimezone(AMSTERDAM):%Y-%m-%d %H:%M}"


def _label(definition: WorkflowDefinition, stage: str | None) -> str:
    if stage is None:
        return "—"
    found = definition.stages.get(stage)
    return found.label.nl if found else stage


def _target(target: TargetView | None) -> tuple[str, str]:
    if target is None:
        return "—", ""
    return f"{target.what}: {target.phrase}", target.deadline.isoformat()


def render_status(console: Console, rows: list[StatusRow], definition: WorkflowDefinition) -> None:
    wide = console.width >= NARROW
    table = Table(title="IMVO-convenanten")
    _text(table, "Convenant")
    if wide:
        _text(table, "Sector")
    _text(table, "Fase")
    _fixed(table, "Sinds")
    _text(table, "Volgend doel")
    _fixed(table, "Deadline")
    if wide:
        _fixed(table, "", len("TE LAAT"))
    for row in rows:
        what, deadline = _target(row.next_target)
        name = f"  ↳ {row.slug}" if row.parent else row.slug
        late = "[bold red]TE LAAT[/]" if row.overdue else ""
        if wide:
            cells = [name, row.sector, _stage_label(definition, row)]
            ends = [deadline, late]
        else:
            cells = [name, _stage_label(definition, row)]
            ends = [f"{deadline}\n{late}" if late else deadline]
        table.add_row(*cells, row.since.isoformat(), what, *ends)
    console.print(table)


def render_detail(
    console: Console,
    found: CovenantDetail,
    definition: WorkflowDefinition,
    signed: Sequence[SignatureView] = (),
) -> None:
    s = found.status
    console.print(f"[bold]{s.title}[/] ({s.slug}) — sector {s.sector}, {s.group}")
    console.print(
        f"Fase: [bold]{escape(_stage_label(definition, s))}[/] sinds {s.since.isoformat()} (versie {s.version})"
    )
    if found.summary:
        console.print(found.summary, highlight=False)
    for note in found.notes:
        console.print(f"• {note}", highlight=False)
    parties = Table(title="Betrokken organisaties")
    for column in ("Rol", "Organisatie", "Soort"):
        _text(parties, column)
    for party in found.parties:
        name = f"{party.name} ({party.full_name})" if party.full_name else party.name
        parties.add_row(party.role, name, party.kind)
    console.print(parties)
    signatures = Table(title="Ondertekend door")
    _text(signatures, "Organisatie")
    _fixed(signatures, "Datum")
    for signature in signed:
        signatures.add_row(signature.organisation, signature.signed_on.isoformat())
    if not signed:
        signatures.add_row("— (niemand vastgelegd)", "")
    console.print(signatures)
    render_targets(console, found.targets)
    render_history(console, s.slug, found.history)


def late(target: TargetView) -> str:
    """Planned against actual in words: "3 dagen te laat", "2 dagen vroeg", "op tijd"."""
    if target.days_late is None:
        return ""
    if target.days_late == 0:
        return "op tijd"
    if target.days_late > 0:
        return f"{_dagen(target.days_late)} te laat"
    return f"{_dagen(-target.days_late)} vroeg"


def render_targets(console: Console, targets: Sequence[TargetView]) -> None:
    """Every target, planned against actual: deadline, closed on, days late or early."""
    table = Table(title="Doelen: gepland en werkelijk")
    _fixed(table, "ID", 2)
    _text(table, "Doel")
    _text(table, "Termijn")
    _fixed(table, "Deadline")
    _text(table, "Status")
    _fixed(table, "Gesloten")
    _text(table, "Verschil")
    for target in targets:
        state = "[bold red]te laat[/]" if target.overdue else TARGET_STATUS[target.status]
        if target.close_reason:
            state += f" ({target.close_reason})"
        table.add_row(
            str(target.id),
            target.what,
            target.phrase,
            target.deadline.isoformat(),
            state,
            target.closed_on.isoformat() if target.closed_on else "",
            late(target),
        )
    console.print(table)


def render_history(console: Console, name: str, rows: list[HistoryEntry]) -> None:
    table = Table(title=f"Geschiedenis van {name}")
    _fixed(table, "#", 1)
    _fixed(table, "Datum")
    for column in ("Wat", "Door", "Reden"):
        _text(table, column)
    _dated(console, table, "Vastgelegd")
    for row in rows:
        what = escape(row.description or f"{row.from_stage or '—'} → {row.to_stage}")
        if row.corrected_by is not None:
            what += f" [italic](gecorrigeerd in rij {row.corrected_by})[/]"
        table.add_row(
            str(row.seq),
            row.occurred_on.isoformat(),
            what,
            row.actor,
            row.reason,
            _moment(row.recorded_at),
        )
    console.print(table)


def render_stages(console: Console, definition: WorkflowDefinition) -> None:
    table = Table(title=f"Workflow versie {definition.version}")
    for column in ("Fase", "Label", "Overgangen"):
        _text(table, column)
    for name, stage in definition.stages.items():
        marks = " (begin)" if stage.initial else " (eind)" if stage.terminal else ""
        moves = ", ".join(f"{t.trigger} → {t.dest}" for t in definition.allowed(name)) or "—"
        table.add_row(name + marks, f"{stage.label.nl} / {stage.label.en}", moves)
    console.print(table)


def render_target_changes(console: Console, name: str, changes: list[TargetChangeView]) -> None:
    table = Table(title=f"Doelen van {name}: geschiedenis")
    _text(table, "Doel")
    _dated(console, table, "Was", len("(2017-03-31)"))
    _dated(console, table, "Wordt", len("(2017-03-31)"))
    _text(table, "Door")
    _text(table, "Reden")
    _dated(console, table, "Op")
    for c in changes:
        was = f"{c.old_phrase} ({c.old_deadline})" if c.old_phrase else "—"
        table.add_row(
            c.what,
            was,
            f"{c.new_phrase} ({c.new_deadline})",
            c.actor,
            c.reason,
            _moment(c.changed_at),
        )
    console.print(table)


def render_deadlines(console: Console, rows: list[DeadlineView], within: int, today: date) -> None:
    table = Table(title=f"Deadlines tot en met {_dagen(within)} vooruit (peildatum {today})")
    for column in ("Convenant", "Doel", "Termijn"):
        _text(table, column)
    _fixed(table, "Deadline")
    _fixed(table, "", len("nog 30 dagen"))
    for r in rows:
        state = (
            f"[bold red]{_dagen(-r.days_left)} te laat[/]"
            if r.overdue
            else f"nog {_dagen(r.days_left)}"
        )
        table.add_row(r.covenant, r.what, r.phrase, r.deadline.isoformat(), state)
    console.print(table)


def _delivery_state(row: AlertView) -> str:
    if row.superseded_by:
        return "overgeslagen"
    return f"{row.delivered}/{row.deliveries}" + (f" ({row.failed} mislukt)" if row.failed else "")


def render_alerts(console: Console, rows: list[AlertView]) -> None:
    table = Table(title="Meldingen")
    _fixed(table, "ID", 2)
    _text(table, "Soort")
    _text(table, "Convenant")
    _text(table, "Doel")
    _fixed(table, "Deadline")
    _fixed(table, "Verstuurd", 3)
    _dated(console, table, "Afgehandeld", len("Afgehandeld"))
    for r in rows:
        acked = f"{r.acked_by} {r.acked_at:%Y-%m-%d}" if r.acked_at else ""
        table.add_row(
            str(r.id),
            r.kind,
            r.covenant or "",
            r.what,
            str(r.deadline or ""),
            _delivery_state(r),
            acked,
        )
    console.print(table)

"""Rich rendering of the read-side answers for the terminal (Dutch labels)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.services.queries import CovenantDetail, HistoryEntry, StatusRow, TargetView


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
    table = Table(title="IMVO-convenanten", show_lines=False)
    table.add_column("Convenant", no_wrap=True)
    table.add_column("Sector")
    table.add_column("Fase", no_wrap=True)
    table.add_column("Sinds", no_wrap=True)
    table.add_column("Volgend doel", ratio=1)
    table.add_column("Deadline", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in rows:
        what, deadline = _target(row.next_target)
        name = f"  ↳ {row.slug}" if row.parent else row.slug
        table.add_row(
            name,
            row.sector,
            _label(definition, row.stage),
            row.since.isoformat(),
            what,
            deadline,
            "[bold red]TE LAAT[/]" if row.overdue else "",
        )
    console.print(table)


def render_detail(console: Console, found: CovenantDetail, definition: WorkflowDefinition) -> None:
    s = found.status
    console.print(f"[bold]{s.title}[/] ({s.slug}) — sector {s.sector}, {s.group}")
    console.print(
        f"Fase: [bold]{_label(definition, s.stage)}[/] sinds {s.since.isoformat()} (versie {s.version})"
    )
    if found.summary:
        console.print(found.summary, highlight=False)
    for note in found.notes:
        console.print(f"• {note}", highlight=False)
    parties = Table(title="Betrokken organisaties")
    for column in ("Rol", "Organisatie", "Soort"):
        parties.add_column(column)
    for party in found.parties:
        name = f"{party.name} ({party.full_name})" if party.full_name else party.name
        parties.add_row(party.role, name, party.kind)
    console.print(parties)
    targets = Table(title="Doelen")
    for column in ("Doel", "Termijn", "Periode", "Status"):
        targets.add_column(column)
    for target in found.targets:
        state = "[bold red]te laat[/]" if target.overdue else target.status
        targets.add_row(
            target.what, target.phrase, f"{target.period_start} t/m {target.deadline}", state
        )
    console.print(targets)
    render_history(console, s.slug, found.history)


def render_history(console: Console, name: str, rows: list[HistoryEntry]) -> None:
    table = Table(title=f"Geschiedenis van {name}")
    for column in ("#", "Datum", "Van", "Naar", "Door", "Reden", "Vastgelegd"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.seq),
            row.occurred_on.isoformat(),
            row.from_stage or "—",
            row.to_stage,
            row.actor,
            row.reason,
            row.recorded_at.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


def render_stages(console: Console, definition: WorkflowDefinition) -> None:
    table = Table(title=f"Workflow versie {definition.version}")
    for column in ("Fase", "Label", "Overgangen"):
        table.add_column(column)
    for name, stage in definition.stages.items():
        marks = " (begin)" if stage.initial else " (eind)" if stage.terminal else ""
        moves = ", ".join(f"{t.trigger} → {t.dest}" for t in definition.allowed(name)) or "—"
        table.add_row(name + marks, f"{stage.label.nl} / {stage.label.en}", moves)
    console.print(table)

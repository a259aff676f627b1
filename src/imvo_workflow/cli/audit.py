"""`imvo audit verify|checkpoint|export|correct`: proving, exporting and correcting the history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.outputs import output_file
from imvo_workflow.services import audit
from imvo_workflow.services.export import ExportFilter, export_history

group = typer.Typer(
    help="Audit: de geschiedenis controleren, exporteren en corrigeren.", no_args_is_help=True
)

CheckpointFile = Annotated[
    Path | None,
    typer.Option("--checkpoints", help="Checkpointbestand (JSON-regels) buiten de database."),
]


@group.command("verify")
def verify(checkpoints: CheckpointFile = None, as_json: JsonFlag = False) -> None:
    """Controleer elke keten van de geschiedenis; noem de eerste kapotte rij."""
    app = app_from_env()
    result = audit.verify(uow=app.uow(readonly=True), checkpoint_file=checkpoints)
    if as_json:
        dump_json(
            {
                "ok": result.ok,
                "covenants": result.covenants,
                "rows": result.rows,
                "checkpoints": result.checkpoints,
                "problems": result.problems,
            }
        )
    elif result.ok:
        out.print(
            f"[green]✓[/] {result.covenants} convenanten, {result.rows} rijen, "
            f"{result.checkpoints} checkpoints: de geschiedenis is onaangetast."
        )
    else:
        for problem in result.problems:
            where = f"rij {problem.seq}" if problem.seq is not None else "—"
            out.print(f"[red]✗[/] {problem.covenant}, {where}: {problem.message}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@group.command("checkpoint")
def checkpoint(
    file: Annotated[Path, typer.Option("--file", help="Ook hierheen schrijven.")] = Path(
        "var/checkpoints.jsonl"
    ),
) -> None:
    """Leg een checkpoint vast over alle ketens (ook in een bestand en naar de auditors)."""
    app = app_from_env()
    made = audit.checkpoint(uow=app.uow(), now=app.now(), file=file)
    out.print(
        f"[green]✓[/] checkpoint {made.id}: {made.covenants} convenanten, {made.rows} rijen, digest {made.digest}"
    )


@group.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv of json.")] = "csv",
    sector: Annotated[str | None, typer.Option("--sector", help="Alleen deze sector.")] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Alleen wat deze persoon deed.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Vanaf (JJJJ-MM-DD, gebeurd op).")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Tot en met (JJJJ-MM-DD).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Bestand; standaard stdout.")
    ] = None,
) -> None:
    """Exporteer de geschiedenis (gestreamd, ook bij miljoenen rijen)."""
    app = app_from_env()
    where = ExportFilter(sector, actor, iso_date(since, "--from"), iso_date(until, "--to"))
    if output is None:
        export_history(uow=app.uow(readonly=True), out=sys.stdout, fmt=fmt, where=where)
        return
    with output_file(output) as handle:
        count = export_history(uow=app.uow(readonly=True), out=handle, fmt=fmt, where=where)
    out.print(f"[green]✓[/] {count} rijen naar {output}", highlight=False)


@group.command("correct")
def correct(
    name: Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. goud).")],
    seq: Annotated[int, typer.Argument(help="Het rijnummer (kolom # van imvo history).")],
    by: Annotated[str, typer.Option("--by", help="Wie corrigeert.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Wat er gecorrigeerd wordt en waarom.")
    ] = "",
    on: Annotated[str | None, typer.Option("--on", help="De juiste datum (JJJJ-MM-DD).")] = None,
) -> None:
    """Corrigeer een rij van de geschiedenis met een nieuwe rij die ernaar verwijst."""
    app = app_from_env()
    new_seq = audit.correct(
        uow=app.uow(),
        covenant=name,
        seq=seq,
        actor=by,
        reason=reason,
        occurred_on=iso_date(on, "--on"),
        now=app.now(),
    )
    out.print(f"[green]✓[/] {name}: rij {new_seq} corrigeert rij {seq}")

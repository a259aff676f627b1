"""`imvo audit`, `imvo report` and `imvo sign`: proving and reporting the history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imvo_workflow.cli_common import JsonFlag, app_from_env, cli, dump_json, iso_date, out
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import FORMATS as REPORT_FORMATS
from imvo_workflow.reports.render import render
from imvo_workflow.services import audit, signatures
from imvo_workflow.services.export import ExportFilter, export_history

audit_cli = typer.Typer(
    help="Audit: de geschiedenis controleren en exporteren.", no_args_is_help=True
)
cli.add_typer(audit_cli, name="audit")

CheckpointFile = Annotated[
    Path | None,
    typer.Option("--checkpoints", help="Checkpointbestand (JSON-regels) buiten de database."),
]


@audit_cli.command("verify")
def audit_verify(checkpoints: CheckpointFile = None, as_json: JsonFlag = False) -> None:
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


@audit_cli.command("checkpoint")
def audit_checkpoint(
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


@audit_cli.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="csv of json.")] = "csv",
    sector: Annotated[str | None, typer.Option("--sector")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
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
    with output.open("w", encoding="utf-8", newline="") as handle:
        count = export_history(uow=app.uow(readonly=True), out=handle, fmt=fmt, where=where)
    out.print(f"[green]✓[/] {count} rijen naar {output}", highlight=False)


@audit_cli.command("correct")
def audit_correct(
    name: str,
    seq: int,
    by: Annotated[str, typer.Option("--by")],
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


@cli.command()
def report(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Peildatum (JJJJ-MM-DD); standaard vandaag.")
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="Zoals de database het op deze dag wist (JJJJ-MM-DD)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md of html.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Bestand; standaard stdout.")
    ] = None,
) -> None:
    """De voortgangsrapportage voor een datum, zoals het brondocument."""
    if fmt not in REPORT_FORMATS:
        raise InvalidInput(f"Onbekend formaat '{fmt}'; kies uit {', '.join(REPORT_FORMATS)}.")
    day, past = iso_date(as_of, "--as-of"), iso_date(known_at, "--known-at")
    if day and past:
        raise InvalidInput("Kies --as-of of --known-at, niet allebei.")
    app = app_from_env()
    day = day or past or app.today()
    text = render(
        build_report(
            uow=app.uow(readonly=True),
            definition=app.definition,
            as_of=day,
            known_at=past is not None,
        ),
        app.definition,
        fmt,
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"[green]✓[/] rapport per {day} naar {output}", highlight=False)


@cli.command()
def sign(
    name: str,
    organisation: str,
    by: Annotated[str, typer.Option("--by")],
    on: Annotated[
        str | None, typer.Option("--on", help="Datum van ondertekening (JJJJ-MM-DD).")
    ] = None,
) -> None:
    """Leg vast dat een partij het convenant heeft ondertekend."""
    app = app_from_env()
    added = signatures.sign(
        uow=app.uow(),
        covenant=name,
        organisation=organisation,
        signed_on=iso_date(on, "--on") or app.today(),
        actor=by,
        now=app.now(),
    )
    out.print(f"[green]✓[/] {organisation} tekende {name}" + ("" if added else " (stond al vast)"))

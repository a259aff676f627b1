"""`imvo report`: the progress report for a date, and the reports that were issued.

`imvo report --as-of D [--since S] [-o FILE]` writes the report (md, html or docx: from
`--format` or the file's extension); `imvo report issue` also records it as sent (its dates
and hash in the chain), `imvo report issues` lists what was issued and `imvo report check
FILE` proves a file is one of them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out, peildag
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.outputs import check_output_path, write_bytes
from imvo_workflow.reports.issue import issue_report
from imvo_workflow.reports.progress import build_report, check_report_dates
from imvo_workflow.reports.render import format_for, render_bytes
from imvo_workflow.services import issued

group = typer.Typer(
    help="De voortgangsrapportage: maken, uitbrengen en uitgebrachte rapporten controleren.",
    invoke_without_command=True,
)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Peildatum (JJJJ-MM-DD); standaard vandaag.")
]
Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Wat er veranderd is sinds deze datum (JJJJ-MM-DD); standaard de peildatum van "
        "het laatst uitgebrachte rapport.",
    ),
]
Format = Annotated[
    str | None,
    typer.Option("--format", help="md, html of docx; standaard volgens de extensie van -o, of md."),
]


@group.callback(invoke_without_command=True)
def report(
    ctx: typer.Context,
    as_of: AsOf = None,
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="Zoals de database het op deze dag wist (JJJJ-MM-DD)."),
    ] = None,
    since: Since = None,
    fmt: Format = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Bestand; standaard stdout.")
    ] = None,
) -> None:
    """De voortgangsrapportage voor een datum, zoals het brondocument, met wat er sinds
    --since veranderd is."""
    if ctx.invoked_subcommand is not None:
        return
    chosen = format_for(output, fmt)
    if output is not None:
        check_output_path(output)  # before the work, not after it
    elif chosen == "docx":
        raise InvalidInput("Een docx-rapport gaat naar een bestand: geef -o RAPPORT.docx.")
    moment, known = peildag(as_of, known_at)
    start = iso_date(since, "--since")
    app = app_from_env()
    day = moment or app.today()
    check_report_dates(day, start)
    built = build_report(
        uow=app.uow(readonly=True),
        definition=app.definition,
        as_of=day,
        known_at=known,
        since=start,
    )
    data = render_bytes(built, app.definition, chosen)
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        write_bytes(output, data)
        out.print(f"[green]✓[/] rapport per {day} ({chosen}) naar {output}", highlight=False)


@group.command("issue")
def issue(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Het bestand dat verstuurd wordt.")
    ],
    as_of: AsOf = None,
    since: Since = None,
    fmt: Format = None,
    by: Annotated[str, typer.Option("--by", help="Wie het rapport uitbrengt.")] = "",
) -> None:
    """Breng het rapport uit: schrijf het bestand en leg datum en hash vast in de geschiedenis."""
    chosen = format_for(output, fmt)
    check_output_path(output)
    day, start = iso_date(as_of, "--as-of"), iso_date(since, "--since")
    app = app_from_env()
    done, _ = issue_report(
        uow=app.uow(),
        definition=app.definition,
        as_of=day or app.today(),
        since=start,
        fmt=chosen,
        actor=by,
        now=app.now(),
        keep=lambda data: write_bytes(output, data),
    )
    since_text = f" sinds {done.since}" if done.since else ""
    out.print(
        f"[green]✓[/] rapport #{done.id} per {done.as_of}{since_text} uitgebracht naar {output}"
        f" ({done.format}, sha256 {done.sha256}); vastgelegd bij {done.covenants} convenanten.",
        highlight=False,
    )


@group.command("issues")
def issues(as_json: JsonFlag = False) -> None:
    """Toon de uitgebrachte rapporten, nieuwste eerst."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        found = issued.issued_reports(uow.conn)
    if as_json:
        dump_json(found)
        return
    if not found:
        out.print("Er is nog geen rapport uitgebracht.")
        return
    table = Table("#", "Peildatum", "Sinds", "Formaat", "Door", "Uitgebracht", "SHA-256")
    for r in found:
        table.add_row(
            str(r.id),
            r.as_of.isoformat(),
            r.since.isoformat() if r.since else "—",
            r.format,
            r.actor,
            r.issued_at.isoformat(timespec="seconds"),
            r.sha256,
        )
    out.print(table)


@group.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Het bestand dat gecontroleerd wordt.")],
    report_id: Annotated[
        int | None, typer.Option("--id", help="Alleen tegen dit uitgebrachte rapport.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Controleer of een bestand precies een uitgebracht rapport is (hash in de geschiedenis)."""
    if not file.is_file():
        raise InvalidInput(f"{file} is geen bestand.")
    data = file.read_bytes()
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        result = issued.check(uow.conn, data, report_id)
    if as_json:
        dump_json({"ok": result.ok, "sha256": result.sha256, "report": result.report,
                   "entries": result.entries})  # fmt: skip
    elif result.report is None:
        out.print(f"[red]✗[/] {file} (sha256 {result.sha256}) is geen uitgebracht rapport.")
    elif result.ok:
        r = result.report
        out.print(
            f"[green]✓[/] {file} is rapport #{r.id} per {r.as_of} ({r.format}), uitgebracht "
            f"door {r.actor} op {r.issued_at:%Y-%m-%d}; de hash staat in {result.entries} "
            "ketens.",
            highlight=False,
        )
    else:
        out.print(
            f"[red]✗[/] {file} heeft de hash van rapport #{result.report.id}, maar slechts "
            f"{result.entries} van de {result.report.covenants} ketens dragen die hash.",
            highlight=False,
        )
    if not result.ok:
        raise typer.Exit(1)

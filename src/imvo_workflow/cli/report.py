"""`imvo report`: the progress report for a date, in the shape of the source document."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imvo_workflow.cli.common import app_from_env, out, peildag
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.outputs import check_output_path, output_file
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import FORMATS as REPORT_FORMATS
from imvo_workflow.reports.render import render


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
    if output is not None:
        check_output_path(output)  # before the work, not after it
    moment, known = peildag(as_of, known_at)
    app = app_from_env()
    day = moment or app.today()
    text = render(
        build_report(
            uow=app.uow(readonly=True),
            definition=app.definition,
            as_of=day,
            known_at=known,
        ),
        app.definition,
        fmt,
    )
    if output is None:
        sys.stdout.write(text)
    else:
        with output_file(output) as handle:
            handle.write(text)
        out.print(f"[green]✓[/] rapport per {day} naar {output}", highlight=False)

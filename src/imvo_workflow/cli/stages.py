"""`imvo stages` (and `stages check FILE`) and `imvo period`: the workflow and its terms.

None of these needs a database: they read the definition or a phrase only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.cli.render import render_stages
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.domain.periods import resolve_period
from imvo_workflow.settings import Settings

group = typer.Typer(help="De workflow: fasen en overgangen.", invoke_without_command=True)


@group.callback()
def stages(
    ctx: typer.Context,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Mermaid-diagrambron.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Toon de workflow (fasen en overgangen)."""
    if ctx.invoked_subcommand is not None:
        return
    definition = app_from_env(database=False).definition
    if mermaid:
        out.print(definition.mermaid(), markup=False, highlight=False)
    elif as_json:
        dump_json(
            {
                "version": definition.version,
                "stages": [s.model_dump() for s in definition.stages.values()],
                "transitions": definition.transitions,
            }
        )
    else:
        render_stages(out, definition)


@group.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Het definitiebestand (YAML); standaard de ingestelde definitie (IMVO_STAGES_FILE)."
        ),
    ] = None,
) -> None:
    """Controleer een workflowdefinitie en toon waar die staat."""
    # Without a file: the one the app would load, so an installed operator learns its path.
    file = file or Settings().stages_file
    definition = load_definition(file)
    out.print(
        f"[green]✓[/] {file}: {len(definition.stages)} fasen, {len(definition.transitions)} overgangen, versie {definition.version}"
    )


def period(
    phrase: Annotated[
        str, typer.Argument(help='De termijn in gewone woorden, bv. "eerste helft 2017".')
    ],
    reference: Annotated[
        str | None, typer.Option("--reference", help="Peildatum (JJJJ-MM-DD); standaard vandaag.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Wat een Nederlandse termijn betekent: begin en einde (deadline)."""
    ref = iso_date(reference, "--reference") or Settings().today()
    found = resolve_period(phrase, ref)
    if as_json:
        dump_json(
            {"phrase": found.phrase, "reference": ref, "start": found.start, "end": found.end}
        )
    else:
        out.print(
            f"{found.phrase!r}: {found.start.isoformat()} t/m {found.end.isoformat()} (peildatum {ref.isoformat()})",
            highlight=False,
        )

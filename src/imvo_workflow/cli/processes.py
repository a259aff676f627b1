"""`imvo open`: open a covenant process for a sector, or a sub-covenant under another."""

from __future__ import annotations

from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.domain.errors import RequirementMissing
from imvo_workflow.services.processes import open_process


def open_(
    title: Annotated[str, typer.Argument(help="De titel, bv. 'IMVO-convenant Textiel'.")],
    stage: Annotated[str, typer.Option("--stage", help="De fase waarin het proces begint.")],
    on: Annotated[
        str, typer.Option("--on", help="De startdatum (JJJJ-MM-DD), mag in het verleden.")
    ],
    by: Annotated[str, typer.Option("--by", help="Wie legt dit vast.")],
    sector: Annotated[
        str | None, typer.Option("--sector", help="Een bestaande sector (naam of korte naam).")
    ] = None,
    new_sector: Annotated[
        str | None, typer.Option("--new-sector", help="De naam van een nieuwe sector.")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", help="Groep van de nieuwe sector: risicosector of overige."),
    ] = None,
    parent: Annotated[
        str | None,
        typer.Option("--parent", help="Het convenant waaronder dit een subconvenant is."),
    ] = None,
    summary: Annotated[str, typer.Option("--summary", help="Korte samenvatting.")] = "",
    slug: Annotated[
        str | None, typer.Option("--slug", help="Korte naam; standaard afgeleid van de titel.")
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Waarom (nodig voor sommige fasen).")
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """Open een convenantproces: nieuwe of bestaande sector, of subconvenant."""
    app = app_from_env()
    started_on = iso_date(on, "--on")
    if started_on is None:  # typer makes --on required; kept for the type checker
        raise RequirementMissing("Geef de startdatum met --on JJJJ-MM-DD.", "date")
    result = open_process(
        uow=app.uow(),
        definition=app.definition,
        title=title,
        stage=stage,
        started_on=started_on,
        actor=by,
        sector=sector,
        new_sector=new_sector,
        group=group,
        parent=parent,
        summary=summary,
        slug=slug,
        reason=reason,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    under = f", subconvenant van {result.parent}" if result.parent else ""
    out.print(
        f"[green]✓[/] {result.slug} geopend in [bold]{result.stage}[/] op "
        f"{result.started_on.isoformat()} (sector {result.sector}{under})"
    )

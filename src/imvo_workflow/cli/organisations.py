"""`imvo organisations add|rename|list`: the organisations that can take part in covenants."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, out
from imvo_workflow.services.organisations import (
    create_organisation,
    list_organisations,
    rename_organisation,
)

group = typer.Typer(help="Organisaties: toevoegen, hernoemen, bekijken.", no_args_is_help=True)

By = Annotated[str, typer.Option("--by", help="Wie legt dit vast.")]


@group.command("add")
def add(
    name: Annotated[str, typer.Argument(help="De naam, bv. 'Oxfam Novib'.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="ministerie, brancheorganisatie, ngo, vakbond, kennisinstelling, overheid of overig.",
        ),
    ],
    by: By,
    full_name: Annotated[str | None, typer.Option("--full-name", help="De volledige naam.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Voeg een organisatie toe."""
    app = app_from_env()
    made = create_organisation(
        uow=app.uow(), name=name, kind=kind, full_name=full_name, actor=by, now=app.now()
    )
    dump_json(made) if as_json else out.print(f"[green]✓[/] {made.name} ({made.kind}) toegevoegd")


@group.command("rename")
def rename(
    old: Annotated[str, typer.Argument(help="De huidige naam.")],
    new: Annotated[str, typer.Argument(help="De nieuwe naam.")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom de naam verandert.")],
    by: By,
    as_json: JsonFlag = False,
) -> None:
    """Hernoem een organisatie; de oude naam blijft in de geschiedenis."""
    app = app_from_env()
    result = rename_organisation(
        uow=app.uow(),
        definition=app.definition,
        organisation=old,
        new_name=new,
        reason=reason,
        actor=by,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    where = f" (vastgelegd bij {', '.join(result.covenants)})" if result.covenants else ""
    out.print(f"[green]✓[/] {result.old_name} heet nu {result.new_name}{where}")


@group.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """Alle organisaties, met hun eerdere namen."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = list_organisations(conn=uow.conn)
    if as_json:
        dump_json(rows)
        return
    table = Table(title="Organisaties")
    for column in ("Naam", "Soort", "Convenanten", "Eerder"):
        table.add_column(column, overflow="fold")
    for row in rows:
        name = f"{row.name} ({row.full_name})" if row.full_name else row.name
        table.add_row(name, row.kind, str(row.covenants), ", ".join(row.former_names))
    out.print(table)

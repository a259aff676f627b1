"""`imvo notes add|list` and `imvo summary set|history`: a covenant's story on the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.services import lookup, notes

group = typer.Typer(help="Voortgangsnotities: het verhaal van een convenant.", no_args_is_help=True)
summary_group = typer.Typer(help="De samenvatting van een convenant.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. natuursteen).")]
By = Annotated[str, typer.Option("--by", help="Wie schrijft dit (de auteur).")]


@group.command("add")
def add(
    name: Name,
    text: Annotated[str, typer.Argument(help="De tekst van de notitie (nieuwe regels mogen).")],
    by: By,
    on: Annotated[
        str | None, typer.Option("--on", help="De datum van de notitie (JJJJ-MM-DD); vandaag.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Schrijf een gedateerde voortgangsnotitie."""
    app = app_from_env()
    note = notes.write_note(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        text=text,
        written_on=iso_date(on, "--on"),
        actor=by,
        now=app.now(),
    )
    if as_json:
        dump_json(note)
        return
    out.print(f"[green]✓[/] {escape(name)}: notitie van {note.written_on.isoformat()} vastgelegd")


@group.command("list")
def list_(
    name: Name,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Alleen de notities van vóór of op deze dag.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """De notities van een convenant, nieuwste eerst; de eerste is het huidige verhaal."""
    app = app_from_env()
    day = iso_date(as_of, "--as-of")
    with app.uow(readonly=True) as uow:
        found = notes.notes_on(uow.conn, lookup.covenant_id(uow.conn, name), day)
    if as_json:
        dump_json(found)
        return
    title = f"Notities van {name}" + (f" op {day.isoformat()}" if day else "")
    table = Table(title=escape(title), show_lines=True)
    for column in ("Datum", "Auteur", "Notitie"):
        table.add_column(column)
    for position, note in enumerate(found):
        when = note.written_on.isoformat() + ("\n(huidig)" if position == 0 else "")
        table.add_row(when, escape(note.author), escape(note.text))
    out.print(table)


@summary_group.command("set")
def summary_set(
    name: Name,
    text: Annotated[str, typer.Argument(help="De nieuwe samenvatting.")],
    by: Annotated[str, typer.Option("--by", help="Wie wijzigt de samenvatting.")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom (verplicht).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Vervang de samenvatting; de oude tekst blijft in de geschiedenis."""
    app = app_from_env()
    change = notes.edit_summary(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        text=text,
        actor=by,
        reason=reason,
        now=app.now(),
    )
    if as_json:
        dump_json(change)
        return
    out.print(f"[green]✓[/] {escape(name)}: samenvatting gewijzigd (rij {change.seq})")


@summary_group.command("history")
def summary_history(name: Name, as_json: JsonFlag = False) -> None:
    """Elke wijziging van de samenvatting: nieuwste eerst, met oude tekst, wie en waarom."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        found = notes.summary_history(uow.conn, lookup.covenant_id(uow.conn, name))
    if as_json:
        dump_json(found)
        return
    if not found:
        out.print(f"De samenvatting van {escape(name)} is nooit gewijzigd.")
        return
    table = Table(title=escape(f"Samenvatting van {name}: wijzigingen"), show_lines=True)
    for column in ("Datum", "Wie", "Reden", "Nieuw", "Was"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c.occurred_on.isoformat(),
            escape(c.actor),
            escape(c.reason),
            escape(c.text),
            escape(c.old_text),
        )
    out.print(table)

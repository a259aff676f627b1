"""`imvo parties add|leave|list`: who takes part in a covenant, from when, and who left."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out, peildag
from imvo_workflow.domain.errors import RequirementMissing
from imvo_workflow.services.parties import PartyOverview, add_party, party_leaves, party_overview

group = typer.Typer(help="Partijen: toetreden, vertrekken, bekijken.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. voedingsmiddelen).")]
Organisation = Annotated[str, typer.Argument(help="De organisatie, bv. FNLI.")]
By = Annotated[str, typer.Option("--by", help="Wie legt dit vast.")]


@group.command("add")
def add(
    name: Name,
    organisation: Organisation,
    role: Annotated[
        str,
        typer.Option("--role", help="trekker, partij, facilitator, kwartiermaker of betrokken."),
    ],
    since: Annotated[str, typer.Option("--since", help="Vanaf wanneer (JJJJ-MM-DD).")],
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Toelichting.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Een organisatie treedt toe tot een convenant, in een rol, vanaf een datum."""
    app = app_from_env()
    day = iso_date(since, "--since")
    if day is None:
        raise RequirementMissing("Geef de datum met --since JJJJ-MM-DD.", "date")
    result = add_party(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        organisation=organisation,
        role=role,
        since=day,
        actor=by,
        reason=reason,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    out.print(
        f"[green]✓[/] {result.organisation} is {result.role} van {result.covenant} sinds {day}"
    )


@group.command("leave")
def leave(
    name: Name,
    organisation: Organisation,
    on: Annotated[str, typer.Option("--on", help="Wanneer de partij vertrok (JJJJ-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom de partij vertrok.")],
    by: By,
    role: Annotated[
        str | None, typer.Option("--role", help="De rol, als de organisatie er meer heeft.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Leg vast dat een partij vertrekt: datum en reden."""
    app = app_from_env()
    day = iso_date(on, "--on")
    if day is None:
        raise RequirementMissing("Geef de datum met --on JJJJ-MM-DD.", "date")
    result = party_leaves(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        organisation=organisation,
        role=role,
        until=day,
        reason=reason,
        actor=by,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    out.print(
        f"[green]✓[/] {result.organisation} ({result.role}) vertrok uit {result.covenant} op {day}"
    )


@group.command("list")
def list_(
    name: Name,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="De partijen op deze dag (JJJJ-MM-DD).")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Zoals de database het op deze dag wist.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """De partijen van een convenant: huidige, vertrokken (met periode) en niet bij naam genoemde."""
    app = app_from_env()
    moment, known = peildag(as_of, known_at)
    with app.uow(readonly=True) as uow:
        found = party_overview(conn=uow.conn, covenant=name, day=moment, known_at=known)
    dump_json(found) if as_json else render_parties(found)


def render_parties(found: PartyOverview) -> None:
    when = f" op {found.day.isoformat()}" if found.day else ""
    table = Table(title=f"Partijen van {found.covenant}{when}")
    for column in ("Organisatie", "Rol", "Soort", "Periode", "Reden van vertrek"):
        table.add_column(column, overflow="fold")
    for p in [*found.current, *found.past]:
        name = f"{p.name} ({p.full_name})" if p.full_name else p.name
        start = p.since.isoformat() if p.since else "vanaf het begin"
        period = f"{start} – {p.until.isoformat()}" if p.until else f"sinds {start}"
        table.add_row(name, p.role, p.kind, period, p.left_reason or "")
    out.print(table)
    if found.unnamed:
        out.print("[bold]Niet bij naam genoemd:[/]")
        for note in found.unnamed:
            out.print(f"  • {note}", highlight=False)

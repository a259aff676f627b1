"""`imvo status`, `show`, `history`, `move` and `sign`: one covenant or all, read and moved."""

from __future__ import annotations

from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.cli.parties import render_parties
from imvo_workflow.cli.render import render_detail, render_history, render_status
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import asof, queries, signatures
from imvo_workflow.services.moves import move as move_service
from imvo_workflow.services.parties import party_overview

Name = Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. natuursteen).")]
By = Annotated[str, typer.Option("--by", help="Wie zet deze stap.")]


def status(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Waar stond elke sector op deze dag.")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Wat wist de database op deze dag.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Elk convenantproces: fase, sinds wanneer, volgend doel en of het te laat is."""
    app = app_from_env()
    day, past = iso_date(as_of, "--as-of"), iso_date(known_at, "--known-at")
    if day and past:
        raise InvalidInput("Kies --as-of of --known-at, niet allebei.")
    with app.uow(readonly=True) as uow:
        moment = day or past
        if moment is not None:
            rows = asof.status_on(conn=uow.conn, day=moment, known_at=past is not None)
        else:
            rows = queries.status(conn=uow.conn, today=app.today())
    dump_json(rows) if as_json else render_status(out, rows, app.definition)


def show(
    name: Name,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Ook de partijen op deze dag (JJJJ-MM-DD).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Eén convenant: partijen, facilitator, doelen en geschiedenis."""
    app = app_from_env()
    day = iso_date(as_of, "--as-of")
    with app.uow(readonly=True) as uow:
        found = queries.detail(conn=uow.conn, covenant=name, today=app.today())
        on = None if day is None else party_overview(conn=uow.conn, covenant=name, day=day)
    if as_json:
        dump_json(found if on is None else {"covenant": found, "parties_as_of": on})
        return
    render_detail(out, found, app.definition)
    if on is not None:
        render_parties(on)


def history(name: Name, as_json: JsonFlag = False) -> None:
    """De overgangen van één convenant: wie, wanneer, waarom."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = queries.history(conn=uow.conn, covenant=name)
    dump_json(rows) if as_json else render_history(out, name, rows)


def move(
    name: Name,
    to: Annotated[str, typer.Argument(help="Doelfase (of de naam van de overgang).")],
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Waarom.")] = "",
    on: Annotated[
        str | None, typer.Option("--on", help="Wanneer het gebeurde (JJJJ-MM-DD).")
    ] = None,
    expect_version: Annotated[
        int | None,
        typer.Option("--expect-version", help="Weiger als het convenant intussen is gewijzigd."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Verplaats een convenant naar een volgende fase, als de workflow dat toestaat."""
    app = app_from_env()
    occurred_on = iso_date(on, "--on")
    result = move_service(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        to=to,
        actor=by,
        reason=reason,
        occurred_on=occurred_on,
        expected_version=expect_version,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
    else:
        out.print(
            f"[green]✓[/] {result.covenant}: {result.from_stage} → [bold]{result.to_stage}[/] "
            f"op {result.occurred_on.isoformat()} (versie {result.version})"
        )


def sign(
    name: Name,
    organisation: Annotated[str, typer.Argument(help="De organisatie die tekende, bv. SER.")],
    by: Annotated[str, typer.Option("--by", help="Wie legt dit vast.")],
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

"""`imvo status`, `show`, `history` and `move`: one covenant or all, read and moved.

What only `show` or `move` needs is imported inside them, and the rendering and the as-of
reading where they are used, so `imvo status --json` starts fast (issue 14).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out, peildag
from imvo_workflow.domain.entry_text import stage_labels
from imvo_workflow.services import queries

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
    moment, known = peildag(as_of, known_at)
    with app.uow(readonly=True) as uow:
        if moment is not None:
            from imvo_workflow.services import asof

            rows = asof.status_on(conn=uow.conn, day=moment, known_at=known)
        else:
            rows = queries.status(conn=uow.conn, today=app.today())
    if as_json:
        dump_json(rows, rows_of=queries.StatusRow)
    else:
        from imvo_workflow.cli.render import render_status

        render_status(out, rows, app.definition)


def show(
    name: Name,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Hoe het convenant er op deze dag voor stond (JJJJ-MM-DD)."),
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Wat de database op deze dag wist.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Eén convenant: partijen, ondertekenaars, doelen, verhaal en geschiedenis (ook op een dag)."""
    from imvo_workflow.cli.render import render_detail
    from imvo_workflow.cli.render_day import render_day
    from imvo_workflow.services import signatures
    from imvo_workflow.services.covenant_day import covenant_on

    app = app_from_env()
    moment, known = peildag(as_of, known_at)
    labels = stage_labels(app.definition)
    with app.uow(readonly=True) as uow:
        if moment is not None:
            then = covenant_on(conn=uow.conn, covenant=name, day=moment, known_at=known)
        else:
            found = queries.detail(conn=uow.conn, covenant=name, today=app.today(), labels=labels)
            signed = signatures.signatures(conn=uow.conn, covenant=name)
    if moment is not None:
        dump_json(then) if as_json else render_day(out, then, app.definition)
    elif as_json:
        dump_json(dataclasses.asdict(found) | {"signatures": signed})
    else:
        render_detail(out, found, app.definition, signed)


def history(name: Name, as_json: JsonFlag = False) -> None:
    """De overgangen van één convenant: wie, wanneer, waarom."""
    from imvo_workflow.cli.render import render_history

    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = queries.history(conn=uow.conn, covenant=name, labels=stage_labels(app.definition))
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
    signatory: Annotated[
        list[str] | None,
        typer.Option("--signatory", help="Bij ondertekenen: een organisatie die tekende."),
    ] = None,
    add_as_party: Annotated[
        bool,
        typer.Option("--add-as-party", help="Voeg een ondertekenaar die nog geen partij is toe."),
    ] = False,
    milestone: Annotated[
        list[str] | None,
        typer.Option(
            "--milestone",
            help="Sluit een mijlpaal in dezelfde stap: ID=bereikt[:JJJJ-MM-DD] of "
            "ID=vervallen:REDEN.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Verplaats een convenant naar een volgende fase, als de workflow dat toestaat."""
    from imvo_workflow.cli.signing import milestone_option
    from imvo_workflow.services.moves import move as move_service

    app = app_from_env()
    occurred_on = iso_date(on, "--on")
    closings = tuple(milestone_option(value) for value in milestone or ())
    result = move_service(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        to=to,
        actor=by,
        reason=reason,
        occurred_on=occurred_on,
        expected_version=expect_version,
        signatories=tuple(signatory or ()),
        add_as_party=add_as_party,
        milestones=closings,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
    else:
        out.print(
            f"[green]✓[/] {result.covenant}: {result.from_stage} → [bold]{result.to_stage}[/] "
            f"op {result.occurred_on.isoformat()} (versie {result.version})"
        )

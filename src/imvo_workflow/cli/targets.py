"""`imvo targets set|list` and `imvo deadlines`: what must be reached when, and what is late."""

from __future__ import annotations

from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out, peildag
from imvo_workflow.cli.render import render_deadlines, render_target_changes, render_targets
from imvo_workflow.services import alert_queries, queries
from imvo_workflow.services.asof_deadlines import deadlines_on
from imvo_workflow.services.targets import set_target

group = typer.Typer(help="Doelen: wat moet wanneer gehaald zijn.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. natuursteen).")]


@group.command("set")
def set_(
    name: Name,
    what: Annotated[
        str,
        typer.Argument(help="De fase die gehaald moet worden (of met --milestone: de mijlpaal)."),
    ],
    phrase: Annotated[
        str, typer.Argument(help='De termijn in gewone woorden, bv. "eerste helft 2017".')
    ],
    by: Annotated[str, typer.Option("--by", help="Wie legt dit vast.")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom (bij een wijziging).")] = "",
    reference: Annotated[
        str | None, typer.Option("--reference", help="Peildatum (JJJJ-MM-DD); standaard vandaag.")
    ] = None,
    milestone: Annotated[
        bool, typer.Option("--milestone", help="WHAT is een mijlpaal, geen fase.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Leg een doel vast of wijzig het; de wijziging blijft zichtbaar."""
    app = app_from_env()
    ref = iso_date(reference, "--reference") or app.today()
    result = set_target(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        phrase=phrase,
        reference=ref,
        stage=None if milestone else what,
        milestone=what if milestone else None,
        actor=by,
        reason=reason,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    change = f' (was "{result.old_phrase}", {result.old_deadline})' if result.old_phrase else ""
    out.print(f'[green]✓[/] {name}: {what} "{result.phrase}" → deadline {result.deadline}{change}')


@group.command("list")
def list_(name: Name, as_json: JsonFlag = False) -> None:
    """De doelen van een convenant, gepland tegen werkelijk, met hun wijzigingen."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        changes = queries.target_changes(conn=uow.conn, covenant=name)
        targets = queries.detail(conn=uow.conn, covenant=name, today=app.today()).targets
    if as_json:
        dump_json({"targets": targets, "changes": changes})
        return
    render_target_changes(out, name, changes)
    render_targets(out, targets)


def deadlines(
    within: Annotated[int, typer.Option("--within", min=0, help="Dagen vooruit kijken.")] = 30,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Wat moest er op deze dag, en wat was toen te laat."),
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Zoals de database het op deze dag wist.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Wat binnenkort moet, en wat te laat is (vandaag, of op een dag uit de geschiedenis)."""
    app = app_from_env()
    moment, known = peildag(as_of, known_at)
    with app.uow(readonly=True) as uow:
        if moment is None:
            rows = alert_queries.deadlines(conn=uow.conn, today=app.today(), within_days=within)
        else:
            rows = deadlines_on(conn=uow.conn, day=moment, within_days=within, known_at=known)
    dump_json(rows) if as_json else render_deadlines(out, rows, within, moment or app.today())

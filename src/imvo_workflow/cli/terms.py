"""`imvo continue` and `imvo terms set|renew|list`: a process that continues in another
covenant, and a signed covenant's terms (looptijden)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.services.continuation import continue_in
from imvo_workflow.services.terms import TermResult, list_terms, renew_term, set_term

group = typer.Typer(
    help="Looptijden van ondertekende convenanten: vastleggen, verlengen, tonen.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. textiel).")]
By = Annotated[str, typer.Option("--by", help="Wie legt dit vast.")]
Until = Annotated[str, typer.Option("--until", help="Laatste dag van de looptijd (JJJJ-MM-DD).")]


def continue_(
    name: Name,
    into: Annotated[str, typer.Argument(help="Het convenant waarin het proces opgaat.")],
    on: Annotated[str, typer.Option("--on", help="Wanneer het opging (JJJJ-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Waarom het opgaat in het andere.")],
    by: By,
    as_json: JsonFlag = False,
) -> None:
    """Leg vast dat een convenantproces opgaat in een ander convenant (niet: afgezien)."""
    app = app_from_env()
    result = continue_in(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        into=into,
        on=_day(on, "--on"),
        reason=reason,
        actor=by,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    out.print(
        f"[green]✓[/] {escape(result.covenant)} is op {result.occurred_on.isoformat()} "
        f"opgegaan in {escape(into)} (versie {result.version})",
        highlight=False,
    )


@group.command("set")
def set_(
    name: Name,
    until: Until,
    by: By,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Eerste dag (JJJJ-MM-DD); standaard de ondertekening."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Toelichting.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Leg de (eerste) looptijd van een ondertekend convenant vast."""
    app = app_from_env()
    result = set_term(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        ends_on=_day(until, "--until"),
        starts_on=iso_date(from_, "--from"),
        actor=by,
        reason=reason,
        now=app.now(),
    )
    _done(result, as_json)


@group.command("renew")
def renew(
    name: Name,
    until: Until,
    reason: Annotated[str, typer.Option("--reason", help="Waarom het convenant verlengd wordt.")],
    by: By,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", help="Eerste dag (JJJJ-MM-DD); moet de dag na de vorige looptijd zijn."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Verleng: een nieuwe looptijd vanaf de dag na het einde van de vorige."""
    app = app_from_env()
    result = renew_term(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        ends_on=_day(until, "--until"),
        starts_on=iso_date(from_, "--from"),
        actor=by,
        reason=reason,
        now=app.now(),
    )
    _done(result, as_json)


@group.command("list")
def list_(name: Name, as_json: JsonFlag = False) -> None:
    """De looptijden van een convenant, met hun einddatum."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        found = list_terms(conn=uow.conn, covenant=name, today=app.today())
    if as_json:
        dump_json(found)
        return
    table = Table(title=f"Looptijden van {escape(name)}")
    for header in ("Termijn", "Van", "Tot en met", ""):
        table.add_column(header, no_wrap=True)
    for term in found:
        now = "loopt nu" if term.current else ""
        table.add_row(str(term.number), term.starts_on.isoformat(), term.ends_on.isoformat(), now)
    out.print(table if found else f"{escape(name)} heeft (nog) geen looptijd.")


def _day(value: str, name: str) -> date:
    day = iso_date(value, name)
    assert day is not None  # the option is required
    return day


def _done(result: TermResult, as_json: bool) -> None:
    if as_json:
        dump_json(result)
        return
    term = result.term
    out.print(
        f"[green]✓[/] {escape(result.covenant)}: looptijd {term.number} van "
        f"{term.starts_on.isoformat()} tot en met {term.ends_on.isoformat()}",
        highlight=False,
    )

"""`imvo alerts list|ack|retry`: the inbox, marking an alert handled, sending a failed one again."""

from __future__ import annotations

from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, out
from imvo_workflow.cli.render import render_alerts
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import alert_queries, outbox
from imvo_workflow.services.alerts import acknowledge

group = typer.Typer(help="Meldingen: de inbox.", no_args_is_help=True)


@group.command("list")
def list_(
    include_acked: Annotated[
        bool, typer.Option("--all", help="Ook afgehandelde meldingen.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """De meldingen in de inbox (nieuwste eerst)."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = alert_queries.alerts(conn=uow.conn, include_acked=include_acked)
    dump_json(rows) if as_json else render_alerts(out, rows)


@group.command("ack")
def ack(
    alert_id: Annotated[int, typer.Argument(help="Het nummer van de melding (kolom ID).")],
    by: Annotated[str, typer.Option("--by", help="Wie handelt af.")],
) -> None:
    """Markeer een melding als afgehandeld."""
    app = app_from_env()
    acknowledge(uow=app.uow(), alert_id=alert_id, actor=by, now=app.now())
    out.print(f"[green]✓[/] melding {alert_id} afgehandeld door {by}")


@group.command("retry")
def retry(
    delivery_id: Annotated[
        int | None,
        typer.Argument(help="Het nummer van de mislukte bezorging (staat in de melding)."),
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Alle mislukte bezorgingen.")
    ] = False,
) -> None:
    """Verstuur een mislukte bezorging opnieuw (of alle, met --all-failed)."""
    if (delivery_id is None) == (not all_failed):
        raise InvalidInput("Geef het nummer van een bezorging, of --all-failed (niet allebei).")
    app = app_from_env()
    count = outbox.retry(uow=app.uow(), delivery_id=delivery_id, now=app.now())
    out.print(f"[green]✓[/] {count} bezorging(en) opnieuw in de wachtrij", highlight=False)

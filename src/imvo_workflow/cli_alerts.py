"""`imvo targets`, `deadlines`, `alerts`, `users` and `scheduler`: deadlines and their alerts."""

from __future__ import annotations

import secrets
import signal
from typing import Annotated

import typer
from rich.table import Table

from imvo_workflow.cli_common import (
    JsonFlag,
    app_from_env,
    cli,
    configure_logging,
    dump_json,
    iso_date,
    out,
)
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.notify.message import dagen
from imvo_workflow.services import alert_queries, lookup, queries, users
from imvo_workflow.services.alerts import acknowledge
from imvo_workflow.services.auth import hash_password
from imvo_workflow.services.targets import set_target

targets_cli = typer.Typer(help="Doelen: wat moet wanneer gehaald zijn.", no_args_is_help=True)
alerts_cli = typer.Typer(help="Meldingen: de inbox.", no_args_is_help=True)
users_cli = typer.Typer(help="Gebruikers en hun abonnementen op meldingen.", no_args_is_help=True)
scheduler_cli = typer.Typer(
    help="De planner die meldingen maakt en verstuurt.", no_args_is_help=True
)
cli.add_typer(targets_cli, name="targets")
cli.add_typer(alerts_cli, name="alerts")
cli.add_typer(users_cli, name="users")
cli.add_typer(scheduler_cli, name="scheduler")


@targets_cli.command("set")
def targets_set(
    name: str,
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


@targets_cli.command("list")
def targets_list(name: str, as_json: JsonFlag = False) -> None:
    """De doelen van een convenant met hun wijzigingsgeschiedenis."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        changes = queries.target_changes(uow=uow, covenant_id=lookup.covenant_id(uow, name))
    if as_json:
        dump_json(changes)
        return
    table = Table(title=f"Doelen van {name}: geschiedenis")
    for column in ("Doel", "Was", "Wordt", "Door", "Reden", "Op"):
        table.add_column(column)
    for c in changes:
        was = f"{c.old_phrase} ({c.old_deadline})" if c.old_phrase else "—"
        table.add_row(
            c.what,
            was,
            f"{c.new_phrase} ({c.new_deadline})",
            c.actor,
            c.reason,
            f"{c.changed_at.astimezone(AMSTERDAM):%Y-%m-%d %H:%M}",
        )
    out.print(table)


@cli.command()
def deadlines(
    within: Annotated[int, typer.Option("--within", min=0, help="Dagen vooruit kijken.")] = 30,
    as_json: JsonFlag = False,
) -> None:
    """Wat binnenkort moet, en wat te laat is."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = alert_queries.deadlines(uow=uow, today=app.today(), within_days=within)
    if as_json:
        dump_json(rows)
        return
    table = Table(title=f"Deadlines tot en met {dagen(within)} vooruit (peildatum {app.today()})")
    for column in ("Convenant", "Doel", "Termijn", "Deadline", ""):
        table.add_column(column)
    for r in rows:
        state = (
            f"[bold red]{dagen(-r.days_left)} te laat[/]"
            if r.overdue
            else f"nog {dagen(r.days_left)}"
        )
        table.add_row(r.covenant, r.what, r.phrase, r.deadline.isoformat(), state)
    out.print(table)


@alerts_cli.command("list")
def alerts_list(
    include_acked: Annotated[
        bool, typer.Option("--all", help="Ook afgehandelde meldingen.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """De meldingen in de inbox (nieuwste eerst)."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = alert_queries.alerts(uow=uow, include_acked=include_acked)
    if as_json:
        dump_json(rows)
        return
    table = Table(title="Meldingen")
    for column in ("ID", "Soort", "Convenant", "Doel", "Deadline", "Verstuurd", "Afgehandeld"):
        table.add_column(column)
    for r in rows:
        acked = f"{r.acked_by} {r.acked_at:%Y-%m-%d}" if r.acked_at else ""
        table.add_row(
            str(r.id),
            r.kind,
            r.covenant or "",
            r.what,
            str(r.deadline or ""),
            f"{r.delivered}/{r.deliveries}",
            acked,
        )
    out.print(table)


@alerts_cli.command("ack")
def alerts_ack(
    alert_id: int, by: Annotated[str, typer.Option("--by", help="Wie handelt af.")]
) -> None:
    """Markeer een melding als afgehandeld."""
    app = app_from_env()
    acknowledge(uow=app.uow(), alert_id=alert_id, actor=by, now=app.now())
    out.print(f"[green]✓[/] melding {alert_id} afgehandeld door {by}")


@users_cli.command("add")
def users_add(
    name: str,
    role: Annotated[
        str, typer.Option("--role", help="admin, coordinator of viewer.")
    ] = "coordinator",
    email: Annotated[str | None, typer.Option("--email")] = None,
) -> None:
    """Voeg een gebruiker toe; het wachtwoord wordt gegenereerd en één keer getoond."""
    app = app_from_env()
    password = secrets.token_urlsafe(12)
    users.add_user(
        uow=app.uow(),
        name=name,
        role=role,
        email=email,
        password_hash=hash_password(password),
        now=app.now(),
    )
    out.print(
        f"[green]✓[/] gebruiker {name} ({role}), wachtwoord: [bold]{password}[/] (wordt maar één keer getoond)",
        highlight=False,
    )


@users_cli.command("subscribe")
def users_subscribe(
    name: str,
    channel: Annotated[str, typer.Option("--channel", help="email, webhook, inbox of log.")],
    sector: Annotated[
        str | None, typer.Option("--sector", help="Alleen deze sector (standaard: alle).")
    ] = None,
    address: Annotated[str, typer.Option("--address", help="E-mailadres of webhook-URL.")] = "",
) -> None:
    """Abonneer een gebruiker op de meldingen van een sector."""
    app = app_from_env()
    added = users.subscribe(
        uow=app.uow(), user=name, channel=channel, sector=sector, address=address
    )
    out.print(
        f"[green]✓[/] {name}: {channel} voor {sector or 'alle sectoren'}"
        + ("" if added else " (bestond al)")
    )


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Draai de planner op de voorgrond; stopt netjes op SIGTERM of Ctrl-C."""
    from imvo_workflow.scheduler import AlertScheduler

    configure_logging()
    worker = AlertScheduler(app_from_env())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    out.print("Planner draait; stoppen met Ctrl-C of SIGTERM.")
    worker.run_until_stopped()
    out.print("Planner gestopt.")


@scheduler_cli.command("tick")
def scheduler_tick(
    digest: Annotated[bool, typer.Option("--digest", help="Maak ook het dagoverzicht.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Eén scan en één verzendronde, dan stoppen (voor cron en controles)."""
    from imvo_workflow.scheduler import AlertScheduler

    result = AlertScheduler(app_from_env()).tick(digest=digest)
    if as_json:
        dump_json(result)
    else:
        out.print(
            f"scan: {result.scan.raised} nieuwe meldingen ({result.scan.due} opeisbaar), "
            f"{result.scan.deliveries} verzendingen klaargezet; dagoverzichten: {result.digests}; "
            f"verstuurd: {result.drain.sent}, mislukt: {result.drain.failed}"
        )

"""`imvo users add|subscribe`: accounts and who hears about which sector."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from imvo_workflow.cli.common import app_from_env, out
from imvo_workflow.services import users
from imvo_workflow.services.auth import hash_password

group = typer.Typer(help="Gebruikers en hun abonnementen op meldingen.", no_args_is_help=True)

UserName = Annotated[str, typer.Argument(help="De gebruikersnaam.")]


@group.command("add")
def add(
    name: UserName,
    role: Annotated[
        str, typer.Option("--role", help="admin, coordinator of viewer.")
    ] = "coordinator",
    email: Annotated[str | None, typer.Option("--email", help="E-mailadres.")] = None,
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


@group.command("subscribe")
def subscribe(
    name: UserName,
    channel: Annotated[str, typer.Option("--channel", help="email, webhook, inbox of log.")],
    sector: Annotated[
        str | None, typer.Option("--sector", help="Alleen deze sector (standaard: alle).")
    ] = None,
    address: Annotated[str, typer.Option("--address", help="E-mailadres of webhook-URL.")] = "",
) -> None:
    """Abonneer een gebruiker op de meldingen van een sector.

    Een webhook krijgt een geheim waarmee de ontvanger de handtekening controleert; het wordt
    één keer getoond.
    """
    app = app_from_env()
    secret = secrets.token_hex(32) if channel == "webhook" else None
    added = users.subscribe(
        uow=app.uow(), user=name, channel=channel, sector=sector, address=address, secret=secret
    )
    out.print(
        f"[green]✓[/] {name}: {channel} voor {sector or 'alle sectoren'}"
        + ("" if added else " (bestond al)"),
        highlight=False,
    )
    if added and secret:
        out.print(
            f"geheim voor de handtekening (X-Imvo-Signature): [bold]{secret}[/] "
            "(wordt maar één keer getoond)",
            highlight=False,
            soft_wrap=True,
        )

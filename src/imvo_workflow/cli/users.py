"""`imvo users …`: accounts, who hears about which sector, and withdrawing credentials.

An operator can list, add and revoke a user's API tokens, disable and enable a user (their
sessions, tokens and calendar link stop at once) and give a user a new calendar link.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.table import Table

from imvo_workflow.cli.common import app_from_env, iso_date, out
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.services import auth, users
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


@group.command("list")
def list_users() -> None:
    """Toon alle gebruikers met hun rol en of ze actief of uitgeschakeld zijn."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = users.list_users(conn=uow.conn)
    table = Table(title="Gebruikers")
    for header in ("Naam", "Rol", "E-mail", "Status"):
        table.add_column(header, overflow="fold")
    for row in rows:
        status = "uitgeschakeld" if row.disabled else "actief"
        table.add_row(row.name, row.role, row.email or "", status)
    out.print(table)


@group.command("tokens")
def tokens(name: UserName) -> None:
    """Toon de API-tokens van een gebruiker (nummer, naam, vervaldatum, status)."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = auth.list_api_tokens(uow.conn, user=name)
    now = app.now()
    table = Table(title=f"API-tokens van {name}")
    for header in ("Nr.", "Naam", "Gemaakt", "Vervalt", "Status"):
        table.add_column(header, overflow="fold")
    for row in rows:
        expires = row.expires_at.astimezone(AMSTERDAM).date().isoformat() if row.expires_at else ""
        table.add_row(
            str(row.id),
            row.name,
            row.created_at.astimezone(AMSTERDAM).date().isoformat(),
            expires or "nooit",
            row.state(now),
        )
    out.print(table)


@group.command("token-add")
def token_add(
    name: UserName,
    label: Annotated[str, typer.Option("--name", help="Naam van het token.")] = "script",
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Vervalt op deze datum (JJJJ-MM-DD, 00:00 uur)."),
    ] = None,
) -> None:
    """Maak een API-token voor een gebruiker; het wordt maar één keer getoond."""
    app = app_from_env()
    token = auth.add_api_token(
        uow=app.uow(),
        user=name,
        name=label,
        now=app.now(),
        expires=iso_date(expires, "--expires"),
    )
    out.print(f"[green]✓[/] API-token voor {name}: [bold]{token}[/] (wordt maar één keer getoond)")


@group.command("token-revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="Nummer van het token (zie `users tokens`).")],
) -> None:
    """Trek een API-token meteen in."""
    app = app_from_env()
    revoked = auth.revoke_api_token(uow=app.uow(), token_id=token_id, now=app.now())
    out.print(
        f"[green]✓[/] API-token {token_id} ingetrokken"
        if revoked
        else f"API-token {token_id} was al ingetrokken"
    )


@group.command("disable")
def disable(name: UserName) -> None:
    """Schakel een gebruiker uit: sessies, API-tokens en agenda-link werken meteen niet meer."""
    app = app_from_env()
    changed = users.disable_user(uow=app.uow(), name=name, now=app.now())
    out.print(f"[green]✓[/] {name} uitgeschakeld" if changed else f"{name} was al uitgeschakeld")


@group.command("enable")
def enable(name: UserName) -> None:
    """Schakel een uitgeschakelde gebruiker weer in."""
    app = app_from_env()
    changed = users.enable_user(uow=app.uow(), name=name)
    out.print(
        f"[green]✓[/] {name} weer ingeschakeld" if changed else f"{name} was niet uitgeschakeld"
    )


@group.command("calendar-link")
def calendar_link(name: UserName) -> None:
    """Geef een gebruiker een nieuwe agenda-link; de oude werkt meteen niet meer."""
    app = app_from_env()
    secret = auth.rotate_calendar_link(uow=app.uow(), user=name)
    path = f"/agenda/{secret}.ics"
    base = app.settings.base_url.rstrip("/")
    out.print(
        f"[green]✓[/] nieuwe agenda-link voor {name} (wordt maar één keer getoond): "
        + (f"[bold]{base}{path}[/]" if base else f"[bold]{path}[/] achter het adres van de site"),
        highlight=False,
        soft_wrap=True,
    )

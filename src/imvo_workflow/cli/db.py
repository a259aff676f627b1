"""`imvo db upgrade|current|backup` and `imvo seed`: the operator's database chores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imvo_workflow.cli.common import app_from_env, err, out
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services.seed import seed as seed_service
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import Settings

group = typer.Typer(help="Database: migraties en back-ups.", no_args_is_help=True)


@group.command("upgrade")
def upgrade(
    revision: Annotated[
        str, typer.Option("--revision", help="Naar deze migratie; standaard de nieuwste.")
    ] = "head",
) -> None:
    """Breng de database naar de nieuwste migratie."""
    from imvo_workflow.db import migrate  # alembic is only needed here: keep start-up fast

    migrate.upgrade(Settings().database_url, revision)
    out.print(f"[green]✓[/] database bijgewerkt tot {revision}")


@group.command("current")
def current() -> None:
    """Toon de migratie van de database en de nieuwste migratie van de code."""
    from imvo_workflow.db import migrate
    from imvo_workflow.db.session import sqlite_file

    app = app_from_env(database=False)  # an empty or old database is what this reports
    missing = sqlite_file(app.settings.database_url)
    if missing is not None and not missing.exists():  # reported, not made
        now_at = None
    else:
        now_at = migrate.current_revision(app.engine)
    head = migrate.head_revision()
    state = "[green]bijgewerkt[/]" if now_at == head else "[yellow]voer `imvo db upgrade` uit[/]"
    out.print(f"database: {now_at or 'leeg'}, code: {head} — {state}")


@group.command("backup")
def backup(
    target: Annotated[Path, typer.Argument(help="Het bestand voor de back-up.")],
) -> None:
    """Maak een online back-up van de SQLite-database (PostgreSQL: gebruik pg_dump)."""
    from imvo_workflow.db import migrate

    url = Settings().database_url
    if not url.startswith("sqlite"):
        raise InvalidInput(
            "`imvo db backup` is voor SQLite; maak van PostgreSQL een back-up met pg_dump."
        )
    import sqlite3

    try:
        pages = migrate.backup_sqlite(url, target)
    except (ValueError, OSError, sqlite3.Error, InvalidInput) as exc:
        raise InvalidInput(f"Back-up mislukt: {exc}") from exc
    out.print(
        f"[green]✓[/] back-up naar {target} ({pages} pagina's, integriteit gecontroleerd)",
        highlight=False,
    )


def seed(
    file: Annotated[Path, typer.Option("--file", help="Seedbestand.")] = SEED_2016,
) -> None:
    """Laad de voortgangsrapportage 2016 (nogmaals laden verandert niets)."""
    app = app_from_env()
    with err.status("Laden…") as spinner:
        report = seed_service(
            uow=app.uow(),
            definition=app.definition,
            path=file,
            now=app.now(),
            progress=lambda slug: spinner.update(f"Laden: {slug}"),
        )
    out.print(
        f"[green]✓[/] {report.covenants_added} convenanten toegevoegd, {report.covenants_present} al aanwezig; "
        f"{report.sectors_added} sectoren, {report.organisations_added} organisaties, {report.targets_added} doelen."
    )
    if report.revisions:
        out.print(
            f"[yellow]![/] {report.revisions} verschillen met de herziene seed vastgelegd "
            "(correcties en wijzigingen in de geschiedenis, met de reden uit de seed)."
        )

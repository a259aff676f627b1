"""The `imvo` command: the coordinator's and operator's console.

Each command translates its arguments, calls one service function and renders the answer;
no rules live here. Errors are mapped to messages and exit codes in `main()` only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError

from imvo_workflow import cli_alerts, cli_audit, cli_serve  # noqa: F401  (they register their commands)
from imvo_workflow.cli_common import (
    JsonFlag,
    app_from_env,
    cli,
    db_cli,
    dump_json,
    err,
    iso_date,
    out,
    stages_cli,
)
from imvo_workflow.cli_render import render_detail, render_history, render_stages, render_status
from imvo_workflow.domain.definition import load_definition, refuse_stranding
from imvo_workflow.domain.errors import DomainError, InvalidInput, RequirementMissing
from imvo_workflow.domain.periods import resolve_period
from imvo_workflow.services import asof, lookup, queries
from imvo_workflow.services.moves import move as move_service
from imvo_workflow.services.seed import seed as seed_service
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import Settings


@cli.command()
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
            rows = asof.status_on(uow=uow, day=moment, known_at=past is not None)
        else:
            rows = queries.status(uow=uow, today=app.today())
    dump_json(rows) if as_json else render_status(out, rows, app.definition)


@cli.command()
def show(name: str, as_json: JsonFlag = False) -> None:
    """Eén convenant: partijen, facilitator, doelen en geschiedenis."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        found = queries.detail(
            uow=uow, covenant_id=lookup.covenant_id(uow, name), today=app.today()
        )
    dump_json(found) if as_json else render_detail(out, found, app.definition)


@cli.command()
def history(name: str, as_json: JsonFlag = False) -> None:
    """De overgangen van één convenant: wie, wanneer, waarom."""
    app = app_from_env()
    with app.uow(readonly=True) as uow:
        rows = queries.history(uow=uow, covenant_id=lookup.covenant_id(uow, name))
    dump_json(rows) if as_json else render_history(out, name, rows)


@cli.command()
def move(
    name: str,
    to: Annotated[str, typer.Argument(help="Doelfase (of de naam van de overgang).")],
    by: Annotated[str, typer.Option("--by", help="Wie zet deze stap.")],
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
    with app.uow(readonly=True) as reader:
        refuse_stranding(app.definition, queries.stages_in_use(uow=reader))
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


@stages_cli.callback()
def stages(
    ctx: typer.Context,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Mermaid-diagrambron.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Toon de workflow (fasen en overgangen)."""
    if ctx.invoked_subcommand is not None:
        return
    definition = app_from_env().definition
    if mermaid:
        out.print(definition.mermaid(), markup=False, highlight=False)
    elif as_json:
        dump_json(
            {
                "version": definition.version,
                "stages": [s.model_dump() for s in definition.stages.values()],
                "transitions": definition.transitions,
            }
        )
    else:
        render_stages(out, definition)


@stages_cli.command("check")
def stages_check(
    file: Annotated[
        Path | None,
        typer.Argument(help="Standaard de ingestelde definitie (IMVO_STAGES_FILE)."),
    ] = None,
) -> None:
    """Controleer een workflowdefinitie en toon waar die staat."""
    # Without a file: the one the app would load, so an installed operator learns its path.
    file = file or Settings().stages_file
    definition = load_definition(file)
    out.print(
        f"[green]✓[/] {file}: {len(definition.stages)} fasen, {len(definition.transitions)} overgangen, versie {definition.version}"
    )


@cli.command()
def period(
    phrase: str,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Peildatum (JJJJ-MM-DD); standaard vandaag.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Wat een Nederlandse termijn betekent: begin en einde (deadline)."""
    ref = iso_date(reference, "--reference") or Settings().today()
    found = resolve_period(phrase, ref)
    if as_json:
        dump_json(
            {"phrase": found.phrase, "reference": ref, "start": found.start, "end": found.end}
        )
    else:
        out.print(
            f"{found.phrase!r}: {found.start.isoformat()} t/m {found.end.isoformat()} (peildatum {ref.isoformat()})",
            highlight=False,
        )


@cli.command("seed")
def seed_cmd(
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


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Breng de database naar de nieuwste migratie."""
    from imvo_workflow.db import migrate  # alembic is only needed here: keep start-up fast

    migrate.upgrade(Settings().database_url, revision)
    out.print(f"[green]✓[/] database bijgewerkt tot {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Toon de migratie van de database en de nieuwste migratie van de code."""
    from imvo_workflow.db import migrate

    app = app_from_env()
    current, head = (
        migrate.current_revision(app.engine),
        migrate.head_revision(),
    )
    state = "[green]bijgewerkt[/]" if current == head else "[yellow]voer `imvo db upgrade` uit[/]"
    out.print(f"database: {current or 'leeg'}, code: {head} — {state}")


@db_cli.command("backup")
def db_backup(target: Path) -> None:
    """Maak een online back-up van de SQLite-database (PostgreSQL: gebruik pg_dump)."""
    from imvo_workflow.db import migrate

    url = Settings().database_url
    if not url.startswith("sqlite"):
        raise InvalidInput(
            "`imvo db backup` is voor SQLite; maak van PostgreSQL een back-up met pg_dump."
        )
    try:
        pages = migrate.backup_sqlite(url, target)
    except (ValueError, OSError) as exc:
        raise InvalidInput(f"Back-up mislukt: {exc}") from exc
    out.print(
        f"[green]✓[/] back-up naar {target} ({pages} pagina's, integriteit gecontroleerd)",
        highlight=False,
    )


def _database_message(exc: DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return f"De database is nog niet ingericht ({text}). Voer eerst `imvo db upgrade` uit."
    write_failures = ("disk I/O error", "database or disk is full", "readonly database")
    if any(word in text for word in write_failures):
        return f"Kan niet naar de database schrijven (schijf vol of alleen-lezen?): {text}. Er is niets opgeslagen."
    if isinstance(exc, OperationalError):
        return f"Kan de database niet bereiken: {text}. Controleer IMVO_DATABASE_URL."
    return f"Databasefout: {text}"


#: Where a missing value is given on the command line.
FLAG_FOR = {"reason": "--reason", "date": "--on JJJJ-MM-DD", "actor": "--by"}


def _fail(message: str) -> NoReturn:
    err.print(f"[red]Fout:[/] {escape(message)}", highlight=False)
    sys.exit(2)


def main() -> None:
    """Run the CLI; every refusal becomes a message and exit code 2, never a traceback."""
    try:
        cli(prog_name="imvo")
    except RequirementMissing as exc:
        hint = FLAG_FOR.get(exc.field or "")
        _fail(f"{exc.message} ({hint})" if hint else exc.message)
    except DomainError as exc:
        _fail(exc.message)
    except (OperationalError, ProgrammingError) as exc:
        _fail(_database_message(exc))
    except ArgumentError as exc:
        _fail(f"IMVO_DATABASE_URL is geen bruikbare database-URL: {exc}")
    except ValidationError as exc:
        _fail(
            "; ".join(
                f"IMVO_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
        )

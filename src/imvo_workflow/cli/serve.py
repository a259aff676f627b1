"""`imvo serve`: the web app and the alert scheduler in one process (the embedded default)."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from imvo_workflow.cli.common import app_from_env, configure_logging, out
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import auth


def serve(
    host: Annotated[str, typer.Option("--host", help="Adres om op te luisteren.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Poort (1-65535).")] = 8000,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Planner in dit proces.")
    ] = True,
) -> None:
    """Start de webapp (en de planner) en toon hoe je inlogt."""
    import uvicorn

    from imvo_workflow.db import migrate
    from imvo_workflow.web.app import create_app

    app = app_from_env(database=False)  # the migration first: its message names the fix
    configure_logging(app.settings.log_format)
    current, head = (
        migrate.current_revision(app.engine),
        migrate.head_revision(),
    )
    if current != head:
        raise InvalidInput(
            f"De database staat op migratie {current or 'geen'}, de code verwacht {head}. "
            "Voer eerst `imvo db upgrade` uit."
        )
    app.check_definition()
    local = f"http://{host}:{port}"
    web = create_app(app, run_scheduler=scheduler, host=host, local_base_url=local)
    password = auth.ensure_first_admin(uow=app.uow(), now=app.now())
    out.print(f"[bold]imvo-workflow[/] draait op {local}/", highlight=False)
    if password:
        out.print(
            f"Eerste beheerder aangemaakt: gebruiker [bold]admin[/], wachtwoord [bold]{password}[/] "
            "(wordt maar één keer getoond).",
            highlight=False,
        )
    else:
        out.print("Log in met je account; een beheerder maakt accounts aan met `imvo users add`.")
    # uvicorn re-raises SIGTERM at itself after a graceful shutdown, restoring the handler
    # it found; a no-op one here makes a clean stop exit 0, as `imvo scheduler run` does.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        web,
        host=host,
        port=port,
        log_level="info",
        access_log=app.settings.access_log,
        log_config=None,  # ours (configure_logging): the same format, text or JSON
        server_header=False,
    )

"""`imvo scheduler run|tick`: the planner that raises alerts and sends them."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, configure_logging, dump_json, out

group = typer.Typer(help="De planner die meldingen maakt en verstuurt.", no_args_is_help=True)


@group.command("run")
def run() -> None:
    """Draai de planner op de voorgrond; stopt netjes op SIGTERM of Ctrl-C."""
    from imvo_workflow.scheduler import AlertScheduler

    app = app_from_env()
    configure_logging(app.settings.log_format)
    worker = AlertScheduler(app)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    out.print("Planner draait; stoppen met Ctrl-C of SIGTERM.")
    worker.run_until_stopped()
    out.print("Planner gestopt.")


@group.command("tick")
def tick(
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

"""The `imvo` command: the coordinator's and operator's console.

This module builds the root Typer app and registers every command and group explicitly; the
commands live in one module per group (`covenants`, `targets`, …). Each command translates its
arguments, calls one service function and renders the answer; no rules live in the CLI.
Refusals become messages and exit codes in `main()` only, through the table in `errors`.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from imvo_workflow.cli import (
    alerts,
    audit,
    covenants,
    db,
    errors,
    notes,
    organisations,
    parties,
    processes,
    report,
    scheduler,
    serve,
    signing,
    stages,
    targets,
    terms,
    users,
)
from imvo_workflow.cli.common import close_apps, err

cli = typer.Typer(
    name="imvo",
    help="Volg IMVO-convenantprocessen: fasen, doelen, geschiedenis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

cli.command("status")(covenants.status)
cli.command("show")(covenants.show)
cli.command("history")(covenants.history)
cli.command("move")(covenants.move)
cli.command("open")(processes.open_)
cli.add_typer(organisations.group, name="organisations")
cli.add_typer(parties.group, name="parties")
cli.command("sign")(signing.sign)
cli.add_typer(stages.group, name="stages")
cli.command("period")(stages.period)
cli.add_typer(targets.group, name="targets")
targets.group.command("close")(signing.close_target)
cli.command("deadlines")(targets.deadlines)
cli.add_typer(notes.group, name="notes")
cli.add_typer(notes.summary_group, name="summary")
cli.command("continue")(terms.continue_)
cli.add_typer(terms.group, name="terms")
cli.add_typer(alerts.group, name="alerts")
cli.add_typer(users.group, name="users")
cli.add_typer(audit.group, name="audit")
cli.add_typer(report.group, name="report")
cli.command("serve")(serve.serve)
cli.add_typer(scheduler.group, name="scheduler")
cli.add_typer(db.group, name="db")
cli.command("seed")(db.seed)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every refusal becomes a message and its exit code, never a traceback.

    `argv` is for running a command inside another Python process (the tests do); the
    console script passes none and the arguments come from sys.argv.
    """
    try:
        cli(args=argv, prog_name="imvo")
    except Exception as exc:
        found = errors.refusal(exc)
        if found is None:
            raise
        code, message = found
        err.print(f"[red]Fout:[/] {escape(message)}", highlight=False)
        sys.exit(code)
    finally:
        close_apps()

"""The `imvo` command: the coordinator's and operator's console.

This module builds the root Typer app and registers every command and group explicitly; the
commands live in one module per group (`covenants`, `targets`, …). Each command translates its
arguments, calls one service function and renders the answer; no rules live in the CLI.
Refusals become messages and exit codes in `main()` only, through the table in `errors`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any, cast

import typer
from rich.markup import escape
from typer.core import TyperGroup

from imvo_workflow.cli import errors
from imvo_workflow.cli.common import close_apps, err

#: Every command and group, in the order `imvo --help` lists them: its name and where it is
#: (module in cli/, attribute). A Typer attribute is a group of commands, anything else one
#: command. A module is imported when its command runs (or `--help` lists them all), so a
#: status never loads the web framework, the scheduler or the calendar library.
COMMANDS: dict[str, tuple[str, str]] = {
    "status": ("covenants", "status"),
    "show": ("covenants", "show"),
    "history": ("covenants", "history"),
    "move": ("covenants", "move"),
    "open": ("processes", "open_"),
    "organisations": ("organisations", "group"),
    "parties": ("parties", "group"),
    "sign": ("signing", "sign"),
    "stages": ("stages", "group"),
    "period": ("stages", "period"),
    "targets": ("targets", "group"),
    "deadlines": ("targets", "deadlines"),
    "notes": ("notes", "group"),
    "summary": ("notes", "summary_group"),
    "continue": ("terms", "continue_"),
    "terms": ("terms", "group"),
    "alerts": ("alerts", "group"),
    "users": ("users", "group"),
    "audit": ("audit", "group"),
    "report": ("report", "group"),
    "serve": ("serve", "serve"),
    "scheduler": ("scheduler", "group"),
    "db": ("db", "group"),
    "seed": ("db", "seed"),
}
#: Commands a group gets from another module: group -> (name, module, attribute).
GROUP_COMMANDS: dict[str, list[tuple[str, str, str]]] = {
    "targets": [("close", "signing", "close_target")],
}


def _attribute(module: str, name: str) -> Any:
    return getattr(importlib.import_module(f"imvo_workflow.cli.{module}"), name)


def load_command(name: str) -> Any:
    """The click command `name` of COMMANDS, its module imported now."""
    found = _attribute(*COMMANDS[name])
    if isinstance(found, typer.Typer):
        for sub, module, attribute in GROUP_COMMANDS.get(name, []):
            found.command(sub)(_attribute(module, attribute))
        command = typer.main.get_group(found)  # no completion options of its own
        command.name = name
        return command
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name)(found)
    return typer.main.get_command(single)


class _LazyCommands(MutableMapping[str, Any]):
    # Any: click's Command, which Typer ships itself in newer releases (typer._click)
    """The root's commands by name; each is loaded the first time it is asked for."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = cast(Any, _LazyCommands())


cli = typer.Typer(
    name="imvo",
    help="Volg IMVO-convenantprocessen: fasen, doelen, geschiedenis.",
    cls=_LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@cli.callback()
def _root() -> None:
    """The commands come from COMMANDS (a callback makes Typer build a group)."""


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

"""Every `imvo` command, argument and option explains itself, in Dutch.

Walks the command tree Typer builds (`typer.main.get_command`), so a command added later
without a help text, or with an English one, fails here rather than in a coordinator's
terminal. Typer's own `--help` option ("Show this message and exit.") is the framework's and
is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from imvo_workflow.cli import cli

#: Words that give an English help text away; none of them is Dutch.
ENGLISH = re.compile(
    r"\b(the|and|show|shows|run|runs|file|with|this|when|which|default|only|database url|"
    r"write|read|list|add|check|stop|export|message|exit)\b",
    re.IGNORECASE,
)


def _commands(command: Any, path: str = "imvo") -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, f"{path} {name}")


COMMANDS = list(_commands(typer.main.get_command(cli)))


def _params(command: Any) -> Iterator[Any]:
    for param in command.params:
        if param.name != "help":  # Typer's own, in English: not ours to word
            yield param


def test_the_walk_finds_every_group_and_command() -> None:
    paths = {path for path, _ in COMMANDS}
    assert {
        "imvo status",
        "imvo move",
        "imvo stages check",
        "imvo targets set",
        "imvo alerts ack",
        "imvo users subscribe",
        "imvo scheduler tick",
        "imvo audit correct",
        "imvo db backup",
        "imvo seed",
        "imvo serve",
    } <= paths
    assert len(paths) >= 30


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_command_has_a_dutch_help(path: str, command: Any) -> None:
    text = (command.help or "").strip()
    assert text, f"{path}: no help text"
    assert not ENGLISH.search(text), f"{path}: English help? {text!r}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_argument_and_option_has_a_dutch_help(path: str, command: Any) -> None:
    for param in _params(command):
        # Click's own Argument has no help; Typer's TyperArgument keeps it in `help`.
        text = (getattr(param, "help", None) or "").strip()
        where = f"{path} {param.opts[0] if param.opts else param.name}"
        assert text, f"{where}: no help text"
        assert not ENGLISH.search(text), f"{where}: English help? {text!r}"

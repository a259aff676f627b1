"""What every `imvo` command shares: the consoles, building the App, argument helpers, JSON."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from datetime import date
from typing import Annotated, Any

import typer
from pydantic import BaseModel, TypeAdapter
from rich.console import Console

from imvo_workflow import bootstrap as boot
from imvo_workflow.domain.errors import InvalidInput

out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON, voor scripts.")]


#: The Apps this command built; `close_apps` ends their connections when the command ends.
_opened: list[boot.App] = []


def close_apps() -> None:
    """End the command's database connections (and SQLite's WAL) with the command itself,
    also when it runs inside a longer process, not whenever the interpreter exits."""
    while _opened:
        _opened.pop().close()


def app_from_env(*, database: bool = True) -> boot.App:
    """The App for one command, from the environment.

    A command that uses the database first has the definition checked against the stages in
    use (`App.check_definition`); `database=False` is for commands that only read the
    definition, so they work without a database.
    """
    app = boot.bootstrap()
    _opened.append(app)
    if database:
        app.check_definition()
    return app


def configure_logging(fmt: str = "text") -> None:
    """Log lines for the long-running commands (serve, scheduler run), at INFO, with their
    action and ids (logs.py), as text or JSON (IMVO_LOG_FORMAT).

    Libraries that narrate every step stay at WARNING: `transitions` writes two lines per
    move (the history table is the record of moves) and alembic one per migration check.
    """
    from imvo_workflow import logs

    logs.configure(logging.INFO, fmt=fmt)
    for chatty in ("transitions", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def iso_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name}: '{value}' is geen datum; gebruik JJJJ-MM-DD, bv. 2017-02-14."
        ) from None


def dump_json(data: Any, rows_of: type | None = None) -> None:
    """`data` as JSON: pretty and coloured on a terminal, one compact line otherwise (a pipe,
    a file), which the C encoder writes fast: `imvo status --json` of 10,000 covenants took
    a minute through Rich's pretty printer (issue 14). `rows_of`: the dataclass of a list's
    rows (dates and plain values only), whose document pydantic's serializer writes: 10,000
    status rows in a seventh of the time json.dumps took calling back for each row."""
    if rows_of is not None:
        _write_json(_rows_adapter(rows_of).dump_json(data).decode())
        return

    def default(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            # Shallow: the encoder comes back here for nested dataclasses and dates (what
            # dataclasses.asdict does with deep copies, several times slower).
            fields = {name: getattr(value, name) for name in _field_names(type(value))}
            for name, field in fields.items():
                if type(field) is date:  # here, not in one more call of `default` each
                    fields[name] = field.isoformat()
            return fields
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        raise TypeError(type(value).__name__)

    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        data = dataclasses.asdict(data)
    _write_json(json.dumps(data, default=default, ensure_ascii=False, separators=(",", ":")))


def _write_json(text: str) -> None:
    if out.is_terminal:
        out.print_json(text)
    else:
        out.file.write(text + "\n")


@functools.cache
def _rows_adapter(kind: type) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[kind])  # type: ignore[valid-type]


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def peildag(as_of: str | None, known_at: str | None) -> tuple[date | None, bool]:
    """`--as-of D` or `--known-at D` (not both) as (the day or None, whether "known at")."""
    day, past = iso_date(as_of, "--as-of"), iso_date(known_at, "--known-at")
    if day and past:
        raise InvalidInput("Kies --as-of of --known-at, niet allebei.")
    return day or past, past is not None

"""Log lines an operator can follow: the action and the ids of every line, as text or JSON.

Code logs with `extra={"action": "delivery.sent", "delivery_id": ..., "covenant": ...}`; the
standard formatter drops those fields, so these two show them: `key=value` pairs after the
message, or one JSON object per line (IMVO_LOG_FORMAT=json) for a log collector. A line
without an action of its own (a library's) gets its logger's name as action.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

#: Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(
    set(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)))
    | {"message", "asctime", "color_message"}  # uvicorn's copy of the message with colours
)


#: The action of a library's lines, which carry none of their own.
_LOGGER_ACTION = {"uvicorn.access": "http.request", "uvicorn.error": "http.server"}


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of `record`: its action first, then the ids and counts."""
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    action = extra.pop("action", None) or _LOGGER_ACTION.get(record.name, record.name)
    return {"action": action, **extra}


class TextFormatter(logging.Formatter):
    """`2026-12-02 10:00:00,000 INFO imvo.scheduler scan action=alerts.scan raised=3`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = " ".join(f"{k}={_text(v)}" for k, v in fields(record).items())
        head, sep, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} {pairs}{sep}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, action and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def _text(value: Any) -> str:
    text = str(value)
    return (
        json.dumps(text, ensure_ascii=False)
        if (not text or any(c in text for c in ' "=\n'))
        else text
    )


def configure(level: int = logging.INFO, *, fmt: str = "text") -> None:
    """One handler on the root logger, in `fmt` ("text" or "json"), replacing any before."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

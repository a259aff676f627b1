"""Log lines name their action and ids, as text or as JSON (IMVO_LOG_FORMAT=json)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from imvo_workflow import logs


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, logging.StreamHandler[io.StringIO]]]:
    logger = logging.getLogger("imvo.test_logs")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, handler
    logger.removeHandler(handler)
    logger.propagate = True


EXTRA = {"action": "delivery.sent", "delivery_id": 7, "alert_key": "a-1", "covenant": "textiel"}


def test_text_lines_carry_the_action_and_ids(
    captured: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = captured
    handler.setFormatter(logs.TextFormatter())
    logger.info("delivered", extra=EXTRA | {"error": "two words"})
    line = handler.stream.getvalue().strip()
    assert line.endswith(
        'delivered action=delivery.sent delivery_id=7 alert_key=a-1 covenant=textiel error="two words"'
    ), line


def test_json_lines_are_one_object_with_the_fields(
    captured: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = captured
    handler.setFormatter(logs.JsonFormatter())
    logger.info("delivered", extra=EXTRA)
    logger.warning("no extra")
    first, second = (json.loads(x) for x in handler.stream.getvalue().splitlines())
    assert first["message"] == "delivered" and first["level"] == "INFO"
    assert {k: first[k] for k in EXTRA} == EXTRA
    assert second["action"] == "imvo.test_logs"  # a line without an action: its logger's name
    try:
        raise ValueError("kapot")
    except ValueError:
        logger.exception("failed", extra={"action": "scheduler.job_failed"})
    third = json.loads(handler.stream.getvalue().splitlines()[2])
    assert "ValueError: kapot" in third["exception"]

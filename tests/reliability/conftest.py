"""Fixtures of the reliability tests: the loopback receivers (receivers.py) and app variants."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from receivers import SmtpReceiver, WebhookReceiver

from helpers import free_port
from imvo_workflow.bootstrap import App


@pytest.fixture
def smtp_server() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(free_port())
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook_server() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(free_port())
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def make_app(app: App) -> Iterator[Callable[..., App]]:
    """make_app(smtp_port=…, base_url=…) -> the `app` fixture's App with other settings."""
    built: list[App] = []

    def build(**overrides: Any) -> App:
        variant = App(settings=app.settings.model_copy(update=overrides), definition=app.definition)
        built.append(variant)
        return variant

    yield build
    for variant in built:
        variant.close()

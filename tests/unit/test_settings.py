"""Settings read IMVO_* from the environment the way pydantic-settings did (issue 14).

settings.py reads its variables itself, so an `imvo` command does not import pydantic-settings;
these pin what it took over: the prefix in any case, values given to the constructor above the
environment, other variables ignored, strings converted and refused per field.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from pydantic import ValidationError

from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.settings import Settings


@pytest.fixture(autouse=True)
def _no_imvo_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("IMVO_")]:
        monkeypatch.delenv(name)


def test_variables_are_read_by_prefix_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMVO_DATABASE_URL", "postgresql://u@h/d")
    monkeypatch.setenv("imvo_smtp_port", "2525")
    monkeypatch.setenv("Imvo_Access_Log", "false")
    monkeypatch.setenv("IMVO_NOW", "2016-11-01")
    monkeypatch.setenv("IMVO_NOT_A_SETTING", "x")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/d"
    assert settings.smtp_port == 2525
    assert settings.access_log is False
    assert settings.now == datetime(2016, 11, 1, tzinfo=AMSTERDAM)


def test_values_given_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMVO_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("IMVO_SMTP_HOST", "mail.example")
    settings = Settings(database_url="sqlite:///given.db")
    assert settings.database_url == "sqlite:///given.db"
    assert settings.smtp_host == "mail.example"


def test_defaults_without_variables() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///var/imvo.db"
    assert settings.now is None and settings.smtp_user is None


def test_a_bad_variable_is_refused_by_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMVO_RETRY_JITTER", "5")
    monkeypatch.setenv("IMVO_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert {e["loc"] for e in caught.value.errors()} == {("retry_jitter",), ("log_format",)}

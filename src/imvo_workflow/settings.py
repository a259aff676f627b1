"""Settings from the environment (IMVO_*), validated once at the edge.

Nothing reads os.environ elsewhere: the CLI and the web app build a Settings, and everything
below receives what it needs as parameters. `IMVO_NOW` pins the clock for tests and demos.

A plain pydantic model that reads its own variables, as pydantic-settings' BaseSettings did
for these scalar fields (prefix IMVO_, any case, values given to the constructor win, other
variables ignored, defaults validated too): importing pydantic-settings, which loads every
source it supports (cloud secret stores, dotenv, its CLI parser), cost each `imvo` command
a tenth of its start (issue 14).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from imvo_workflow.domain.clock import AMSTERDAM

#: The workflow definition that ships inside the package, so an installed `imvo` finds it from
#: any working directory (a path relative to the checkout would not).
DEFAULT_STAGES_FILE = Path(__file__).resolve().parent / "data" / "stages.yaml"


#: Every setting `x` is read from the environment variable IMVO_X.
ENV_PREFIX = "IMVO_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**(_from_environment() | values))

    #: SQLAlchemy URL; the embedded default is a SQLite file under ./var/.
    database_url: str = "sqlite:///var/imvo.db"
    #: The workflow definition (stages, transitions, reminder policy).
    stages_file: Path = DEFAULT_STAGES_FILE
    #: Pin "now" (ISO date or datetime) for tests and demos; unset means the real clock.
    now: datetime | None = None

    #: Outgoing e-mail (alerts and digests).
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "imvo-workflow@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    webhook_timeout_seconds: float = 10.0
    #: Public address of the web app: every link (pages, e-mails, calendar) is built from it,
    #: and when set, requests for other hosts are refused. "" leaves links out of alerts.
    base_url: str = ""

    #: Web: the key that signs session cookies (all web processes must share it). Unset: a
    #: key is generated once and kept in var/secret_key.
    secret_key: str | None = None
    #: Log every HTTP request (uvicorn's access log).
    access_log: bool = True
    #: Send the session cookie only over HTTPS (set in production behind TLS).
    secure_cookies: bool = False

    #: /metrics answers only with `Authorization: Bearer <this>` when set.
    metrics_token: str | None = None
    #: Log lines as text (`time LEVEL logger message key=value ...`) or one JSON object each.
    log_format: Literal["text", "json"] = "text"

    #: Audit checkpoints are also appended here, outside the database.
    checkpoint_file: Path = Path("var/checkpoints.jsonl")

    #: Scheduler: how often to scan for due alerts and to drain the outbox.
    scan_interval_seconds: float = 60.0
    drain_interval_seconds: float = 5.0
    #: First retry delay of a failed delivery; doubles per attempt up to the cap.
    retry_base_seconds: float = 30.0
    retry_cap_seconds: float = 3600.0
    #: After this many attempts a delivery is "failed" (admins get an inbox alert).
    retry_max_attempts: int = Field(default=10, ge=1)
    #: Each retry delay is spread by up to this fraction either way (0.2 = ±20 %).
    retry_jitter: float = Field(default=0.2, ge=0.0, le=1.0)

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, url: str) -> str:
        """Plain postgresql:// URLs use psycopg 3, the driver this project installs."""
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @field_validator("now", mode="before")
    @classmethod
    def _date_means_midnight(cls, value: object) -> object:
        if isinstance(value, str) and len(value.strip()) == 10:
            return datetime.combine(
                date.fromisoformat(value.strip()), datetime.min.time(), AMSTERDAM
            )
        return value

    def current_time(self) -> datetime:
        """Now, timezone-aware; honours IMVO_NOW."""
        if self.now is None:
            return datetime.now(UTC)
        return self.now if self.now.tzinfo else self.now.replace(tzinfo=AMSTERDAM)

    def today(self) -> date:
        """Today's date in Europe/Amsterdam, where the deadlines live."""
        return self.current_time().astimezone(AMSTERDAM).date()


def _from_environment() -> dict[str, str]:
    """The IMVO_* variables that name a setting, by setting (the variable's case is free)."""
    names = {f"{ENV_PREFIX}{name}".lower(): name for name in Settings.model_fields}
    return {names[key.lower()]: value for key, value in os.environ.items() if key.lower() in names}

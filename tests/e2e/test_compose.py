"""docker-compose.yml describes the deployment the scale-out test runs by hand.

No Docker engine is needed: `docker-compose config` only reads and validates the file. The
commands checked here are the ones tests/reliability/test_scale_out.py reads from the same
file and runs as subprocesses (migrate + seed, `imvo serve --no-scheduler`, `imvo scheduler
run`), so a change of command in the file is a change of what that test proves.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
#: What an operator puts in IMVO_SECRET_KEY (in the test: any strong value).
COMPOSE_SECRET = "compose-test-" + "k" * 40
SERVICES = {"postgres", "migrate", "web", "scheduler", "mail"}
#: What each service runs, entrypoint included (the image's ENTRYPOINT is `imvo`).
EXPECTED = {
    "migrate": ["sh", "-c", "imvo db upgrade && imvo seed"],
    "web": ["imvo", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-scheduler"],
    "scheduler": ["imvo", "scheduler", "run"],
}


def docker_compose(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: apt-get install -y docker-compose")
    # Interpolation defaults apply, not whatever this shell exports; the secret has none.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    env["IMVO_SECRET_KEY"] = COMPOSE_SECRET
    return subprocess.run(
        [binary, "-f", str(COMPOSE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_compose_requires_a_secret_key() -> None:
    """No default: the old public one let anyone sign an admin session."""
    binary = shutil.which("docker-compose")
    assert binary is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    done = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "IMVO_SECRET_KEY" in done.stderr
    assert "change-me-in-production" not in COMPOSE.read_text(encoding="utf-8")


def image_entrypoint() -> list[str]:
    """The Dockerfile's exec-form ENTRYPOINT, e.g. ["imvo"]."""
    found = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    assert found, f"{DOCKERFILE} has no exec-form ENTRYPOINT"
    entrypoint = json.loads(found.group(1))
    assert isinstance(entrypoint, list)
    return [str(part) for part in entrypoint]


def effective_command(service: dict[str, Any]) -> list[str]:
    """What the container runs: the service's entrypoint (or the image's), then its command."""
    entrypoint = service.get("entrypoint", image_entrypoint())
    command = service.get("command", [])
    as_list = [entrypoint] if isinstance(entrypoint, str) else list(entrypoint)
    return [*as_list, *([command] if isinstance(command, str) else command)]


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    done = docker_compose("config")
    assert done.returncode == 0, done.stderr
    parsed = yaml.safe_load(done.stdout)
    assert isinstance(parsed, dict)
    return parsed


def test_compose_file_is_valid() -> None:
    done = docker_compose("config", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_compose_has_every_service(config: dict[str, Any]) -> None:
    assert set(config["services"]) >= SERVICES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_compose_commands_are_the_ones_the_scale_out_test_runs(
    config: dict[str, Any], name: str
) -> None:
    assert effective_command(config["services"][name]) == EXPECTED[name]


def test_app_services_share_database_and_secret_key(config: dict[str, Any]) -> None:
    """Web processes behind one address must sign cookies alike and use one database."""
    services = config["services"]
    environments = [services[name]["environment"] for name in ("migrate", "web", "scheduler")]
    for key in ("IMVO_DATABASE_URL", "IMVO_SECRET_KEY"):
        values = {env.get(key) for env in environments}
        assert len(values) == 1 and None not in values, (key, values)
    assert all("IMVO_NOW" not in env for env in environments)  # production runs on the wall clock


def test_web_and_scheduler_wait_for_the_migration(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in ("web", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])

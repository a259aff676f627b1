"""Installed, not only checked out (issue 10): the wheel alone runs `imvo` from any directory.

Before, `imvo seed` outside the checkout answered "config/stages.yaml: kan het bestand niet
lezen" and `imvo db upgrade` looked for migrations/ next to src/. Here the wheel is built from
a copy of the sources, installed (not editable) into a fresh virtualenv, and the operator's
sequence runs from an empty directory, on SQLite and on a fresh PostgreSQL database.

The fresh virtualenv gets no dependencies of its own (that would need the network): a .pth
file appends the test interpreter's site-packages to its sys.path. Only a site directory's
own .pth files are executed, so the editable install of the checkout (and coverage's startup
hook) found there stay inert; the test checks `imvo_workflow` is imported from the venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "imvo_workflow"

pytestmark = pytest.mark.slow


def _run(
    argv: list[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    shown = f"{' '.join(map(str, argv))}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    return done


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    # Build from a copy, so the checkout gets no build/ folder from the test.
    source = work / "source"
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", work, source],
        env=quiet,
    )
    (wheel,) = work.glob("imvo_workflow-*.whl")

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], env=quiet)
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "imvo_test_dependencies.pth").write_text(
        "".join(f"{path}\n" for path in sorted(ours)), encoding="utf-8"
    )
    return Installed(wheel=wheel, venv=venv)


def test_the_wheel_carries_the_definition_and_every_migration(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    shipped = {
        "imvo_workflow/data/stages.yaml",
        "imvo_workflow/data/voortgang-2016.yaml",
        "imvo_workflow/migrations/env.py",
        "imvo_workflow/migrations/script.py.mako",
    } | {
        f"imvo_workflow/migrations/versions/{p.name}"
        for p in (PACKAGE / "migrations" / "versions").glob("*.py")
    }
    assert len(shipped) > 4
    assert shipped <= names, sorted(shipped - names)


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code
    except (urllib.error.URLError, OSError):
        return None


def test_installed_imvo_runs_from_an_empty_directory(
    installed: Installed, empty_database_url: str, tmp_path: Path
) -> None:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    # Nothing that points back at the checkout: no IMVO_STAGES_FILE, no PYTHONPATH, and no
    # coverage hook (the venv has no coverage of its own to start).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IMVO_", "COVERAGE_", "PYTHON", "VIRTUAL_ENV", "FORCE_COLOR"))
    }
    env |= {
        "IMVO_DATABASE_URL": empty_database_url,
        "IMVO_NOW": "2016-11-01",
        "COLUMNS": "200",
        "PYTHONIOENCODING": "utf-8",
        "PGCONNECT_TIMEOUT": "5",
    }

    def imvo(*args: str) -> str:
        return _run([installed.bin / "imvo", *args], cwd=cwd, env=env).stdout

    where = _run(
        [installed.bin / "python", "-c", "import imvo_workflow; print(imvo_workflow.__file__)"],
        cwd=cwd,
        env=env,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.venv), where

    imvo("db", "upgrade")
    imvo("seed")
    assert "natuursteen" in imvo("status")
    checked = " ".join(imvo("stages", "check").split())
    assert f"{installed.venv}" in checked and "7 fasen, 18 overgangen" in checked, checked

    port = free_port()
    log = (tmp_path / "serve.log").open("w", encoding="utf-8")
    serve = subprocess.Popen(
        [installed.bin / "imvo", "serve", "--port", str(port), "--no-scheduler"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while _status(f"{base}/healthz") != 200:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "imvo serve did not answer /healthz in 30 s"
            time.sleep(0.2)
        # Ready means the schema is at the head of the migrations the wheel carries.
        assert _status(f"{base}/readyz") == 200
    finally:
        serve.terminate()
        serve.wait(timeout=15)
        log.close()
    assert serve.returncode == 0, (tmp_path / "serve.log").read_text(encoding="utf-8")

    imvo("scheduler", "tick")

"""A smoke set of the browser tests on PostgreSQL: the same tests, another database.

test_browser.py runs every browser test against `imvo serve` on SQLite. The tests imported
below (a move, a viewer refused, forbidden and stale moves explained) run here a second time,
unchanged, against `imvo serve` on a PostgreSQL database of its own, made the way an operator
makes one (`imvo db upgrade`, `imvo seed`, `imvo users add`). This module only swaps the
`seeded` and `servers` fixtures those tests stand on; the browser and login fixtures are
test_browser.py's.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from test_browser import (  # noqa: F401 - fixtures and tests pytest collects from here
    IMVO,
    Seeded,
    Served,
    Servers,
    _env,
    _password,
    artifacts,
    browser,
    login,
    sessions,
    test_coordinator_moves_natuursteen_from_dialoog_to_ondertekend,
    test_forbidden_and_stale_moves_are_explained_on_the_page,
    test_viewer_sees_no_move_form_and_her_post_is_refused,
)

from cli_runner import run_imvo
from helpers import free_port


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this module's own, dropped at the end."""
    name = f"imvo_browser_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_env(workdir: Path, url: str) -> dict[str, str]:
    return _env(workdir / "unused.db") | {"IMVO_DATABASE_URL": url}


def _imvo(workdir: Path, url: str, *args: str) -> str:
    done = run_imvo(args, _pg_env(workdir, url), cwd=workdir)
    assert done.returncode == 0, f"imvo {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def seeded(database: str, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    workdir = tmp_path_factory.mktemp("browser-pg")
    _imvo(workdir, database, "db", "upgrade")
    _imvo(workdir, database, "seed")
    passwords = {
        name: _password(_imvo(workdir, database, "users", "add", name, "--role", role))
        for name, role in (("coco", "coordinator"), ("vera", "viewer"))
    }
    return Seeded(workdir / "unused.db", passwords)


@pytest.fixture(scope="module")
def servers(
    database: str, seeded: Seeded, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("browser-pg-serve")
    port = free_port()
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*IMVO, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
            cwd=workdir,
            env=_pg_env(workdir, database),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        served.wait_until_healthy()
        yield Servers(served.base_url, served.base_url)
    finally:
        served.stop()

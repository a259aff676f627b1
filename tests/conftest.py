"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built once per run by the Alembic migrations (the only way tables are made):
a migrated SQLite file is copied for each test, and the PostgreSQL test database is emptied
with TRUNCATE before each test. PostgreSQL is IMVO_TEST_DATABASE_URL (default: the local
server's `test` database); each run works in a database of its own that it drops at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from imvo_workflow.bootstrap import App
from imvo_workflow.db import migrate
from imvo_workflow.db.tables import metadata
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.settings import DEFAULT_STAGES_FILE, Settings

STAGES = DEFAULT_STAGES_FILE
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
#: The report's date: tests run "on" 1 November 2016 unless they say otherwise.
REPORT_NOW = datetime(2016, 11, 1, 10, 0, tzinfo=AMSTERDAM)


def _psycopg(url: str) -> str:
    return Settings(database_url=url).database_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "imvo.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = _psycopg(os.environ.get("IMVO_TEST_DATABASE_URL", PG_DEFAULT))
    name = f"imvo_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the environment, not the code
        pytest.fail(f"PostgreSQL at {admin_url} is needed for the database tests: {exc}")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        # The history tables refuse TRUNCATE by trigger (append-only); the test harness, as
        # the database owner, switches user triggers off for this one statement.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a copied SQLite file, or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "imvo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture(scope="session")
def definition() -> WorkflowDefinition:
    return load_definition(STAGES)


@pytest.fixture
def app(database_url: str, definition: WorkflowDefinition) -> Iterator[App]:
    settings = Settings(database_url=database_url, stages_file=STAGES, now=REPORT_NOW)
    built = App(settings=settings, definition=definition)
    yield built
    built.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (the `database_url` ones start migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = make_url(request.getfixturevalue("postgres_url"))
    name = f"imvo_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()

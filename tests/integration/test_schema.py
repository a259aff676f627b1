"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from imvo_workflow.db import migrate
from imvo_workflow.db.models import Base


def test_models_and_migrations_do_not_differ(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        current = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert current == migrate.head_revision()

"""The migrations build exactly the schema db/tables.py declares, on both databases."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from imvo_workflow.db import migrate
from imvo_workflow.db.schema import metadata

#: Expression indexes SQLAlchemy cannot reflect from SQLite (it warns and skips them); they
#: are checked by their SQL below instead.
SQLITE_EXPRESSION_INDEXES = {"uq_user_name_lower": "lower(name)"}


def test_tables_and_migrations_do_not_differ(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn, warnings.catch_warnings():
        if conn.dialect.name == "sqlite":
            for message in (
                "Skipped unsupported reflection of expression-based index",
                "autogenerate skipping metadata-specified expression-based index",
            ):
                warnings.filterwarnings("ignore", message=message)
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        current = MigrationContext.configure(conn).get_current_revision()
        if conn.dialect.name == "sqlite":
            diff = [d for d in diff if not _expression_index(d)]
            for name, expression in SQLITE_EXPRESSION_INDEXES.items():
                sql = conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"),
                    {"n": name},
                ).scalar()
                assert sql is not None and expression in sql and "UNIQUE" in sql.upper()
        else:
            assert set(SQLITE_EXPRESSION_INDEXES) <= {
                ix["name"] for ix in inspect(conn).get_indexes("user_account")
            }
    engine.dispose()
    assert diff == [], f"tables and migrations differ: {diff}"
    assert current == migrate.head_revision()


def _expression_index(diff: object) -> bool:
    """An 'add_index' for an expression index SQLite could not reflect (checked above)."""
    return (
        isinstance(diff, tuple)
        and diff[0] == "add_index"
        and getattr(diff[1], "name", None) in SQLITE_EXPRESSION_INDEXES
    )

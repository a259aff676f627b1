"""Alembic environment: the URL comes from IMVO_DATABASE_URL, or a connection passed in.

It ships inside the package with the versions/ it runs (see imvo_workflow.db.migrate).
"""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning

from imvo_workflow.db.schema import metadata
from imvo_workflow.db.session import make_engine
from imvo_workflow.settings import Settings

target_metadata = metadata


def run_migrations_offline() -> None:
    context.configure(url=Settings().database_url, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        _run()
        return
    url = context.config.attributes.get("url") or Settings().database_url
    engine = make_engine(url, create=True)  # `imvo db upgrade` is what makes a database
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Batch migrations copy tables; with foreign keys enforced, dropping the old
                # copy fails while other tables point at it. (Must run outside a transaction.)
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            context.configure(connection=conn, target_metadata=target_metadata)
            _run()
    finally:  # a refused migration must not leave a pooled connection behind
        engine.dispose()


def _run() -> None:
    with context.begin_transaction(), warnings.catch_warnings():
        # SQLite batch migrations reflect tables; the case-insensitive user-name index is an
        # expression SQLAlchemy cannot reflect there (batch mode neither copies nor needs it).
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

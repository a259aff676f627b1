"""Tampering with the append-only tables, as an attacker with database rights would, for the
tests that prove `imvo audit verify` finds it: the triggers that refuse UPDATE and DELETE are
taken out of the way first (SQLite: dropped; PostgreSQL: disabled inside the transaction and
enabled again before it commits, so the shared test database keeps them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

from imvo_workflow.bootstrap import App


@contextmanager
def tampering(app: App, *tables: str) -> Iterator[Connection]:
    """One transaction with the append-only triggers of `tables` out of the way."""
    postgres = app.engine.dialect.name == "postgresql"
    with app.engine.begin() as conn:
        for table in tables:
            if postgres:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
        yield conn
        if postgres:  # transactional DDL: the shared test database keeps its triggers
            for table in tables:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))

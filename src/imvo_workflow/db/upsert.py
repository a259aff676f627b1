"""INSERT … ON CONFLICT DO NOTHING for both dialects: the database refuses double effects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflict(
    conn: Connection,
    table: Table,
    row: dict[str, Any],
    conflict: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> bool:
    """Insert `row` unless a row with the same `conflict` columns exists; True if inserted.

    `where` names a partial unique index by its condition (both databases need it to match).
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
        .returning(*(table.c[name] for name in conflict))
    )
    # RETURNING, not rowcount: with an implicit RETURNING, psycopg reports rowcount -1.
    return conn.execute(statement, row).first() is not None


def insert_new(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> list[int]:
    """Insert the rows whose `conflict` columns are new; return the ids of those inserted."""
    if not rows:
        return []
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c.id)
    )
    # One batched statement ("insertmanyvalues"): RETURNING gives the ids of the rows that
    # were new; a skipped conflict returns nothing, the same on both databases.
    return list(conn.execute(statement, list(rows)).scalars())

"""The whole schema as the migrations make it: the tables (db/tables.py) and the partial unique
indexes, declared here and not beside their tables.

A partial index's `where` is a dialect option (`sqlite_where`, `postgresql_where`), and
SQLAlchemy loads a dialect to check its options when the index is declared: declared in
db/tables.py, they made every command load the PostgreSQL dialect on SQLite and the SQLite one
on PostgreSQL (50 ms of `imvo status`'s start, issue 14). Nothing at run time uses Index
objects: the migrations create the indexes, the services rely on the database refusing a
second row, and only Alembic's comparison of schema and migrations (migrations/env.py,
tests/integration/test_schema.py) reads them, so they import `metadata` from here.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, text

from imvo_workflow.db import tables as t

metadata = t.metadata


def _partial_unique(name: str, *columns: Column[object], where: str) -> Index:
    """A unique index over the rows `where` holds, on SQLite and PostgreSQL alike (a declared
    Index on a table's columns joins that table's indexes)."""
    return Index(
        name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where)
    )


_pa, _tg, _sub = t.participation.c, t.target.c, t.subscription.c
PARTIAL_UNIQUE = (
    # one current participation of an organisation in a role per covenant
    _partial_unique(
        "uq_participation_current",
        _pa.covenant_id,
        _pa.organisation_id,
        _pa.role,
        where=t.CURRENT_PARTICIPATION,
    ),
    # Two coordinators setting the same stage's target at once must not both insert one.
    # Milestones have no stage: they are not constrained here.
    _partial_unique("uq_target_open_stage", _tg.covenant_id, _tg.stage, where=t.OPEN_STAGE_TARGET),
    # NULLs are distinct in a unique constraint: "all sectors" needs an index of its own.
    _partial_unique(
        "uq_subscription_all_sectors",
        _sub.user_id,
        _sub.channel,
        _sub.address,
        where="sector_id IS NULL",
    ),
)

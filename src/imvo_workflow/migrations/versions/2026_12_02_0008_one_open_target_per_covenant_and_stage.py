"""one open target per covenant and stage

Setting a target reads the open one for the covenant and stage and changes it, or inserts a
new one. Two coordinators setting it at once on PostgreSQL could both find none and both
insert. A partial unique index over open stage targets closes that (milestones have no
stage and are not constrained by it). Duplicates an earlier release may have left are
settled first: the newest open target of each covenant and stage stays, the older ones are
cancelled as of the moment the newest was entered (their alerts so far stay).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPEN_STAGE = sa.text("status = 'open' AND stage IS NOT NULL")
#: A migration stands on its own: the zone of domain/clock.py, spelled out.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

target = sa.table(
    "target",
    sa.column("id", sa.Integer),
    sa.column("covenant_id", sa.Integer),
    sa.column("stage", sa.String),
    sa.column("status", sa.String),
    sa.column("closed_on", sa.Date),
    sa.column("closed_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _cancel_older_duplicates() -> None:
    conn = op.get_bind()
    is_open = sa.and_(target.c.status == "open", target.c.stage.is_not(None))
    doubled = (
        sa.select(target.c.covenant_id, target.c.stage)
        .where(is_open)
        .group_by(target.c.covenant_id, target.c.stage)
        .having(sa.func.count() > 1)
    )
    for covenant_id, stage in conn.execute(doubled).all():
        rows = conn.execute(
            sa.select(target.c.id, target.c.created_at)
            .where(is_open, target.c.covenant_id == covenant_id, target.c.stage == stage)
            .order_by(target.c.id.desc())
        ).all()
        newest = rows[0].created_at
        if newest.tzinfo is None:  # SQLite keeps UTC without a zone
            newest = newest.replace(tzinfo=UTC)
        conn.execute(
            sa.update(target)
            .where(target.c.id.in_([row.id for row in rows[1:]]))
            .values(
                status="cancelled",
                closed_on=newest.astimezone(AMSTERDAM).date(),
                closed_at=newest.astimezone(UTC),
            )
        )


def upgrade() -> None:
    _cancel_older_duplicates()
    op.create_index(
        "uq_target_open_stage",
        "target",
        ["covenant_id", "stage"],
        unique=True,
        sqlite_where=OPEN_STAGE,
        postgresql_where=OPEN_STAGE,
    )


def downgrade() -> None:
    op.drop_index("uq_target_open_stage", table_name="target")

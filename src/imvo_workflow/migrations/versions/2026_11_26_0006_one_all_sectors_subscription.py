"""one "all sectors" subscription per user, channel and address

uq_subscription treats NULL sectors as distinct, so two subscribes at once on PostgreSQL could
both add an "all sectors" row. A partial unique index closes that; duplicates an earlier
release may have left are removed first (the oldest row of each stays; deliveries refer to
alerts, not to subscriptions).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ALL_SECTORS = sa.text("sector_id IS NULL")


def upgrade() -> None:
    op.execute(
        "DELETE FROM subscription WHERE sector_id IS NULL AND id NOT IN ("
        " SELECT MIN(id) FROM subscription WHERE sector_id IS NULL"
        " GROUP BY user_id, channel, address)"
    )
    op.create_index(
        "uq_subscription_all_sectors",
        "subscription",
        ["user_id", "channel", "address"],
        unique=True,
        sqlite_where=ALL_SECTORS,
        postgresql_where=ALL_SECTORS,
    )


def downgrade() -> None:
    op.drop_index("uq_subscription_all_sectors", table_name="subscription")

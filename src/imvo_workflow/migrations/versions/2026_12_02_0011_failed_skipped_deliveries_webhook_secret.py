"""deliveries that failed for good or were skipped; a signing secret per webhook subscription

A delivery that used up its attempts (or can never be sent) is `failed`; an alert that a
catch-up superseded is recorded, its deliveries `skipped` and never sent. A webhook
subscription keeps the secret its deliveries are signed with (HMAC needs the secret itself).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD = "status IN ('pending', 'sending', 'sent')"
NEW = "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')"


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint(op.f("ck_delivery_status"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_status"), NEW)
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("superseded_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("secret", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("secret")
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("superseded_by")
    op.execute("UPDATE delivery SET status = 'pending' WHERE status IN ('failed', 'skipped')")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint(op.f("ck_delivery_status"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_status"), OLD)

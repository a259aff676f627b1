"""h11auth: login throttling per name and address, token expiry, disabled users, hashed
calendar links

Login failures move from the user row (which let anyone lock an account, and never slowed a
name that does not exist) to a table keyed by a hash of (name, client address) and of the
client address alone. API tokens get an expiry, users a "disabled" moment. The calendar-feed
secret is stored as its SHA-256 only: existing secrets are hashed here, so the links people
subscribed to keep working (a downgrade cannot restore them: those links stop working).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

user_account = sa.table(
    "user_account",
    sa.column("id", sa.Integer),
    sa.column("calendar_token", sa.String),
    sa.column("calendar_token_hash", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        op.f("ix_login_throttle_last_failure_at"), "login_throttle", ["last_failure_at"]
    )
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("calendar_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(user_account.c.id, user_account.c.calendar_token).where(
            user_account.c.calendar_token.is_not(None)
        )
    ).all()
    for user_id, token in rows:
        conn.execute(
            sa.update(user_account)
            .where(user_account.c.id == user_id)
            .values(calendar_token_hash=hashlib.sha256(token.encode()).hexdigest())
        )
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("uq_user_account_calendar_token"), type_="unique")
        batch.drop_column("calendar_token")
        batch.drop_column("failed_logins")
        batch.drop_column("blocked_until")
        batch.create_unique_constraint(
            op.f("uq_user_account_calendar_token_hash"), ["calendar_token_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("uq_user_account_calendar_token_hash"), type_="unique")
        batch.drop_column("calendar_token_hash")
        batch.drop_column("disabled_at")
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_user_account_calendar_token"), ["calendar_token"])
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    op.drop_index(op.f("ix_login_throttle_last_failure_at"), table_name="login_throttle")
    op.drop_table("login_throttle")

"""user names unique regardless of case (branch h11input, issue 11)

`imvo users add` refused a second "anna" but took "Anna": two accounts a person cannot tell
apart. A unique index on lower(name) makes the database refuse it too (the service compares
NFC-normalised, case-folded names for its message). If an earlier release stored two names
that differ only in case, this migration stops on the index: rename one with SQL first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_user_name_lower", "user_account", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_user_name_lower", table_name="user_account")

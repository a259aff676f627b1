"""issued reports: the read table of progress reports that were sent out

Each issued report is also a `rapport_uitgebracht` entry in the chain of every covenant it
reports on (the proof, covered by `imvo audit verify`); this table lists them by date and hash
so `imvo report issues`, `imvo report check` and a later report's default since-date find them
without reading every chain.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("known_at", sa.Boolean(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("covenants", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "format IN ('md', 'html', 'docx')", name=op.f("ck_issued_report_format")
        ),
        sa.CheckConstraint(
            "since IS NULL OR since < as_of", name=op.f("ck_issued_report_since_before_as_of")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_report")),
    )
    op.create_index(op.f("ix_issued_report_as_of"), "issued_report", ["as_of"])
    op.create_index(op.f("ix_issued_report_sha256"), "issued_report", ["sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_report_sha256"), table_name="issued_report")
    op.drop_index(op.f("ix_issued_report_as_of"), table_name="issued_report")
    op.drop_table("issued_report")

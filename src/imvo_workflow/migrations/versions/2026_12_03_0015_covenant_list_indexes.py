"""indexes for lists of covenants in the document's order

The board's columns and GET /api/v1/covenants read covenants a page at a time in the
document's order (position, id), after a keyset cursor, per stage on the board. With 10,000
covenants a page must not sort the whole table: these two indexes hand out the rows in that
order, overall and within a stage, so a page stops after its last row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_covenant_position_id", "covenant", ["position", "id"])
    op.create_index("ix_covenant_stage_position_id", "covenant", ["stage", "position", "id"])


def downgrade() -> None:
    op.drop_index("ix_covenant_stage_position_id", table_name="covenant")
    op.drop_index("ix_covenant_position_id", table_name="covenant")

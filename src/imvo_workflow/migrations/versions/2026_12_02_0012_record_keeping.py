"""record keeping: parties over time, organisation names, notes, terms, continuation, entry detail

Parties get a period (since/until, why they left) and more roles; one *current* party per
covenant, organisation and role (a partial unique index), so an organisation can leave and join
again. Organisations get the kinds a coordinator chooses from and a history of their names.
Progress notes and a signed covenant's terms get tables of their own; a covenant can continue in
another. History entries get a `detail` (canonical JSON, part of the hash when present) for the
record entries that do not move a covenant; targets get the reason they were closed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('trekker', 'facilitator', 'partij')"
NEW_ROLES = "role IN ('trekker', 'partij', 'facilitator', 'kwartiermaker', 'betrokken')"
OLD_KINDS = (
    "kind IN ('brancheorganisatie', 'bedrijf', 'vakbond', 'ngo', 'overheid', "
    "'kennisinstelling', 'facilitator')"
)
NEW_KINDS = (
    "kind IN ('ministerie', 'brancheorganisatie', 'ngo', 'vakbond', 'kennisinstelling', "
    "'overheid', 'overig', 'bedrijf', 'facilitator')"
)
CURRENT = sa.text("until IS NULL")


def upgrade() -> None:
    op.create_table(
        "organisation_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_name_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_name")),
    )
    op.create_index(
        op.f("ix_organisation_name_organisation_id"), "organisation_name", ["organisation_id"]
    )
    # Every existing organisation's name is its first (current) name.
    op.execute(
        "INSERT INTO organisation_name (organisation_id, name, replaced_at, actor, reason, "
        "recorded_at) SELECT id, name, NULL, 'migratie 0012', '', CURRENT_TIMESTAMP "
        "FROM organisation"
    )
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("covenant_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["covenant_id"], ["covenant.id"], name=op.f("fk_note_covenant_id_covenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    op.create_index(op.f("ix_note_covenant_id"), "note", ["covenant_id"])
    op.create_table(
        "term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("covenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("starts_on < ends_on", name=op.f("ck_term_period_order")),
        sa.ForeignKeyConstraint(
            ["covenant_id"], ["covenant.id"], name=op.f("fk_term_covenant_id_covenant")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["term.id"], name=op.f("fk_term_previous_id_term")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term")),
        sa.UniqueConstraint("covenant_id", "number", name="uq_term_covenant_number"),
    )
    op.create_index(op.f("ix_term_covenant_id"), "term", ["covenant_id"])
    with op.batch_alter_table("covenant") as batch:
        batch.add_column(sa.Column("continued_in_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_covenant_continued_in_id_covenant"), "covenant", ["continued_in_id"], ["id"]
        )
    with op.batch_alter_table("organisation") as batch:
        batch.drop_constraint(op.f("ck_organisation_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_organisation_kind"), NEW_KINDS)
    with op.batch_alter_table("participation") as batch:
        batch.add_column(sa.Column("since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("left_reason", sa.Text(), nullable=True))
        batch.drop_constraint("uq_participation", type_="unique")
        batch.drop_constraint(op.f("ck_participation_role"), type_="check")
        batch.create_check_constraint(op.f("ck_participation_role"), NEW_ROLES)
        batch.create_check_constraint(
            op.f("ck_participation_period_order"),
            "until IS NULL OR since IS NULL OR since <= until",
        )
    op.create_index(op.f("ix_participation_covenant_id"), "participation", ["covenant_id"])
    op.create_index(
        "uq_participation_current",
        "participation",
        ["covenant_id", "organisation_id", "role"],
        unique=True,
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )
    with op.batch_alter_table("target") as batch:
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
    # Not a batch: on SQLite that would copy the table and lose its append-only triggers.
    op.add_column("transition", sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    # A record entry's detail is part of its hash: dropping the column would break every chain
    # that holds one. The history only grows, so such a database cannot go back before 0012.
    kept = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM transition WHERE detail IS NOT NULL"))
        .scalar_one()
    )
    if kept:
        raise RuntimeError(
            f"De geschiedenis bevat {kept} rijen met details (partijen, ondertekeningen, "
            "notities, ...) die schema 0011 niet kan bewaren; terug naar vóór 0012 kan niet. "
            "Zet een back-up van vóór de upgrade terug."
        )
    op.drop_column("transition", "detail")
    with op.batch_alter_table("target") as batch:
        batch.drop_column("close_reason")
    op.drop_index("uq_participation_current", table_name="participation")
    op.drop_index(op.f("ix_participation_covenant_id"), table_name="participation")
    # Periods and the new roles do not exist before 0012: ended parties and new roles go.
    op.execute(
        "DELETE FROM participation WHERE until IS NOT NULL "
        "OR role NOT IN ('trekker', 'facilitator', 'partij')"
    )
    with op.batch_alter_table("participation") as batch:
        batch.drop_constraint(op.f("ck_participation_period_order"), type_="check")
        batch.drop_constraint(op.f("ck_participation_role"), type_="check")
        batch.create_check_constraint(op.f("ck_participation_role"), OLD_ROLES)
        batch.create_unique_constraint(
            "uq_participation", ["covenant_id", "organisation_id", "role"]
        )
        batch.drop_column("left_reason")
        batch.drop_column("until")
        batch.drop_column("since")
    op.execute("UPDATE organisation SET kind = 'overheid' WHERE kind IN ('ministerie')")
    op.execute("UPDATE organisation SET kind = 'facilitator' WHERE kind = 'overig'")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_constraint(op.f("ck_organisation_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_organisation_kind"), OLD_KINDS)
    with op.batch_alter_table("covenant") as batch:
        batch.drop_constraint(op.f("fk_covenant_continued_in_id_covenant"), type_="foreignkey")
        batch.drop_column("continued_in_id")
    op.drop_index(op.f("ix_term_covenant_id"), table_name="term")
    op.drop_table("term")
    op.drop_index(op.f("ix_note_covenant_id"), table_name="note")
    op.drop_table("note")
    op.drop_index(op.f("ix_organisation_name_organisation_id"), table_name="organisation_name")
    op.drop_table("organisation_name")

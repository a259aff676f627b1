"""record entries for the parties, signatures and story a database held before 0012

Before 0012 a covenant's parties, its signatures and its text lived only in their own rows,
outside the hash-chained history. From 0012 on every such fact is a history entry, and the
as-of views read them from the history alone. This migration appends, to each covenant's
chain, one entry per party it held (happened on the covenant's opening date: the seed knew
them from the start), one per signature (on its date) and its text as the first progress note
(on the day the covenant was recorded), each recorded now by "migratie 0013" and hashed as
services/history.py would. A fresh database has no such rows: nothing happens.

The entries cannot be taken back (the history is append-only); the downgrade leaves them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from imvo_workflow.domain.chain import ChainEntry, entry_hash
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.record import RecordKind, canonical_detail

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ACTOR = "migratie 0013"
REASON = "vastgelegd vóór de geschiedenis dit bijhield"

covenant = sa.table(
    "covenant",
    sa.column("id"),
    sa.column("stage"),
    sa.column("version"),
    sa.column("last_seq"),
    sa.column("head_hash"),
    sa.column("definition_version"),
    sa.column("summary"),
)
_TYPES: dict[str, Any] = {"occurred_on": sa.Date, "recorded_at": sa.DateTime(timezone=True)}
transition = sa.table(
    "transition",
    *(sa.column(name, _TYPES.get(name)) for name in (*ChainEntry.__dataclass_fields__, "hash")),
)
participation = sa.table(
    "participation",
    sa.column("id"),
    sa.column("covenant_id"),
    sa.column("organisation_id"),
    sa.column("role"),
)
signature = sa.table(
    "signature",
    sa.column("id"),
    sa.column("covenant_id"),
    sa.column("organisation_id"),
    sa.column("signed_on", sa.Date),
)
organisation = sa.table("organisation", sa.column("id"), sa.column("name"))
note = sa.table(
    "note",
    sa.column("id"),
    sa.column("covenant_id"),
    sa.column("seq"),
    sa.column("written_on", sa.Date),
    sa.column("author"),
    sa.column("text"),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    for c in conn.execute(sa.select(covenant).order_by(covenant.c.id)).all():
        opening = conn.execute(
            sa.select(transition.c.occurred_on, transition.c.recorded_at).where(
                transition.c.covenant_id == c.id, transition.c.seq == 1
            )
        ).one_or_none()
        if opening is None:
            continue
        opened_on = _as_date(opening.occurred_on)
        facts: list[tuple[RecordKind, date, dict[str, Any]]] = []
        for p in conn.execute(
            sa.select(
                participation.c.id, participation.c.role, organisation.c.id, organisation.c.name
            )
            .join(organisation, organisation.c.id == participation.c.organisation_id)
            .where(participation.c.covenant_id == c.id)
            .order_by(participation.c.id)
        ).all():
            detail = {
                "organisation": p[3],
                "organisation_id": p[2],
                "role": p.role,
                "participation_id": p[0],
            }
            facts.append((RecordKind.PARTY_JOINED, opened_on, detail))
        for s in conn.execute(
            sa.select(signature.c.id, signature.c.signed_on, organisation.c.id, organisation.c.name)
            .join(organisation, organisation.c.id == signature.c.organisation_id)
            .where(signature.c.covenant_id == c.id)
            .order_by(signature.c.signed_on, signature.c.id)
        ).all():
            detail = {"organisation": s[3], "organisation_id": s[2], "signature_id": s[0]}
            facts.append((RecordKind.SIGNATURE, _as_date(s.signed_on), detail))
        written_on = _aware(_as_moment(opening.recorded_at)).astimezone(AMSTERDAM).date()
        if (c.summary or "").strip():
            facts.append((RecordKind.NOTE, written_on, {"text": c.summary}))
        seq, head = c.last_seq, c.head_hash
        for kind, on, detail in facts:
            seq += 1
            if kind is RecordKind.NOTE:
                note_id = conn.execute(
                    sa.insert(note).returning(note.c.id),
                    {
                        "covenant_id": c.id,
                        "seq": seq,
                        "written_on": on,
                        "author": ACTOR,
                        "text": detail["text"],
                        "recorded_at": now,
                    },
                ).scalar_one()
                detail = {"note_id": note_id, "text": detail["text"]}
            entry = ChainEntry(
                covenant_id=c.id,
                seq=seq,
                from_stage=c.stage,
                to_stage=c.stage,
                trigger=kind.value,
                actor=ACTOR,
                reason=REASON,
                occurred_on=on,
                recorded_at=now,
                definition_version=c.definition_version,
                prev_hash=head,
                detail=canonical_detail(detail),
            )
            head = entry_hash(entry)
            row = {name: getattr(entry, name) for name in ChainEntry.__dataclass_fields__}
            conn.execute(sa.insert(transition), {**row, "hash": head})
        if facts:
            conn.execute(
                sa.update(covenant)
                .where(covenant.c.id == c.id)
                .values(last_seq=seq, head_hash=head, version=c.version + len(facts))
            )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def downgrade() -> None:
    """The appended entries stay: the history only grows (0012's downgrade refuses them)."""

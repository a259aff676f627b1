"""What a correction of a history entry's date changes besides the chain: its projection rows.

A correction is a new chain entry naming the one it corrects (services/audit.correct). The
read models that entry wrote must follow it in the same transaction, or the pages would say
one date and `audit verify`'s chain another: a move's date is also the day the stage targets
it closed were met or cancelled; a record entry's date is its row's date, found through the
ids of its agreed detail (a signature's signed_on, a party's since or until, a milestone's
closed_on, a note's written_on, a term's starts_on). A date that would break such a row's own
order (a party leaving before it joined, a term ending before it starts, a signature before
the dialogue) is refused, nothing written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Table, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.record import RecordKind, is_record, read_detail
from imvo_workflow.services.signatories import signing_began

#: Per record kind: the table, the detail key holding its row id, the date column it dated.
PROJECTIONS: dict[RecordKind, tuple[Table, str, str]] = {
    RecordKind.SIGNATURE: (t.signature, "signature_id", "signed_on"),
    RecordKind.PARTY_JOINED: (t.participation, "participation_id", "since"),
    RecordKind.PARTY_LEFT: (t.participation, "participation_id", "until"),
    RecordKind.MILESTONE_CLOSED: (t.target, "target_id", "closed_on"),
    RecordKind.TARGET_DROPPED: (t.target, "target_id", "closed_on"),
    RecordKind.NOTE: (t.note, "note_id", "written_on"),
    RecordKind.TERM: (t.term, "term_id", "starts_on"),
}


def effective_date(conn: Connection, covenant_id: int, original: Any) -> date:
    """The entry's date with its earlier corrections applied (the latest one wins)."""
    tr = t.transition
    latest = conn.execute(
        select(tr.c.occurred_on)
        .where(tr.c.covenant_id == covenant_id, tr.c.corrects_seq == original.seq)
        .order_by(tr.c.seq.desc())
        .limit(1)
    ).scalar()
    found: date = latest if latest is not None else original.occurred_on
    return found


def check_record_date(conn: Connection, original: Any, on: date) -> None:
    """Refuse a date the corrected record row cannot hold."""
    found = _projection(original)
    if found is None:
        return
    kind, table, row_id, _ = found
    if kind is RecordKind.PARTY_JOINED:
        until = _value(conn, table.c.until, table, row_id)
        if until is not None and on > until:
            raise InvalidInput(f"De datum {on} ligt na het vertrek van deze partij ({until}).")
    elif kind is RecordKind.PARTY_LEFT:
        since = _value(conn, table.c.since, table, row_id)
        if since is not None and on < since:
            raise InvalidInput(f"De datum {on} ligt vóór de toetreding van deze partij ({since}).")
    elif kind is RecordKind.TERM:
        ends = _value(conn, table.c.ends_on, table, row_id)
        if ends is not None and on >= ends:
            raise InvalidInput(f"De looptijd kan niet beginnen op of na het einde ({ends}).")
    elif kind is RecordKind.SIGNATURE:
        began = signing_began(conn, original.covenant_id)
        if began is not None and on < began:
            raise InvalidInput(
                f"De datum {on} ligt vóór het begin van de dialoog of intentieverklaring ({began})."
            )


def apply(conn: Connection, original: Any, old_on: date, new_on: date) -> None:
    """Move the projection rows of `original` from `old_on` to `new_on`."""
    if old_on == new_on:
        return
    if not is_record(original.trigger):
        tg = t.target
        conn.execute(
            update(tg)
            .where(
                tg.c.covenant_id == original.covenant_id,
                tg.c.stage.is_not(None),
                tg.c.closed_at == original.recorded_at,
                tg.c.closed_on == old_on,
            )
            .values(closed_on=new_on)
        )
        return
    found = _projection(original)
    if found is not None:
        _, table, row_id, column = found
        conn.execute(update(table).where(table.c.id == row_id).values({column: new_on}))


def _projection(original: Any) -> tuple[RecordKind, Table, int, str] | None:
    if not is_record(original.trigger):
        return None
    kind = RecordKind(original.trigger)
    if kind not in PROJECTIONS:
        return None
    table, key, column = PROJECTIONS[kind]
    row_id = read_detail(original.detail).get(key)
    if not isinstance(row_id, int):
        return None
    return kind, table, row_id, column


def _value(conn: Connection, column: Column[Any], table: Table, row_id: int) -> Any:
    return conn.execute(select(column).where(table.c.id == row_id)).scalar()

"""A covenant's story: dated progress notes and its summary, each change an entry of its chain.

A note is written on a day (`written_on`, when it was true in the world) by an author; the
newest note written on or before a day is that day's story, so a view for a date shows the
note current then. Notes are never edited: a newer note replaces an older one as the story.
The summary is one text kept on the covenant; every edit is a `samenvatting` entry holding
the new and the old text, so the summary on any day is read back from the chain.
Both write their projection row (note, covenant.summary) and their chain entry
(services/history.record) in one transaction, so `imvo audit verify` covers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput, RequirementMissing
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.services import history
from imvo_workflow.services.queries import aware


@dataclass(frozen=True, slots=True)
class NoteView:
    id: int
    seq: int
    written_on: date
    author: str
    text: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class SummaryChange:
    """One edit of the summary: the text it got and the text it replaced."""

    seq: int
    text: str
    old_text: str
    actor: str
    reason: str
    occurred_on: date
    recorded_at: datetime


def clean_text(text: str, what: str) -> str:
    """Multi-line text as stored: CRLF (a browser's textarea) becomes LF; not empty."""
    text = text.replace("\r\n", "\n")
    check_text(text, what)
    if not text.strip():
        raise RequirementMissing(f"{what} is leeg; schrijf er iets in.", "text")
    return text


def _check_actor(actor: str, what: str) -> None:
    check_label(actor, what)
    if not actor.strip():
        raise RequirementMissing(f"Geef aan wie {what.lower()} is.", "actor")


def write_note(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    text: str,
    written_on: date | None,
    actor: str,
    now: datetime,
) -> NoteView:
    """The user action: a progress note on `covenant`, dated `written_on` (default today)."""
    with uow:
        note = add_note(uow.conn, definition, covenant, text, written_on, actor, now=now)
        uow.commit()
    return note


def add_note(
    conn: Connection,
    definition: WorkflowDefinition,
    covenant: str,
    text: str,
    written_on: date | None,
    actor: str,
    *,
    now: datetime,
) -> NoteView:
    """Write a note inside the caller's transaction (the seed writes the source's text)."""
    text = clean_text(text, "De notitie")
    _check_actor(actor, "De auteur")
    today = now.astimezone(AMSTERDAM).date()
    day = check_date(written_on or today, "De datum van de notitie")
    if day > today:
        raise InvalidInput(
            f"De notitie is gedateerd op {day.isoformat()}, na vandaag ({today.isoformat()}); "
            "een notitie beschrijft wat al gebeurd is."
        )
    head = history.read_head(conn, covenant)
    recorded = now.astimezone(UTC)
    nt = t.note
    note_id = conn.execute(
        insert(nt).returning(nt.c.id),
        {
            "covenant_id": head.covenant_id,
            "seq": head.last_seq + 1,  # the entry below; a race refuses it and rolls back
            "written_on": day,
            "author": actor,
            "text": text,
            "recorded_at": recorded,
        },
    ).scalar_one()
    seq, _ = history.record(
        conn,
        head,
        RecordKind.NOTE,
        {"note_id": note_id, "text": text},
        actor=actor,
        reason="",
        occurred_on=day,
        definition_version=definition.version,
        now=now,
    )
    return NoteView(int(note_id), seq, day, actor, text, recorded)


def edit_summary(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    text: str,
    actor: str,
    reason: str,
    now: datetime,
) -> SummaryChange:
    """The user action: a new summary for `covenant`, with why; the old text stays in history."""
    text = clean_text(text, "De samenvatting")
    _check_actor(actor, "Wie de samenvatting wijzigt")
    check_text(reason, "De reden")
    if not reason.strip():
        raise RequirementMissing("Geef een reden voor de nieuwe samenvatting.", "reason")
    today = now.astimezone(AMSTERDAM).date()
    with uow:
        head = history.read_head(uow.conn, covenant)
        c = t.covenant
        old = uow.conn.execute(select(c.c.summary).where(c.c.id == head.covenant_id)).scalar_one()
        if old == text:
            raise InvalidInput("De samenvatting is niet veranderd; er is niets vastgelegd.")
        uow.conn.execute(update(c).where(c.c.id == head.covenant_id).values(summary=text))
        seq, _ = history.record(
            uow.conn,
            head,
            RecordKind.SUMMARY,
            {"text": text, "old_text": old},
            actor=actor,
            reason=reason,
            occurred_on=today,
            definition_version=definition.version,
            now=now,
        )
        uow.commit()
    return SummaryChange(seq, text, old, actor, reason, today, now.astimezone(UTC))


def _note_query(covenant_id: int) -> Select[Any]:
    nt = t.note
    return (
        select(nt.c.id, nt.c.seq, nt.c.written_on, nt.c.author, nt.c.text, nt.c.recorded_at)
        .where(nt.c.covenant_id == covenant_id)
        .order_by(nt.c.written_on.desc(), nt.c.seq.desc())
    )


def _view(row: object) -> NoteView:
    r = row._mapping  # type: ignore[attr-defined]
    return NoteView(
        r["id"], r["seq"], r["written_on"], r["author"], r["text"], aware(r["recorded_at"])
    )


def notes(conn: Connection, covenant_id: int) -> list[NoteView]:
    """Every note of the covenant, newest first (by the day written, then by entry)."""
    return [_view(r) for r in conn.execute(_note_query(covenant_id))]


def notes_on(
    conn: Connection, covenant_id: int, day: date | None, known_by: datetime | None = None
) -> list[NoteView]:
    """The notes written by `day` (None: any day) and entered before `known_by`, newest first."""
    query = _note_query(covenant_id)
    if day is not None:
        check_date(day, "De peildatum")
        query = query.where(t.note.c.written_on <= day)
    if known_by is not None:
        query = query.where(t.note.c.recorded_at < known_by.astimezone(UTC))
    return [_view(r) for r in conn.execute(query)]


def note_on(
    conn: Connection, covenant_id: int, day: date | None, known_by: datetime | None
) -> NoteView | None:
    """The note current on `day`: the newest written on or before it, known by `known_by`."""
    found = notes_on(conn, covenant_id, day, known_by)
    return found[0] if found else None


def summary_history(conn: Connection, covenant_id: int) -> list[SummaryChange]:
    """Every edit of the summary, from the chain, newest first."""
    tr = t.transition
    rows = conn.execute(
        select(
            tr.c.seq,
            tr.c.detail,
            tr.c.actor,
            tr.c.reason,
            tr.c.occurred_on,
            tr.c.recorded_at,
        )
        .where(tr.c.covenant_id == covenant_id, tr.c.trigger == RecordKind.SUMMARY.value)
        .order_by(tr.c.seq.desc())
    )
    found = []
    for r in rows:
        detail = read_detail(r.detail)
        found.append(
            SummaryChange(
                r.seq,
                str(detail.get("text", "")),
                str(detail.get("old_text", "")),
                r.actor,
                r.reason,
                r.occurred_on,
                aware(r.recorded_at),
            )
        )
    return found


def summary_on(
    conn: Connection, covenant_id: int, day: date | None, known_by: datetime | None
) -> str:
    """The summary as it read on `day` (None: today), as known by `known_by`, from the chain.

    The newest edit made by then gives its text; before the first edit the summary was that
    edit's old text; a covenant never edited has the text it was opened with.
    """
    edits = summary_history(conn, covenant_id)
    for edit in edits:  # newest first
        known = known_by is None or edit.recorded_at < known_by
        if known and (day is None or edit.occurred_on <= day):
            return edit.text
    if edits:
        return edits[-1].old_text
    c = t.covenant
    current = conn.execute(select(c.c.summary).where(c.c.id == covenant_id)).scalar_one()
    return str(current)

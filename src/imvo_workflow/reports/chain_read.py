"""The history a progress report reads, in one pass: every chain row once, folded per concern.

A report over a thousand covenants must not ask the database once per covenant or once per
concern: it reads the chain once (`read_chain`), keeps the rows that were known by the report's
moment, and hands them to each service's pure fold (effective_steps for the stages,
fold_signatures, holdings_on for the parties, describe_all for the history) and to the two
small folds here that have no service of their own on rows: the progress note and the summary
current on a day. The same pass sorts the rows by concern (`Chain`), so each fold walks its own
rows, not all of them. Issued-report entries are left out: a report regenerated later must read
as the one that was sent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.domain.chain import CORRECTION_TRIGGER
from imvo_workflow.domain.record import NOT_REPORTED, RECORD_TRIGGERS, RecordKind, read_detail
from imvo_workflow.domain.value import value
from imvo_workflow.services.queries import aware

_tr = t.transition
_CHAIN = DriverStatement(
    select(
        _tr.c.covenant_id,
        _tr.c.seq,
        _tr.c.trigger,
        _tr.c.from_stage,
        _tr.c.to_stage,
        _tr.c.occurred_on,
        _tr.c.recorded_at,
        _tr.c.actor,
        _tr.c.reason,
        _tr.c.corrects_seq,
        _tr.c.detail,
    ).order_by(_tr.c.covenant_id, _tr.c.seq)
)


@value
class StoryNote:
    """The progress note current on a day, read from its chain entry."""

    seq: int
    written_on: date
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class Chain:
    """The rows a report read, in (covenant, seq) order, and the same rows by concern (each
    concern's list in that order too). Corrections are in every list of rows they can amend:
    each fold passes over those that amend none of its rows."""

    rows: list[Any]
    moves: list[Any]
    signatures: list[Any]
    parties: list[Any]
    notes: list[Any]
    summaries: list[Any]
    corrections: list[Any]


#: Triggers compared with every row of their concern: an enum member's .value costs 0.4 us.
_SIGNATURE, _NOTE, _SUMMARY = (
    RecordKind.SIGNATURE.value, RecordKind.NOTE.value, RecordKind.SUMMARY.value,
)  # fmt: skip
_PARTY = frozenset({RecordKind.PARTY_JOINED.value, RecordKind.PARTY_LEFT.value})


def read_chain(conn: Connection, known_by: datetime | None) -> Chain:
    """Every chain row in (covenant, seq) order that was entered before `known_by` (None: all),
    without issued-report entries and corrections of them."""
    chain = Chain([], [], [], [], [], [], [])
    #: Per trigger, where a row of it goes besides chain.rows (a move to chain.moves).
    goes: dict[str, tuple[list[Any], ...]] = {
        CORRECTION_TRIGGER: (chain.moves, chain.signatures, chain.parties, chain.corrections),
        _SIGNATURE: (chain.signatures,),
        _NOTE: (chain.notes,),
        _SUMMARY: (chain.summaries,),
        **{kind: (chain.parties,) for kind in _PARTY},
    }
    skipped: set[tuple[int, int]] = set()
    for r in _CHAIN.rows(conn):
        trigger = r.trigger
        if known_by is not None and aware(r.recorded_at) >= known_by:
            continue
        if trigger in NOT_REPORTED:
            skipped.add((r.covenant_id, r.seq))
            continue
        if trigger == CORRECTION_TRIGGER and (r.covenant_id, r.corrects_seq) in skipped:
            continue
        chain.rows.append(r)
        mine = goes.get(trigger)
        if mine is None:
            mine = goes[trigger] = () if trigger in RECORD_TRIGGERS else (chain.moves,)
        for found in mine:
            found.append(r)
    return chain


def corrected_dates(corrections: list[Any]) -> dict[int, dict[int, date]]:
    """Per covenant, per seq that was corrected: the date its latest correction gave it
    (`corrections`: Chain.corrections, in chain order). By covenant, so that a fold over every
    row of the chain looks a covenant up once, not a (covenant, seq) pair per row."""
    found: dict[int, dict[int, date]] = defaultdict(dict)
    for r in corrections:
        if r.corrects_seq is not None:
            found[r.covenant_id][r.corrects_seq] = r.occurred_on
    return dict(found)


def dated_between(
    rows: list[Any], fixed: dict[int, dict[int, date]], since: date | None, day: date
) -> list[tuple[Any, date]]:
    """The rows dated in (since, day] (None: up to `day`), each with its date: a corrected
    row's is the date its latest correction gave it. The history and the change section both
    read the period from here."""
    found = []
    for r in rows:
        mine = fixed.get(r.covenant_id)
        on = mine.get(r.seq, r.occurred_on) if mine else r.occurred_on
        if on <= day and (since is None or since < on):
            found.append((r, on))
    return found


def notes_on(rows: list[Any], fixed: dict[int, dict[int, date]], day: date) -> dict[int, StoryNote]:
    """Per covenant, the newest note written on or before `day` (as services/notes.note_on
    answers from the note table: by the day written, then by entry)."""
    newest: dict[int, tuple[date, int, Any]] = {}
    for r in rows:
        if r.trigger != _NOTE:
            continue
        mine = fixed.get(r.covenant_id)
        written = mine.get(r.seq, r.occurred_on) if mine else r.occurred_on
        if written > day:
            continue
        known = newest.get(r.covenant_id)
        if known is None or written > known[0] or (written == known[0] and r.seq > known[1]):
            newest[r.covenant_id] = (written, r.seq, r)
    return {
        cid: StoryNote(seq, written, r.actor, str(read_detail(r.detail).get("text", "")))
        for cid, (written, seq, r) in newest.items()
    }


def summaries_on(rows: list[Any], day: date, current: dict[int, str]) -> dict[int, str]:
    """Per covenant, its summary as it read on `day` (services/notes.summary_on's rule: the
    newest edit made by then, else the first edit's old text, else the text it has now)."""
    edits: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        if r.trigger == _SUMMARY:
            edits[r.covenant_id].append(r)
    found = dict(current)
    for cid, mine in edits.items():
        done = [r for r in mine if r.occurred_on <= day]
        chosen = read_detail((done or mine)[-1 if done else 0].detail)
        found[cid] = str(chosen.get("text" if done else "old_text", ""))
    return found

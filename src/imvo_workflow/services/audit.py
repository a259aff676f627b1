"""Proving the history: verify every chain, write checkpoints, record corrections.

Each history row's hash covers its content and the previous row's hash, so changing a field,
deleting or inserting a row, or swapping two rows breaks the chain at a row `verify` can
name. Deleting a chain's tail leaves a shorter, valid chain: the covenant row's head and the
checkpoints (digests over every chain head, kept in the database and outside it) catch that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.alerts import AlertKind
from imvo_workflow.domain.bounds import check_date, check_id, check_label, check_text
from imvo_workflow.domain.chain import (
    CORRECTION_TRIGGER,
    GENESIS,
    ChainEntry,
    entry_problem,
    heads_digest,
)
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import InvalidInput, NotFound, RequirementMissing
from imvo_workflow.domain.record import is_record
from imvo_workflow.files import append_private
from imvo_workflow.services import corrections, history
from imvo_workflow.services.alerts import queue_deliveries, raise_alert, recipient
from imvo_workflow.services.asof import effective_steps, history_rows


@dataclass(frozen=True, slots=True)
class Problem:
    covenant: str
    seq: int | None
    message: str


@dataclass
class VerifyResult:
    covenants: int = 0
    rows: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _stream(conn: Connection, query: Any) -> Iterator[Any]:
    """Rows in batches from a server-side cursor: memory does not grow with the table."""
    yield from conn.execution_options(yield_per=2000).execute(query)


def verify(*, uow: UnitOfWork, checkpoint_file: Path | None = None) -> VerifyResult:
    """Check every covenant's chain and the checkpoints; name the first broken row of each."""
    result = VerifyResult()
    c, tr = t.covenant, t.transition
    with uow:
        heads = {
            r.id: r for r in uow.conn.execute(select(c.c.id, c.c.slug, c.c.last_seq, c.c.head_hash))
        }
        ends: dict[int, tuple[int, str]] = {}
        broken: set[int] = set()
        state: tuple[int, int, str] | None = None  # (covenant, expected seq, previous hash)
        for row in _stream(uow.conn, select(tr).order_by(tr.c.covenant_id, tr.c.seq)):
            result.rows += 1
            if row.covenant_id in broken:
                continue
            if state is None or state[0] != row.covenant_id:
                state = (row.covenant_id, 1, GENESIS)
            _, expected, previous = state
            slug = (
                heads[row.covenant_id].slug if row.covenant_id in heads else f"#{row.covenant_id}"
            )
            problem = _row_problem(row, expected, previous)
            if problem:
                result.problems.append(Problem(slug, row.seq, problem))
                broken.add(row.covenant_id)
                continue
            state = (row.covenant_id, expected + 1, row.hash)
            ends[row.covenant_id] = (row.seq, row.hash)
        for covenant_id, head in heads.items():
            result.covenants += 1
            if covenant_id in broken:
                continue
            seq, digest = ends.get(covenant_id, (0, ""))
            if (seq, digest) != (head.last_seq, head.head_hash):
                result.problems.append(
                    Problem(
                        head.slug,
                        seq + 1 if seq < head.last_seq else seq,
                        f"de geschiedenis eindigt bij rij {seq}, maar het convenant verwijst naar "
                        f"rij {head.last_seq}: rijen aan het eind ontbreken of zijn gewijzigd",
                    )
                )
                broken.add(covenant_id)
        checkpoints = [
            (r.created_at, r.heads, r.digest)
            for r in uow.conn.execute(select(t.audit_checkpoint).order_by(t.audit_checkpoint.c.id))
        ]
        if checkpoint_file is not None:
            checkpoints += _read_checkpoint_file(checkpoint_file)
        for created_at, cp_heads, digest in checkpoints:
            result.checkpoints += 1
            _check_checkpoint(uow.conn, heads, broken, created_at, cp_heads, digest, result)
    return result


def _row_problem(row: Any, expected: int, previous: str) -> str | None:
    fields = {name: getattr(row, name) for name in ChainEntry.__dataclass_fields__}
    return entry_problem(ChainEntry(**fields), row.hash, expected, previous)


def _check_checkpoint(
    conn: Connection,
    heads: dict[int, Any],
    broken: set[int],
    created_at: Any,
    cp_heads: dict[str, list[Any]],
    digest: str,
    result: VerifyResult,
) -> None:
    if heads_digest(cp_heads) != digest:
        result.problems.append(
            Problem("checkpoint", None, f"checkpoint van {created_at} is gewijzigd")
        )
        return
    tr = t.transition
    for key, (seq, head_hash) in cp_heads.items():
        covenant_id = int(key)
        if covenant_id in broken:
            continue
        slug = heads[covenant_id].slug if covenant_id in heads else f"#{covenant_id}"
        found = conn.execute(
            select(tr.c.hash).where(tr.c.covenant_id == covenant_id, tr.c.seq == seq)
        ).scalar()
        if found != head_hash:
            result.problems.append(
                Problem(
                    slug,
                    int(seq),
                    f"rij {seq} stond in de checkpoint van {created_at} maar "
                    "ontbreekt of is gewijzigd",
                )
            )
            broken.add(covenant_id)


def _read_checkpoint_file(path: Path) -> list[tuple[Any, dict[str, list[Any]], str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"Kan het checkpointbestand {path} niet lezen: {exc.strerror}") from exc
    found = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            found.append((item["created_at"], item["heads"], item["digest"]))
        except (ValueError, KeyError) as exc:
            raise InvalidInput(f"{path}:{number}: geen geldige checkpointregel") from exc
    return found


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    created_at: datetime
    covenants: int
    rows: int
    digest: str


def checkpoint(*, uow: UnitOfWork, now: datetime, file: Path | None = None) -> Checkpoint:
    """Record a digest over every chain head; also append it to `file` and to auditors' channels."""
    tr = t.transition
    with uow:
        last = (
            select(tr.c.covenant_id, func.max(tr.c.seq).label("seq"))
            .group_by(tr.c.covenant_id)
            .subquery()
        )
        heads = {
            str(r.covenant_id): [r.seq, r.hash]
            for r in uow.conn.execute(
                select(tr.c.covenant_id, tr.c.seq, tr.c.hash).join(
                    last, (last.c.covenant_id == tr.c.covenant_id) & (last.c.seq == tr.c.seq)
                )
            )
        }
        rows = uow.conn.execute(select(func.count()).select_from(tr)).scalar_one()
        digest = heads_digest(heads)
        moment = now.astimezone(UTC)
        cp_id = uow.conn.execute(
            insert(t.audit_checkpoint).returning(t.audit_checkpoint.c.id),
            {
                "created_at": moment,
                "covenants": len(heads),
                "rows": rows,
                "heads": heads,
                "digest": digest,
            },
        ).scalar_one()
        _notify_auditors(uow.conn, cp_id, digest, len(heads), rows, moment)
        if file is not None:
            # Written before the commit: a file that cannot be written refuses the checkpoint
            # whole. (A line whose checkpoint then failed to commit names heads that exist.)
            file.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps({"created_at": moment.isoformat(), "heads": heads, "digest": digest})
            append_private(file, line + "\n")  # 0600 when new: the heads are not for everyone
        uow.commit()
    return Checkpoint(int(cp_id), moment, len(heads), rows, digest)


def _notify_auditors(
    conn: Connection, cp_id: int, digest: str, covenants: int, rows: int, now: datetime
) -> None:
    """Send the digest out of the database: an alert for every subscribed viewer (auditor)."""
    u, sub = t.user, t.subscription
    routes = {
        (r.channel, recipient(r.channel, r.address, r.name, r.email))
        for r in conn.execute(
            select(sub.c.channel, sub.c.address, u.c.name, u.c.email)
            .join(u, u.c.id == sub.c.user_id)
            .where(u.c.role == "viewer", sub.c.channel != "log")
        )
    }
    if not routes:
        return
    alert_id = raise_alert(
        conn,
        key=f"checkpoint/{cp_id}",
        kind=AlertKind.CHECKPOINT,
        fire_at=now,
        raised_at=now,
        lines=[
            f"Checkpoint {cp_id}: {covenants} convenanten, {rows} rijen",
            f"digest {digest}",
        ],
    )
    queue_deliveries(conn, [(alert_id, ch, to) for ch, to in sorted(routes)], now)


def correct(
    *,
    uow: UnitOfWork,
    covenant: str,
    seq: int,
    actor: str,
    reason: str,
    occurred_on: date | None = None,
    now: datetime,
) -> int:
    """Append a correction of row `seq` (its date and/or reason); returns the new row's seq."""
    check_label(actor, "Wie corrigeert")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie corrigeert.", "actor")
    check_text(reason, "De reden")
    if occurred_on is not None:
        check_date(occurred_on, "De datum")
    if not reason.strip():
        raise RequirementMissing("Een correctie vraagt om een reden.", "reason")
    with uow:
        head = history.read_head(uow.conn, covenant)
        check_id(seq, "geschiedenisrij", f"{head.slug} #{seq}")
        new_seq = correct_in(uow.conn, head, seq, actor, reason, occurred_on, now=now)
        uow.commit()
    return new_seq


def correct_in(
    conn: Connection,
    head: history.Head,
    seq: int,
    actor: str,
    reason: str,
    occurred_on: date | None,
    *,
    now: datetime,
) -> int:
    """The correction inside the caller's transaction (the seed's revisions make many)."""
    tr = t.transition
    covenant_id = head.covenant_id
    original = conn.execute(
        select(tr).where(tr.c.covenant_id == covenant_id, tr.c.seq == seq)
    ).first()
    if original is None or original.corrects_seq is not None:
        raise NotFound("geschiedenisrij", f"{head.slug} #{seq}")
    on = occurred_on or original.occurred_on
    if on > now.astimezone(AMSTERDAM).date():
        raise InvalidInput(f"De datum {on} ligt in de toekomst.")
    record_entry = is_record(original.trigger)
    old_on = corrections.effective_date(conn, covenant_id, original)
    if record_entry:
        corrections.check_record_date(conn, original, on)
        last_move = None
    else:
        # The covenant's moves with earlier corrections applied: the corrected row must
        # stay between the move before it and the move after it.
        rows = history_rows(conn, covenant_id)
        moves = effective_steps(rows).get(covenant_id, [])
        before = [m.occurred_on for m in moves if m.seq < seq]
        after = [m.occurred_on for m in moves if m.seq > seq]
        if before and on < before[-1]:
            raise InvalidInput(
                f"De datum {on} ligt vóór de stap ervoor ({before[-1]}); dat kan niet."
            )
        if after and on > after[0]:
            raise InvalidInput(f"De datum {on} ligt na een latere stap ({after[0]}); dat kan niet.")
        last_move = moves[-1].seq if moves else seq
    new_seq, _ = history.append(
        conn,
        head,
        history.NewEntry(
            trigger=CORRECTION_TRIGGER,
            actor=actor,
            reason=reason,
            occurred_on=on,
            to_stage=head.stage,
            stage_since=on if seq == last_move else head.stage_since,
            definition_version=original.definition_version,
            from_stage=head.stage,
            corrects_seq=seq,
        ),
        now=now,
    )
    corrections.apply(conn, original, old_on, on)
    return new_seq

"""Canonical hashing of history rows: each row's hash covers its content and its predecessor.

The canonical form is fixed here and nowhere else, so the hash computed when a move is
written and the hash recomputed by an audit always agree, whatever the database returns
(datetimes are normalised to UTC with microseconds, dates to ISO).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainEntry:
    covenant_id: int
    seq: int
    from_stage: str | None
    to_stage: str
    trigger: str
    actor: str
    reason: str
    occurred_on: date
    recorded_at: datetime
    definition_version: str
    prev_hash: str
    corrects_seq: int | None = None


def canonical_time(moment: datetime) -> str:
    """UTC with microseconds; naive values (SQLite) are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: ChainEntry) -> str:
    """SHA-256 over the canonical JSON of the entry, which includes the previous hash."""
    payload = [
        entry.covenant_id,
        entry.seq,
        entry.from_stage,
        entry.to_stage,
        entry.trigger,
        entry.actor,
        entry.reason,
        entry.occurred_on.isoformat(),
        canonical_time(entry.recorded_at),
        entry.definition_version,
        entry.prev_hash,
    ]
    if entry.corrects_seq is not None:  # absent from ordinary rows, so their hashes never change
        payload.append(entry.corrects_seq)
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()

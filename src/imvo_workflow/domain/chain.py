"""A covenant's history chain, pure: the canonical hash of an entry and the checks of a chain.

Each entry's hash covers its content and its predecessor's hash. The canonical form is fixed
here and nowhere else, so the hash computed when an entry is written (services/history.py)
and the hash recomputed by an audit (services/audit.py) always agree, whatever the database
returns (datetimes are normalised to UTC with microseconds, dates to ISO). The checks name
the first entry that breaks a chain and say how, in the auditor's words.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64
#: The trigger of a covenant's first entry (from nothing to the initial stage).
OPENING_TRIGGER = "aanmaken"
#: The trigger of an entry that corrects an earlier one's date or reason.
CORRECTION_TRIGGER = "correctie"


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
    #: A record entry's change (a party, a signature, a note, ...) as canonical JSON.
    detail: str | None = None


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
    # Both are absent from the rows written before they existed, so those hashes never change.
    # A detail always comes after the (possibly null) corrects_seq: one position per field.
    if entry.corrects_seq is not None or entry.detail is not None:
        payload.append(entry.corrects_seq)
    if entry.detail is not None:
        payload.append(entry.detail)
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def entry_problem(
    entry: ChainEntry, stored_hash: str, expected_seq: int, previous: str
) -> str | None:
    """What is wrong with a stored entry read in chain order, or None when it holds."""
    if entry.seq != expected_seq:
        return f"rij {expected_seq} ontbreekt (volgende rij is {entry.seq}): een rij is verwijderd"
    if entry.prev_hash != previous:
        return "verwijst niet naar de vorige rij: een rij is ingevoegd, verwijderd of verwisseld"
    if entry_hash(entry) != stored_hash:
        return "de inhoud van deze rij is gewijzigd (hash klopt niet)"
    return None


def heads_digest(heads: dict[str, list[Any]]) -> str:
    """The digest a checkpoint records over every chain head ({covenant id: [seq, hash]})."""
    canonical = json.dumps(sorted((k, v) for k, v in heads.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()

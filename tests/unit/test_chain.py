"""The history hash's format, pinned: a known answer, and every field of an entry counted.

A history row's hash is what `imvo audit verify` recomputes years later, maybe by another
version of this code: its canonical form (domain/chain.py) must not drift. The known answers
below were computed once and written down; a change to the payload (a field left out, added
or reordered, another time format) changes them and fails here before it reaches a database.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from imvo_workflow.domain.chain import GENESIS, ChainEntry, canonical_time, entry_hash
from imvo_workflow.domain.clock import AMSTERDAM

ENTRY = ChainEntry(
    covenant_id=7,
    seq=2,
    from_stage="verkenning",
    to_stage="intentieverklaring",
    trigger="intentieverklaring_tekenen",
    actor="A. de Vries",
    reason="Intentieverklaring getekend – één stap",
    occurred_on=date(2015, 12, 1),
    recorded_at=datetime(2016, 11, 1, 9, 0, 0, 123456, tzinfo=UTC),
    definition_version="3f2a9c1e",
    prev_hash=GENESIS,
)
#: The canonical form of ENTRY, written out: a JSON array in this order, no spaces, UTF-8 as
#: is, the date in ISO form and the moment in UTC with microseconds.
PAYLOAD = (
    '[7,2,"verkenning","intentieverklaring","intentieverklaring_tekenen","A. de Vries",'
    '"Intentieverklaring getekend – één stap","2015-12-01","2016-11-01T09:00:00.123456Z",'
    '"3f2a9c1e","' + "0" * 64 + '"]'
)
#: sha256 of PAYLOAD; computed once by hand, never to be recomputed by the code under test.
KNOWN = "f52d88cbc75300f1e26beb0fdae19729628d2c5569f92910fd273a02111bc402"
#: The same entry as a correction of row 1 (corrects_seq is appended, only when set).
#: ENTRY with a record detail (a party joined), computed once from the payload written out below.
KNOWN_RECORD = "04a1bff41b8b037ef5379da859d6e351bbc5500e1c992c2c9385ce1c1b051fee"
KNOWN_CORRECTION = "039e9200273fb8f10f572140aa252c41ad5c715371370bb7d6335eb0d7f0f63a"


def test_the_hash_of_a_known_entry() -> None:
    assert hashlib.sha256(PAYLOAD.encode()).hexdigest() == KNOWN
    assert entry_hash(ENTRY) == KNOWN


def test_the_hash_of_a_known_correction() -> None:
    assert hashlib.sha256((PAYLOAD[:-1] + ",1]").encode()).hexdigest() == KNOWN_CORRECTION
    assert entry_hash(dataclasses.replace(ENTRY, corrects_seq=1)) == KNOWN_CORRECTION


def test_a_record_entry_appends_a_null_correction_then_its_detail() -> None:
    """A record entry's detail (canonical JSON) follows the correction's place, null or not, so
    the payload's positions never shift between kinds of entry."""
    detail = '{"organisation":"FNV","role":"partij"}'
    payload = PAYLOAD[:-1] + ',null,"{\\"organisation\\":\\"FNV\\",\\"role\\":\\"partij\\"}"]'
    assert hashlib.sha256(payload.encode()).hexdigest() == KNOWN_RECORD
    assert entry_hash(dataclasses.replace(ENTRY, detail=detail)) == KNOWN_RECORD


#: A different value for every field of an entry.
CHANGED: dict[str, Any] = {
    "covenant_id": 8,
    "seq": 3,
    "from_stage": None,
    "to_stage": "dialoog",
    "trigger": "dialoog_starten",
    "actor": "B. Jansen",
    "reason": "",
    "occurred_on": date(2015, 12, 2),
    "recorded_at": ENTRY.recorded_at + timedelta(microseconds=1),
    "definition_version": "3f2a9c1f",
    "prev_hash": "f" * 64,
    "corrects_seq": 2,
    "detail": '{"organisation":"FNV"}',
}


def test_every_field_is_listed() -> None:
    assert set(CHANGED) == {f.name for f in dataclasses.fields(ChainEntry)}


@pytest.mark.parametrize("field", list(CHANGED))
def test_every_field_is_in_the_hash(field: str) -> None:
    assert entry_hash(dataclasses.replace(ENTRY, **{field: CHANGED[field]})) != KNOWN


def test_the_moment_is_the_same_whatever_zone_or_driver_gives_it() -> None:
    """PostgreSQL gives an aware datetime, SQLite a naive UTC one; Amsterdam is the same
    instant: all hash alike."""
    naive = ENTRY.recorded_at.replace(tzinfo=None)
    amsterdam = ENTRY.recorded_at.astimezone(AMSTERDAM)
    assert canonical_time(ENTRY.recorded_at) == "2016-11-01T09:00:00.123456Z"
    for moment in (naive, amsterdam):
        assert canonical_time(moment) == canonical_time(ENTRY.recorded_at)
        assert entry_hash(dataclasses.replace(ENTRY, recorded_at=moment)) == KNOWN

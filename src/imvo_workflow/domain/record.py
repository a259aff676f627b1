"""The record around a covenant's stage: the kinds of history entry that do not move it.

A covenant's history holds its moves and, since the record-keeping release, every other change
to its record: a party joins or leaves, an organisation signs, a milestone is closed, a target
is set or dropped, a progress note or the summary is written, a term opens, a progress report
on it is issued. Each is one chained, hashed entry (services/history.record) whose `trigger`
is its kind and whose `detail` is a canonical JSON object of what changed; `from_stage` and
`to_stage` are both the stage it was recorded in.
Replays of the stage pass over them (they are not moves); as-of views fold them.

Pure: no database or web imports.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import orjson


class RecordKind(StrEnum):
    """The trigger of a record entry (Dutch, as the history shows it)."""

    PARTY_JOINED = "partij_toegevoegd"
    PARTY_LEFT = "partij_vertrokken"
    SIGNATURE = "ondertekenaar"
    MILESTONE_CLOSED = "mijlpaal_gesloten"
    TARGET_SET = "doel_vastgelegd"
    TARGET_DROPPED = "doel_vervallen"
    NOTE = "voortgangsnotitie"
    SUMMARY = "samenvatting"
    TERM = "looptijd"
    ORGANISATION_RENAMED = "organisatie_hernoemd"
    REPORT_ISSUED = "rapport_uitgebracht"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    RecordKind.PARTY_JOINED: "Partij toegevoegd",
    RecordKind.PARTY_LEFT: "Partij vertrokken",
    RecordKind.SIGNATURE: "Ondertekend door",
    RecordKind.MILESTONE_CLOSED: "Mijlpaal gesloten",
    RecordKind.TARGET_SET: "Doel vastgelegd",
    RecordKind.TARGET_DROPPED: "Doel vervallen",
    RecordKind.NOTE: "Voortgangsnotitie",
    RecordKind.SUMMARY: "Samenvatting gewijzigd",
    RecordKind.TERM: "Looptijd",
    RecordKind.ORGANISATION_RENAMED: "Organisatie hernoemd",
    RecordKind.REPORT_ISSUED: "Rapport uitgebracht",
}
#: Entries about the record that a progress report does not report on (issuing one adds them;
#: a report regenerated later must read as the one that was sent).
NOT_REPORTED = frozenset({RecordKind.REPORT_ISSUED.value})

RECORD_TRIGGERS = frozenset(kind.value for kind in RecordKind)
#: Each record kind by its trigger: a dict lookup, where RecordKind(trigger) is a call through
#: the enum's machinery (a third of describing an entry, for the thousands a report describes).
RECORD_KINDS: dict[str, RecordKind] = {kind.value: kind for kind in RecordKind}


def is_record(trigger: str) -> bool:
    """True for an entry that changes the record, not the stage (replays pass over it)."""
    return trigger in RECORD_TRIGGERS


def canonical_detail(detail: dict[str, Any]) -> str:
    """The one JSON form a detail is stored and hashed in: sorted keys, no spaces, UTF-8."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def read_detail(raw: str | None) -> dict[str, Any]:
    """A stored detail back as a dict (empty for moves and corrections without one)."""
    if not raw:
        return {}
    try:  # orjson reads a detail in a quarter of json's time (a report reads thousands)
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:  # what orjson is stricter about, json says as it always did
        value = json.loads(raw)
    return value if isinstance(value, dict) else {}

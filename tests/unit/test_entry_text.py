"""One Dutch line per history entry (domain/entry_text.py): every record kind says what it did,
a move names its stages, a correction the row it corrects and the date it had before."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from imvo_workflow.domain.chain import CORRECTION_TRIGGER, OPENING_TRIGGER
from imvo_workflow.domain.entry_text import EntryFacts, describe, describe_all
from imvo_workflow.domain.record import RecordKind

LABELS = {"verkenning": "Verkenning", "dialoog": "Dialoog"}
DAY = date(2017, 3, 1)

SAID: list[tuple[RecordKind, dict[str, Any], str]] = [
    (RecordKind.PARTY_JOINED, {"organisation": "FNV", "role": "partij"},
     "Partij toegevoegd: FNV (partij)"),
    (RecordKind.PARTY_LEFT, {"organisation": "FNV", "role": "partij"},
     "Partij vertrokken: FNV (partij)"),
    (RecordKind.SIGNATURE, {"organisation": "VNG"}, "Ondertekend door: VNG"),
    (RecordKind.MILESTONE_CLOSED, {"milestone": "Plan van aanpak", "outcome": "gehaald"},
     "Mijlpaal gesloten: Plan van aanpak (gehaald)"),
    (RecordKind.TARGET_SET,
     {"what": "fase ondertekend", "phrase": "eind 2017", "deadline": "2017-12-31",
      "old_phrase": "medio 2017", "old_deadline": "2017-06-30"},
     "Doel vastgelegd: fase ondertekend: “eind 2017” (2017-12-31), was “medio 2017” (2017-06-30)"),
    (RecordKind.TARGET_DROPPED, {"what": "Plan", "phrase": "2018", "deadline": "2018-12-31"},
     "Doel vervallen: Plan: “2018” (2018-12-31)"),
    (RecordKind.NOTE, {"text": "Twee  bijeenkomsten\ngehouden."},
     "Voortgangsnotitie: Twee bijeenkomsten gehouden."),
    (RecordKind.SUMMARY, {"text": "x" * 100}, "Samenvatting gewijzigd: " + "x" * 79 + "…"),
    (RecordKind.TERM, {"number": 2, "starts_on": "2018-01-01", "ends_on": "2020-12-31"},
     "Looptijd: termijn 2: 2018-01-01 t/m 2020-12-31"),
    (RecordKind.REPORT_ISSUED,
     {"report_id": 3, "as_of": "2017-11-01", "since": "2016-11-01", "format": "docx",
      "sha256": "0123456789abcdef"},
     "Rapport uitgebracht: rapport #3 per 2017-11-01 sinds 2016-11-01 (docx, sha256 0123456789ab…)"),
    (RecordKind.ORGANISATION_RENAMED, {"old_name": "MVO NL", "new_name": "MVO Nederland"},
     "Organisatie hernoemd: MVO NL → MVO Nederland"),
]  # fmt: skip


def facts(seq: int, trigger: str, detail: dict[str, Any], **fields: Any) -> EntryFacts:
    return EntryFacts(
        seq,
        trigger,
        fields.get("from_stage"),
        fields.get("to_stage", "dialoog"),
        fields.get("occurred_on", DAY),
        fields.get("corrects_seq"),
        detail,
    )


@pytest.mark.parametrize(("kind", "detail", "line"), SAID, ids=[k.value for k, _, _ in SAID])
def test_every_record_kind_says_what_it_did(
    kind: RecordKind, detail: dict[str, Any], line: str
) -> None:
    assert describe(facts(4, kind.value, detail), LABELS) == line


def test_every_record_kind_is_described() -> None:
    assert {kind for kind, _, _ in SAID} == set(RecordKind)


def test_moves_name_their_stages_and_a_correction_the_row_and_its_date_before() -> None:
    history = [
        facts(1, OPENING_TRIGGER, {}, to_stage="verkenning", occurred_on=date(2016, 1, 4)),
        facts(2, "dialoog_starten", {"into": "Textiel"}, from_stage="verkenning",
              occurred_on=date(2016, 6, 1)),
        facts(3, CORRECTION_TRIGGER, {}, corrects_seq=2, occurred_on=date(2016, 5, 30)),
        facts(4, CORRECTION_TRIGGER, {}, corrects_seq=2, occurred_on=date(2016, 5, 30)),
    ]  # fmt: skip
    assert describe_all(history, LABELS) == [
        "Aangemaakt in Verkenning",
        "Verkenning → Dialoog (verder in Textiel)",
        "Correctie van rij 2 (Verkenning → Dialoog (verder in Textiel)): datum 2016-06-01 → "
        "2016-05-30",
        "Correctie van rij 2 (Verkenning → Dialoog (verder in Textiel)): reden",
    ]

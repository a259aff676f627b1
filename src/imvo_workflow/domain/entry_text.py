"""Saying what a history entry did, in one Dutch line a coordinator can read.

A move reads "Dialoog → Ondertekend"; a record entry reads as its kind and what changed
("Partij toegevoegd: FNV (partij)"); a correction names the row it corrects, what that row
did and what changed ("Correctie van rij 5 (Dialoog → Ondertekend): datum 2019-06-19 →
2019-06-17"). The CLI, the covenant page and the report all show these same lines.

Pure: the entries come in as plain values, stage labels as a mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from imvo_workflow.domain.chain import CORRECTION_TRIGGER, OPENING_TRIGGER
from imvo_workflow.domain.record import RECORD_KINDS, RecordKind
from imvo_workflow.domain.value import value

if TYPE_CHECKING:
    from imvo_workflow.domain.definition import WorkflowDefinition

#: How long a note or summary may run in a one-line description.
EXCERPT = 80


@value
class EntryFacts:
    """What a description reads of an entry."""

    seq: int
    trigger: str
    from_stage: str | None
    to_stage: str
    occurred_on: date
    corrects_seq: int | None
    detail: Mapping[str, Any]


def stage_labels(definition: WorkflowDefinition) -> dict[str, str]:
    """Each stage's Dutch label, by name: what descriptions call stages."""
    return {name: stage.label.nl for name, stage in definition.stages.items()}


def _stage(labels: Mapping[str, str], stage: str | None) -> str:
    if stage is None:
        return "—"
    return labels.get(stage, stage)


def _excerpt(text: object) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= EXCERPT else line[: EXCERPT - 1] + "…"


def _party(d: Mapping[str, Any]) -> str:
    return f"{d.get('organisation', '?')} ({d.get('role', '?')})"


def _signature(d: Mapping[str, Any]) -> str:
    return str(d.get("organisation", "?"))


def _milestone(d: Mapping[str, Any]) -> str:
    return f"{d.get('milestone', '?')} ({d.get('outcome', '?')})"


def _target(d: Mapping[str, Any]) -> str:
    what = f"{d.get('what', '?')}: “{d.get('phrase', '')}” ({d.get('deadline', '?')})"
    if d.get("old_phrase"):
        what += f", was “{d['old_phrase']}” ({d.get('old_deadline', '?')})"
    return what


def _text(d: Mapping[str, Any]) -> str:
    return _excerpt(d.get("text"))


def _term(d: Mapping[str, Any]) -> str:
    return f"termijn {d.get('number', '?')}: {d.get('starts_on', '?')} t/m {d.get('ends_on', '?')}"


def _report(d: Mapping[str, Any]) -> str:
    since = f" sinds {d['since']}" if d.get("since") else ""
    return (
        f"rapport #{d.get('report_id', '?')} per {d.get('as_of', '?')}{since} "
        f"({d.get('format', '?')}, sha256 {str(d.get('sha256', '?'))[:12]}…)"
    )


def _renamed(d: Mapping[str, Any]) -> str:
    return f"{d.get('old_name', '?')} → {d.get('new_name', '?')}"


#: What a record entry of each kind did, from its detail: looked up once per entry (a chain of
#: comparisons with the enum's members cost a microsecond an entry, for thousands a report).
_WHAT: dict[RecordKind, Callable[[Mapping[str, Any]], str]] = {
    RecordKind.PARTY_JOINED: _party,
    RecordKind.PARTY_LEFT: _party,
    RecordKind.SIGNATURE: _signature,
    RecordKind.MILESTONE_CLOSED: _milestone,
    RecordKind.TARGET_SET: _target,
    RecordKind.TARGET_DROPPED: _target,
    RecordKind.NOTE: _text,
    RecordKind.SUMMARY: _text,
    RecordKind.TERM: _term,
    RecordKind.REPORT_ISSUED: _report,
    RecordKind.ORGANISATION_RENAMED: _renamed,
}


def _record(kind: RecordKind, d: Mapping[str, Any]) -> str:
    return f"{kind.label}: {_WHAT[kind](d)}"


def describe(entry: EntryFacts, labels: Mapping[str, str]) -> str:
    """One entry on its own (a correction without the row it corrects: see describe_all)."""
    kind = RECORD_KINDS.get(entry.trigger)
    if kind is not None:
        return _record(kind, entry.detail)
    if entry.trigger == OPENING_TRIGGER:
        return f"Aangemaakt in {_stage(labels, entry.to_stage)}"
    if entry.trigger == CORRECTION_TRIGGER:
        return f"Correctie van rij {entry.corrects_seq}"
    text = f"{_stage(labels, entry.from_stage)} → {_stage(labels, entry.to_stage)}"
    if entry.detail.get("into"):
        text += f" (verder in {entry.detail['into']})"
    return text


def describe_all(entries: Iterable[EntryFacts], labels: Mapping[str, str]) -> list[str]:
    """Every entry of one history in chain order; a correction names what it corrected and
    the date as it stood before it (after any earlier correction of the same row)."""
    said: dict[int, str] = {}
    dated: dict[int, date] = {}
    found = []
    for entry in entries:
        if entry.trigger == CORRECTION_TRIGGER and entry.corrects_seq is not None:
            target = entry.corrects_seq
            before = dated.get(target)
            change = (
                f"datum {before.isoformat()} → {entry.occurred_on.isoformat()}"
                if before is not None and before != entry.occurred_on
                else "reden"
            )
            text = f"Correctie van rij {target} ({said.get(target, '?')}): {change}"
            dated[target] = entry.occurred_on
        else:
            text = describe(entry, labels)
            said[entry.seq] = text
            dated[entry.seq] = entry.occurred_on
        found.append(text)
    return found


def corrected_by(entries: Iterable[EntryFacts]) -> dict[int, int]:
    """Per corrected seq, the seq of its latest correction."""
    return {
        e.corrects_seq: e.seq
        for e in entries
        if e.trigger == CORRECTION_TRIGGER and e.corrects_seq is not None
    }

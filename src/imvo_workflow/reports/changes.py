"""What changed between two report dates: the "Wat is er veranderd sinds S" section.

Read from the chain entries that happened in (S, D] (with their corrections applied; with
known-at, only those entered by then): moves, parties that joined or left, signatures,
targets set, slipped (old and new deadline) or brought forward, progress notes and summaries
rewritten, terms; and from the targets as they stood on D, those met or cancelled in the period,
planned against actual. Pure: rows, steps and target views come in, dated lines go out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from imvo_workflow.domain.record import RecordKind, is_record, read_detail
from imvo_workflow.domain.value import value
from imvo_workflow.reports.record_lines import RecordLines
from imvo_workflow.reports.wording import closed_text, nl
from imvo_workflow.services.asof import Step
from imvo_workflow.services.queries import TargetView

#: Entries that close a target: the change section reads them from the targets' closing dates.
_WITH_THE_TARGETS = frozenset({RecordKind.MILESTONE_CLOSED.value, RecordKind.TARGET_DROPPED.value})
_TARGET_SET = RecordKind.TARGET_SET.value


class ChangeKind(StrEnum):
    OPENED = "geopend"
    MOVED = "fase"
    RECORD = "dossier"
    TARGET_SET = "nieuw_doel"
    TARGET_SLIPPED = "doel_verschoven"
    TARGET_ADVANCED = "doel_vervroegd"
    TARGET_MET = "doel_gehaald"
    TARGET_CANCELLED = "doel_vervallen"


@value
class Change:
    on: date
    kind: ChangeKind
    text: str


def _iso(text: object) -> str:
    try:
        return nl(date.fromisoformat(str(text)))
    except ValueError:
        return str(text)


def _target_set(d: Mapping[str, Any]) -> tuple[ChangeKind, str]:
    what, new = d.get("what", "?"), f"“{d.get('phrase', '')}” ({_iso(d.get('deadline'))})"
    if not d.get("old_deadline"):
        return ChangeKind.TARGET_SET, f"Nieuw doel: {what}: {new}"
    old = f"“{d.get('old_phrase', '')}” ({_iso(d['old_deadline'])})"
    if str(d["old_deadline"]) < str(d.get("deadline", "")):
        return ChangeKind.TARGET_SLIPPED, f"Doel verschoven: {what}: van {old} naar {new}"
    if str(d["old_deadline"]) > str(d.get("deadline", "")):
        return ChangeKind.TARGET_ADVANCED, f"Doel vervroegd: {what}: van {old} naar {new}"
    return ChangeKind.TARGET_SET, f"Doel anders verwoord: {what}: van {old} naar {new}"


def changes_between(
    dated: list[tuple[Any, date]],
    history: Mapping[int, RecordLines],
    steps: dict[int, list[Step]],
    targets: dict[int, list[TargetView]],
    labels: Mapping[str, str],
    since: date,
    day: date,
) -> dict[int, list[Change]]:
    """Per covenant id, what changed in (since, day], in date order (then chain order); `dated`
    are the chain rows dated in that period (reports/chain_read.dated_between), and `history`
    says what each of them did (a record entry reads in the change section as it does in the
    covenant's history: reports/record_lines)."""
    found: dict[int, list[tuple[date, int, int, Change]]] = defaultdict(list)
    for cid, mine in steps.items():
        for step in mine:
            if not since < step.occurred_on <= day:
                continue
            to = labels.get(step.to_stage, step.to_stage)
            if step.from_stage is None:
                kind, text = ChangeKind.OPENED, f"Geopend in {to}"
            else:
                kind = ChangeKind.MOVED
                text = f"Fase: {labels.get(step.from_stage, step.from_stage)} → {to}"
            found[cid].append((step.occurred_on, 0, step.seq, Change(step.occurred_on, kind, text)))
    said = {(cid, h.seq): h.description for cid, lines in history.items() for h in lines.history}
    for r, on in dated:
        if not is_record(r.trigger) or r.trigger in _WITH_THE_TARGETS:
            continue  # moves are read above; closed milestones and dropped targets below
        if r.trigger == _TARGET_SET:
            kind, text = _target_set(read_detail(r.detail))
        else:
            kind, text = ChangeKind.RECORD, said[(r.covenant_id, r.seq)]
        found[r.covenant_id].append((on, 0, r.seq, Change(on, kind, text)))
    for cid, views in targets.items():
        for v in views:
            if v.closed_on is None or not since < v.closed_on <= day:
                continue
            kind = ChangeKind.TARGET_MET if v.status == "met" else ChangeKind.TARGET_CANCELLED
            planned = f"“{v.phrase}”, uiterlijk {nl(v.deadline)}"
            text = f"Doel {v.what} ({planned}): {closed_text(v)}"
            found[cid].append((v.closed_on, 1, v.id, Change(v.closed_on, kind, text)))
    return {cid: [c for *_, c in sorted(items)] for cid, items in found.items()}

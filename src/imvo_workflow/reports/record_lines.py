"""The report's lines about a covenant's record: signatures, targets planned against actual,
and its history described, corrected steps marked, all as they stood on the report's date
(or as the database knew them then).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.entry_text import EntryFacts, describe_all, stage_labels
from imvo_workflow.domain.record import read_detail
from imvo_workflow.services.queries import TargetView
from imvo_workflow.services.signatures import SignatureView


@dataclass(frozen=True, slots=True)
class HistoryLine:
    seq: int
    occurred_on: date
    description: str
    corrected_by: int | None


@dataclass(frozen=True, slots=True)
class RecordLines:
    signatures: tuple[SignatureView, ...]
    targets: tuple[TargetView, ...]
    history: tuple[HistoryLine, ...]


def record_lines(
    rows: list[Any],
    definition: WorkflowDefinition,
    day: date,
    signed: dict[int, list[SignatureView]],
    targets: dict[int, list[TargetView]],
) -> dict[int, RecordLines]:
    """Per covenant id: what the report says of its record on `day`, from the chain rows the
    report read once (reports/chain_read), the signatures folded from them and the targets."""
    lines = _history(rows, definition, day)
    ids = set(signed) | set(targets) | set(lines)
    return {
        cid: RecordLines(
            tuple(signed.get(cid, [])), tuple(targets.get(cid, [])), tuple(lines.get(cid, []))
        )
        for cid in ids
    }


def _history(
    rows: list[Any], definition: WorkflowDefinition, day: date
) -> dict[int, list[HistoryLine]]:
    by_covenant: dict[int, list[EntryFacts]] = defaultdict(list)
    for r in rows:
        entry = EntryFacts(
            r.seq,
            r.trigger,
            r.from_stage,
            r.to_stage,
            r.occurred_on,
            r.corrects_seq,
            read_detail(r.detail),
        )
        by_covenant[r.covenant_id].append(entry)
    labels = stage_labels(definition)
    found: dict[int, list[HistoryLine]] = {}
    for cid, facts in by_covenant.items():
        said = describe_all(facts, labels)
        # a corrected step is shown on its corrected date (the latest correction's)
        dated = {f.corrects_seq: f.occurred_on for f in facts if f.corrects_seq is not None}
        shown = [
            (f, dated.get(f.seq, f.occurred_on), text)
            for f, text in zip(facts, said, strict=True)
            if dated.get(f.seq, f.occurred_on) <= day
        ]
        fixed = {f.corrects_seq: f.seq for f, _, _ in shown if f.corrects_seq is not None}
        found[cid] = [HistoryLine(f.seq, on, text, fixed.get(f.seq)) for f, on, text in shown]
    return found

"""The report's lines about a covenant's record: signatures, targets planned against actual,
and its history described, corrected steps marked, all as they stood on the report's date
(or as the database knew them then).

With a since-date the history lists the period's entries only: the report is the account of
that period (a report after ten years would otherwise repeat ten years per covenant, and
describing them cost more than the rest of the report). Without one it lists them all.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.entry_text import EntryFacts, describe_all, stage_labels
from imvo_workflow.domain.record import read_detail
from imvo_workflow.domain.value import value
from imvo_workflow.services.queries import TargetView
from imvo_workflow.services.signatures import SignatureView


@value
class HistoryLine:
    seq: int
    occurred_on: date
    description: str
    corrected_by: int | None


@value
class RecordLines:
    signatures: tuple[SignatureView, ...]
    targets: tuple[TargetView, ...]
    history: tuple[HistoryLine, ...]


def record_lines(
    rows: list[Any],
    dated: list[tuple[Any, date]],
    corrections: list[Any],
    definition: WorkflowDefinition,
    day: date,
    signed: dict[int, list[SignatureView]],
    targets: dict[int, list[TargetView]],
) -> dict[int, RecordLines]:
    """Per covenant id: what the report says of its record on `day`, from the chain rows the
    report read once (reports/chain_read): the history of the rows `dated` in the report's
    period, the signatures folded from the rows and the targets."""
    lines = _history(rows, dated, corrections, definition, day)
    ids = set(signed) | set(targets) | set(lines)
    return {
        cid: RecordLines(
            tuple(signed.get(cid, [])), tuple(targets.get(cid, [])), tuple(lines.get(cid, []))
        )
        for cid in ids
    }


def _history(
    rows: list[Any],
    dated: list[tuple[Any, date]],
    corrections: list[Any],
    definition: WorkflowDefinition,
    day: date,
) -> dict[int, list[HistoryLine]]:
    """Each covenant's entries shown on a date in the period: a corrected step on the date its
    latest correction gave it, marked with the row of its latest correction made by `day`."""
    shown: dict[int, list[tuple[Any, date]]] = defaultdict(list)
    for r, on in dated:
        shown[r.covenant_id].append((r, on))
    marked = {
        (r.covenant_id, r.corrects_seq): r.seq
        for r in corrections
        if r.corrects_seq is not None and r.occurred_on <= day
    }
    # describe_all names what a correction corrected and the date as it stood before: it needs
    # that row and its earlier corrections, wherever they lie (read only when one is shown)
    named = {(r.covenant_id, r.corrects_seq) for r, _ in dated if r.corrects_seq is not None}
    earlier: dict[int, list[Any]] = defaultdict(list)
    if named:
        for r in rows:
            if (r.covenant_id, r.seq) in named or (r.covenant_id, r.corrects_seq) in named:
                earlier[r.covenant_id].append(r)
    labels = stage_labels(definition)
    found: dict[int, list[HistoryLine]] = {}
    for cid, mine in shown.items():
        rows_of = [r for r, _ in mine]
        if cid in earlier:  # the corrected rows too, in chain order, each once
            those = {r.seq: r for r in earlier[cid]} | {r.seq: r for r in rows_of}
            rows_of = [those[seq] for seq in sorted(those)]
        facts = [_facts(r) for r in rows_of]
        said = dict(zip((f.seq for f in facts), describe_all(facts, labels), strict=True))
        found[cid] = [
            HistoryLine(r.seq, on, said[r.seq], marked.get((cid, r.seq))) for r, on in mine
        ]
    return found


def _facts(r: Any) -> EntryFacts:
    return EntryFacts(
        r.seq, r.trigger, r.from_stage, r.to_stage, r.occurred_on, r.corrects_seq,
        read_detail(r.detail),
    )  # fmt: skip

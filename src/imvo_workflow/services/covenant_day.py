"""One covenant as it stood on a day: the whole record, folded from its history.

`imvo show NAME --as-of D` (and the API's and covenant page's peildatum) ask what a covenant
looked like on day D: its stage and since when, where it continued, its parties (current and
past, and the participants the source does not name), who had signed, its targets with the
deadline they had then and whether they were due or overdue, the progress note current then,
its summary and its terms. Every part is read from the history (the chain's record entries,
the targets' change history), never from today's rows, by the read function of the service
that writes it; "known at D" counts only what had been entered by the end of D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from imvo_workflow.domain.bounds import check_date
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import asof, continuation, history, notes, parties, signatures, terms
from imvo_workflow.services.continuation import ContinuationView
from imvo_workflow.services.notes import NoteView
from imvo_workflow.services.parties import PartyOverview
from imvo_workflow.services.queries import TargetView
from imvo_workflow.services.signatures import SignatureView
from imvo_workflow.services.terms import TermView


@dataclass(frozen=True, slots=True)
class CovenantOnDay:
    slug: str
    day: date
    known_at: bool
    stage: str
    since: date
    continued_in: ContinuationView | None
    parties: PartyOverview
    signatures: list[SignatureView]
    targets: list[TargetView]
    note: NoteView | None
    summary: str
    terms: list[TermView]


def covenant_on(
    *, conn: Connection, covenant: str, day: date, known_at: bool = False
) -> CovenantOnDay:
    """`covenant` on `day` (with `known_at`: as the database knew it at the end of `day`)."""
    check_date(day, "De peildatum")
    head = history.read_head(conn, covenant)
    known_by = asof.end_of_day(day) if known_at else None
    steps = asof.effective_steps(asof.history_rows(conn, head.covenant_id), known_by)
    step = asof.stage_on(steps.get(head.covenant_id, []), day)
    if step is None:
        raise InvalidInput(
            f"{head.slug} bestond op {day.isoformat()} nog niet"
            + (" (of was toen nog niet vastgelegd)." if known_at else ".")
        )
    cid = head.covenant_id
    return CovenantOnDay(
        slug=head.slug,
        day=day,
        known_at=known_at,
        stage=step.to_stage,
        since=step.occurred_on,
        continued_in=continuation.continuation_of(conn, cid, day=day, known_by=known_by),
        parties=parties.party_overview(conn=conn, covenant=head.slug, day=day, known_at=known_at),
        signatures=signatures.signatures_on(conn, cid, day, known_by),
        targets=asof.targets_on(conn, day, known_by).get(cid, []),
        note=notes.note_on(conn, cid, day, known_by),
        summary=notes.summary_on(conn, cid, day, known_by),
        terms=terms.terms_on(conn, cid, day, known_by),
    )

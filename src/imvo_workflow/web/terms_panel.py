"""What the covenant page shows of continuation and terms: the data for covenant/_terms.html.

Kept apart from pages.py (which calls `terms_panel` once) so the page routes of
web/pages_terms.py can import pages.py without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.continuation import CONTINUE_TRIGGER, CONTINUED_STAGE
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.terms import renewal_start
from imvo_workflow.services import history
from imvo_workflow.services.continuation import ContinuationView, continuation_of, continued_here
from imvo_workflow.services.terms import SIGNED, TermView, list_terms


@dataclass(frozen=True, slots=True)
class TermsPanel:
    continuation: ContinuationView | None
    joined: list[ContinuationView]
    terms: list[TermView]
    signed: bool
    #: The continuation form is offered (the stage allows the move `opgaan_in`).
    can_continue: bool
    #: Covenants one can continue in: (slug, title), this one and those gone elsewhere left out.
    choices: list[tuple[str, str]]
    #: The start a renewal must have (the day after the last term), when there is a term.
    renewal_start: date | None


def terms_panel(
    conn: Connection, definition: WorkflowDefinition, slug: str, today: date
) -> TermsPanel:
    head = history.read_head(conn, slug)
    terms = list_terms(conn=conn, covenant=slug, today=today)
    can_continue = any(
        tr.trigger == CONTINUE_TRIGGER for tr in definition.offered(head.stage, role=None)
    )
    c = t.covenant
    choices = (
        [
            (r.slug, r.title)
            for r in conn.execute(
                select(c.c.slug, c.c.title)
                .where(c.c.id != head.covenant_id, c.c.stage != CONTINUED_STAGE)
                .order_by(c.c.title)
            )
        ]
        if can_continue
        else []
    )
    return TermsPanel(
        continuation=continuation_of(conn, head.covenant_id),
        joined=continued_here(conn, head.covenant_id),
        terms=terms,
        signed=head.stage == SIGNED,
        can_continue=can_continue,
        choices=choices,
        renewal_start=renewal_start(terms[-1].ends_on) if terms else None,
    )

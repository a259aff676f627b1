"""The JSON API of a covenant's story (progress notes, summary) and the period preview.

Same conventions as web/api.py (bearer token, Reader/Coordinator, ErrorBody answers, bounds
from domain/bounds in the OpenAPI document); the routes call the same service functions as
the CLI (`imvo notes`, `imvo summary`, `imvo period`) and the covenant page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Security
from pydantic import BaseModel, Field

from imvo_workflow.domain.bounds import MAX_LABEL, MAX_TEXT
from imvo_workflow.domain.period_preview import PeriodPreview, preview_period
from imvo_workflow.services import lookup, notes
from imvo_workflow.services.notes import NoteView, SummaryChange
from imvo_workflow.web.api import BEARER, ERRORS, Coordinator, Imvo, Reader

router = APIRouter(
    prefix="/api/v1",
    tags=["imvo"],
    dependencies=[Security(BEARER)],
    generate_unique_id_function=lambda route: route.name,
)


class NoteRequest(BaseModel):
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="The note; new lines are allowed, other control characters are not.",
    )
    written_on: date | None = Field(
        default=None, description="The day the note describes (default: today; not later)."
    )


class SummaryRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="The new summary.")
    reason: str = Field(min_length=1, max_length=MAX_TEXT, description="Why it changed.")


class SummaryBody(BaseModel):
    text: str = Field(description="The summary as it reads now.")
    history: list[SummaryChange] = Field(description="Every edit, newest first.")


@router.get("/covenants/{slug}/notes", responses=ERRORS)
def get_notes(
    app: Imvo,
    user: Reader,
    slug: str,
    as_of: Annotated[
        date | None,
        Query(description="Only the notes written on or before this day; the first is its story."),
    ] = None,
) -> list[NoteView]:
    with app.uow(readonly=True) as uow:
        return notes.notes_on(uow.conn, lookup.covenant_id(uow.conn, slug), as_of)


@router.post("/covenants/{slug}/notes", status_code=201, responses=ERRORS)
def post_note(app: Imvo, user: Coordinator, slug: str, body: NoteRequest) -> NoteView:
    return notes.write_note(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        text=body.text,
        written_on=body.written_on,
        actor=user.name,
        now=app.now(),
    )


@router.get("/covenants/{slug}/summary", responses=ERRORS)
def get_summary(app: Imvo, user: Reader, slug: str) -> SummaryBody:
    with app.uow(readonly=True) as uow:
        covenant_id = lookup.covenant_id(uow.conn, slug)
        text = notes.summary_on(uow.conn, covenant_id, None, None)
        return SummaryBody(text=text, history=notes.summary_history(uow.conn, covenant_id))


@router.put("/covenants/{slug}/summary", responses=ERRORS)
def put_summary(app: Imvo, user: Coordinator, slug: str, body: SummaryRequest) -> SummaryChange:
    return notes.edit_summary(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        text=body.text,
        actor=user.name,
        reason=body.reason,
        now=app.now(),
    )


@router.get("/periods/preview", responses=ERRORS)
def preview(
    app: Imvo,
    user: Reader,
    phrase: Annotated[
        str, Query(min_length=1, max_length=MAX_LABEL, examples=["eerste helft 2017"])
    ],
    reference: Annotated[
        date | None, Query(description="The day the phrase was written (default: today).")
    ] = None,
) -> PeriodPreview:
    """What a target phrase means: its period and deadline, or 422 with examples."""
    return preview_period(phrase, reference or app.today())

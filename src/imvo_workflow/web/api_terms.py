"""The JSON API for continuation and terms: the same service functions as `imvo continue`
and `imvo terms`, with the conventions of web/api.py (bearer token, coordinators write,
every refusal a JSON ErrorBody with a 4xx status)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Security
from pydantic import BaseModel, Field

from imvo_workflow.domain.bounds import MAX_LABEL, MAX_TEXT
from imvo_workflow.services.continuation import continue_in
from imvo_workflow.services.moves import MoveResult
from imvo_workflow.services.terms import TermResult, TermView, list_terms, renew_term, set_term
from imvo_workflow.web.api import BEARER, ERRORS, Coordinator, Imvo, Reader

router = APIRouter(
    prefix="/api/v1",
    tags=["imvo"],
    dependencies=[Security(BEARER)],
    generate_unique_id_function=lambda route: route.name,
)


class ContinuationRequest(BaseModel):
    into: str = Field(
        min_length=1,
        max_length=MAX_LABEL,
        description="The covenant this process continues in (its slug or sector name).",
        examples=["technologische-industrie"],
    )
    on: date = Field(description="When it continued there (not in the future).")
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class TermRequest(BaseModel):
    ends_on: date = Field(description="The term's last day.")
    starts_on: date | None = Field(
        default=None,
        description="The term's first day: by default the signing date (a first term) or the "
        "day after the previous term ends (a renewal, which must start then).",
    )
    reason: str = Field(default="", max_length=MAX_TEXT)


@router.post("/covenants/{slug}/continuation", responses=ERRORS)
def continue_covenant(
    app: Imvo, user: Coordinator, slug: str, body: ContinuationRequest
) -> MoveResult:
    """Record that this covenant's process continued in another covenant (stage opgegaan)."""
    return continue_in(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        into=body.into,
        on=body.on,
        reason=body.reason,
        actor=user.name,
        role=user.role,
        now=app.now(),
    )


@router.get("/covenants/{slug}/terms", responses=ERRORS)
def get_terms(app: Imvo, user: Reader, slug: str) -> list[TermView]:
    """The covenant's terms in order; `current` marks the one in force today."""
    with app.uow(readonly=True) as uow:
        return list_terms(conn=uow.conn, covenant=slug, today=app.today())


@router.post("/covenants/{slug}/terms", responses=ERRORS)
def post_term(app: Imvo, user: Coordinator, slug: str, body: TermRequest) -> TermResult:
    """Set the first term of a signed covenant."""
    return set_term(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        ends_on=body.ends_on,
        starts_on=body.starts_on,
        actor=user.name,
        reason=body.reason,
        now=app.now(),
    )


@router.post("/covenants/{slug}/terms/renew", responses=ERRORS)
def renew_covenant_term(app: Imvo, user: Coordinator, slug: str, body: TermRequest) -> TermResult:
    """Open the next term, from the day after the current one ends (a reason is required)."""
    return renew_term(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        ends_on=body.ends_on,
        starts_on=body.starts_on,
        actor=user.name,
        reason=body.reason,
        now=app.now(),
    )

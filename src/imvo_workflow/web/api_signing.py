"""The JSON API for signatures and milestones: the same service functions as CLI and pages.

Same conventions as web/api.py (bearer token, Reader/Coordinator, ErrorBody on every refusal,
bounds from domain/bounds in the schema): a covenant's signatures are read and added (signing
it in one step when not yet signed), and a milestone is closed as bereikt or vervallen.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Security
from pydantic import BaseModel, Field

from imvo_workflow.domain.bounds import MAX_LABEL, MAX_TEXT
from imvo_workflow.services import history
from imvo_workflow.services.milestones import MilestoneResult, close_milestone
from imvo_workflow.services.signatories import MAX_SIGNATORIES
from imvo_workflow.services.signatures import SignatureView, SignResult, sign, signatures_on
from imvo_workflow.web.api import BEARER, ERRORS, Coordinator, Imvo, Reader

router = APIRouter(
    prefix="/api/v1",
    tags=["imvo"],
    dependencies=[Security(BEARER)],
    generate_unique_id_function=lambda route: route.name,
)

Organisation = Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]


class SignRequest(BaseModel):
    organisations: list[Organisation] = Field(
        min_length=1,
        max_length=MAX_SIGNATORIES,
        description="The organisations that signed (each a party on that day, or add_as_party).",
    )
    signed_on: date | None = Field(default=None, description="When they signed (default: today).")
    reason: str = Field(default="", max_length=MAX_TEXT)
    add_as_party: bool = Field(
        default=False, description="Add a signatory that is not yet a party as `partij`."
    )


class CloseRequest(BaseModel):
    outcome: Literal["bereikt", "vervallen"]
    on: date | None = Field(default=None, description="When (default: today).")
    reason: str = Field(default="", max_length=MAX_TEXT, description="Required for vervallen.")


@router.get("/covenants/{slug}/signatures", responses=ERRORS)
def get_signatures(app: Imvo, user: Reader, slug: str) -> list[SignatureView]:
    with app.uow(readonly=True) as uow:
        head = history.read_head(uow.conn, slug)
        return signatures_on(uow.conn, head.covenant_id, None, None)


@router.post("/covenants/{slug}/signatures", responses=ERRORS)
def post_signatures(app: Imvo, user: Coordinator, slug: str, body: SignRequest) -> SignResult:
    return sign(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        organisations=tuple(body.organisations),
        signed_on=body.signed_on or app.today(),
        actor=user.name,
        reason=body.reason,
        add_as_party=body.add_as_party,
        role=user.role,
        now=app.now(),
    )


@router.post("/covenants/{slug}/targets/{target_id}/close", responses=ERRORS)
def close_target(
    app: Imvo, user: Coordinator, slug: str, target_id: int, body: CloseRequest
) -> MilestoneResult:
    return close_milestone(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        target_id=target_id,
        outcome=body.outcome,
        on=body.on,
        reason=body.reason,
        actor=user.name,
        now=app.now(),
    )

"""The JSON API for the covenant record: opening processes, organisations, parties over time.

Same conventions as web/api.py (its prefix, bearer scheme, error bodies and roles), its own
router so the record's operations live in one module. Every operation calls the same service
function as the CLI and the pages.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Security
from pydantic import BaseModel, Field

from imvo_workflow.domain.bounds import MAX_LABEL, MAX_TEXT
from imvo_workflow.domain.parties import CHOOSABLE_KINDS, PartyRole
from imvo_workflow.services.covenant_day import CovenantOnDay, covenant_on
from imvo_workflow.services.organisations import (
    OrganisationView,
    RenameResult,
    create_organisation,
    list_organisations,
    rename_organisation,
)
from imvo_workflow.services.parties import (
    PartyOverview,
    PartyResult,
    add_party,
    party_leaves,
    party_overview,
)
from imvo_workflow.services.processes import ProcessResult, open_process
from imvo_workflow.web.api import BEARER, ERRORS, Coordinator, Imvo, Reader

router = APIRouter(
    prefix="/api/v1",
    tags=["imvo"],
    dependencies=[Security(BEARER)],
    generate_unique_id_function=lambda route: route.name,
)
ROLES = "|".join(r.value for r in PartyRole)
KINDS = "|".join(k.value for k in CHOOSABLE_KINDS)


class ProcessRequest(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_LABEL, examples=["IMVO-convenant Textiel"])
    stage: str = Field(min_length=1, max_length=60, examples=["dialoog"])
    started_on: date = Field(description="When the process started (may lie in the past).")
    sector: str | None = Field(
        default=None, max_length=MAX_LABEL, description="An existing sector."
    )
    new_sector: str | None = Field(default=None, max_length=MAX_LABEL)
    group: str | None = Field(default=None, pattern="^(risicosector|overige)$")
    parent: str | None = Field(
        default=None, max_length=MAX_LABEL, description="The covenant this is a sub-covenant of."
    )
    summary: str = Field(default="", max_length=MAX_TEXT)
    slug: str | None = Field(default=None, max_length=80)
    reason: str = Field(default="", max_length=MAX_TEXT)


class OrganisationRequest(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_LABEL, examples=["Oxfam Novib"])
    kind: str = Field(pattern=f"^({KINDS})$", examples=["ngo"])
    full_name: str | None = Field(default=None, max_length=2 * MAX_LABEL)


class RenameRequest(BaseModel):
    new_name: str = Field(min_length=1, max_length=MAX_LABEL)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class PartyRequest(BaseModel):
    organisation: str = Field(min_length=1, max_length=MAX_LABEL, examples=["FNLI"])
    role: str = Field(pattern=f"^({ROLES})$", examples=["partij"])
    since: date
    reason: str = Field(default="", max_length=MAX_TEXT)


class LeaveRequest(BaseModel):
    until: date = Field(description="The day the party left.")
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


@router.post("/covenants", status_code=201, responses=ERRORS)
def open_covenant_process(app: Imvo, user: Coordinator, body: ProcessRequest) -> ProcessResult:
    return open_process(
        uow=app.uow(),
        definition=app.definition,
        title=body.title,
        stage=body.stage,
        started_on=body.started_on,
        actor=user.name,
        sector=body.sector,
        new_sector=body.new_sector,
        group=body.group,
        parent=body.parent,
        summary=body.summary,
        slug=body.slug,
        reason=body.reason,
        now=app.now(),
    )


@router.get("/organisations", responses=ERRORS)
def get_organisations(app: Imvo, user: Reader) -> list[OrganisationView]:
    with app.uow(readonly=True) as uow:
        return list_organisations(conn=uow.conn)


@router.post("/organisations", status_code=201, responses=ERRORS)
def post_organisation(app: Imvo, user: Coordinator, body: OrganisationRequest) -> OrganisationView:
    return create_organisation(
        uow=app.uow(),
        name=body.name,
        kind=body.kind,
        full_name=body.full_name,
        actor=user.name,
        now=app.now(),
    )


@router.post("/organisations/{organisation_id}/rename", responses=ERRORS)
def rename_organisation_by_id(
    app: Imvo, user: Coordinator, organisation_id: int, body: RenameRequest
) -> RenameResult:
    return rename_organisation(
        uow=app.uow(),
        definition=app.definition,
        organisation=organisation_id,
        new_name=body.new_name,
        reason=body.reason,
        actor=user.name,
        now=app.now(),
    )


@router.get("/covenants/{slug}/parties", responses=ERRORS)
def get_parties(
    app: Imvo,
    user: Reader,
    slug: str,
    as_of: Annotated[date | None, Query(description="The parties on this day.")] = None,
    known_at: Annotated[
        bool, Query(description="As the database knew it at the end of as_of.")
    ] = False,
) -> PartyOverview:
    with app.uow(readonly=True) as uow:
        return party_overview(conn=uow.conn, covenant=slug, day=as_of, known_at=known_at)


@router.get("/covenants/{slug}/as-of/{day}", responses=ERRORS)
def get_covenant_on_day(
    app: Imvo,
    user: Reader,
    slug: str,
    day: date,
    known_at: Annotated[
        bool, Query(description="As the database knew it at the end of the day.")
    ] = False,
) -> CovenantOnDay:
    """The covenant's whole record on `day`, from its history: stage, continuation, parties,
    signatures, targets (due and overdue then), the progress note, summary and terms."""
    with app.uow(readonly=True) as uow:
        return covenant_on(conn=uow.conn, covenant=slug, day=day, known_at=known_at)


@router.post("/covenants/{slug}/parties", status_code=201, responses=ERRORS)
def post_party(app: Imvo, user: Coordinator, slug: str, body: PartyRequest) -> PartyResult:
    return add_party(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        organisation=body.organisation,
        role=body.role,
        since=body.since,
        actor=user.name,
        reason=body.reason,
        now=app.now(),
    )


@router.post("/covenants/{slug}/parties/{participation_id}/leave", responses=ERRORS)
def party_leave(
    app: Imvo, user: Coordinator, slug: str, participation_id: int, body: LeaveRequest
) -> PartyResult:
    return party_leaves(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        participation_id=participation_id,
        until=body.until,
        reason=body.reason,
        actor=user.name,
        now=app.now(),
    )

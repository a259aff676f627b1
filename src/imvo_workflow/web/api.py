"""The JSON API under /api/v1: the same service functions as the CLI and the pages.

Authentication is a bearer token (`imvo` web: Mijn account → API-token). A move takes the
covenant's version in `If-Match`: a stale version is 409, a move the graph forbids is 422
with the allowed moves. Every error body is JSON with a `detail` message and, for a refusal
the app itself decides, an `error` kind (`Forbidden`, `database_unreachable`, ...).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.metrics import MOVES
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import render
from imvo_workflow.services import alert_queries, queries
from imvo_workflow.services.alert_queries import AlertView
from imvo_workflow.services.alerts import acknowledge
from imvo_workflow.services.auth import UserView
from imvo_workflow.services.moves import MoveResult, move
from imvo_workflow.services.queries import CovenantDetail, HistoryEntry, StatusRow, TargetView
from imvo_workflow.services.targets import TargetResult, set_target
from imvo_workflow.web.security import api_user, imvo, role

router = APIRouter(prefix="/api/v1", tags=["imvo"])
Reader = Annotated[UserView, Depends(api_user)]
Coordinator = Annotated[UserView, Depends(role("coordinator", api_user))]
Imvo = Annotated[App, Depends(imvo)]


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, in plain Dutch.")
    error: str | None = Field(
        default=None,
        description="The kind of refusal, the same for every cause of one kind (e.g. Forbidden "
        "for any role that may not do this; database_unreachable for a 503).",
    )
    allowed: list[str] | None = Field(
        default=None, description="For a forbidden move: the moves allowed now."
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 429, 503)
}


class MoveRequest(BaseModel):
    to: str = Field(
        description="Destination stage or transition name.", min_length=1, max_length=60
    )
    reason: str = Field(default="", max_length=4000)
    occurred_on: date | None = Field(default=None, description="When it happened (default: today).")


class TargetRequest(BaseModel):
    stage: str | None = Field(default=None, max_length=40)
    milestone: str | None = Field(default=None, max_length=300)
    phrase: str = Field(min_length=1, max_length=200, examples=["eerste helft 2017"])
    reference: date | None = Field(
        default=None, description="The day the target was stated (default: today)."
    )
    reason: str = Field(default="", max_length=4000)


class Acknowledged(BaseModel):
    id: int
    acknowledged: bool = True


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"If-Match '{if_match}' is geen versienummer.") from None


@router.get("/covenants", responses=ERRORS)
def list_covenants(app: Imvo, user: Reader) -> list[StatusRow]:
    with app.uow(readonly=True) as uow:
        return queries.status(conn=uow.conn, today=app.today())


@router.get("/covenants/{slug}", responses=ERRORS)
def get_covenant(app: Imvo, user: Reader, slug: str, response: Response) -> CovenantDetail:
    with app.uow(readonly=True) as uow:
        found = queries.detail(conn=uow.conn, covenant=slug, today=app.today())
    response.headers["ETag"] = f'"{found.status.version}"'
    return found


@router.post("/covenants/{slug}/move", responses=ERRORS)
def move_covenant(
    app: Imvo,
    user: Coordinator,
    slug: str,
    body: MoveRequest,
    response: Response,
    if_match: Annotated[
        str | None, Header(description="The covenant's version, as its ETag gives it.")
    ] = None,
) -> MoveResult:
    result = move(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        to=body.to,
        actor=user.name,
        reason=body.reason,
        occurred_on=body.occurred_on,
        expected_version=_version(if_match),
        role=user.role,
        now=app.now(),
    )
    MOVES.labels("api").inc()
    response.headers["ETag"] = f'"{result.version}"'
    return result


@router.get("/covenants/{slug}/history", responses=ERRORS)
def get_history(app: Imvo, user: Reader, slug: str) -> list[HistoryEntry]:
    with app.uow(readonly=True) as uow:
        return queries.history(conn=uow.conn, covenant=slug)


@router.get("/covenants/{slug}/targets", responses=ERRORS)
def get_targets(app: Imvo, user: Reader, slug: str) -> list[TargetView]:
    with app.uow(readonly=True) as uow:
        return queries.detail(conn=uow.conn, covenant=slug, today=app.today()).targets


@router.put("/covenants/{slug}/targets", responses=ERRORS)
def put_target(app: Imvo, user: Coordinator, slug: str, body: TargetRequest) -> TargetResult:
    return set_target(
        uow=app.uow(),
        definition=app.definition,
        covenant=slug,
        phrase=body.phrase,
        reference=body.reference or app.today(),
        stage=body.stage,
        milestone=body.milestone,
        actor=user.name,
        reason=body.reason,
        now=app.now(),
    )


@router.get("/alerts", responses=ERRORS)
def list_alerts(app: Imvo, user: Reader, include_acked: bool = False) -> list[AlertView]:
    with app.uow(readonly=True) as uow:
        return alert_queries.alerts(conn=uow.conn, include_acked=include_acked)


@router.post("/alerts/{alert_id}/ack", responses=ERRORS)
def ack_alert(app: Imvo, user: Coordinator, alert_id: int) -> Acknowledged:
    acknowledge(uow=app.uow(), alert_id=alert_id, actor=user.name, now=app.now())
    return Acknowledged(id=alert_id)


@router.get(
    "/report", responses={**ERRORS, 200: {"content": {"text/markdown": {}, "text/html": {}}}}
)
def get_report(
    app: Imvo,
    user: Reader,
    as_of: date | None = None,
    known_at: bool = False,
    format: Annotated[str, Query(pattern="^(md|html)$")] = "md",
) -> Response:
    built = build_report(
        uow=app.uow(readonly=True),
        definition=app.definition,
        as_of=as_of or app.today(),
        known_at=known_at,
    )
    media = "text/html" if format == "html" else "text/markdown"
    return Response(render(built, app.definition, format), media_type=f"{media}; charset=utf-8")

"""The JSON API under /api/v1: the same service functions as the CLI and the pages.

Authentication is a bearer token (`imvo` web: Mijn account → API-token), declared in the
OpenAPI document as the HTTPBearer scheme on every operation. A move takes the covenant's
version in `If-Match` (RFC 9110, web/conditional.py): a stale version is 412, a weak tag never
matches, `*` matches any; a move that lost a race without `If-Match` is 409; a move the graph
forbids is 422 with the allowed moves as `{to, trigger}` values a client can send back.
Every error body is JSON with a `detail` message and, for a refusal the app itself decides,
an `error` kind (`Forbidden`, `database_unreachable`, ...). Operations are linked (OpenAPI
links): a covenant's slug and ETag lead to its move, history and targets.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Query, Response, Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, TypeAdapter

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.bounds import MAX_ID, MAX_LABEL, MAX_TEXT
from imvo_workflow.domain.errors import ConcurrentUpdate, PreconditionFailed
from imvo_workflow.metrics import MOVES
from imvo_workflow.services import alert_queries, history, listing, queries
from imvo_workflow.services.alert_queries import AlertView
from imvo_workflow.services.alerts import acknowledge
from imvo_workflow.services.auth import UserView
from imvo_workflow.services.milestones import MilestoneClosing
from imvo_workflow.services.moves import MoveResult, move
from imvo_workflow.services.queries import CovenantDetail, HistoryEntry, StatusRow, TargetView
from imvo_workflow.services.targets import TargetResult, set_target
from imvo_workflow.web import conditional
from imvo_workflow.web.security import api_user, imvo, role

#: Declares the scheme in the OpenAPI document; api_user (web/security.py) decides who it is.
BEARER = HTTPBearer(
    auto_error=False,
    description="Een API-token: in de web-app onder Mijn account → API-token.",
)
router = APIRouter(
    prefix="/api/v1",
    tags=["imvo"],
    dependencies=[Security(BEARER)],
    # operationId = the function's name ("move_covenant"): stable, and what links name.
    generate_unique_id_function=lambda route: route.name,
)
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
    allowed: list[AllowedMoveBody] | None = Field(
        default=None,
        description="For a forbidden move: the moves allowed now; send one's `to` or "
        "`trigger` back as the move's `to`.",
    )


class AllowedMoveBody(BaseModel):
    to: str = Field(description="The destination stage.", examples=["dialoog"])
    trigger: str = Field(description="The transition's name.", examples=["dialoog_starten"])


ErrorBody.model_rebuild()

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 412, 422, 429, 503)
}
ETAG_HEADER = {
    "ETag": {
        "description": "The covenant's version as a strong entity tag; send it back in "
        "If-Match to move it.",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    }
}
#: OpenAPI links: what a client (or a stateful fuzzer) can do next with what it was given.
_SLUG = {"slug": "$request.path.slug"}
COVENANT_LINKS = {
    "MoveIt": {
        "operationId": "move_covenant",
        "parameters": {**_SLUG, "header.If-Match": "$response.header.ETag"},
    },
    "ItsHistory": {"operationId": "get_history", "parameters": _SLUG},
    "ItsTargets": {"operationId": "get_targets", "parameters": _SLUG},
    "SetATarget": {"operationId": "put_target", "parameters": _SLUG},
}


class MilestoneBody(BaseModel):
    """One milestone closed in a move (web/api.py's move body) or on its own."""

    target_id: int = Field(ge=0, le=MAX_ID)
    outcome: Literal["bereikt", "vervallen"]
    on: date | None = Field(default=None, description="When (default: the step's day, or today).")
    reason: str = Field(default="", max_length=MAX_TEXT, description="Required for vervallen.")

    def closing(self) -> MilestoneClosing:
        return MilestoneClosing(self.target_id, self.outcome, self.on, self.reason)


class MoveRequest(BaseModel):
    to: str = Field(
        description="Destination stage or transition name.", min_length=1, max_length=60
    )
    reason: str = Field(default="", max_length=MAX_TEXT)
    occurred_on: date | None = Field(default=None, description="When it happened (default: today).")
    signatories: list[Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]] = Field(
        default=[],
        max_length=100,
        description="For the move to ondertekend: the organisations that signed (that day).",
    )
    add_as_party: bool = Field(
        default=False, description="Add a signatory that is not yet a party as `partij`."
    )
    milestones: list[MilestoneBody] = Field(
        default=[], max_length=100, description="Milestones closed in the same step."
    )


class TargetRequest(BaseModel):
    stage: str | None = Field(default=None, max_length=40)
    milestone: str | None = Field(default=None, max_length=MAX_LABEL)
    phrase: str = Field(min_length=1, max_length=MAX_LABEL, examples=["eerste helft 2017"])
    reference: date | None = Field(
        default=None, description="The day the target was stated (default: today)."
    )
    reason: str = Field(default="", max_length=MAX_TEXT)


class Acknowledged(BaseModel):
    id: int
    acknowledged: bool = True


class Me(BaseModel):
    """Who the token belongs to: what a client checks before it acts, and the API's floor
    (bench/web.py: an authenticated request that does nothing else)."""

    name: str = Field(description="The user's name.")
    role: Literal["admin", "coordinator", "viewer"] = Field(
        description="What the user may do: viewer reads, coordinator also changes, admin also "
        "manages users."
    )


def _expected_version(app: App, slug: str, wanted: frozenset[int]) -> int:
    """The version a move must find, from the versions `If-Match` accepts; PreconditionFailed
    when none of them is the current one (the service checks it again, in its transaction)."""
    if len(wanted) == 1:
        return next(iter(wanted))
    if wanted:
        with app.uow(readonly=True) as uow:
            current = history.read_head(uow.conn, slug).version
        if current in wanted:
            return current
    raise PreconditionFailed(
        f'If-Match noemt niet de huidige versie van {slug} (een zwakke ETag W/"…" past '
        "nooit). Vraag de huidige versie op (ETag) en probeer het opnieuw."
    )


@router.get("/whoami", responses=ERRORS)
def whoami(user: Reader) -> Me:
    """The token's user: name and role."""
    return Me(name=user.name, role=user.role)  # type: ignore[arg-type]


NEXT_PAGE_HEADERS = {
    "X-Next-Cursor": {
        "description": "Where the next page starts: send it back as `cursor`. Absent on the "
        "last page.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page as a link (RFC 8288, rel="next"). Absent on the last page.',
        "schema": {"type": "string"},
    },
}


@router.get(
    "/covenants",
    responses={
        **ERRORS,
        200: {
            "headers": NEXT_PAGE_HEADERS,
            "links": {
                "FirstCovenant": {
                    "operationId": "get_covenant",
                    "parameters": {"slug": "$response.body#/0/slug"},
                }
            },
        },
    },
)
def list_covenants(
    app: Imvo,
    user: Reader,
    response: Response,
    limit: Annotated[
        int, Query(ge=1, le=listing.API_MAX, description="Covenants per page.")
    ] = listing.API_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Where to continue: the X-Next-Cursor of the previous page (opaque). "
            "Covenants added meanwhile never shift the pages: none is listed twice or skipped.",
        ),
    ] = None,
) -> list[StatusRow]:
    """Every covenant in the document's order, a page at a time."""
    with app.uow(readonly=True) as uow:
        found = listing.page(conn=uow.conn, today=app.today(), after=cursor, limit=limit)
    if found.next is not None:
        response.headers["X-Next-Cursor"] = found.next
        response.headers["Link"] = (
            f'</api/v1/covenants?{urlencode({"limit": limit, "cursor": found.next})}>; rel="next"'
        )
    return found.rows


@router.get(
    "/covenants/{slug}",
    responses={**ERRORS, 200: {"headers": ETAG_HEADER, "links": COVENANT_LINKS}},
)
def get_covenant(app: Imvo, user: Reader, slug: str, response: Response) -> CovenantDetail:
    with app.uow(readonly=True) as uow:
        found = queries.detail(conn=uow.conn, covenant=slug, today=app.today())
    response.headers["ETag"] = f'"{found.status.version}"'
    return found


#: A move's answer written straight from the service's result: the result is already what
#: the document declares, so FastAPI's check of it (a second trip to the thread pool and a
#: validation) is skipped on the hot path (bench/web.py, issue 14).
_MOVE_RESULT = TypeAdapter(MoveResult)


@router.post(
    "/covenants/{slug}/move",
    response_model=MoveResult,
    responses={**ERRORS, 200: {"headers": ETAG_HEADER, "links": COVENANT_LINKS}},
)
def move_covenant(
    app: Imvo,
    user: Coordinator,
    slug: str,
    body: MoveRequest,
    if_match: Annotated[
        str | None,
        Header(
            description='The covenant\'s version as its ETag gives it ("3"), or *. A stale '
            "or weak tag is 412."
        ),
    ] = None,
) -> Response:
    wanted = conditional.wanted_versions(if_match)
    expected = None if wanted is None else _expected_version(app, slug, wanted)
    try:
        result = move(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            to=body.to,
            actor=user.name,
            reason=body.reason,
            occurred_on=body.occurred_on,
            expected_version=expected,
            role=user.role,
            signatories=tuple(body.signatories),
            add_as_party=body.add_as_party,
            milestones=tuple(m.closing() for m in body.milestones),
            now=app.now(),
        )
    except ConcurrentUpdate as exc:
        if expected is None:  # no condition stated: a lost race stays 409
            raise
        # Stale when read, or moved by someone else before this move's write: either way
        # the version the caller stated is no longer the current one.
        raise PreconditionFailed(exc.message) from exc
    MOVES.labels("api").inc()
    return Response(
        _MOVE_RESULT.dump_json(result),
        media_type="application/json",
        headers={"ETag": f'"{result.version}"'},
    )


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


@router.get(
    "/alerts",
    responses={
        **ERRORS,
        200: {
            "links": {
                "AcknowledgeFirst": {
                    "operationId": "ack_alert",
                    "parameters": {"alert_id": "$response.body#/0/id"},
                }
            }
        },
    },
)
def list_alerts(app: Imvo, user: Reader, include_acked: bool = False) -> list[AlertView]:
    with app.uow(readonly=True) as uow:
        return alert_queries.alerts(conn=uow.conn, include_acked=include_acked)


@router.post("/alerts/{alert_id}/ack", responses=ERRORS)
def ack_alert(app: Imvo, user: Coordinator, alert_id: int) -> Acknowledged:
    acknowledge(uow=app.uow(), alert_id=alert_id, actor=user.name, now=app.now())
    return Acknowledged(id=alert_id)

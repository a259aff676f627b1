"""The coordinators' pages: board, covenant, inbox, audit, account, users (report: pages_report).

Each route translates the request, calls the same service functions as the CLI and renders a
template; rules live in the services. Forms work without JavaScript; htmx only makes them
swap in place.
"""

from __future__ import annotations

import itertools
import secrets
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, TextIO, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.continuation import CONTINUE_TRIGGER
from imvo_workflow.domain.entry_text import stage_labels
from imvo_workflow.domain.errors import DomainError, InvalidInput
from imvo_workflow.metrics import MOVES
from imvo_workflow.services import alert_queries, audit, auth, queries, users
from imvo_workflow.services.alerts import acknowledge
from imvo_workflow.services.auth import UserView
from imvo_workflow.services.continuation import stage_label
from imvo_workflow.services.covenant_day import covenant_on
from imvo_workflow.services.export import ExportFilter, export_history, export_rows
from imvo_workflow.services.moves import move
from imvo_workflow.web import pages_signing
from imvo_workflow.web.diagram import state_diagram
from imvo_workflow.web.errors import http_status
from imvo_workflow.web.paths import TEMPLATES
from imvo_workflow.web.record_context import parties_context, peildatum
from imvo_workflow.web.security import (
    check_csrf,
    client_address,
    csrf_token,
    imvo,
    page_user,
    role,
)
from imvo_workflow.web.story_context import story_context
from imvo_workflow.web.terms_panel import terms_panel

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)
# Times are stored in UTC; people read them in Amsterdam time.
templates.env.filters["local"] = lambda moment: moment.astimezone(AMSTERDAM)
#: Export rows carry their times as ISO text in UTC (as the CSV does); pages show Dutch time.
templates.env.filters["local_iso"] = lambda text: datetime.fromisoformat(text).astimezone(AMSTERDAM)
# dd-mm-yyyy without strftime: the board formats thousands of dates per page.
templates.env.filters["nl"] = lambda day: f"{day.day:02d}-{day.month:02d}-{day.year}"
Coordinator = Annotated[UserView, Depends(role("coordinator"))]
Admin = Annotated[UserView, Depends(role("admin"))]
Viewer = Annotated[UserView, Depends(page_user)]
Imvo = Annotated[App, Depends(imvo)]
TARGET_STATUS = {"open": "open", "met": "gehaald", "cancelled": "vervallen"}


def page(
    request: Request, template: str, user: UserView | None, status: int = 200, **context: Any
) -> HTMLResponse:
    definition = request.app.state.imvo.definition
    base = {
        "user": user,
        "csrf": csrf_token(request),
        "labels": {name: stage.label.nl for name, stage in definition.stages.items()},
        "statuses": TARGET_STATUS,
    }
    return templates.TemplateResponse(request, template, base | context, status_code=status)


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: '{value}' is geen datum (JJJJ-MM-DD).") from None


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", None, next=next if next.startswith("/") else "/", name="")


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    app: Imvo,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = auth.authenticate(
            uow=app.uow(),
            name=name,
            password=password,
            address=client_address(request),
            now=app.now(),
        )
    except DomainError as exc:
        answer = page(
            request,
            "login.html",
            None,
            status=http_status(exc),
            error=exc.message,
            next=next,
            name=name,
        )
        if isinstance(exc, auth.LoginThrottled):
            answer.headers["Retry-After"] = str(exc.seconds)
        return answer
    request.session.clear()
    request.session.update({"user_id": user.id, "epoch": user.session_epoch})
    return RedirectResponse(
        next if next.startswith("/") and not next.startswith("//") else "/", status_code=303
    )


@router.post("/uitloggen", dependencies=[Depends(check_csrf)])
def logout(request: Request, app: Imvo, user: Viewer) -> Response:
    """Ends every session of this user, on every device (the cookie alone cannot be recalled)."""
    auth.end_sessions(uow=app.uow(), user_id=user.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _covenant_page(
    request: Request, app: App, user: UserView, slug: str, status: int = 200, **extra: Any
) -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        detail = queries.detail(
            conn=uow.conn, covenant=slug, today=app.today(), labels=stage_labels(app.definition)
        )
        changes = queries.target_changes(conn=uow.conn, covenant=slug)
        story = story_context(uow.conn, app.definition, detail)
        panel = terms_panel(uow.conn, app.definition, detail.status.slug, app.today())
        offered = app.definition.offered(detail.status.stage, role=user.role)
        moves = [m for m in offered if m.trigger != CONTINUE_TRIGGER]  # its own form: _terms.html
        first = moves[0].trigger if moves else ""
        signing = pages_signing.covenant_context(uow.conn, app.definition, detail, first)
        day = peildatum(request)
        then = None if day is None else covenant_on(conn=uow.conn, covenant=slug, day=day)
    return page(
        request,
        "covenant.html",
        user,
        status=status,
        active="bord",
        detail=detail,
        changes=changes,
        moves=moves,
        can_move=user.can("coordinator"),
        today=app.today(),
        stage_label=stage_label(app.definition, detail.status),
        terms=panel,
        diagram=state_diagram(app.definition, detail.status.stage),
        then=then,
        **parties_context(app, request, slug),
        **story,
        **signing,
        **extra,
    )


@router.get("/convenanten/{slug}")
def covenant(request: Request, app: Imvo, user: Viewer, slug: str) -> HTMLResponse:
    return _covenant_page(request, app, user, slug)


@router.post("/convenanten/{slug}/stap", dependencies=[Depends(check_csrf)])
def covenant_move(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    to: Annotated[str, Form()],
    version: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    signatory: Annotated[list[str] | None, Form()] = None,
    milestone_id: Annotated[list[str] | None, Form()] = None,
    milestone_outcome: Annotated[list[str] | None, Form()] = None,
    milestone_on: Annotated[list[str] | None, Form()] = None,
    milestone_reason: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    try:
        result = move(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            to=to,
            actor=user.name,
            reason=reason,
            occurred_on=_date(on, "Datum"),
            expected_version=version,
            role=user.role,
            signatories=tuple(signatory or ()),
            milestones=pages_signing.closings(
                milestone_id or [],
                milestone_outcome or [],
                milestone_on or [],
                milestone_reason or [],
            ),
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    MOVES.labels("web").inc()
    labels = {name: stage.label.nl for name, stage in app.definition.stages.items()}
    notice = f"Vastgelegd: {labels[result.from_stage]} → {labels[result.to_stage]}."
    return _covenant_page(request, app, user, slug, notice=notice)


@router.get("/meldingen")
def alerts_page(request: Request, app: Imvo, user: Viewer, alle: str = "") -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        rows = alert_queries.alerts(conn=uow.conn, include_acked=bool(alle))
    return page(
        request,
        "alerts.html",
        user,
        active="meldingen",
        alerts=rows,
        show_all=bool(alle),
        can_ack=user.can("coordinator"),
    )


@router.post("/meldingen/{alert_id}/afhandelen", dependencies=[Depends(check_csrf)])
def alert_ack(app: Imvo, user: Coordinator, alert_id: int) -> Response:
    acknowledge(uow=app.uow(), alert_id=alert_id, actor=user.name, now=app.now())
    return RedirectResponse("/meldingen", status_code=303)


def _filter(sector: str, actor: str, van: str, tot: str) -> ExportFilter:
    return ExportFilter(sector or None, actor or None, _date(van, "Van"), _date(tot, "Tot"))


@router.get("/audit")
def audit_page(
    request: Request,
    app: Imvo,
    user: Viewer,
    sector: str = "",
    actor: str = "",
    van: str = "",
    tot: str = "",
) -> HTMLResponse:
    where = _filter(sector, actor, van, tot)
    with app.uow(readonly=True) as uow:
        rows = list(itertools.islice(export_rows(uow.conn, where), 300))
    verified = audit.verify(uow=app.uow(readonly=True))
    query = urlencode(
        {k: v for k, v in {"sector": sector, "actor": actor, "van": van, "tot": tot}.items() if v}
    )
    return page(
        request,
        "audit.html",
        user,
        active="audit",
        rows=rows,
        f=where,
        query=query,
        verify=verified,
    )


@router.get("/audit/export.csv")
def audit_csv(
    app: Imvo, user: Viewer, sector: str = "", actor: str = "", van: str = "", tot: str = ""
) -> Response:
    where = _filter(sector, actor, van, tot)
    # Closed by the response's generator once sent; spills to disk past 4 MiB.
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=4 * 1024 * 1024, mode="w+", encoding="utf-8", newline=""
    )
    export_history(uow=app.uow(readonly=True), out=cast(TextIO, spool), fmt="csv", where=where)
    spool.seek(0)

    def chunks() -> Iterator[str]:
        with spool:
            while block := spool.read(64 * 1024):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="imvo-geschiedenis.csv"'},
    )


@router.get("/account")
def account(request: Request, app: Imvo, user: Viewer) -> HTMLResponse:
    return _account_page(request, app, user)


def _account_page(
    request: Request, app: App, user: UserView, status: int = 200, **extra: Any
) -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        tokens = auth.list_api_tokens(uow.conn, user=user.name)
        has_link = auth.has_calendar_link(uow.conn, user.id)
    return page(
        request,
        "account.html",
        user,
        status=status,
        active="account",
        tokens=tokens,
        has_calendar_link=has_link,
        now=app.now(),
        **extra,
    )


def _calendar_url(request: Request, secret: str) -> str:
    """From IMVO_BASE_URL (or the address `imvo serve` listens on), never the Host header."""
    base: str = request.app.state.base_url
    return base + str(request.app.url_path_for("calendar_feed", token=secret))


@router.post("/account/token", dependencies=[Depends(check_csrf)])
def account_token(
    request: Request,
    app: Imvo,
    user: Viewer,
    name: Annotated[str, Form()],
    vervalt: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        made = auth.create_api_token(
            uow=app.uow(),
            user_id=user.id,
            name=name,
            now=app.now(),
            expires=_date(vervalt, "Vervaldatum"),
        )
    except DomainError as exc:
        return _account_page(request, app, user, status=http_status(exc), error=exc.message)
    return _account_page(request, app, user, token=made)


@router.post("/account/token/{token_id}/intrekken", dependencies=[Depends(check_csrf)])
def account_token_revoke(request: Request, app: Imvo, user: Viewer, token_id: int) -> HTMLResponse:
    auth.revoke_api_token(uow=app.uow(), token_id=token_id, now=app.now(), owner=user.id)
    return _account_page(request, app, user, notice="Het API-token is ingetrokken.")


@router.post("/account/agenda", dependencies=[Depends(check_csrf)])
def account_calendar(request: Request, app: Imvo, user: Viewer) -> HTMLResponse:
    """A new calendar link, shown once; the old one stops working (only a hash is kept)."""
    secret = auth.new_calendar_token(uow=app.uow(), user_id=user.id)
    url = _calendar_url(request, secret)
    return _account_page(request, app, user, calendar_url=url)


@router.get("/gebruikers")
def users_page(request: Request, app: Imvo, user: Admin) -> HTMLResponse:
    return _users_page(request, app, user)


def _users_page(
    request: Request, app: App, user: UserView, status: int = 200, **extra: Any
) -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        rows = users.list_users(conn=uow.conn)
    return page(
        request, "users.html", user, status=status, active="gebruikers", users=rows, **extra
    )


@router.post("/gebruikers", dependencies=[Depends(check_csrf)])
def users_add(
    request: Request,
    app: Imvo,
    user: Admin,
    name: Annotated[str, Form()],
    role_name: Annotated[str, Form(alias="role")],
    email: Annotated[str, Form()] = "",
) -> HTMLResponse:
    password = secrets.token_urlsafe(12)
    try:
        users.add_user(
            uow=app.uow(),
            name=name,
            role=role_name,
            email=email or None,
            password_hash=auth.hash_password(password),
            now=app.now(),
        )
    except DomainError as exc:
        return _users_page(request, app, user, error=exc.message)
    return _users_page(request, app, user, password=password, created=name)


@router.post("/gebruikers/uitschakelen", dependencies=[Depends(check_csrf)])
def users_disable(
    request: Request, app: Imvo, user: Admin, name: Annotated[str, Form()]
) -> HTMLResponse:
    """Sessions, API tokens and calendar link of `name` stop working at once."""
    try:
        users.disable_user(uow=app.uow(), name=name, now=app.now())
    except DomainError as exc:
        return _users_page(request, app, user, status=http_status(exc), error=exc.message)
    return _users_page(request, app, user, notice=f"{name} is uitgeschakeld.")


@router.post("/gebruikers/inschakelen", dependencies=[Depends(check_csrf)])
def users_enable(
    request: Request, app: Imvo, user: Admin, name: Annotated[str, Form()]
) -> HTMLResponse:
    try:
        users.enable_user(uow=app.uow(), name=name)
    except DomainError as exc:
        return _users_page(request, app, user, status=http_status(exc), error=exc.message)
    return _users_page(request, app, user, notice=f"{name} is weer ingeschakeld.")

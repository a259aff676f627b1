"""The coordinators' pages for the covenant record: a new process, organisations, parties.

Same conventions as web/pages.py (whose `page` renders, whose covenant page these forms swap
into with htmx): each route translates the form, calls the service the CLI and the API call,
and shows the refusal in the page on bad input. The covenant page's parties section reads its
data through web/record_context.py.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.errors import DomainError, RequirementMissing
from imvo_workflow.domain.parties import CHOOSABLE_KINDS
from imvo_workflow.services.organisations import (
    create_organisation,
    list_organisations,
    rename_organisation,
)
from imvo_workflow.services.parties import add_party, party_leaves
from imvo_workflow.services.processes import (
    SECTOR_GROUPS,
    list_sectors,
    open_process,
    start_stages,
)
from imvo_workflow.services.queries import status
from imvo_workflow.web.errors import http_status
from imvo_workflow.web.pages import Coordinator, Imvo, Viewer, _covenant_page, _date, page
from imvo_workflow.web.security import check_csrf

router = APIRouter(include_in_schema=False)
KINDS = [(kind.value, kind.label) for kind in CHOOSABLE_KINDS]


def _required(value: str, field: str) -> date:
    day = _date(value, field)
    if day is None:
        raise RequirementMissing(f"{field}: geef een datum.", "date")
    return day


# -- the covenant page's forms -------------------------------------------------------------


@router.post("/convenanten/{slug}/partijen", dependencies=[Depends(check_csrf)])
def party_add(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    organisation: Annotated[str, Form()],
    role: Annotated[str, Form()],
    since: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        day = _required(since, "Vanaf")
        result = add_party(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            organisation=organisation,
            role=role,
            since=day,
            actor=user.name,
            reason=reason,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    notice = f"Vastgelegd: {result.organisation} is {result.role} sinds {since}."
    return _covenant_page(request, app, user, slug, notice=notice)


@router.post(
    "/convenanten/{slug}/partijen/{participation_id}/vertrek", dependencies=[Depends(check_csrf)]
)
def party_leave(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    participation_id: int,
    until: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        day = _required(until, "Vertrokken op")
        result = party_leaves(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            participation_id=participation_id,
            until=day,
            reason=reason,
            actor=user.name,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    notice = f"Vastgelegd: {result.organisation} vertrok op {until}."
    return _covenant_page(request, app, user, slug, notice=notice)


@router.post("/convenanten/partijen/vertrek", dependencies=[Depends(check_csrf)])
def party_leave_form(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: Annotated[str, Form()],
    participation_id: Annotated[int, Form()],
    until: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The leave form picks the party in a select, so its id arrives as a field."""
    return party_leave(request, app, user, slug, participation_id, until, reason)


# -- a new process ---------------------------------------------------------------------


def _process_form(
    request: Request, app: App, user: Any, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        covenants = [(r.slug, r.title) for r in status(conn=uow.conn, today=app.today())]
        sectors = list_sectors(conn=uow.conn)
    labels = {name: stage.label.nl for name, stage in app.definition.stages.items()}
    return page(
        request,
        "process_form.html",
        user,
        status=status_code,
        active="bord",
        sectors=sectors,
        covenants=covenants,
        groups=SECTOR_GROUPS,
        starts=[(s, labels[s]) for s in start_stages(app.definition)],
        today=app.today(),
        form=extra.pop("form", {}),
        **extra,
    )


@router.get("/processen/nieuw")
def process_form(request: Request, app: Imvo, user: Coordinator) -> HTMLResponse:
    return _process_form(request, app, user)


@router.post("/processen", dependencies=[Depends(check_csrf)])
def process_open(
    request: Request,
    app: Imvo,
    user: Coordinator,
    title: Annotated[str, Form()],
    stage: Annotated[str, Form()],
    started_on: Annotated[str, Form()],
    sector: Annotated[str, Form()] = "",
    new_sector: Annotated[str, Form()] = "",
    group: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    form = {"title": title, "stage": stage, "started_on": started_on, "sector": sector,
            "new_sector": new_sector, "group": group, "parent": parent, "summary": summary,
            "reason": reason}  # fmt: skip
    try:
        day = _required(started_on, "Startdatum")
        result = open_process(
            uow=app.uow(),
            definition=app.definition,
            title=title,
            stage=stage,
            started_on=day,
            actor=user.name,
            sector=None if new_sector else (sector or None),
            new_sector=new_sector or None,
            group=group or None,
            parent=parent or None,
            summary=summary,
            reason=reason,
            now=app.now(),
        )
    except DomainError as exc:
        return _process_form(
            request, app, user, status_code=http_status(exc), error=exc.message, form=form
        )
    return RedirectResponse(f"/convenanten/{result.slug}", status_code=303)


# -- organisations ---------------------------------------------------------------------


def _organisations(
    request: Request, app: App, user: Any, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    with app.uow(readonly=True) as uow:
        rows = list_organisations(conn=uow.conn)
    return page(
        request,
        "organisations.html",
        user,
        status=status_code,
        active="organisaties",
        organisations=rows,
        kinds=KINDS,
        can_edit=user.can("coordinator"),
        **extra,
    )


@router.get("/organisaties")
def organisations_page(request: Request, app: Imvo, user: Viewer) -> HTMLResponse:
    return _organisations(request, app, user)


@router.post("/organisaties", dependencies=[Depends(check_csrf)])
def organisation_add(
    request: Request,
    app: Imvo,
    user: Coordinator,
    name: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    full_name: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        made = create_organisation(
            uow=app.uow(),
            name=name,
            kind=kind,
            full_name=full_name or None,
            actor=user.name,
            now=app.now(),
        )
    except DomainError as exc:
        return _organisations(request, app, user, status_code=http_status(exc), error=exc.message)
    return _organisations(request, app, user, notice=f"{made.name} is toegevoegd.")


@router.post("/organisaties/{organisation_id}/hernoemen", dependencies=[Depends(check_csrf)])
def organisation_rename(
    request: Request,
    app: Imvo,
    user: Coordinator,
    organisation_id: int,
    new_name: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        result = rename_organisation(
            uow=app.uow(),
            definition=app.definition,
            organisation=organisation_id,
            new_name=new_name,
            reason=reason,
            actor=user.name,
            now=app.now(),
        )
    except DomainError as exc:
        return _organisations(request, app, user, status_code=http_status(exc), error=exc.message)
    notice = f"{result.old_name} heet nu {result.new_name}."
    return _organisations(request, app, user, notice=notice)

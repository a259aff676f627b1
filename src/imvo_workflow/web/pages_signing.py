"""The covenant page's signing and milestone parts: what they show, and their forms.

`covenant_context` gives the covenant page (web/pages.py) what its partials
covenant/_signatures.html, _milestones.html and _move_extra.html show. The move form asks
for the extra part of the chosen destination (`/stap-opties`, by htmx when the select
changes): the current parties as signatories for ondertekend, the open milestones for a
destination that ends the covenant. The forms call the same services as CLI and API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import MAX_ID
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import DomainError, InvalidInput
from imvo_workflow.services import history, signatures
from imvo_workflow.services.auth import UserView
from imvo_workflow.services.milestones import MilestoneClosing, close_milestone
from imvo_workflow.services.queries import CovenantDetail, TargetView
from imvo_workflow.services.signatories import SIGNED, SIGNING_ROLES
from imvo_workflow.web.errors import http_status
from imvo_workflow.web.security import check_csrf, imvo, page_user, role

router = APIRouter(include_in_schema=False)
Coordinator = Annotated[UserView, Depends(role("coordinator"))]
Viewer = Annotated[UserView, Depends(page_user)]
Imvo = Annotated[App, Depends(imvo)]


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: '{value[:40]}' is geen datum (JJJJ-MM-DD).") from None


def _parties(conn: Connection, covenant_id: int) -> list[str]:
    """The current parties that have not signed: who the signing form offers."""
    pa, o, sg = t.participation, t.organisation, t.signature
    signed = select(sg.c.organisation_id).where(sg.c.covenant_id == covenant_id)
    return list(
        dict.fromkeys(
            conn.execute(
                select(o.c.name)
                .join(pa, pa.c.organisation_id == o.c.id)
                .where(
                    pa.c.covenant_id == covenant_id,
                    pa.c.until.is_(None),
                    pa.c.role.in_(SIGNING_ROLES),
                    o.c.id.not_in(signed),
                )
                .order_by(pa.c.id)
            ).scalars()
        )
    )


def _ends(definition: WorkflowDefinition, dest: str) -> bool:
    stage = definition.stages.get(dest)
    return stage is not None and (stage.terminal or stage.cancels_targets)


def extra_for(
    conn: Connection, definition: WorkflowDefinition, detail: CovenantDetail, trigger: str
) -> dict[str, Any]:
    """What the move form asks besides stage, reason and date, for the move `trigger`."""
    found = next((m for m in definition.allowed(detail.status.stage) if m.trigger == trigger), None)
    dest = found.dest if found is not None else ""
    open_milestones = [
        tg for tg in detail.targets if tg.milestone is not None and tg.status == "open"
    ]
    head = history.read_head(conn, detail.status.slug)
    return {
        "extra_dest": dest,
        "extra_terminal": dest in definition.stages and definition.stages[dest].terminal,
        "extra_signatories": _parties(conn, head.covenant_id) if dest == SIGNED else [],
        "extra_milestones": open_milestones if _ends(definition, dest) else [],
    }


def covenant_context(
    conn: Connection, definition: WorkflowDefinition, detail: CovenantDetail, first_move: str
) -> dict[str, Any]:
    """The page context of the signing and milestone partials (and the move form's extra)."""
    head = history.read_head(conn, detail.status.slug)
    return {
        "signatures": signatures.signatures_on(conn, head.covenant_id, None, None),
        "signing_parties": _parties(conn, head.covenant_id),
        "is_signed": detail.status.stage == SIGNED,
        "open_milestones": [
            tg for tg in detail.targets if tg.milestone is not None and tg.status == "open"
        ],
        **extra_for(conn, definition, detail, first_move),
    }


def days_text(target: TargetView) -> str:
    if target.days_late is None:
        return ""
    if target.days_late == 0:
        return "op tijd"
    n = abs(target.days_late)
    unit = "dag" if n == 1 else "dagen"
    return f"{n} {unit} {'te laat' if target.days_late > 0 else 'eerder'}"


def closings(
    ids: list[str], outcomes: list[str], ons: list[str], reasons: list[str]
) -> tuple[MilestoneClosing, ...]:
    """The move form's milestone rows (one per open milestone; empty outcome: left open)."""
    if not len(ids) == len(outcomes) == len(ons) == len(reasons):
        raise InvalidInput("De mijlpalen in het formulier zijn onvolledig; laad de pagina opnieuw.")
    found = []
    for raw_id, outcome, on, reason in zip(ids, outcomes, ons, reasons, strict=True):
        if not outcome:
            continue
        if not raw_id.isdigit() or int(raw_id) > MAX_ID:
            raise InvalidInput(f"Onbekende mijlpaal '{raw_id[:20]}'.")
        found.append(MilestoneClosing(int(raw_id), outcome, _day(on, "Datum mijlpaal"), reason))
    return tuple(found)


@router.get("/convenanten/{slug}/stap-opties")
def move_extra(request: Request, app: Imvo, user: Coordinator, slug: str, to: str = "") -> Any:
    from imvo_workflow.services import queries
    from imvo_workflow.web.pages import page

    with app.uow(readonly=True) as uow:
        detail = queries.detail(conn=uow.conn, covenant=slug, today=app.today())
        extra = extra_for(uow.conn, app.definition, detail, to)
    return page(
        request, "covenant/_move_extra.html", user, detail=detail, today=app.today(), **extra
    )


@router.post("/convenanten/{slug}/ondertekening", dependencies=[Depends(check_csrf)])
def sign_form(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    organisation: Annotated[list[str], Form()],
    on: Annotated[str, Form()] = "",
    add_as_party: Annotated[str, Form()] = "",
) -> HTMLResponse:
    from imvo_workflow.web.pages import _covenant_page

    try:
        result = signatures.sign(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            organisations=tuple(name for name in organisation if name.strip()),
            signed_on=_day(on, "Datum") or app.today(),
            actor=user.name,
            add_as_party=bool(add_as_party),
            role=user.role,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    notice = f"Ondertekening vastgelegd: {', '.join(result.signed)} op {result.signed_on:%d-%m-%Y}."
    return _covenant_page(request, app, user, slug, notice=notice)


@router.post(
    "/convenanten/{slug}/mijlpalen/{target_id}/sluiten", dependencies=[Depends(check_csrf)]
)
def close_form(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    target_id: int,
    outcome: Annotated[str, Form()],
    on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    from imvo_workflow.web.pages import _covenant_page

    try:
        result = close_milestone(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            target_id=target_id,
            outcome=outcome,
            on=_day(on, "Datum"),
            reason=reason,
            actor=user.name,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    notice = f"Mijlpaal '{result.milestone}' {result.outcome} op {result.closed_on:%d-%m-%Y}."
    return _covenant_page(request, app, user, slug, notice=notice)

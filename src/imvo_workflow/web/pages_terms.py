"""The covenant page's forms for continuation and terms (htmx, swapping #covenant).

Coordinators only; each form calls the same service function as `imvo continue` and
`imvo terms` and answers with the covenant page, with the refusal or a notice in it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from imvo_workflow.domain.errors import DomainError, InvalidInput
from imvo_workflow.services.continuation import continue_in
from imvo_workflow.services.terms import TermResult, renew_term, set_term
from imvo_workflow.web.errors import http_status
from imvo_workflow.web.pages import Coordinator, Imvo, _covenant_page, _date
from imvo_workflow.web.security import check_csrf

router = APIRouter(include_in_schema=False)


@router.post("/convenanten/{slug}/opgaan", dependencies=[Depends(check_csrf)])
def covenant_continue(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    into: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        day = _date(on, "Datum")
        if day is None:
            raise InvalidInput("Geef de datum waarop het convenant opging in het andere.")
        result = continue_in(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            into=into,
            on=day,
            reason=reason,
            actor=user.name,
            role=user.role,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    notice = f"Vastgelegd: opgegaan in {into} op {result.occurred_on.strftime('%d-%m-%Y')}."
    return _covenant_page(request, app, user, slug, notice=notice)


@router.post("/convenanten/{slug}/looptijd", dependencies=[Depends(check_csrf)])
def covenant_term(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    until: Annotated[str, Form()] = "",
    from_: Annotated[str, Form(alias="from")] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        result = set_term(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            ends_on=_until(until),
            starts_on=_date(from_, "Begindatum"),
            actor=user.name,
            reason=reason,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    return _covenant_page(request, app, user, slug, notice=_notice(result))


@router.post("/convenanten/{slug}/looptijd/verlengen", dependencies=[Depends(check_csrf)])
def covenant_renew(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    until: Annotated[str, Form()] = "",
    from_: Annotated[str, Form(alias="from")] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        result = renew_term(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            ends_on=_until(until),
            starts_on=_date(from_, "Begindatum"),
            actor=user.name,
            reason=reason,
            now=app.now(),
        )
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    return _covenant_page(request, app, user, slug, notice=_notice(result))


def _until(value: str) -> date:
    day = _date(value, "Einddatum")
    if day is None:
        raise InvalidInput("Geef de laatste dag van de looptijd.")
    return day


def _notice(result: TermResult) -> str:
    term = result.term
    return (
        f"Vastgelegd: looptijd {term.number} van {term.starts_on.strftime('%d-%m-%Y')} tot en "
        f"met {term.ends_on.strftime('%d-%m-%Y')}."
    )

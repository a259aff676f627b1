"""The covenant page's story and targets forms: progress notes, the summary, set and re-set a
target, and the live period preview of the target forms.

Each form posts here (coordinator only, CSRF checked), calls the same service function as the
CLI and the API, and answers with the covenant page, which htmx swaps into #covenant; a
refusal is the same page with its message, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from imvo_workflow.domain.errors import DomainError
from imvo_workflow.domain.period_preview import preview_period
from imvo_workflow.services import notes, targets
from imvo_workflow.web.errors import http_status
from imvo_workflow.web.pages import Coordinator, Imvo, Viewer, _covenant_page, _date
from imvo_workflow.web.security import check_csrf

router = APIRouter(include_in_schema=False)


def _answer(
    request: Request, app: Imvo, user: Coordinator, slug: str, action: Callable[[], str]
) -> HTMLResponse:
    """Run `action` (one service call); the page with its notice, or with its refusal."""
    try:
        notice = action()
    except DomainError as exc:
        return _covenant_page(request, app, user, slug, status=http_status(exc), error=exc.message)
    return _covenant_page(request, app, user, slug, notice=notice)


@router.post("/convenanten/{slug}/notities", dependencies=[Depends(check_csrf)])
def note_add(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    text: Annotated[str, Form()] = "",
    written_on: Annotated[str, Form()] = "",
) -> HTMLResponse:
    def write() -> str:
        note = notes.write_note(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            text=text,
            written_on=_date(written_on, "Datum van de notitie"),
            actor=user.name,
            now=app.now(),
        )
        return f"Notitie van {note.written_on.strftime('%d-%m-%Y')} vastgelegd."

    return _answer(request, app, user, slug, write)


@router.post("/convenanten/{slug}/samenvatting", dependencies=[Depends(check_csrf)])
def summary_edit(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    text: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    def edit() -> str:
        notes.edit_summary(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            text=text,
            actor=user.name,
            reason=reason,
            now=app.now(),
        )
        return "De samenvatting is gewijzigd; de vorige tekst staat in de geschiedenis."

    return _answer(request, app, user, slug, edit)


@router.post("/convenanten/{slug}/doelen", dependencies=[Depends(check_csrf)])
def target_set(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    phrase: Annotated[str, Form()] = "",
    stage: Annotated[str, Form()] = "",
    milestone: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    def record() -> str:
        result = targets.set_target(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            phrase=phrase,
            reference=_reference(reference, app.today()),
            stage=stage or None,
            milestone=milestone.strip() or None,
            actor=user.name,
            reason=reason,
            now=app.now(),
        )
        return f"Doel vastgelegd: “{result.phrase}”, deadline {_nl(result.deadline)}."

    return _answer(request, app, user, slug, record)


@router.post("/convenanten/{slug}/doelen/wijzigen", dependencies=[Depends(check_csrf)])
def target_reset(
    request: Request,
    app: Imvo,
    user: Coordinator,
    slug: str,
    target_id: Annotated[int, Form()],
    phrase: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    def change() -> str:
        result = targets.reset_target(
            uow=app.uow(),
            definition=app.definition,
            covenant=slug,
            target_id=target_id,
            phrase=phrase,
            reference=_reference(reference, app.today()),
            actor=user.name,
            reason=reason,
            now=app.now(),
        )
        was = f" (was “{result.old_phrase}”)" if result.old_phrase else ""
        return f"Termijn gewijzigd: “{result.phrase}”, deadline {_nl(result.deadline)}{was}."

    return _answer(request, app, user, slug, change)


@router.get("/perioden/voorbeeld")
def period_preview(app: Imvo, user: Viewer, phrase: str = "", reference: str = "") -> HTMLResponse:
    """The live preview under a target form's phrase: the period, or why it is refused."""
    if not phrase.strip():
        return HTMLResponse("")
    try:
        found = preview_period(phrase, _reference(reference, app.today()))
    except DomainError as exc:
        return HTMLResponse(
            f'<span class="preview-error">{escape(exc.message)}</span>',
            status_code=http_status(exc),
        )
    return HTMLResponse(f"<span>{escape(found.text)}</span>")


def _reference(value: str, today: date) -> date:
    return _date(value, "Peildatum") or today


def _nl(day: date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year}"

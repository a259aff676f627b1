"""Who is asking, for pages (session cookie + CSRF token) and for the API (bearer token).

Pages: the signed session cookie (HttpOnly, SameSite=Lax) holds the user id, the user's
session number (logging out raises it in the database, so a copied cookie dies with the
session it came from) and a CSRF token; every form post must carry that token (a hidden field, or the X-CSRF-Token header htmx
sends). API: `Authorization: Bearer <token>`; no cookies, so no CSRF. Anonymous requests are
refused everywhere but the login page, the health checks and the calendar feed (whose URL
carries its own secret; `RedactCalendarSecret` keeps it out of the access log).

The client address (for login throttling) is the ASGI client's: behind a reverse proxy that
is the proxy, unless uvicorn is told to trust its X-Forwarded-For (README, "Operations").
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.errors import Forbidden, NotAuthenticated
from imvo_workflow.services import auth
from imvo_workflow.services.auth import UserView

CSRF_HEADER = "X-CSRF-Token"


#: Why a form post without this session's CSRF token is refused (a Forbidden: not this user's).
CSRF_REFUSED = "Het formulier is verlopen of niet van deze site; laad de pagina opnieuw."


async def imvo(request: Request) -> App:  # async: no I/O, so no trip to the thread pool
    app: App = request.app.state.imvo
    return app


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def page_user(request: Request, app: App = Depends(imvo)) -> UserView:
    user_id = request.session.get("user_id")
    if user_id is None:
        raise NotAuthenticated()
    with app.uow(readonly=True) as uow:
        user = auth.user_by_id(uow.conn, int(user_id))
    if user is None or request.session.get("epoch") != user.session_epoch:
        request.session.clear()
        raise NotAuthenticated()
    return user


async def check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        field = form.get("csrf_token")
        given = field if isinstance(field, str) else None
    if not expected or not given or not secrets.compare_digest(str(expected), given):
        raise Forbidden(CSRF_REFUSED)


def client_address(request: Request) -> str:
    """Who is calling, as far as the server can tell: the ASGI client's host."""
    return request.client.host if request.client else "onbekend"


async def api_user(request: Request, app: App = Depends(imvo)) -> UserView:
    """The bearer token's user. Async: a token this process verified a moment ago is known
    without I/O (services/verified_tokens.py), so only a token read from the database takes
    a trip to the thread pool; the endpoint's own work takes the one it always did."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated()
    token, now = token.strip(), app.now()
    user = auth.remembered_api_user(app.engine, token, now=now)
    if user is None:
        user = await run_in_threadpool(
            auth.api_user, uow=app.uow(readonly=True), token=token, now=now
        )
    if user is None:
        raise NotAuthenticated()
    return user


def role(needed: str, source: Callable[..., UserView] = page_user) -> Callable[..., Any]:
    """A dependency: the user, if their role is at least `needed`."""

    async def check(user: UserView = Depends(source)) -> UserView:
        auth.require(user, needed)
        return user

    return check


#: The calendar feed's path holds the user's secret (calendar clients can only subscribe to a
#: URL); access logs must not.
CALENDAR_PATH = re.compile(r"/agenda/[^/?#\s]+\.ics")


class RedactCalendarSecret(logging.Filter):
    """Replace the secret in /agenda/<secret>.ics in uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                CALENDAR_PATH.sub("/agenda/***.ics", a) if isinstance(a, str) else a
                for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = CALENDAR_PATH.sub("/agenda/***.ics", record.msg)
        return True


def redact_calendar_secrets() -> None:
    """Install the filter on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactCalendarSecret) for f in access.filters):
        access.addFilter(RedactCalendarSecret())

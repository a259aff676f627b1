"""The FastAPI application: pages, API, static files, health, and where errors become answers.

`create_app` builds everything from an App (settings, definition, engine); nothing happens at
import time. With `run_scheduler=True` the alert scheduler runs inside the same process
(`imvo serve` on the embedded default).
"""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from imvo_workflow.bootstrap import App
from imvo_workflow.db.errors import DATABASE_ERRORS, DatabaseProblem, diagnose
from imvo_workflow.domain.errors import DomainError, ForbiddenTransition, NotAuthenticated
from imvo_workflow.reports.ics import Deadline, calendar, last_revised
from imvo_workflow.services import alert_queries, auth
from imvo_workflow.web import (
    api,
    api_record,
    api_report,
    api_signing,
    api_story,
    api_terms,
    pages,
    pages_board,
    pages_record,
    pages_report,
    pages_signing,
    pages_story,
    pages_terms,
)
from imvo_workflow.web.conditional import conditional_get
from imvo_workflow.web.errors import DATABASE_ANSWER, http_status
from imvo_workflow.web.headers import SecurityHeaders, header_path
from imvo_workflow.web.paths import STATIC
from imvo_workflow.web.secret import secret_key
from imvo_workflow.web.security import imvo, redact_calendar_secrets

log = logging.getLogger("imvo.web")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


#: What a person reads when the router itself refuses (no such page, wrong method).
HTTP_MESSAGE = {
    404: "Deze pagina bestaat niet.",
    405: "Deze pagina kan zo niet worden opgevraagd.",
}


#: Where links point when IMVO_BASE_URL is not set and the server's address is not known.
LOCAL_BASE_URL = "http://127.0.0.1:8000"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def create_app(
    app: App,
    *,
    run_scheduler: bool = False,
    host: str | None = None,
    local_base_url: str = LOCAL_BASE_URL,
) -> FastAPI:
    """The web app for `app`, served on `host` (None: not known, so assumed reachable by
    others, which refuses a weak IMVO_SECRET_KEY). Links are built from IMVO_BASE_URL, else
    from `local_base_url` (`imvo serve` passes its own address), never from a request."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything built so far lives as long as the app: keep it out of every GC pass.
        app.check_definition()  # before serving anything: refuse a stranding definition
        gc.collect()
        gc.freeze()
        worker = None
        if run_scheduler:
            from imvo_workflow.scheduler import AlertScheduler

            worker = AlertScheduler(app)
            worker.start()
        yield
        if worker is not None:
            worker.scheduler.shutdown(wait=True)
        app.close()

    web = FastAPI(
        title="imvo-workflow",
        version="1",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # swagger-ui would load its code from a CDN: see _add_docs
        redoc_url=None,
    )
    web.state.imvo = app
    web.state.base_url = (app.settings.base_url or local_base_url).rstrip("/")
    web.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(app.settings, host=host),
        session_cookie="imvo_session",
        same_site="lax",
        https_only=app.settings.secure_cookies,
        max_age=12 * 3600,
    )
    if app.settings.base_url:  # a forged Host is refused (loopback stays, for the probes)
        allowed = urlsplit(app.settings.base_url).hostname or ""
        web.add_middleware(TrustedHostMiddleware, allowed_hosts=[allowed, *LOOPBACK_HOSTS])
    web.add_middleware(SecurityHeaders, hsts=app.settings.secure_cookies)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    web.include_router(pages_board.router)
    web.include_router(pages.router)
    web.include_router(pages_story.router)
    web.include_router(api.router)
    web.include_router(api_record.router)
    web.include_router(pages_record.router)
    web.include_router(api_story.router)
    web.include_router(pages_terms.router)
    web.include_router(api_terms.router)
    web.include_router(api_signing.router)
    web.include_router(pages_signing.router)
    web.include_router(pages_report.router)
    web.include_router(api_report.router)
    _add_health(web)
    _add_docs(web)
    _add_calendar(web)
    _add_error_handlers(web)
    return web


def _add_health(web: FastAPI) -> None:
    @web.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """The process is up (for a load balancer's liveness check)."""
        return {"status": "ok"}

    @web.get("/readyz", include_in_schema=False)
    def readyz(app: App = Depends(imvo)) -> Response:
        """The database answers and its schema is at the code's migration head."""
        from imvo_workflow.db import migrate

        try:
            current = migrate.current_revision(app.engine)
        except DBAPIError as exc:
            return JSONResponse(
                {"status": "unavailable", "detail": f"database: {exc.orig}"}, status_code=503
            )
        head = migrate.head_revision()
        if current != head:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "detail": f"migratie {current}, verwacht {head}: imvo db upgrade",
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready", "revision": current})

    @web.get("/metrics", include_in_schema=False)
    def metrics(request: Request, app: App = Depends(imvo)) -> Response:
        from imvo_workflow.metrics import exposition

        expected = app.settings.metrics_token
        if expected:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.strip().encode(), expected.encode()
            ):
                return JSONResponse(
                    {"detail": "Voor /metrics is het token uit IMVO_METRICS_TOKEN nodig."},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )

        return Response(exposition(app), media_type="text/plain; version=0.0.4; charset=utf-8")


def _add_docs(web: FastAPI) -> None:
    @web.get("/api/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """No swagger-ui: it loads its code from a CDN. The document itself is what a
        client (or a local swagger-ui, Postman, openapi-generator) reads."""
        return HTMLResponse(
            '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
            "<title>imvo-workflow API</title></head><body><h1>imvo-workflow API</h1>"
            '<p>Het OpenAPI-document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>. '
            "Open het in een OpenAPI-viewer of laat er een client uit maken.</p></body></html>"
        )


def _add_calendar(web: FastAPI) -> None:
    redact_calendar_secrets()  # the feed's URL is its secret: keep it out of the access log

    @web.api_route(
        "/agenda/{token}.ics",
        methods=["GET", "HEAD"],
        name="calendar_feed",
        include_in_schema=False,
    )
    def calendar_feed(request: Request, token: str, app: App = Depends(imvo)) -> Response:
        with app.uow(readonly=True) as uow:
            user = auth.user_for_calendar(uow.conn, token)
            if user is None:  # a calendar client cannot log in: no redirect, just "no"
                return Response("Onbekende agenda-link.", status_code=404, media_type="text/plain")
            rows = alert_queries.followed_deadlines(conn=uow.conn, user_id=user.id)
        base = request.app.state.base_url  # never the request's Host header
        items = [
            Deadline(
                r.target_id,
                r.covenant,
                r.title,
                r.what,
                r.phrase,
                r.deadline,
                r.revised_at,
                f"{base}/convenanten/{r.covenant}",
            )
            for r in rows
        ]
        body = calendar(items, name=f"IMVO-deadlines ({user.name})")
        return conditional_get(
            request,
            body,
            media_type="text/calendar; charset=utf-8",
            last_modified=last_revised(items),
        )


def _add_error_handlers(web: FastAPI) -> None:
    @web.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, NotAuthenticated) and not _wants_json(request):
            target = "/login?next=" + header_path(request.url.path)
            if request.headers.get("HX-Request"):
                return Response(status_code=200, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        status = http_status(exc)
        body: dict[str, object] = {"detail": exc.message, "error": type(exc).__name__}
        if isinstance(exc, ForbiddenTransition):
            body["allowed"] = [{"to": m.to, "trigger": m.trigger} for m in exc.moves]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if _wants_json(request):
            return JSONResponse(body, status_code=status, headers=headers)
        return pages.page(
            request, "error.html", None, status=status, error=exc.message, title="Fout"
        )

    @web.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body')}: {err.get('msg')}"
            for err in exc.errors()
        )
        return JSONResponse(
            {"detail": f"Ongeldige invoer: {problems}", "error": "InvalidInput"}, status_code=422
        )

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # A browser that asked for a page gets a page (with a title and a language, as WCAG
        # asks); every other client keeps the JSON answer.
        if not _wants_json(request) and "text/html" in request.headers.get("accept", ""):
            message = HTTP_MESSAGE.get(exc.status_code, str(exc.detail))
            answer = pages.page(
                request, "error.html", None, status=exc.status_code, error=message, title="Fout"
            )
            answer.headers.update(exc.headers or {})
            return answer
        return JSONResponse(
            {"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    async def database_error(request: Request, exc: Exception) -> Response:
        # diagnose may ask the database about its migration: off the event loop.
        problem = await run_in_threadpool(diagnose, exc, request.app.state.imvo.engine)
        status, retry_after, message = DATABASE_ANSWER[problem]
        driver = getattr(exc, "orig", None) or exc  # not str(exc): that holds the parameters
        log.log(
            logging.ERROR if problem is DatabaseProblem.OTHER else logging.WARNING,
            "database error",
            extra={
                "action": "web.database_error",
                "problem": problem.value,
                "error": f"{type(driver).__name__}: {driver}",
            },
        )
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if _wants_json(request):
            body = {"detail": message, "error": f"database_{problem.value}"}
            return JSONResponse(body, status_code=status, headers=headers)
        title = "Even geduld" if status == 503 else "Fout"
        answer = pages.page(request, "error.html", None, status=status, error=message, title=title)
        answer.headers.update(headers or {})
        return answer

    for kind in DATABASE_ERRORS:
        web.add_exception_handler(kind, database_error)

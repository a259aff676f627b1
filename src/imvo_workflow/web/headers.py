"""What every answer carries for the browser's protection, and URLs that are safe in headers.

A Content-Security-Policy without inline script (htmx is a static file; its config is a meta
tag), no framing, no MIME sniffing, no referrer to other sites, `no-store` on everything but
the static files (pages show names and tokens), HSTS once the cookie is HTTPS-only. Plain
ASGI (not BaseHTTPMiddleware): it only adds headers, so it costs one dict lookup per answer.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: style-src-attr: the board and the report colour each stage with a style attribute.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)


def header_path(path: str) -> str:
    """`path` percent-encoded for a header (Location, HX-Redirect) or a query value: headers
    are latin-1, so a path with other characters made the answer itself fail (a 500), and a
    decoded `?` or `&` in it would end up as the query's own."""
    return quote(path, safe="/")

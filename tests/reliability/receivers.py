"""Real receivers for the delivery tests: an SMTP server and a webhook, both on loopback.

A plain module beside the tests (pytest puts this folder on the import path): conftest.py
makes fixtures of them, the tests name their types.

Both record what reached them and can be stopped and started again on the same port, so a
test can say "the receiver is down" and later "it is back" without the sender noticing
anything but refused connections. The webhook can also answer 503, answer slowly, or redirect
(any 3xx, with a Location); it records a GET too, so a test sees a POST turned into a GET.
"""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

LOOPBACK = "127.0.0.1"


class SmtpReceiver:
    """An aiosmtpd server that keeps every accepted message; `refuse` rejects recipients."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        #: Recipients answered with 550, as a mail server does for an unknown mailbox.
        self.refuse: set[str] = set()
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._controller is not None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail = cast(EmailMessage, message_from_bytes(raw, policy=email_policy.default))
        with self._lock:
            self.messages.append(mail)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        # An aiosmtpd Controller closes its event loop on stop, so each start gets a new one.
        controller = Controller(
            self, hostname=LOOPBACK, port=self.port, server_hostname="smtp.test", ready_timeout=10
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class WebhookReceiver:
    """A threaded HTTP server that keeps every POST as (status answered, headers, JSON body)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.calls: list[tuple[int, Message, Any]] = []
        #: What the next requests are answered with, and how long each answer takes.
        self.status = 200
        self.delay = 0.0
        #: Sent as Location with a 3xx answer.
        self.location = ""
        #: The method of every request, in order (a followed redirect shows up as a GET).
        self.methods: list[str] = []
        self.first_call = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/hook"

    @property
    def running(self) -> bool:
        return self._server is not None

    def accepted(self) -> list[tuple[Message, Any]]:
        """The calls answered with a 2xx: what the receiver took in."""
        with self._lock:
            return [(headers, body) for status, headers, body in self.calls if status < 300]

    def _record(self, status: int, headers: Message, body: Any) -> None:
        with self._lock:
            self.calls.append((status, headers, body))
        self.first_call.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                status, delay = receiver.status, receiver.delay
                with receiver._lock:
                    receiver.methods.append(self.command)
                receiver._record(status, self.headers, body)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    if 300 <= status < 400 and receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender died or gave up while we slept: that is the test

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        server = ThreadingHTTPServer((LOOPBACK, self.port), self._handler())
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

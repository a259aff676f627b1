"""The senders: each takes a message and a recipient and raises on failure.

A failure is reported to the outbox, which retries with backoff and jitter; nothing here
retries or swallows an error. `Undeliverable` says a retry cannot help (a line break in a
header, an address that is no address): the outbox marks it failed at once, with the reason.
Timeouts keep one dead receiver from holding up the others for long.

Webhooks are signed (see `signature`), never follow a redirect (a POST turned into a GET
without its body would be reported as delivered), and name the product in the User-Agent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import formatdate
from typing import IO, Any, Protocol

from imvo_workflow import __version__
from imvo_workflow.notify.message import AlertMessage
from imvo_workflow.settings import Settings

log = logging.getLogger("imvo.notify")

#: The event id: the alert's key, the same for every delivery and retry of one alert.
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_HEADER = "X-Imvo-Signature"
USER_AGENT = f"imvo-workflow/{__version__}"


class Sender(Protocol):
    def __call__(
        self, message: AlertMessage, recipient: str, /, *, secrets: Sequence[str] = ()
    ) -> None: ...


class DeliveryFailed(Exception):
    """A receiver refused or could not be reached; the message says why. Retried."""


class Undeliverable(DeliveryFailed):
    """This delivery can never succeed as it is: not retried, failed at once."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret, in hex."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex>`: one v1 per subscription to this address (usually one)."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


def email_message(settings: Settings, message: AlertMessage, recipient: str) -> EmailMessage:
    """The e-mail of one alert; a header value that cannot be sent raises Undeliverable."""
    mail = EmailMessage()
    try:
        mail["Subject"] = message.subject()
        mail["From"] = settings.smtp_from
        mail["To"] = recipient
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        digest = hashlib.sha256(f"{message.key}|{recipient}".encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@imvo-workflow>"
        mail["X-IMVO-Idempotency-Key"] = message.key
        # RFC 3834: an automatic message; out-of-office replies stay away.
        mail["Auto-Submitted"] = "auto-generated"
        if settings.base_url:
            account = f"{settings.base_url.rstrip('/')}/account"
            mail["List-Unsubscribe"] = f"<{account}>"
        mail.set_content(message.text())
        mail.add_alternative(message.html(), subtype="html")
    except (ValueError, HeaderParseError) as exc:
        raise Undeliverable(f"e-mail aan {recipient!r} kan niet worden opgesteld: {exc}") from exc
    return mail


def email_sender(settings: Settings) -> Sender:
    def send(message: AlertMessage, recipient: str, /, *, secrets: Sequence[str] = ()) -> None:
        mail = email_message(settings, message, recipient)
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            ) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc

    return send


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Every 3xx reaches the sender as an HTTPError: a redirect is a failed delivery."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def webhook_sender(settings: Settings) -> Sender:
    def send(message: AlertMessage, recipient: str, /, *, secrets: Sequence[str] = ()) -> None:
        body = json.dumps(message.payload(), ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: message.key,
        }
        if secrets:
            headers[SIGNATURE_HEADER] = signature_header(secrets, int(time.time()), body)
        try:
            request = urllib.request.Request(recipient, data=body, method="POST", headers=headers)
            with _OPENER.open(request, timeout=settings.webhook_timeout_seconds) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                where = exc.headers.get("Location") if exc.headers else None
                raise DeliveryFailed(
                    f"webhook {recipient}: HTTP {exc.code}, redirect to {where or '(geen adres)'}"
                ) from exc
            raise DeliveryFailed(f"webhook {recipient}: HTTP {exc.code}") from exc
        except ValueError as exc:  # no URL, or one with a line break or space in it
            raise Undeliverable(f"webhook {recipient!r}: {exc}") from exc
        except OSError as exc:
            raise DeliveryFailed(f"webhook {recipient}: {exc}") from exc

    return send


def inbox_sender(message: AlertMessage, recipient: str, /, *, secrets: Sequence[str] = ()) -> None:
    """The in-app inbox reads the alert table itself: delivering is marking it delivered."""


def log_sender(message: AlertMessage, recipient: str, /, *, secrets: Sequence[str] = ()) -> None:
    log.info(
        "alert",
        extra={
            "action": "alert.log",
            "alert_id": message.alert_id,
            "key": message.key,
            "covenant": message.covenant,
            "recipient": recipient,
        },
    )


def senders(settings: Settings) -> dict[str, Sender]:
    return {
        "email": email_sender(settings),
        "webhook": webhook_sender(settings),
        "inbox": inbox_sender,
        "log": log_sender,
    }

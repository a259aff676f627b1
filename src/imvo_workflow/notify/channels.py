"""The senders: each takes a message and a recipient and raises on failure.

A failure is reported to the outbox, which retries with backoff; nothing here retries or
swallows an error. Timeouts keep one dead receiver from holding up the others for long.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from imvo_workflow.notify.message import AlertMessage
from imvo_workflow.settings import Settings

log = logging.getLogger("imvo.notify")

Sender = Callable[[AlertMessage, str], None]
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryFailed(Exception):
    """A receiver refused or could not be reached; the message says why."""


def email_sender(settings: Settings) -> Sender:
    def send(message: AlertMessage, recipient: str) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.subject()
        mail["From"] = settings.smtp_from
        mail["To"] = recipient
        digest = hashlib.sha256(f"{message.key}|{recipient}".encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@imvo-workflow>"
        mail["X-IMVO-Idempotency-Key"] = message.key
        mail.set_content(message.text())
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


def webhook_sender(settings: Settings) -> Sender:
    def send(message: AlertMessage, recipient: str) -> None:
        body = json.dumps(message.payload(), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            recipient,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", IDEMPOTENCY_HEADER: message.key},
        )
        try:
            with urllib.request.urlopen(
                request, timeout=settings.webhook_timeout_seconds
            ) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"webhook {recipient}: HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryFailed(f"webhook {recipient}: {exc}") from exc

    return send


def inbox_sender(message: AlertMessage, recipient: str) -> None:
    """The in-app inbox reads the alert table itself: delivering is marking it delivered."""


def log_sender(message: AlertMessage, recipient: str) -> None:
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

"""Issue 11: alerts are never lost or stale, against real receivers on loopback.

Each test names a fault a probe found: a redirect reported as delivered, unsigned webhooks,
retries without end, a header that can never be sent retried forever, e-mails without Date,
outcomes recorded per batch (a killed sender resent its whole batch), leases on a pinned
application clock that never lapsed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import pytest
from receivers import LOOPBACK, SmtpReceiver, WebhookReceiver
from sqlalchemy import insert, select, update
from test_delivery import (
    MakeApp,
    add_subscriber,
    alert_keys,
    delivery_rows,
    drain_at,
    overdue_milestone,
    raise_alerts,
    utc,
)

from helpers import free_port, open_in_new_sector
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import InvalidInput, NotFound
from imvo_workflow.notify.channels import USER_AGENT, signature
from imvo_workflow.scheduler import AlertScheduler
from imvo_workflow.services import alert_queries, outbox
from imvo_workflow.services.outbox import Backoff, DrainResult, drain
from imvo_workflow.services.users import add_user, check_email, check_webhook, subscribe

ROOT = Path(__file__).resolve().parents[2]


# -- redirects are failures, for every 3xx ------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_webhook_redirect_is_a_failure_never_followed(
    code: int, make_app: MakeApp, webhook_server: WebhookReceiver
) -> None:
    app = make_app()
    overdue_milestone(app, "natuursteen")
    add_subscriber(app, "anna", ("webhook", None, webhook_server.url))
    assert raise_alerts(app) == 1
    webhook_server.status = code
    webhook_server.location = f"http://{LOOPBACK}:{webhook_server.port}/elders"

    assert drain_at(app, app.now()) == DrainResult(sent=0, failed=1)
    [row] = delivery_rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert f"redirect to {webhook_server.location}" in row.last_error
    assert webhook_server.methods == ["POST"]  # no GET without a body behind it


# -- signed webhooks: the README's receiver verifies a real delivery ----------------------


def readme_receiver() -> str:
    """The receiver code exactly as README.md shows it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- webhook-receiver:start -->\n```python\n(.*?)```\n<!-- webhook-receiver:end -->",
        readme,
        re.S,
    )
    assert block, "README.md lost its webhook receiver"
    return block.group(1)


@pytest.fixture
def readme_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The README receiver, run as written, on loopback; (url, its secret, its namespace)."""
    secret = "s3cret-for-the-readme-receiver"
    monkeypatch.setenv("IMVO_WEBHOOK_SECRET", secret)
    namespace: dict[str, Any] = {"__name__": "readme_receiver"}
    exec(compile(readme_receiver(), "README.md", "exec"), namespace)
    server = HTTPServer((LOOPBACK, free_port()), namespace["Receiver"])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_port}/hook", secret, namespace
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_readme_receiver_verifies_a_signed_delivery(
    make_app: MakeApp,
    readme_server: tuple[str, str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, secret, namespace = readme_server
    app = make_app()
    overdue_milestone(app, "natuursteen")
    add_user(uow=app.uow(), name="anna", role="coordinator", now=app.now())
    assert subscribe(uow=app.uow(), user="anna", channel="webhook", address=url, secret=secret)
    assert raise_alerts(app) == 1

    assert drain_at(app, app.now()) == DrainResult(sent=1, failed=0)
    [key] = alert_keys(app)
    assert f"{key} due Plan van aanpak" in capsys.readouterr().out

    # The same receiver refuses what it cannot verify: a replay, a changed body.
    verify = namespace["verify"]
    body, now = b'{"kind": "due"}', 1_700_000_000
    header = f"t={now},v1={signature(secret, now, body)}"
    assert verify(secret, header, body, now=now + 299)
    assert not verify(secret, header, body, now=now + 301)
    assert not verify(secret, header, body + b" ", now=now)
    assert not verify("another secret", header, body, now=now)


def test_webhook_with_another_secret_is_refused_by_the_readme_receiver(
    make_app: MakeApp, readme_server: tuple[str, str, dict[str, Any]]
) -> None:
    url, _, _ = readme_server
    app = make_app()
    overdue_milestone(app, "natuursteen")
    add_subscriber(app, "anna", ("webhook", None, url))  # a secret of its own, not the server's
    assert raise_alerts(app) == 1
    assert drain_at(app, app.now()) == DrainResult(sent=0, failed=1)
    assert "HTTP 401" in delivery_rows(app)[0].last_error


def test_webhook_headers_name_the_product_the_event_and_the_signature(
    make_app: MakeApp, webhook_server: WebhookReceiver
) -> None:
    app = make_app()
    overdue_milestone(app, "natuursteen")
    add_user(uow=app.uow(), name="anna", role="coordinator", now=app.now())
    subscribe(uow=app.uow(), user="anna", channel="webhook", address=webhook_server.url, secret="k")
    assert raise_alerts(app) == 1
    assert drain_at(app, app.now()).sent == 1
    [(headers, body)] = webhook_server.accepted()
    assert headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("imvo-workflow/")
    assert headers["Idempotency-Key"] == body["key"] == alert_keys(app)[0]
    stamp, v1 = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["X-Imvo-Signature"]).groups()
    assert abs(int(stamp) - datetime.now(UTC).timestamp()) < 60
    raw = json.dumps(body, ensure_ascii=False).encode()  # the bytes sent, as the sender wrote them
    assert v1 == signature("k", int(stamp), raw)
    with app.uow(readonly=True) as uow:  # kept as is: HMAC needs the secret itself
        assert uow.conn.execute(select(t.subscription.c.secret)).scalar_one() == "k"


# -- retries: jitter, a maximum, failed, an admin alert, and retry -----------------------


def test_backoff_jitter_spreads_delays_within_the_fraction() -> None:
    low = Backoff(100, 3600, jitter=0.2, random=lambda: 0.0)
    high = Backoff(100, 3600, jitter=0.2, random=lambda: 1.0)
    assert [low.delay(n).total_seconds() for n in (1, 2)] == pytest.approx([80, 160])
    assert [high.delay(n).total_seconds() for n in (1, 2)] == pytest.approx([120, 240])
    spread = {Backoff(100, 3600, jitter=0.2).delay(1).total_seconds() for _ in range(50)}
    assert len(spread) > 10 and all(80 <= s <= 120 for s in spread)


def test_delivery_fails_after_max_attempts_admins_are_told_and_retry_sends_it(
    make_app: MakeApp, webhook_server: WebhookReceiver
) -> None:
    app = make_app()
    overdue_milestone(app, "natuursteen")
    add_user(uow=app.uow(), name="beheer", role="admin", now=app.now())
    add_subscriber(app, "anna", ("webhook", None, webhook_server.url))
    assert raise_alerts(app) == 1
    webhook_server.status = 503
    backoff = Backoff(10, 10, max_attempts=3)
    moment = app.now()
    for attempt in (1, 2, 3):
        # The third failure is final: the admin's inbox alert goes out in the same round.
        told = 1 if attempt == 3 else 0
        assert drain_at(app, moment, backoff) == DrainResult(sent=told, failed=1)
        moment += timedelta(seconds=11)
    [hook] = [r for r in delivery_rows(app) if r.channel == "webhook"]
    assert (hook.status, hook.attempts) == ("failed", 3)
    assert "HTTP 503" in hook.last_error
    assert drain_at(app, moment + timedelta(days=1), backoff).failed == 0  # not retried

    # One inbox alert, to each admin, through the same pipeline (its delivery was made).
    with app.uow(readonly=True) as uow:
        views = alert_queries.alerts(conn=uow.conn)
    [told] = [v for v in views if v.kind.value == "delivery_failed"]
    assert told.deliveries == told.delivered == 1
    [inbox] = [r for r in delivery_rows(app) if r.alert_id == told.id]
    assert (inbox.channel, inbox.recipient) == ("inbox", "beheer")
    with app.uow(readonly=True) as uow:
        lines = uow.conn.execute(select(t.alert.c.lines).where(t.alert.c.id == told.id)).scalar()
    assert f"imvo alerts retry {hook.id}" in "\n".join(lines)
    assert "HTTP 503" in "\n".join(lines)

    with pytest.raises(InvalidInput, match="niet mislukt"):
        outbox.retry(uow=app.uow(), delivery_id=inbox.id, now=app.now())
    with pytest.raises(NotFound):
        outbox.retry(uow=app.uow(), delivery_id=10**6, now=app.now())
    assert outbox.retry(uow=app.uow(), delivery_id=hook.id, now=app.now()) == 1
    [hook] = [r for r in delivery_rows(app) if r.channel == "webhook"]
    assert (hook.status, hook.attempts) == ("pending", 0)
    webhook_server.status = 200
    assert drain_at(app, app.now(), backoff) == DrainResult(sent=1, failed=0)
    assert len(webhook_server.accepted()) == 1


def test_line_break_in_a_header_fails_at_once_with_the_reason(
    make_app: MakeApp, smtp_server: SmtpReceiver
) -> None:
    """Old data (entered before names were made single-line) cannot be retried into shape."""
    app = make_app(smtp_host=LOOPBACK, smtp_port=smtp_server.port)
    covenant_id = overdue_milestone(app, "natuursteen")
    with app.uow() as uow:
        uow.conn.execute(
            update(t.target)
            .where(t.target.c.covenant_id == covenant_id)
            .values(milestone="Plan\nBcc: iedereen@example.org")
        )
        uow.commit()
    add_subscriber(app, "anna", ("email", None, "anna@example.org"))
    assert raise_alerts(app) == 1
    assert drain_at(app, app.now()) == DrainResult(sent=0, failed=1)
    [row] = delivery_rows(app)[:1]
    assert (row.status, row.attempts) == ("failed", 1)
    assert "linefeed" in row.last_error or "line" in row.last_error
    assert smtp_server.messages == []


def test_free_text_for_headers_is_made_single_line_where_it_is_entered(
    make_app: MakeApp,
) -> None:
    from test_delivery import add_milestone

    app = make_app()
    covenant_id = open_in_new_sector(app, "natuursteen", opened_on=date(2016, 1, 4))
    add_milestone(app, covenant_id, "Plan\r\nvan\u2028aanpak ", "eind 2016", date(2016, 10, 5))
    with app.uow(readonly=True) as uow:
        assert uow.conn.execute(select(t.target.c.milestone)).scalar_one() == "Plan van aanpak"
    with pytest.raises(InvalidInput):
        check_email("anna@example.org\nBcc: x@example.org")
    with pytest.raises(InvalidInput):
        check_email("anna@example.org\n")
    for url in ("http://hook.test/x\nX-Evil: 1", "http://hook.test/a b", "http://hook.test/\t"):
        with pytest.raises(InvalidInput):
            check_webhook(url)
    assert check_webhook("https://hook.test/x?a=1") == "https://hook.test/x?a=1"


# -- e-mail as mail servers and readers expect it ----------------------------------------


def test_email_has_date_auto_submitted_html_part_unsubscribe_and_configured_sender(
    make_app: MakeApp, smtp_server: SmtpReceiver
) -> None:
    app = make_app(
        smtp_host=LOOPBACK,
        smtp_port=smtp_server.port,
        smtp_from="IMVO meldingen <meldingen@imvo.example>",
        base_url="https://imvo.example/",
    )
    covenant_id = open_in_new_sector(app, "natuursteen", opened_on=date(2016, 1, 4))
    from test_delivery import add_milestone

    add_milestone(app, covenant_id, "Plan <b>&</b> aanpak", "begin oktober 2016", date(2016, 10, 5))
    add_subscriber(app, "anna", ("email", None, "anna@example.org"))
    assert raise_alerts(app) == 1
    assert drain_at(app, app.now()).sent == 1
    [mail] = smtp_server.messages
    assert mail["From"] == "IMVO meldingen <meldingen@imvo.example>"
    assert mail["Date"] is not None and mail["Date"].datetime is not None
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe"] == "<https://imvo.example/account>"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Doel: Plan <b>&</b> aanpak" in text
    assert "Plan &lt;b&gt;&amp;&lt;/b&gt; aanpak" in html and "<b>" not in html
    assert '<a href="https://imvo.example/convenanten/natuursteen">' in html


# -- outcomes as they happen; what was never tried is handed back ------------------------


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def _log_deliveries(app: App, count: int) -> None:
    overdue_milestone(app, "natuursteen")
    assert raise_alerts(app) == 1
    with app.uow() as uow:
        alert_id = int(uow.conn.execute(select(t.alert.c.id)).scalar_one())
        uow.conn.execute(
            insert(t.delivery),
            [
                {
                    "alert_id": alert_id,
                    "channel": "log",
                    "recipient": f"r{n:02d}",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": app.now(),
                }
                for n in range(count)
            ],
        )
        uow.commit()


def test_each_outcome_is_recorded_before_the_next_send(app: App) -> None:
    """A sender that dies at the 4th send has recorded the 3 before it (was: none)."""
    _log_deliveries(app, 10)
    sent: list[str] = []

    def dies_at_the_fourth(message: Any, recipient: str, /, **_: Any) -> None:
        if len(sent) == 3:
            raise Killed
        sent.append(recipient)

    with pytest.raises(Killed):
        drain(
            uow=app.uow(),
            senders={"log": dies_at_the_fourth},
            clock=app.now,
            backoff=Backoff(),
        )
    statuses = [r.status for r in delivery_rows(app)]
    assert statuses.count("sent") == 3
    assert statuses.count("sending") == 7  # the one in flight and the six never tried


def test_a_stopped_drain_hands_back_what_it_never_tried(app: App) -> None:
    _log_deliveries(app, 10)
    sends: list[str] = []

    def log(message: Any, recipient: str, /, **_: Any) -> None:
        sends.append(recipient)

    result = drain(
        uow=app.uow(),
        senders={"log": log},
        clock=app.now,
        backoff=Backoff(),
        should_stop=lambda: len(sends) >= 4,
    )
    assert result == DrainResult(sent=4, failed=0)
    rows = delivery_rows(app)
    assert sorted({(r.status, r.attempts, r.lease_until) for r in rows}) == [
        ("pending", 0, None),
        ("sent", 1, None),
    ]
    assert sum(r.status == "pending" for r in rows) == 6


# -- leases and retries on the real clock, also under IMVO_NOW ---------------------------


def test_pinned_clock_scheduler_takes_over_lapsed_leases_and_due_retries(app: App) -> None:
    """Under IMVO_NOW=2016-11-01 a lease that lapsed (in real time) was never taken over."""
    assert app.settings.now is not None
    _log_deliveries(app, 2)
    real_now = datetime.now(UTC)
    with app.uow() as uow:
        first, second = (r.id for r in delivery_rows(app))
        uow.conn.execute(
            update(t.delivery)
            .where(t.delivery.c.id == first)
            .values(status="sending", attempts=1, lease_until=real_now - timedelta(seconds=1))
        )
        uow.conn.execute(
            update(t.delivery)
            .where(t.delivery.c.id == second)
            .values(attempts=1, next_attempt_at=real_now - timedelta(seconds=1))
        )
        uow.commit()
    scheduler = AlertScheduler(app)
    assert scheduler.drain_once() == DrainResult(sent=2, failed=0)
    assert {r.status for r in delivery_rows(app)} == {"sent"}
    assert all(utc(r.sent_at) >= real_now - timedelta(seconds=5) for r in delivery_rows(app))

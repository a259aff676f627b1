"""Issue 11 from `imvo`: a webhook subscription's signing secret, shown once; `alerts retry`."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from test_cli_alerts import Imvo, _flat


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def test_webhook_secret_is_printed_once_and_kept_to_sign(tmp_path: Path) -> None:
    imvo = Imvo(tmp_path / "imvo.db")
    imvo("db", "upgrade")
    imvo("users", "add", "anna")
    args = ("users", "subscribe", "anna", "--channel", "webhook", "--address", "http://h.test/x")
    first = _flat(imvo(*args).stdout)
    [secret] = re.findall(r"\b[0-9a-f]{64}\b", first)
    assert "één keer" in first
    assert _rows(imvo.path, "SELECT secret FROM subscription") == [(secret,)]
    again = _flat(imvo(*args).stdout)
    assert "bestond al" in again and not re.search(r"[0-9a-f]{64}", again)
    inbox = _flat(imvo("users", "subscribe", "anna", "--channel", "inbox").stdout)
    assert "geheim" not in inbox


def test_alerts_retry_queues_failed_deliveries_again(tmp_path: Path) -> None:
    imvo = Imvo(tmp_path / "imvo.db")
    imvo("db", "upgrade")
    with closing(sqlite3.connect(imvo.path)) as conn:
        conn.execute(
            "INSERT INTO alert (id, key, kind, days, fire_at, raised_at, lines) "
            "VALUES (1, 'k', 'due', 0, '2016-11-01', '2016-11-01', '[]')"
        )
        conn.executemany(
            "INSERT INTO delivery (id, alert_id, channel, recipient, status, attempts, "
            "next_attempt_at, last_error) VALUES (?, 1, 'webhook', ?, ?, ?, '2016-11-01', 'x')",
            [
                (1, "http://a.test", "failed", 10),
                (2, "http://b.test", "failed", 10),
                (3, "http://c.test", "sent", 1),
            ],
        )
        conn.commit()
    assert "--all-failed" in _flat(imvo("alerts", "retry", code=2).stderr)
    assert "niet mislukt" in _flat(imvo("alerts", "retry", "3", code=2).stderr)
    imvo("alerts", "retry", "99", code=2)
    assert "1 bezorging" in _flat(imvo("alerts", "retry", "1").stdout)
    assert "1 bezorging" in _flat(imvo("alerts", "retry", "--all-failed").stdout)
    assert _rows(imvo.path, "SELECT id, status, attempts FROM delivery ORDER BY id") == [
        (1, "pending", 0),
        (2, "pending", 0),
        (3, "sent", 1),
    ]

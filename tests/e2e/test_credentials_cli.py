"""Issue 11, point 6 from the operator's console: `imvo users tokens|token-add|token-revoke|
disable|enable|calendar-link`, and the calendar secret kept out of a real `imvo serve`'s
access log (uvicorn prints every request's path; the feed's path is its secret).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli_runner import run_imvo
from helpers import free_port
from imvo_workflow.services import verified_tokens

IMVO = (sys.executable, "-m", "imvo_workflow")


def _env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_") and k != "FORCE_COLOR"}
    return env | {
        "IMVO_DATABASE_URL": f"sqlite:///{database}",
        "IMVO_NOW": "2016-11-01",
        "IMVO_SECRET_KEY": "credentials-test-secret-not-for-production",
        "COLUMNS": "300",
        "PYTHONIOENCODING": "utf-8",
    }


def imvo(database: Path, *args: str, code: int = 0) -> str:
    done = run_imvo(args, _env(database), cwd=database.parent)
    shown = f"imvo {' '.join(args)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == code, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    return " ".join((done.stdout + done.stderr).split())


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "imvo.db"
    imvo(path, "db", "upgrade")
    imvo(path, "users", "add", "anna", "--role", "coordinator")
    imvo(path, "users", "add", "beheer", "--role", "admin")
    return path


def test_tokens_are_listed_revoked_and_given_an_expiry(database: Path) -> None:
    made = imvo(
        database, "users", "token-add", "anna", "--name", "script", "--expires", "2027-01-01"
    )
    assert re.search(r"API-token voor anna: imvo_\S+ \(wordt maar één keer getoond\)", made), made
    listed = imvo(database, "users", "tokens", "anna")
    assert re.search(r"│ 1 │ script │ 2016-11-01 │ 2027-01-01 │ geldig │", listed), listed
    assert "imvo_" not in listed
    assert "ingetrokken" in imvo(database, "users", "token-revoke", "1")
    assert "│ ingetrokken │" in imvo(database, "users", "tokens", "anna")
    assert "al ingetrokken" in imvo(database, "users", "token-revoke", "1")
    assert "Onbekende API-token '99'" in imvo(database, "users", "token-revoke", "99", code=2)
    past = imvo(database, "users", "token-add", "anna", "--expires", "2016-01-01", code=2)
    assert "ligt niet in de toekomst" in past
    assert "geen datum" in imvo(
        database, "users", "token-add", "anna", "--expires", "morgen", code=2
    )


def test_an_admin_disables_and_enables_a_user(database: Path) -> None:
    assert "anna uitgeschakeld" in imvo(database, "users", "disable", "anna")
    assert re.search(r"│ anna +│ coordinator │ +│ uitgeschakeld │", imvo(database, "users", "list"))
    assert "al uitgeschakeld" in imvo(database, "users", "disable", "anna")
    assert "weer ingeschakeld" in imvo(database, "users", "enable", "anna")
    assert "Onbekende gebruiker 'ana'" in imvo(database, "users", "disable", "ana", code=2)
    last = imvo(database, "users", "disable", "beheer", code=2)
    assert "laatste actieve beheerder" in last


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def serving(database: Path, log: Path) -> Iterator[str]:
    """`imvo serve` on `database` in a process of its own, its log in `log`; its URL."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*IMVO, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
            cwd=database.parent,
            env=_env(database),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text("utf-8")
            time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def test_the_calendar_secret_never_reaches_the_access_log(database: Path) -> None:
    first = re.search(r"/agenda/(\S+)\.ics", imvo(database, "users", "calendar-link", "anna"))
    second = re.search(r"/agenda/(\S+)\.ics", imvo(database, "users", "calendar-link", "anna"))
    assert first and second and first.group(1) != second.group(1)
    log = database.parent / "serve.log"
    with serving(database, log) as base:
        assert _get(f"{base}/agenda/{second.group(1)}.ics") == 200
        assert _get(f"{base}/agenda/{first.group(1)}.ics") == 404  # rotated: the old one ends
        assert _get(f"{base}/agenda/{second.group(1)}.ics?x=1") == 200
    written = log.read_text("utf-8")
    assert '"GET /agenda/***.ics HTTP/1.1" 200' in written, written
    assert '"GET /agenda/***.ics HTTP/1.1" 404' in written, written
    assert '"GET /healthz HTTP/1.1" 200' in written  # the rest of the log is as it was
    for secret in (first.group(1), second.group(1)):
        assert secret not in written


def _whoami(base: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _refused_within(base: str, token: str, seconds: float) -> float:
    """Seconds until the server refuses `token` (401), polling; fails after `seconds`."""
    start = time.monotonic()
    while (status := _whoami(base, token)) == 200:
        assert time.monotonic() - start < seconds, "the server still accepts the token"
        time.sleep(0.05)
    assert status == 401, status
    return time.monotonic() - start


def test_a_revocation_or_disabling_in_another_process_ends_a_token_within_a_second(
    database: Path,
) -> None:
    """A web process keeps a token it verified for TTL_SECONDS (services/verified_tokens.py);
    a revocation made elsewhere (here the CLI) cannot clear that memory, so the server may
    accept the token that long, and no longer."""
    first = re.search(r"imvo_\S+", imvo(database, "users", "token-add", "anna"))
    second = re.search(r"imvo_\S+", imvo(database, "users", "token-add", "anna"))
    assert first and second
    bound = verified_tokens.TTL_SECONDS + 1.0  # the CLI's own start and the polling's step
    with serving(database, database.parent / "serve.log") as base:
        assert _whoami(base, first.group()) == _whoami(base, second.group()) == 200
        imvo(database, "users", "token-revoke", "1")
        _refused_within(base, first.group(), bound)
        assert _whoami(base, second.group()) == 200
        imvo(database, "users", "disable", "anna")
        _refused_within(base, second.group(), bound)
        imvo(database, "users", "enable", "anna")
        assert _whoami(base, second.group()) == 200  # refusals are never kept

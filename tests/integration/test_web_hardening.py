# ruff: noqa: F811  (the fixtures of test_web.py, imported by name, are parameters here)
"""Issue 11, what an outside probe broke in the web app, each pinned by a test.

No forged sessions (a public or short IMVO_SECRET_KEY is refused off the embedded default);
private files (key, database, backup, checkpoints) are 0600; every answer carries the
browser's protections; links come from IMVO_BASE_URL, never from the Host header; a non-ASCII
path answers, never a 500; /metrics can require a token and keeps its series; a SQLite file
made read-only answers JSON 503s and the app writes again once it is fixed, without restart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import itsdangerous
import pytest
from sqlalchemy.exc import DBAPIError
from test_web import (  # noqa: F401 (site and password_hashes are fixtures used below)
    PASSWORDS,
    Site,
    TestClient,
    password_hashes,
    site,
)

from imvo_workflow.bootstrap import App
from imvo_workflow.db import migrate
from imvo_workflow.db.errors import DatabaseProblem, classify
from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.services import audit
from imvo_workflow.web import secret
from imvo_workflow.web.app import create_app
from imvo_workflow.web.paths import TEMPLATES
from imvo_workflow.web.secret import InsecureSecretKey

#: What docker-compose.yml defaulted IMVO_SECRET_KEY to until issue 11: public.
OLD_COMPOSE_DEFAULT = "change-me-in-production"
STRONG = "a-strong-test-key-" + "x" * 40


_MADE: list[App] = []


def _with(app: App, **settings: object) -> App:
    """`app` with other settings; its engine is disposed after the test (autouse below)."""
    made = App(settings=app.settings.model_copy(update=settings), definition=app.definition)
    _MADE.append(made)
    return made


@pytest.fixture(autouse=True)
def _close_variants() -> Iterator[None]:
    yield
    while _MADE:
        _MADE.pop().close()


def forged_cookie(key: str, user_id: int) -> str:
    """A session cookie for `user_id`, signed the way Starlette's SessionMiddleware signs."""
    data = b64encode(json.dumps({"user_id": user_id, "epoch": 0}).encode())
    return itsdangerous.TimestampSigner(key).sign(data).decode()


# -- 1. no forged sessions ----------------------------------------------------------------


@pytest.mark.parametrize("key", [OLD_COMPOSE_DEFAULT, "", "   ", "kort-maar-geheim", "test-secret"])
def test_a_public_empty_or_short_key_stops_the_app(app: App, key: str) -> None:
    weak = _with(app, secret_key=key)
    with pytest.raises(InsecureSecretKey, match="IMVO_SECRET_KEY"):
        create_app(weak)  # where it is served is not known: assumed reachable
    with pytest.raises(InsecureSecretKey):
        create_app(weak, host="0.0.0.0")


def test_the_embedded_default_on_loopback_may_keep_a_weak_key(app: App) -> None:
    weak = _with(app, secret_key=OLD_COMPOSE_DEFAULT)
    if app.settings.database_url.startswith("sqlite"):
        create_app(weak, host="127.0.0.1")
    else:  # PostgreSQL is a deployment, reachable or not
        with pytest.raises(InsecureSecretKey):
            create_app(weak, host="127.0.0.1")


def test_a_cookie_forged_with_the_old_compose_default_opens_nothing(site: Site) -> None:
    """With the old default, a cookie signed for user 1 opened the admin pages."""
    admin = site.user_ids["admin"]
    with pytest.raises(InsecureSecretKey):
        create_app(_with(site.app, secret_key=OLD_COMPOSE_DEFAULT))
    client = site.client()  # the app as it may run: its own, strong key
    client.cookies.set("imvo_session", forged_cookie(OLD_COMPOSE_DEFAULT, admin))
    answer = client.get("/gebruikers", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_imvo_serve_refuses_the_old_default_with_exit_2(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "imvo.db"
    shutil.copy(sqlite_template, database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_")}
    env |= {"IMVO_DATABASE_URL": f"sqlite:///{database}", "IMVO_SECRET_KEY": OLD_COMPOSE_DEFAULT}
    done = subprocess.run(
        [sys.executable, "-m", "imvo_workflow", "serve", "--host", "0.0.0.0", "--port", "8999"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "IMVO_SECRET_KEY" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_generated_key_file_is_private_from_the_start(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)  # a usual umask: the file must not depend on it
    try:
        key = secret.secret_key(_with(app, secret_key=None).settings, host=None)
    finally:
        os.umask(old)
    assert len(key) >= secret.MIN_KEY_BYTES
    assert _mode(tmp_path / "var" / "secret_key") == 0o600
    # Made once: a second process reads the same key.
    assert secret.secret_key(_with(app, secret_key=None).settings, host=None) == key


def test_sqlite_files_backups_and_checkpoints_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        database = tmp_path / "new" / "imvo.db"
        url = f"sqlite:///{database}"
        migrate.upgrade(url)
        engine = make_engine(url)
        audit.checkpoint(
            uow=UnitOfWork(engine), now=datetime.now(UTC), file=tmp_path / "checkpoints.jsonl"
        )
        with engine.connect() as conn:  # the -wal and -shm exist while a connection is open
            conn.exec_driver_sql("SELECT 1")
            for name in ("imvo.db", "imvo.db-wal", "imvo.db-shm"):
                assert _mode(database.parent / name) == 0o600, name
        engine.dispose()
        (tmp_path / "backup").mkdir()  # a backup makes no folders
        migrate.backup_sqlite(url, tmp_path / "backup" / "imvo.db")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "backup" / "imvo.db") == 0o600
    assert _mode(tmp_path / "checkpoints.jsonl") == 0o600


# -- 7. headers and origins ---------------------------------------------------------------


def test_every_page_carries_the_browser_protections(site: Site) -> None:
    client = site.login("admin")
    for path in ("/", "/convenanten/natuursteen", "/account", "/gebruikers", "/login"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        csp = answer.headers["content-security-policy"]
        script = re.search(r"script-src ([^;]*)", csp)
        assert script is not None and "'unsafe-inline'" not in script.group(1), csp
        assert "'unsafe-eval'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-store", path
        assert "strict-transport-security" not in answer.headers  # not over plain HTTP
        assert "server" not in answer.headers
    assert "no-store" not in client.get("/static/style.css").headers.get("cache-control", "")


def test_hsts_once_cookies_are_https_only(site: Site) -> None:
    secure = _with(site.app, secure_cookies=True)
    answer = site.client(create_app(secure), base_url="https://testserver").get("/login")
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_no_template_has_an_inline_script() -> None:
    for template in Path(TEMPLATES).glob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{template.name}: {tag}"
        assert not re.search(r"\son[a-z]+=", text), f"{template.name}: inline event handler"
        assert "hx-on" not in text and "hx-vars" not in text, template.name  # need eval


def test_the_api_docs_load_nothing_from_elsewhere(site: Site) -> None:
    answer = site.client().get("/api/v1/docs")
    assert answer.status_code == 200
    assert "/api/v1/openapi.json" in answer.text
    assert not re.search(r"(src|href)=\"(https?:)?//", answer.text), answer.text


def test_links_never_come_from_the_host_header(site: Site) -> None:
    client = site.login("viewer", headers={"Host": "evil.example"})
    account = client.get("/account")
    assert account.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', account.text)
    assert token is not None
    page = client.post("/account/agenda", data={"csrf_token": token.group(1)})  # shown once
    assert page.status_code == 200
    assert "evil.example" not in page.text
    assert "http://127.0.0.1:8000/agenda/" in page.text


def test_with_a_base_url_links_use_it_and_other_hosts_are_refused(site: Site) -> None:
    public = _with(site.app, base_url="https://imvo.example.org")
    web = create_app(public)
    forged = site.client(web, headers={"Host": "evil.example"})
    assert forged.get("/login").status_code == 400
    client = site.client(web, base_url="https://imvo.example.org")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"csrf_token": token.group(1), "name": "viewer", "password": PASSWORDS["viewer"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert token is not None
    shown = client.post("/account/agenda", data={"csrf_token": token.group(1)})  # shown once
    assert "https://imvo.example.org/agenda/" in shown.text
    probe = site.client(web, base_url="http://127.0.0.1:8000")  # the container's healthcheck
    assert probe.get("/readyz").status_code == 200


@pytest.mark.parametrize(
    "path", ["/convenanten/ñandú", "/convenanten/数据?naam=é", "/convenanten/a%3Fb%26c"]
)
def test_a_non_ascii_path_answers_for_htmx_and_browsers(site: Site, path: str) -> None:
    htmx = site.client().get(path, headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 200
    assert htmx.headers["hx-redirect"].isascii()
    assert htmx.headers["hx-redirect"].startswith("/login?next=/")
    assert htmx.headers["hx-redirect"].count("?") == 1 and "&" not in htmx.headers["hx-redirect"]
    plain = site.client().get(path, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].isascii()
    logged_in = site.login("viewer").get(path, headers={"HX-Request": "true"})
    assert logged_in.status_code in (200, 404)


# -- 13. metrics --------------------------------------------------------------------------


def test_metrics_can_require_a_bearer_token(site: Site) -> None:
    guarded = create_app(_with(site.app, metrics_token="metrics-token-" + "m" * 30))
    client = site.client(guarded)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["detail"]
        assert answer.headers["www-authenticate"] == "Bearer"
    ok = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-" + "m" * 30})
    assert ok.status_code == 200
    assert "imvo_history_rows" in ok.text


def test_metrics_keep_every_series_and_the_process_collectors(site: Site) -> None:
    text = site.client().get("/metrics").text
    for kind in ("reminder", "due", "escalation", "digest", "checkpoint"):
        assert f'imvo_alerts{{kind="{kind}"}} 0.0' in text, kind
    for channel in ("email", "webhook", "inbox", "log"):
        assert f'imvo_deliveries_in_db{{channel="{channel}",status="pending"}} 0.0' in text
    assert 'imvo_deliveries_total{outcome="failed"}' in text
    assert 'imvo_moves_total{source="api"}' in text
    assert "process_cpu_seconds_total" in text
    assert "python_info{" in text


# -- 11. database failures ----------------------------------------------------------------


def test_a_failed_begin_is_a_database_error_and_the_connection_is_dropped(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """SQLAlchemy does not wrap what its begin event raises: it escaped as a raw sqlite3 error
    (a plain-text 500 in the web app), leaving the connection half-begun in the pool."""
    database = tmp_path / "imvo.db"
    shutil.copy(sqlite_template, database)
    engine = make_engine(f"sqlite:///{database}", pool_size=1, max_overflow=0)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        conn = engine.connect()
        conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        with pytest.raises(DBAPIError) as caught:
            conn.begin()
        assert classify(caught.value) is DatabaseProblem.BUSY
        assert conn.invalidated
        conn.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with UnitOfWork(engine) as uow:  # the pool's one connection is a working one again
        uow.conn.exec_driver_sql("CREATE TABLE after_failure (x INTEGER)")
        uow.commit()
    engine.dispose()


@contextmanager
def read_only(database: Path) -> Iterator[None]:
    """Make the database file and its WAL read-only, also for root (who ignores modes).

    `chattr +i` (immutable) is refused even to root, so this runs where the tests do. The
    -shm file is left: an immutable -shm makes SQLite's shared-memory map fail with SIGBUS,
    which no permission change does; SQLite treats a read-only database the same either way.
    """
    files = [str(database), f"{database}-wal"]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *files], check=True)
    else:
        for name in files:
            os.chmod(name, 0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *files], check=True)
        else:
            for name in files:
                os.chmod(name, 0o600)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_made_read_only_answers_503_and_recovers_without_restart(
    site: Site, database_url: str
) -> None:
    database = Path(database_url.split("///", 1)[1])
    headers = site.bearer("coordinator")
    client = site.client(raise_server_exceptions=False)
    body = {"stage": "ondertekend", "phrase": "Q2 2030"}
    assert client.put(
        "/api/v1/covenants/natuursteen/targets", headers=headers, json=body
    ).is_success
    with read_only(database):
        site.app.engine.dispose()  # connections opened from now on see a read-only file
        for _ in range(3):
            answer = client.put("/api/v1/covenants/natuursteen/targets", headers=headers, json=body)
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("application/json")
            assert int(answer.headers["retry-after"]) > 0
            assert answer.json()["detail"]
            # Reading still works, on a connection SQLite opened read-only.
            assert client.get("/api/v1/covenants/natuursteen", headers=headers).status_code == 200
            page = site.login("coordinator").get("/")
            assert page.status_code == 200
    body = {"stage": "ondertekend", "phrase": "Q3 2030"}
    answer = client.put("/api/v1/covenants/natuursteen/targets", headers=headers, json=body)
    assert answer.status_code == 200, answer.text

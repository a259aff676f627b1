"""Builders the signing, milestone and correction tests share: organisations, parties,
milestones, and reading the chain's entries back."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select
from starlette.exceptions import StarletteDeprecationWarning

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.record import read_detail
from imvo_workflow.services import audit, auth, users
from imvo_workflow.web.app import create_app

with warnings.catch_warnings():  # as in test_web.py: about the test dependency, not the app
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient` is deprecated",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient

COUNTED = ("transition", "signature", "participation", "target")


def organisation(app: App, name: str, kind: str = "brancheorganisatie") -> int:
    with app.uow() as uow:
        found = uow.conn.execute(
            insert(t.organisation).returning(t.organisation.c.id), {"name": name, "kind": kind}
        ).scalar_one()
        uow.commit()
    return int(found)


def party(
    app: App, covenant_id: int, name: str, role: str = "partij", since: date | None = None
) -> int:
    org_id = organisation(app, name)
    with app.uow() as uow:
        found = uow.conn.execute(
            insert(t.participation).returning(t.participation.c.id),
            {"covenant_id": covenant_id, "organisation_id": org_id, "role": role, "since": since},
        ).scalar_one()
        uow.commit()
    return int(found)


def milestone(
    app: App, covenant_id: int, text: str, deadline: date, stage: str | None = None
) -> int:
    with app.uow() as uow:
        found = uow.conn.execute(
            insert(t.target).returning(t.target.c.id),
            {
                "covenant_id": covenant_id,
                "stage": stage,
                "milestone": None if stage else text,
                "phrase": deadline.isoformat(),
                "reference_date": date(2016, 6, 1),
                "period_start": date(2016, 6, 1),
                "deadline": deadline,
                "status": "open",
                "created_at": app.now(),
            },
        ).scalar_one()
        uow.commit()
    return int(found)


def counts(app: App) -> dict[str, int]:
    tables = {name: getattr(t, name) for name in COUNTED}
    with app.uow(readonly=True) as uow:
        return {
            name: int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in tables.items()
        }


def entries(app: App, covenant_id: int) -> list[tuple[str, dict[str, Any], date, str]]:
    """(trigger, detail, occurred_on, reason) of every entry after the opening one."""
    tr = t.transition
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(tr.c.trigger, tr.c.detail, tr.c.occurred_on, tr.c.reason)
            .where(tr.c.covenant_id == covenant_id, tr.c.seq > 1)
            .order_by(tr.c.seq)
        ).all()
    return [(r.trigger, read_detail(r.detail), r.occurred_on, r.reason) for r in rows]


def verified(app: App) -> bool:
    return audit.verify(uow=app.uow(readonly=True)).ok


def row(app: App, table: Any, row_id: int) -> Any:
    with app.uow(readonly=True) as uow:
        return uow.conn.execute(select(table).where(table.c.id == row_id)).one()


# --- over HTTP ---------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "signing-test-wachtwoord-1"


@pytest.fixture
def web(app: App) -> Iterator[tuple[App, FastAPI]]:
    """The web app over the test's database, with a coordinator and a viewer."""
    settings = app.settings.model_copy(update={"secret_key": "test-secret-" + "s" * 40})
    built = App(settings=settings, definition=app.definition)
    hashed = auth.hash_password(PASSWORD)
    for role in ("coordinator", "viewer"):
        users.add_user(uow=built.uow(), name=role, role=role, password_hash=hashed, now=built.now())
    yield built, create_app(built)
    built.close()


@pytest.fixture
def api_client(web: tuple[App, FastAPI]) -> Iterator[TestClient]:
    built, fastapi = web
    with built.uow(readonly=True) as uow:
        user_id = uow.conn.execute(
            select(t.user.c.id).where(t.user.c.name == "coordinator")
        ).scalar_one()
    token = auth.create_api_token(uow=built.uow(), user_id=user_id, name="t", now=built.now())
    with TestClient(fastapi, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


class PageClients:
    """Logged-in page clients per role (closed at the end of the test)."""

    def __init__(self, fastapi: FastAPI) -> None:
        self.fastapi, self.made = fastapi, []

    def __call__(self, role: str) -> TestClient:
        client = TestClient(self.fastapi)
        self.made.append(client)
        token = self.csrf(client.get("/login").text)
        answer = client.post(
            "/login",
            data={"csrf_token": token, "name": role, "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return client

    @staticmethod
    def csrf(text: str) -> str:
        found = CSRF_FIELD.search(text)
        assert found is not None, "no csrf_token on the page"
        return found.group(1)


@pytest.fixture
def page_client(web: tuple[App, FastAPI]) -> Iterator[PageClients]:
    clients = PageClients(web[1])
    yield clients
    for client in clients.made:
        client.close()

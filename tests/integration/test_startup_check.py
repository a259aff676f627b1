"""The stranded-stage check runs once at start-up wherever a definition meets the database.

A definition that lacks a stage some stored covenant is in must stop the web app, the
scheduler and the CLI before they do anything (the CLI's side is in tests/e2e/test_cli.py);
all of them go through `App.check_definition`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
from sqlalchemy import update
from starlette.exceptions import StarletteDeprecationWarning

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.errors import InvalidDefinition
from imvo_workflow.scheduler import AlertScheduler
from imvo_workflow.web.app import create_app

with warnings.catch_warnings():  # as in test_web.py: about the test dependency, not the app
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient` is deprecated",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient

MakeCovenant = Callable[..., int]


def _set_stage(app: App, covenant_id: int, stage: str) -> None:
    with app.uow() as uow:
        uow.conn.execute(
            update(t.covenant).where(t.covenant.c.id == covenant_id).values(stage=stage)
        )
        uow.commit()


def test_web_and_scheduler_refuse_a_definition_that_strands_a_covenant(
    app: App, make_covenant: MakeCovenant
) -> None:
    _set_stage(app, make_covenant("bouw"), "oud_stadium")
    for start in (
        lambda fresh: fresh.check_definition(),
        AlertScheduler,
        lambda fresh: TestClient(create_app(fresh)).__enter__(),  # runs the lifespan
    ):
        fresh = App(settings=app.settings, definition=app.definition)
        try:
            with pytest.raises(InvalidDefinition, match="oud_stadium"):
                start(fresh)
        finally:
            fresh.close()


def test_the_check_runs_once_per_app(app: App, make_covenant: MakeCovenant) -> None:
    covenant_id = make_covenant("bouw")
    app.check_definition()
    _set_stage(app, covenant_id, "oud_stadium")
    app.check_definition()  # already checked at start-up: no second query, no refusal
    assert AlertScheduler(app).app is app

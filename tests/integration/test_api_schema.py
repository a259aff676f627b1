"""The API against its own OpenAPI document: generated requests and sequences of requests
never get a server error, and every answer is what the document says.

Schemathesis reads /api/v1/openapi.json from the app in-process and sends each operation
requests that fit the schema (positive, with generated and with real slugs and alert ids)
and requests that do not (negative), all with a coordinator's bearer token, on the seeded
2016 data; then it runs stateful: sequences that follow the document's links (a covenant's
slug and ETag lead to its move, history and targets; an alert list to an acknowledgement).
Every answer is checked: no 5xx, the status, content type, headers and body as the document
declares them, and every error JSON with a non-empty string "detail" (what api.py promises).
Both databases. The size fits `make test` (a few seconds per database); set
IMVO_FUZZ_EXAMPLES for a longer run (README, "Development").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.services import auth, users
from imvo_workflow.services.alerts import policy_from, scan
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.web.app import create_app

SCHEMA = "/api/v1/openapi.json"
#: Every operation of the API; a new one fails test_the_schema_has_these_operations until
#: it is listed here (and so fuzzed).
OPERATIONS = [
    ("GET", "/api/v1/whoami"),
    ("GET", "/api/v1/covenants"),
    ("GET", "/api/v1/covenants/{slug}"),
    ("POST", "/api/v1/covenants/{slug}/move"),
    ("GET", "/api/v1/covenants/{slug}/history"),
    ("GET", "/api/v1/covenants/{slug}/targets"),
    ("PUT", "/api/v1/covenants/{slug}/targets"),
    ("GET", "/api/v1/covenants/{slug}/notes"),
    ("POST", "/api/v1/covenants/{slug}/notes"),
    ("GET", "/api/v1/covenants/{slug}/summary"),
    ("PUT", "/api/v1/covenants/{slug}/summary"),
    ("GET", "/api/v1/periods/preview"),
    ("POST", "/api/v1/covenants/{slug}/continuation"),
    ("GET", "/api/v1/covenants/{slug}/terms"),
    ("POST", "/api/v1/covenants/{slug}/terms"),
    ("POST", "/api/v1/covenants/{slug}/terms/renew"),
    ("GET", "/api/v1/alerts"),
    ("POST", "/api/v1/alerts/{alert_id}/ack"),
    ("GET", "/api/v1/report"),
    ("GET", "/api/v1/reports/issued"),
    ("POST", "/api/v1/reports/issued"),
    ("POST", "/api/v1/covenants"),
    ("GET", "/api/v1/organisations"),
    ("POST", "/api/v1/organisations"),
    ("POST", "/api/v1/organisations/{organisation_id}/rename"),
    ("GET", "/api/v1/covenants/{slug}/parties"),
    ("GET", "/api/v1/covenants/{slug}/as-of/{day}"),
    ("POST", "/api/v1/covenants/{slug}/parties"),
    ("POST", "/api/v1/covenants/{slug}/parties/{participation_id}/leave"),
    ("GET", "/api/v1/covenants/{slug}/signatures"),
    ("POST", "/api/v1/covenants/{slug}/signatures"),
    ("POST", "/api/v1/covenants/{slug}/targets/{target_id}/close"),
]
#: Path parameters that exist in the seeded data, so generated requests get past the lookup.
REAL_SLUGS = ["natuursteen", "chemie", "bouw", "toerisme-suriname"]
#: Target phrases the period parser knows, and some it refuses.
PHRASES = [
    "Q1 van 2017",
    "eerste helft 2017",
    "eind 2016",
    "20 december 2016",
    "nog dit jaar",
    "voorjaar 2017",
    "Q5 2017",
    "Q1 0017",
    "ooit",
]
#: Examples per operation, and stateful scenarios; IMVO_FUZZ_EXAMPLES=500 for a long run.
MAX_EXAMPLES = int(os.environ.get("IMVO_FUZZ_EXAMPLES", "12"))
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def detail_on_refusal(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """An error answer is JSON with a non-empty string `detail` (api.py's ErrorBody)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(
            f"{response.status_code} is not JSON: {response.content[:200]!r}"
        ) from None
    detail = body.get("detail") if isinstance(body, dict) else None
    assert isinstance(detail, str) and detail.strip(), (
        f"{response.status_code} without a string detail: {body!r}"
    )
    return None


@dataclass
class Api:
    web: FastAPI
    schema: BaseSchema
    headers: dict[str, str]
    alert_ids: list[int]
    #: The workflow's stage and trigger names.
    names: list[str]


@pytest.fixture
def api(app: App) -> Iterator[Api]:
    settings_ = app.settings.model_copy(update={"secret_key": "test-secret-" + "s" * 40})
    built = App(settings=settings_, definition=app.definition)
    seed(uow=built.uow(), definition=built.definition, path=SEED_2016, now=built.now())
    scan(
        uow=built.uow(),
        policy=policy_from(built.definition.reminders),
        now=datetime(2016, 12, 2, 10, 0, tzinfo=AMSTERDAM),
    )
    coordinator = users.add_user(
        uow=built.uow(), name="coordinator", role="coordinator", now=built.now()
    )
    token = auth.create_api_token(
        uow=built.uow(), user_id=coordinator, name="schemathesis", now=built.now()
    )
    with built.uow(readonly=True) as uow:
        alert_ids = list(uow.conn.execute(select(t.alert.c.id).order_by(t.alert.c.id)).scalars())
        assert uow.conn.execute(select(func.count()).select_from(t.covenant)).scalar_one() == 21
    names = sorted({*built.definition.stages, *(tr.trigger for tr in built.definition.transitions)})
    web = create_app(built)
    schema = schemathesis.openapi.from_asgi(SCHEMA, web)
    yield Api(web, schema, {"Authorization": f"Bearer {token}"}, alert_ids, names)
    built.close()


@SQLITE_ONLY
def test_the_schema_has_these_operations(api: Api) -> None:
    found = set()
    for result in api.schema.get_all_operations():
        assert isinstance(result, Ok), result  # an Err is a part of the schema it cannot read
        found.add((result.ok().method.upper(), result.ok().path))
    assert found == set(OPERATIONS)


def informed(api: Api, method: str, path: str) -> list[st.SearchStrategy[Any]]:
    """Requests that get past the lookups: real slugs and alert ids, bodies built from the
    workflow's own stage and trigger names and from target phrases, so the fuzzing reaches
    the moves and targets themselves and not only the 404s."""
    operation = api.schema[path][method]
    slug = st.sampled_from(REAL_SLUGS)
    near = st.dates(min_value=date(2016, 1, 1), max_value=date(2017, 3, 31))
    day = st.none() | near | st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
    text = st.text(max_size=30)
    if "{alert_id}" in path:
        return [
            st.sampled_from(api.alert_ids).flatmap(
                lambda alert_id: operation.as_strategy(path_parameters={"alert_id": alert_id})
            )
        ]
    if (method, path) == ("GET", "/api/v1/periods/preview"):
        return [
            st.tuples(st.sampled_from(PHRASES) | text, day).flatmap(
                lambda args: operation.as_strategy(
                    query={"phrase": args[0]} | ({"reference": _iso(args[1])} if args[1] else {})
                )
            )
        ]
    if (method, path) == ("POST", "/api/v1/covenants/{slug}/notes"):
        note = st.fixed_dictionaries(
            {"text": st.text(min_size=1, max_size=60)}, optional={"written_on": day.map(_iso)}
        )
        return [
            st.tuples(slug, note).flatmap(
                lambda args: operation.as_strategy(path_parameters={"slug": args[0]}, body=args[1])
            )
        ]
    if "{slug}" not in path:
        return []
    if (method, path) == ("POST", "/api/v1/covenants/{slug}/move"):
        body = st.fixed_dictionaries(
            {"to": st.sampled_from(api.names) | text, "reason": st.text(min_size=1, max_size=30)},
            optional={"occurred_on": day.map(_iso)},
        )
        version = st.sampled_from(["", '"1"', '"2"', '"3"', 'W/"2"', "2", '"-1"', '"99999999999"'])
        return [
            st.tuples(slug, body, version).flatmap(
                lambda args: operation.as_strategy(
                    path_parameters={"slug": args[0]},
                    body=args[1],
                    headers={"If-Match": args[2]} if args[2] else {},
                )
            )
        ]
    if (method, path) == ("PUT", "/api/v1/covenants/{slug}/targets"):
        base = st.fixed_dictionaries(
            {"phrase": st.sampled_from(PHRASES) | text},
            optional={"reference": day.map(_iso), "reason": text},
        )
        which = st.fixed_dictionaries({"stage": st.sampled_from(api.names) | text}) | (
            st.fixed_dictionaries({"milestone": st.text(min_size=1, max_size=30)})
        )
        body = st.tuples(base, which).map(lambda parts: {**parts[0], **parts[1]})
        return [
            st.tuples(slug, body).flatmap(
                lambda args: operation.as_strategy(path_parameters={"slug": args[0]}, body=args[1])
            )
        ]
    return [slug.flatmap(lambda value: operation.as_strategy(path_parameters={"slug": value}))]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


#: What every answer is checked for.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    detail_on_refusal,
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_get_no_server_error(api: Api, method: str, path: str) -> None:
    operation = api.schema[path][method]
    strategies = [
        *informed(api, method, path) * 2,  # twice: half the examples get past the lookups
        operation.as_strategy(),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
    ]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=st.one_of(strategies))
    def check(case: Case[Any]) -> None:
        case.call_and_validate(headers=api.headers, checks=CHECKS)

    check()


def test_the_operations_are_linked(api: Api) -> None:
    """The links the stateful run follows are in the document (and not lost by a refactor)."""
    doc = api.web.openapi()
    links = {
        (path, method, name)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        for name in operation["responses"].get("200", {}).get("links", {})
    }
    assert ("/api/v1/covenants/{slug}", "get", "MoveIt") in links
    assert ("/api/v1/covenants/{slug}/move", "post", "MoveIt") in links
    assert ("/api/v1/alerts", "get", "AcknowledgeFirst") in links
    assert ("/api/v1/covenants", "get", "FirstCovenant") in links


def _linked_operations(api: Api) -> list[str]:
    """The operations a link leads from or to: what a stateful sequence can follow."""
    found: set[str] = set()
    for item in api.web.openapi()["paths"].values():
        for operation in item.values():
            links = operation["responses"].get("200", {}).get("links", {})
            if links:
                found.add(operation["operationId"])
                found.update(link["operationId"] for link in links.values())
    return sorted(found)


def test_sequences_that_follow_the_links_get_no_server_error(api: Api) -> None:
    """Stateful: list → read → move with the ETag → move again → history, alerts → ack, ...

    The sequences run over the linked operations only. The unlinked ones (opening a process,
    adding organisations, parties, notes: each fuzzed on its own above) would only change the
    data between examples, so that a replayed sequence no longer draws what it drew first
    (hypothesis then reports FlakyStrategyDefinition instead of what went wrong).
    """
    headers = api.headers
    calls: list[int] = []
    linked = api.schema.include(operation_id=_linked_operations(api))

    class Sequences(linked.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Response, case: Case[Any], **kwargs: Any) -> None:
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

    Sequences.run(
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert calls and 200 in calls  # it got past the lookups

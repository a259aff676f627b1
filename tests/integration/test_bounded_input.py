"""Every write service refuses out-of-bounds input with a domain error and writes nothing.

The class behind the probe's findings (a 1,000,000-character reason in the append-only history,
a deadline on 9999-12-31 that broke every calendar feed, an alert id past 64 bits answering
500): each write service checks its input through domain/bounds.py, so the CLI, the web and
the API refuse the same values. One case per field; each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db.tables import metadata
from imvo_workflow.domain.bounds import MAX_ID, MAX_LABEL, MAX_TEXT, MAX_USER_NAME
from imvo_workflow.domain.errors import DomainError, InvalidInput, NotFound, UnparseablePeriod
from imvo_workflow.services import audit, signatures, users
from imvo_workflow.services.alerts import acknowledge
from imvo_workflow.services.moves import move
from imvo_workflow.services.targets import set_target

MakeCovenant = Callable[..., int]
SLUG = "natuursteen"
LONG_TEXT = "x" * (MAX_TEXT + 1)
LONG_LABEL = "x" * (MAX_LABEL + 1)
FAR = date(9999, 12, 31)
EARLY = date(1899, 12, 31)


def _move(app: App, **bad: Any) -> None:
    args: dict[str, Any] = {"actor": "A. de Vries", "reason": "", "to": "ondertekend"} | bad
    move(uow=app.uow(), definition=app.definition, covenant=SLUG, now=app.now(), **args)


def _target(app: App, **bad: Any) -> None:
    args: dict[str, Any] = {
        "phrase": "eind 2017",
        "reference": date(2016, 11, 1),
        "stage": "ondertekend",
        "actor": "A. de Vries",
    } | bad
    if "milestone" in bad:
        args["stage"] = None
    set_target(uow=app.uow(), definition=app.definition, covenant=SLUG, now=app.now(), **args)


def _sign(app: App, **bad: Any) -> None:
    args: dict[str, Any] = {
        "organisations": ("SER",),
        "signed_on": date(2016, 10, 1),
        "actor": "A. de Vries",
    } | bad
    signatures.sign(uow=app.uow(), definition=app.definition, covenant=SLUG, now=app.now(), **args)


def _correct(app: App, **bad: Any) -> None:
    args: dict[str, Any] = {"seq": 1, "actor": "A. de Vries", "reason": "typfout"} | bad
    audit.correct(uow=app.uow(), covenant=SLUG, now=app.now(), **args)


def _add_user(app: App, **bad: Any) -> None:
    args: dict[str, Any] = {"name": "anna", "role": "coordinator"} | bad
    users.add_user(uow=app.uow(), now=app.now(), **args)


def _subscribe(app: App, **bad: Any) -> None:
    users.add_user(uow=app.uow(), name="bea", role="viewer", now=app.now())
    args: dict[str, Any] = {"user": "bea", "channel": "webhook"} | bad
    users.subscribe(uow=app.uow(), **args)


def _ack(app: App, **bad: Any) -> None:
    args: dict[str, Any] = {"alert_id": 1, "actor": "A. de Vries"} | bad
    acknowledge(uow=app.uow(), now=app.now(), **args)


CASES: list[tuple[str, Callable[..., None], dict[str, Any], type[DomainError]]] = [
    ("move reason too long", _move, {"reason": LONG_TEXT}, InvalidInput),
    ("move reason with a control character", _move, {"reason": "ok\x1b[2J"}, InvalidInput),
    ("move actor too long", _move, {"actor": LONG_LABEL}, InvalidInput),
    ("move actor with a newline", _move, {"actor": "A.\nde Vries"}, InvalidInput),
    ("move date before 1900", _move, {"occurred_on": EARLY}, InvalidInput),
    ("target phrase too long", _target, {"phrase": "eind 2017 " + LONG_LABEL}, InvalidInput),
    ("target phrase with NUL", _target, {"phrase": "eind\x002017"}, InvalidInput),
    ("target reference in 9999", _target, {"reference": FAR}, InvalidInput),
    (
        "target year from the reference",
        _target,
        {"phrase": "volgend jaar", "reference": date(2200, 6, 1)},
        UnparseablePeriod,
    ),
    ("target milestone too long", _target, {"milestone": LONG_LABEL}, InvalidInput),
    ("target description too long", _target, {"description": LONG_TEXT}, InvalidInput),
    ("target reason too long", _target, {"reason": LONG_TEXT}, InvalidInput),
    ("target actor with a tab", _target, {"actor": "A.\tde Vries"}, InvalidInput),
    ("signature date in 9999", _sign, {"signed_on": EARLY}, InvalidInput),
    ("signature actor too long", _sign, {"actor": LONG_LABEL}, InvalidInput),
    ("signature organisation too long", _sign, {"organisations": (LONG_LABEL,)}, InvalidInput),
    ("correction reason too long", _correct, {"reason": LONG_TEXT}, InvalidInput),
    ("correction reason with a bell", _correct, {"reason": "typfout\x07"}, InvalidInput),
    ("correction actor too long", _correct, {"actor": LONG_LABEL}, InvalidInput),
    ("correction date before 1900", _correct, {"occurred_on": EARLY}, InvalidInput),
    ("correction seq past 64 bits", _correct, {"seq": 2**64}, NotFound),
    ("correction seq negative", _correct, {"seq": -(2**70)}, NotFound),
    ("user name too long", _add_user, {"name": "a" * (MAX_USER_NAME + 1)}, InvalidInput),
    ("user name with a control character", _add_user, {"name": "an\x7fna"}, InvalidInput),
    ("user name with surrounding spaces", _add_user, {"name": " anna "}, InvalidInput),
    ("user e-mail too long", _add_user, {"email": "a" * 600 + "@x.nl"}, InvalidInput),
    (
        "webhook address too long",
        _subscribe,
        {"address": "https://x.nl/" + "a" * 600},
        InvalidInput,
    ),
    (
        "webhook address with a line break",
        _subscribe,
        {"address": "https://x.nl/\r\nX: y"},
        InvalidInput,
    ),
    ("alert id past 64 bits", _ack, {"alert_id": MAX_ID + 1}, NotFound),
    ("alert actor too long", _ack, {"actor": LONG_LABEL}, InvalidInput),
]


def _snapshot(app: App) -> dict[str, int]:
    with app.uow(readonly=True) as uow:
        return {
            table.name: uow.conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


@pytest.mark.parametrize(
    ("call", "bad", "error"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_every_write_refuses_out_of_bounds_input_and_writes_nothing(
    app: App,
    make_covenant: MakeCovenant,
    call: Callable[..., None],
    bad: dict[str, Any],
    error: type[DomainError],
) -> None:
    make_covenant(SLUG, path=("dialoog",))
    before = _snapshot(app)

    with pytest.raises(error):
        call(app, **bad)

    after = _snapshot(app)
    if call is _subscribe:  # its set-up adds the user first
        after["user_account"] -= 1
    assert after == before


def test_user_names_are_one_regardless_of_case_and_normal_form(app: App) -> None:
    users.add_user(uow=app.uow(), name="Zoë", role="viewer", now=app.now())

    for same in ("zoë", "ZOË", "Zoe\u0308"):  # the last one: e + combining diaeresis (NFD)
        with pytest.raises(InvalidInput, match="Er is al een gebruiker 'Zoë'"):
            users.add_user(uow=app.uow(), name=same, role="viewer", now=app.now())
    with app.uow(readonly=True) as uow:
        assert [u.name for u in users.list_users(conn=uow.conn)] == ["Zoë"]


def test_the_database_refuses_a_name_that_differs_only_in_case(app: App) -> None:
    """uq_user_name_lower: the guarantee behind the service's check (two adds at once)."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from imvo_workflow.db import tables as t

    users.add_user(uow=app.uow(), name="Anna", role="viewer", now=app.now())
    with app.uow() as uow, pytest.raises(IntegrityError):
        uow.conn.execute(
            insert(t.user),
            {"name": "anna", "role": "viewer", "created_at": app.now()},
        )


def test_a_name_in_nfd_is_stored_in_nfc(app: App) -> None:
    users.add_user(uow=app.uow(), name="Rene\u0301", role="viewer", now=app.now())
    with app.uow(readonly=True) as uow:
        assert [u.name for u in users.list_users(conn=uow.conn)] == ["René"]

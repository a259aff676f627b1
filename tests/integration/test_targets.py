"""Setting targets and subscribing to their alerts: what is recorded, and what is refused.

A target is kept with its change history (old and new phrase and deadline, who and why), so
planned and actual stay visible; a refusal names what was wrong in words a coordinator
understands and writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from helpers import closing_uow, slug_of
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    DomainError,
    InvalidInput,
    NotFound,
    RequirementMissing,
    UnknownStage,
    UnparseablePeriod,
)
from imvo_workflow.services import queries, users
from imvo_workflow.services.targets import TargetResult, set_target

MakeCovenant = Callable[..., int]
REFERENCE = date(2016, 11, 1)


def _set(app: App, covenant_id: int, phrase: str, **kwargs: object) -> TargetResult:
    args: dict[str, object] = {
        "stage": "ondertekend",
        "reference": REFERENCE,
        "actor": "A. de Vries",
        "reason": "",
        "now": app.now(),
    } | kwargs
    with closing_uow(app) as uow:
        return set_target(
            uow=uow,
            definition=app.definition,
            covenant=slug_of(app, covenant_id),
            phrase=phrase,
            **args,  # type: ignore[arg-type]
        )


def _changes(app: App, covenant_id: int) -> list[queries.TargetChangeView]:
    with app.uow(readonly=True) as uow:
        return queries.target_changes(conn=uow.conn, covenant=slug_of(app, covenant_id))


def _rows(app: App, table: object) -> int:
    with app.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


@pytest.fixture
def in_dialogue(make_covenant: MakeCovenant) -> int:
    return make_covenant("natuursteen", path=("dialoog",))


# -- set_target --------------------------------------------------------------------------


def test_a_new_target_is_recorded_with_its_first_change(app: App, in_dialogue: int) -> None:
    result = _set(app, in_dialogue, "eerste helft van 2017", reason="afspraak SER")
    assert (result.created, result.old_phrase, result.old_deadline) == (True, None, None)
    assert (result.period_start, result.deadline) == (date(2017, 1, 1), date(2017, 6, 30))
    with app.uow(readonly=True) as uow:
        row = uow.conn.execute(select(t.target)).one()
    assert (row.id, row.covenant_id, row.stage, row.milestone) == (
        result.target_id,
        in_dialogue,
        "ondertekend",
        None,
    )
    assert (row.phrase, row.reference_date, row.deadline, row.status, row.closed_on) == (
        "eerste helft van 2017",
        REFERENCE,
        date(2017, 6, 30),
        "open",
        None,
    )
    (change,) = _changes(app, in_dialogue)
    assert (change.target_id, change.what, change.old_phrase, change.old_deadline) == (
        result.target_id,
        "fase ondertekend",
        None,
        None,
    )
    assert (change.new_phrase, change.new_deadline, change.actor, change.reason) == (
        "eerste helft van 2017",
        date(2017, 6, 30),
        "A. de Vries",
        "afspraak SER",
    )


def test_setting_the_same_stage_again_changes_it_in_place_and_keeps_both(
    app: App, in_dialogue: int
) -> None:
    first = _set(app, in_dialogue, "20 december 2016")
    later = datetime(2016, 12, 1, 14, tzinfo=AMSTERDAM)
    second = _set(
        app,
        in_dialogue,
        "Q1 2017",
        reference=date(2016, 12, 1),
        actor="B. Jansen",
        reason="partijen willen meer tijd",
        now=later,
    )
    assert second.target_id == first.target_id and not second.created
    assert (second.old_phrase, second.old_deadline, second.deadline) == (
        "20 december 2016",
        date(2016, 12, 20),
        date(2017, 3, 31),
    )
    with app.uow(readonly=True) as uow:
        row = uow.conn.execute(select(t.target)).one()
    assert (row.phrase, row.deadline, row.reference_date, row.status) == (
        "Q1 2017",
        date(2017, 3, 31),
        date(2016, 12, 1),
        "open",
    )
    old, new = _changes(app, in_dialogue)
    assert (old.old_phrase, old.new_phrase, old.actor) == (None, "20 december 2016", "A. de Vries")
    assert (new.old_phrase, new.old_deadline, new.new_phrase, new.new_deadline) == (
        "20 december 2016",
        date(2016, 12, 20),
        "Q1 2017",
        date(2017, 3, 31),
    )
    assert (new.actor, new.reason, new.changed_at) == (
        "B. Jansen",
        "partijen willen meer tijd",
        later,
    )


def test_milestones_are_targets_of_their_own(app: App, in_dialogue: int) -> None:
    stage = _set(app, in_dialogue, "Q1 2017")
    kickoff = _set(app, in_dialogue, "eind 2016", stage=None, milestone="startbijeenkomst")
    again = _set(app, in_dialogue, "januari 2017", stage=None, milestone="startbijeenkomst")
    other = _set(app, in_dialogue, "maart 2017", stage=None, milestone="risicoanalyse")
    assert len({stage.target_id, kickoff.target_id, other.target_id}) == 3
    assert (again.target_id, again.created, again.old_phrase) == (
        kickoff.target_id,
        False,
        "eind 2016",
    )
    assert _rows(app, t.target) == 3 and _rows(app, t.target_change) == 4
    assert [c.what for c in _changes(app, in_dialogue)] == [
        "fase ondertekend",
        "startbijeenkomst",
        "startbijeenkomst",
        "risicoanalyse",
    ]


@pytest.mark.parametrize(
    ("path", "kwargs", "error", "needles"),
    [
        ((), {"phrase": "ergens volgend jaar"}, UnparseablePeriod, ['"ergens volgend jaar"']),
        (("dialoog",), {"stage": "dialoog"}, InvalidInput, ["dialoog", "intentieverklaring"]),
        (("dialoog", "ondertekend"), {"stage": "ondertekend"}, InvalidInput, ["ondertekend"]),
        (
            ("dialoog", "ondertekend"),
            {"stage": "intentieverklaring"},
            InvalidInput,
            ["intentieverklaring", "geen"],
        ),
        ((), {"phrase": "december 2015"}, InvalidInput, ["2015-12-31", "2016-11-01"]),
        ((), {"stage": "getekend"}, UnknownStage, ["getekend", "Bedoelde je"]),
        ((), {"stage": None}, InvalidInput, ["fase", "mijlpaal"]),
        ((), {"milestone": "oogstdag"}, InvalidInput, ["fase", "mijlpaal"]),
        ((), {"actor": "  "}, RequirementMissing, ["wie"]),
    ],
    ids=[
        "unparseable",
        "stage-it-is-in",
        "stage-it-passed",
        "stage-no-longer-reachable",
        "deadline-before-reference",
        "unknown-stage",
        "neither-stage-nor-milestone",
        "both-stage-and-milestone",
        "no-actor",
    ],
)
def test_refusals_say_what_is_wrong_and_write_nothing(
    app: App,
    make_covenant: MakeCovenant,
    path: tuple[str, ...],
    kwargs: dict[str, object],
    error: type[DomainError],
    needles: list[str],
) -> None:
    covenant_id = make_covenant("goud", path=path)
    args: dict[str, object] = {"phrase": "Q1 2017"} | kwargs
    phrase = str(args.pop("phrase"))
    with pytest.raises(error) as refused:
        _set(app, covenant_id, phrase, **args)
    for needle in needles:
        assert needle in refused.value.message
    assert _rows(app, t.target) == 0 and _rows(app, t.target_change) == 0


def test_an_unknown_stage_suggests_the_closest(app: App, in_dialogue: int) -> None:
    with pytest.raises(UnknownStage) as refused:
        _set(app, in_dialogue, "Q1 2017", stage="ondertekent")
    assert "ondertekend" in refused.value.suggestions


@pytest.mark.postgresql_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_setting_one_stage_target_from_many_threads_leaves_one_open_target(
    app: App, in_dialogue: int
) -> None:
    # Each call's check-then-insert raced on PostgreSQL (READ COMMITTED): calls could all
    # find no open target and all insert one. uq_target_open_stage settles it; the losers
    # hear of a concurrent change, never of an IntegrityError.
    threads = 8
    start = threading.Barrier(threads, timeout=30)
    # Every call is held at its INSERT until all have looked for the open target: the race's
    # window, made certain rather than left to the scheduler's timing.
    at_insert = threading.Barrier(threads, timeout=30)

    def hold(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("INSERT INTO target ("):
            at_insert.wait()

    def set_once(n: int) -> TargetResult | BaseException:
        start.wait()
        try:
            return _set(app, in_dialogue, "eerste helft van 2017", actor=f"coordinator-{n}")
        except BaseException as exc:  # judged below: only ConcurrentUpdate may be among them
            return exc

    event.listen(app.engine, "before_cursor_execute", hold)
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            outcomes = list(pool.map(set_once, range(threads)))
    finally:
        event.remove(app.engine, "before_cursor_execute", hold)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    done = [o for o in outcomes if isinstance(o, TargetResult)]
    assert all(isinstance(o, ConcurrentUpdate) for o in refused), refused
    with app.uow(readonly=True) as uow:
        open_ids = (
            uow.conn.execute(
                select(t.target.c.id).where(
                    t.target.c.covenant_id == in_dialogue,
                    t.target.c.stage == "ondertekend",
                    t.target.c.status == "open",
                )
            )
            .scalars()
            .all()
        )
    assert len(open_ids) == 1
    assert [r.created for r in done].count(True) == 1
    assert {r.target_id for r in done} == set(open_ids)
    assert len(_changes(app, in_dialogue)) == len(done)


def test_a_refused_change_keeps_the_target_as_it_was(app: App, in_dialogue: int) -> None:
    _set(app, in_dialogue, "Q1 2017")
    with pytest.raises(UnparseablePeriod):
        _set(app, in_dialogue, "zo snel mogelijk")
    with app.uow(readonly=True) as uow:
        assert uow.conn.execute(select(t.target.c.phrase)).scalar_one() == "Q1 2017"
    assert len(_changes(app, in_dialogue)) == 1


# -- users.subscribe ---------------------------------------------------------------------


@pytest.fixture
def anna(app: App, make_covenant: MakeCovenant) -> str:
    make_covenant("textiel")  # a sector to subscribe to
    with closing_uow(app) as uow:
        users.add_user(
            uow=uow, name="Anna", role="coordinator", email="anna@example.org", now=app.now()
        )
    return "Anna"


def _subscribe(app: App, user: str, channel: str, **kwargs: str) -> bool:
    with closing_uow(app) as uow:
        return users.subscribe(uow=uow, user=user, channel=channel, **kwargs)


def _subscriptions(app: App) -> list[tuple[int | None, str, str]]:
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(t.subscription.c.sector_id, t.subscription.c.channel, t.subscription.c.address)
        ).all()
    return [(r.sector_id, r.channel, r.address) for r in rows]


@pytest.mark.parametrize(
    ("channel", "address", "needle"),
    [
        ("sms", "", "Onbekend kanaal 'sms'"),
        ("email", "anna-at-example.org", "'anna-at-example.org' is geen e-mailadres"),
        ("email", "anna@localhost", "geen e-mailadres"),
        ("webhook", "ftp://hooks.example.org/imvo", "geen webhook-adres"),
        ("webhook", "hooks.example.org/imvo", "geen webhook-adres"),
        ("webhook", "", "geen webhook-adres"),
    ],
)
def test_subscribe_refuses_bad_channels_and_addresses(
    app: App, anna: str, channel: str, address: str, needle: str
) -> None:
    with pytest.raises(InvalidInput, match=needle):
        _subscribe(app, anna, channel, address=address)
    assert _subscriptions(app) == []


def test_subscribe_refuses_an_unknown_user_and_suggests_the_closest(app: App, anna: str) -> None:
    with pytest.raises(NotFound) as refused:
        _subscribe(app, "Ana", "inbox")
    assert refused.value.suggestions == ["Anna"]
    assert "Onbekende gebruiker 'Ana'" in refused.value.message
    assert "Bedoelde je: Anna?" in refused.value.message
    with pytest.raises(NotFound, match="sector"):
        _subscribe(app, anna, "inbox", sector="textile")
    assert _subscriptions(app) == []


def test_subscribing_twice_adds_nothing_the_second_time(app: App, anna: str) -> None:
    hook = "https://hooks.example.org/imvo"
    for channel, kwargs in (
        ("inbox", {}),
        ("inbox", {"sector": "Textiel"}),
        ("email", {}),
        ("webhook", {"address": hook}),
    ):
        _subscribe(app, anna, channel, **kwargs)
        assert _subscribe(app, anna, channel, **kwargs) is False
    with app.uow(readonly=True) as uow:
        textiel = uow.conn.execute(
            select(t.sector.c.id).where(t.sector.c.slug == "textiel")
        ).scalar_one()
    assert sorted(_subscriptions(app), key=str) == sorted(
        [
            (None, "inbox", ""),
            (textiel, "inbox", ""),
            (None, "email", "anna@example.org"),
            (None, "webhook", hook),
        ],
        key=str,
    )


# Regression: on PostgreSQL a new subscription was reported as already there (rowcount -1).
def test_a_new_subscription_is_reported_as_added(app: App, anna: str) -> None:
    assert _subscribe(app, anna, "inbox") is True
    assert _subscribe(app, anna, "email", address="anna.werk@example.org") is True
    assert _subscribe(app, anna, "inbox") is False
    assert len(_subscriptions(app)) == 2


def test_the_database_refuses_a_second_all_sectors_subscription(app: App, anna: str) -> None:
    # NULL sectors never clash in uq_subscription; the partial index makes them.
    assert _subscribe(app, anna, "inbox") is True
    with app.uow(readonly=True) as uow:
        uid = uow.conn.execute(select(t.user.c.id).where(t.user.c.name == anna)).scalar_one()
    row = {"user_id": uid, "sector_id": None, "channel": "inbox", "address": ""}
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(insert(t.subscription), row)
    assert len(_subscriptions(app)) == 1


def test_subscribing_at_once_from_many_threads_adds_one_row(app: App, anna: str) -> None:
    # Each call's check-then-insert raced on PostgreSQL; the database now settles it.
    start = threading.Barrier(6)

    def subscribe_once() -> bool:
        start.wait()
        return _subscribe(app, anna, "email")

    with ThreadPoolExecutor(max_workers=6) as pool:
        added = list(pool.map(lambda _: subscribe_once(), range(6)))
    assert added.count(True) == 1
    assert _subscriptions(app) == [(None, "email", "anna@example.org")]

"""The alert rules as pure functions of (targets, policy, now): DESIGN.md, "Alerts".

Properties over generated targets, policies and Amsterdam moments: an alert never comes before
its moment, a closed target stays quiet from the day it closed, the due set only grows as time
passes, keys are unique and stable, and the next fire time is exactly the next event. Then the
calendar examples a coordinator would check by hand: reminders 30 and 7 days ahead on the
working day before a weekend or Dutch holiday, the due alert the morning after the deadline,
escalations later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from imvo_workflow.domain.alerts import (
    AlertEvent,
    AlertKind,
    AlertPolicy,
    TargetState,
    due_events,
    events_for,
    is_working_day,
    next_fire_time,
    previous_working_day,
    scan_window,
    single_line,
    superseded,
)
from imvo_workflow.domain.clock import AMSTERDAM

DEFAULT = AlertPolicy()
NO_SHIFT = AlertPolicy(shift_to_working_day=False)

# -- strategies ----------------------------------------------------------------------------

deadlines = st.dates(min_value=date(2014, 1, 1), max_value=date(2020, 12, 31))


@st.composite
def target_states(draw: st.DrawFn, target_id: int = 1) -> TargetState:
    deadline = draw(deadlines)
    stated_on = deadline - timedelta(days=draw(st.integers(0, 120)))
    closed = draw(st.none() | st.integers(0, 200))
    closed_on = None if closed is None else stated_on + timedelta(days=closed)
    return TargetState(target_id, deadline, stated_on, closed_on)


@st.composite
def target_lists(draw: st.DrawFn, *, open_only: bool = False) -> list[TargetState]:
    drawn = draw(st.lists(target_states(), min_size=0, max_size=6))
    # ids are unique, as they are in the target table
    targets = [replace(target, id=n + 1) for n, target in enumerate(drawn)]
    if open_only:
        targets = [replace(target, closed_on=None) for target in targets]
    return targets


policies = st.builds(
    AlertPolicy,
    lead_days=st.lists(st.integers(1, 60), unique=True, max_size=3).map(tuple),
    escalate_after_days=st.lists(st.integers(1, 60), unique=True, max_size=2).map(tuple),
    send_hour=st.integers(0, 23),
    timezone=st.just("Europe/Amsterdam"),
    shift_to_working_day=st.booleans(),
)

moments = st.datetimes(
    min_value=datetime(2013, 10, 1), max_value=datetime(2021, 6, 1), timezones=st.just(AMSTERDAM)
)

PROPERTY = settings(max_examples=100, deadline=None)


def keys(events: list[AlertEvent]) -> set[str]:
    return {event.key for event in events}


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), AMSTERDAM).replace(
        hour=hour
    )


def by_kind(target: TargetState, policy: AlertPolicy = DEFAULT) -> dict[tuple[str, int], date]:
    """(kind, days) -> the day the event fires, for one target."""
    return {(ev.kind.value, ev.days): ev.fire_at.date() for ev in events_for(target, policy)}


# -- properties ----------------------------------------------------------------------------


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments)
def test_an_alert_never_precedes_its_fire_time(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    due = due_events(targets, policy, now)
    assert all(event.fire_at <= now for event in due)
    # and nothing whose moment has come is left out (for a target that is still open)
    for target in targets:
        if target.closed_on is None:
            expected = {ev.key for ev in events_for(target, policy) if ev.fire_at <= now}
            assert expected == {ev.key for ev in due if ev.target_id == target.id}


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments)
def test_the_answer_does_not_depend_on_the_zone_now_is_written_in(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    in_utc = now.astimezone(UTC)
    assert keys(due_events(targets, policy, now)) == keys(due_events(targets, policy, in_utc))
    assert next_fire_time(targets, policy, now) == next_fire_time(targets, policy, in_utc)


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments)
def test_a_met_or_cancelled_target_gets_nothing_from_the_day_it_closed(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    closed = {target.id: target.closed_on for target in targets if target.closed_on is not None}
    far_future = datetime(2030, 1, 1, tzinfo=AMSTERDAM)
    for moment in (now, far_future):
        for event in due_events(targets, policy, moment):
            if event.target_id in closed:
                assert event.fire_at.astimezone(AMSTERDAM).date() < closed[event.target_id]


@PROPERTY
@given(targets=target_lists(), policy=policies, first=moments, second=moments)
def test_the_due_set_only_grows_as_now_advances(
    targets: list[TargetState], policy: AlertPolicy, first: datetime, second: datetime
) -> None:
    earlier, later = sorted((first, second))
    assert keys(due_events(targets, policy, earlier)) <= keys(due_events(targets, policy, later))


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments, data=st.data())
def test_keys_are_unique_per_target_and_stable(
    targets: list[TargetState], policy: AlertPolicy, now: datetime, data: st.DataObject
) -> None:
    for target in targets:
        listed = [ev.key for ev in events_for(target, policy)]
        assert len(listed) == len(set(listed))
        assert listed == [ev.key for ev in events_for(target, policy)]
        assert all(key.startswith(f"t{target.id}/") for key in listed)
        # closing a target (or restating it) must not rename the events already raised
        reopened = replace(target, closed_on=None, stated_on=target.deadline - timedelta(days=400))
        assert set(listed) <= {ev.key for ev in events_for(reopened, policy)}
    due = due_events(targets, policy, now)
    assert len(due) == len(keys(due))
    shuffled = data.draw(st.permutations(targets))
    assert keys(due_events(shuffled, policy, now)) == keys(due)


@PROPERTY
@given(targets=target_lists(open_only=True), policy=policies, now=moments)
def test_next_fire_time_is_the_first_event_not_yet_due(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    upcoming = next_fire_time(targets, policy, now)
    pending = [ev.fire_at for t in targets for ev in events_for(t, policy) if ev.fire_at > now]
    assert upcoming == min(pending, default=None)
    if upcoming is None:
        return
    assert upcoming > now
    now_due = keys(due_events(targets, policy, now))
    # nothing becomes due between now and the next fire time, and something does at it
    assert keys(due_events(targets, policy, now + (upcoming - now) / 2)) == now_due
    assert keys(due_events(targets, policy, upcoming)) > now_due


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments)
def test_next_fire_time_skips_what_a_closed_target_will_never_fire(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    upcoming = next_fire_time(targets, policy, now)
    if upcoming is not None:
        assert upcoming > now
        assert keys(due_events(targets, policy, upcoming)) > keys(due_events(targets, policy, now))


@PROPERTY
@given(
    target=target_states(),
    policy=policies,
    since=deadlines,
    span=st.integers(0, 90),
)
def test_scan_window_covers_every_event_between_two_dates(
    target: TargetState, policy: AlertPolicy, since: date, span: int
) -> None:
    today = since + timedelta(days=span)
    lo, _ = scan_window(policy, since)
    _, hi = scan_window(policy, today)
    for event in events_for(target, policy):
        if since <= event.fire_at.date() <= today:
            assert lo <= target.deadline <= hi, (event, lo, hi)


# -- examples ------------------------------------------------------------------------------


def test_reminders_30_and_7_days_before_move_from_a_saturday_to_the_friday() -> None:
    # 19 December 2016 is a Monday; 30 days before is Saturday 19 November
    target = TargetState(1, date(2016, 12, 19), stated_on=date(2016, 11, 1))
    fired = by_kind(target)
    assert fired[("reminder", 30)] == date(2016, 11, 18)
    assert fired[("reminder", 7)] == date(2016, 12, 12)


def test_a_reminder_on_christmas_goes_out_on_the_last_working_day_before() -> None:
    # Sunday 25 and Monday 26 December 2016 (Eerste and Tweede Kerstdag): Friday 23 December
    for deadline in (date(2017, 1, 24), date(2017, 1, 25)):
        target = TargetState(1, deadline, stated_on=date(2016, 11, 1))
        assert by_kind(target)[("reminder", 30)] == date(2016, 12, 23)
    assert not is_working_day(date(2016, 12, 26))
    assert previous_working_day(date(2016, 12, 26)) == date(2016, 12, 23)


def test_a_reminder_on_kings_day_moves_to_the_day_before() -> None:
    # Koningsdag, Thursday 27 April 2017
    target = TargetState(1, date(2017, 5, 27), stated_on=date(2017, 1, 1))
    assert by_kind(target)[("reminder", 30)] == date(2017, 4, 26)


def test_reminders_are_not_shifted_when_the_policy_says_so() -> None:
    saturday = TargetState(1, date(2016, 12, 19), stated_on=date(2016, 11, 1))
    christmas = TargetState(2, date(2017, 1, 25), stated_on=date(2016, 11, 1))
    assert by_kind(saturday, NO_SHIFT)[("reminder", 30)] == date(2016, 11, 19)
    assert by_kind(christmas, NO_SHIFT)[("reminder", 30)] == date(2016, 12, 26)


def test_the_due_alert_fires_the_morning_after_the_deadline_in_amsterdam() -> None:
    winter = TargetState(1, date(2016, 12, 20), stated_on=date(2016, 11, 1))
    summer = TargetState(2, date(2017, 6, 30), stated_on=date(2017, 1, 1))
    (due_winter,) = [ev for ev in events_for(winter, DEFAULT) if ev.kind is AlertKind.DUE]
    (due_summer,) = [ev for ev in events_for(summer, DEFAULT) if ev.kind is AlertKind.DUE]
    assert due_winter.fire_at == at("2016-12-21")
    assert due_winter.fire_at.astimezone(UTC) == datetime(2016, 12, 21, 8, tzinfo=UTC)
    assert due_summer.fire_at.astimezone(UTC) == datetime(2017, 7, 1, 7, tzinfo=UTC)
    assert due_winter.key == "t1/due/0/2016-12-20"
    # due at 09:00, not a minute before
    assert due_events([winter], DEFAULT, at("2016-12-21", 8)) == [
        ev for ev in events_for(winter, DEFAULT) if ev.kind is AlertKind.REMINDER
    ]
    assert due_winter in due_events([winter], DEFAULT, at("2016-12-21"))


def test_escalations_fire_n_days_after_the_deadline() -> None:
    policy = AlertPolicy(escalate_after_days=(30, 14), send_hour=8)
    target = TargetState(1, date(2016, 12, 20), stated_on=date(2016, 11, 1))
    escalations = [ev for ev in events_for(target, policy) if ev.kind is AlertKind.ESCALATION]
    assert [(ev.days, ev.fire_at) for ev in escalations] == [
        (14, at("2017-01-03", 8)),
        (30, at("2017-01-19", 8)),
    ]
    assert [ev.key for ev in escalations] == [
        "t1/escalation/14/2016-12-20",
        "t1/escalation/30/2016-12-20",
    ]


def test_a_reminder_before_the_target_was_stated_is_not_raised() -> None:
    target = TargetState(1, date(2016, 12, 20), stated_on=date(2016, 12, 1))
    assert [(ev.kind.value, ev.days) for ev in events_for(target, DEFAULT)] == [
        ("reminder", 7),
        ("due", 0),
        ("escalation", 30),
    ]
    everything = due_events([target], DEFAULT, at("2017-06-01"))
    assert ("reminder", 30) not in {(ev.kind.value, ev.days) for ev in everything}


def test_a_target_met_before_its_deadline_keeps_only_its_earlier_reminders() -> None:
    target = TargetState(
        1, date(2016, 12, 20), stated_on=date(2016, 11, 1), closed_on=date(2016, 12, 13)
    )
    # reminder 7 fires on 13 December itself: the day it was met, so not any more
    assert keys(due_events([target], DEFAULT, at("2017-06-01"))) == {"t1/reminder/30/2016-12-20"}
    assert next_fire_time([target], DEFAULT, at("2016-11-20")) is None


def test_scan_window_of_the_default_policy() -> None:
    assert scan_window(DEFAULT, date(2016, 11, 1)) == (date(2016, 10, 1), date(2016, 12, 15))
    assert scan_window(NO_SHIFT, date(2016, 11, 1)) == (date(2016, 10, 1), date(2016, 12, 2))


# -- catch-up: only the most advanced event of a target is news (issue 11) ------------------


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments)
def test_superseded_leaves_exactly_the_latest_event_of_each_target(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    due = due_events(targets, policy, now)
    skipped = superseded(due)
    kept = [ev for ev in due if ev.key not in skipped]
    # one event per target that has any, and it is the last to fire of that target's
    assert sorted(ev.target_id for ev in kept) == sorted({ev.target_id for ev in due})
    for ev in kept:
        assert all(other.fire_at <= ev.fire_at for other in due if other.target_id == ev.target_id)
    # each superseded event names its own target's kept event, which fires no earlier
    kept_key = {ev.target_id: ev.key for ev in kept}
    for ev in due:
        if ev.key in skipped:
            assert skipped[ev.key] == kept_key[ev.target_id]
    # the order the events come in does not matter
    assert superseded(list(reversed(due))) == skipped


@PROPERTY
@given(targets=target_lists(), policy=policies, now=moments)
def test_a_scan_that_finds_one_event_per_target_supersedes_nothing(
    targets: list[TargetState], policy: AlertPolicy, now: datetime
) -> None:
    due = due_events(targets, policy, now)
    latest = {ev.target_id: ev for ev in sorted(due, key=lambda ev: ev.fire_at)}
    assert superseded(latest.values()) == {}


def test_catching_up_past_the_deadline_sends_te_laat_not_the_reminders() -> None:
    """The first start on 1 November 2016: deadline 10 October, stated in August."""
    target = TargetState(7, date(2016, 10, 10), date(2016, 8, 1))
    due = due_events([target], DEFAULT, at("2016-11-01"))
    assert [(ev.kind, ev.days) for ev in due] == [
        (AlertKind.REMINDER, 30),
        (AlertKind.REMINDER, 7),
        (AlertKind.DUE, 0),
    ]
    assert superseded(due) == {
        "t7/reminder/30/2016-10-10": "t7/due/0/2016-10-10",
        "t7/reminder/7/2016-10-10": "t7/due/0/2016-10-10",
    }
    # 40 days later the escalation overtakes "te laat" too
    later = due_events([target], DEFAULT, at("2016-11-20"))
    assert set(superseded(later).values()) == {"t7/escalation/30/2016-10-10"}


def test_single_line_makes_every_line_break_one_space() -> None:
    assert single_line(" Plan\r\nvan\u2028aanpak\x85en\vmeer \t") == "Plan van aanpak en meer"
    assert single_line("gewoon") == "gewoon"

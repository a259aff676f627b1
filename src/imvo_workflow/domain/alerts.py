"""Which alerts should exist by now: a pure function of (targets, policy, now).

The scheduler only computes; the database keeps the truth. For each target this module lists
its events (reminders before the deadline, a due alert the day after it, escalations later),
each with a stable key and the moment it fires. A scan inserts the events whose moment has
come; the unique key makes a second insert of the same event a no-op, so a restart, a
catch-up after downtime or several schedulers all end with one alert per event.

An event of a target that was met or cancelled fires only if its day came before the target
was closed; as `now` advances the set of due events only grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


class AlertKind(StrEnum):
    REMINDER = "reminder"
    DUE = "due"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    lead_days: tuple[int, ...] = (30, 7)
    escalate_after_days: tuple[int, ...] = (30,)
    send_hour: int = 9
    timezone: str = "Europe/Amsterdam"
    shift_to_working_day: bool = True


@dataclass(frozen=True, slots=True)
class TargetState:
    """What the alert rules need to know of a target."""

    id: int
    deadline: date
    #: The day the target was stated: reminders before it are not sent.
    stated_on: date
    #: The day it was met or cancelled; None while open.
    closed_on: date | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    key: str
    target_id: int
    kind: AlertKind
    days: int
    deadline: date
    fire_at: datetime


@lru_cache(maxsize=64)
def _dutch_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=[year]))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def previous_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the closest working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def events_for(target: TargetState, policy: AlertPolicy) -> Iterator[AlertEvent]:
    """Every event of one target, due or not, in firing order of kind."""
    zone = ZoneInfo(policy.timezone)
    at = time(policy.send_hour)

    def event(kind: AlertKind, days: int, day: date) -> AlertEvent:
        key = f"t{target.id}/{kind.value}/{days}/{target.deadline.isoformat()}"
        return AlertEvent(
            key, target.id, kind, days, target.deadline, datetime.combine(day, at, zone)
        )

    for lead in sorted(policy.lead_days, reverse=True):
        day = target.deadline - timedelta(days=lead)
        if policy.shift_to_working_day:
            day = previous_working_day(day)
        if day >= target.stated_on:
            yield event(AlertKind.REMINDER, lead, day)
    yield event(AlertKind.DUE, 0, target.deadline + timedelta(days=1))
    for after in sorted(policy.escalate_after_days):
        yield event(AlertKind.ESCALATION, after, target.deadline + timedelta(days=after))


def _live(target: TargetState, event: AlertEvent) -> bool:
    return target.closed_on is None or event.fire_at.date() < target.closed_on


def due_events(
    targets: Iterable[TargetState], policy: AlertPolicy, now: datetime
) -> list[AlertEvent]:
    """The events whose moment has come by `now` (and whose target was still open then)."""
    return [
        ev
        for target in targets
        for ev in events_for(target, policy)
        if ev.fire_at <= now and _live(target, ev)
    ]


def next_fire_time(
    targets: Iterable[TargetState], policy: AlertPolicy, now: datetime
) -> datetime | None:
    """The earliest moment after `now` at which a new event becomes due, if any."""
    upcoming = (
        ev.fire_at
        for target in targets
        for ev in events_for(target, policy)
        if ev.fire_at > now and _live(target, ev)
    )
    return min(upcoming, default=None)


def scan_window(policy: AlertPolicy, today: date) -> tuple[date, date]:
    """Deadlines a scan on `today` must look at: from the last escalation back to the first reminder ahead.

    Reminders shift at most a couple of weeks for holidays; the margin covers that.
    """
    margin = 14 if policy.shift_to_working_day else 1
    back = max(policy.escalate_after_days, default=0) + 1
    ahead = max(policy.lead_days, default=0) + margin
    return today - timedelta(days=back), today + timedelta(days=ahead)

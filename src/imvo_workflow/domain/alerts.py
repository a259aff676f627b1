"""Which alerts should exist by now: a pure function of (targets, policy, now).

The scheduler only computes; the database keeps the truth. For each target this module lists
its events (reminders before the deadline, a due alert the day after it, escalations later),
each with a stable key and the moment it fires. A scan inserts the events whose moment has
come; the unique key makes a second insert of the same event a no-op, so a restart, a
catch-up after downtime or several schedulers all end with one alert per event.

An event of a target that was met or cancelled fires only if its day came before the target
was closed; as `now` advances the set of due events only grows.

A scan that catches up (after downtime, or the first one against old data) can find several
events of one target due at once: "te laat" and both reminders before it. Only the most
advanced one is news; `superseded` names the others, which the scan records as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays


class AlertKind(StrEnum):
    """Every kind of alert, with its Dutch name; the value is what the alert table stores.

    The first three are a target's events, raised by the rules below; a digest (a subscriber's
    daily overview) and a checkpoint (the audit digest sent to auditors) carry their own lines.
    """

    REMINDER = "reminder"
    DUE = "due"
    ESCALATION = "escalation"
    DIGEST = "digest"
    CHECKPOINT = "checkpoint"
    DELIVERY_FAILED = "delivery_failed"

    @property
    def label(self) -> str:
        """The Dutch name people read: in the inbox, in an e-mail's subject."""
        return _LABELS[self]

    @property
    def of_target(self) -> bool:
        """Raised for one target's deadline (not an overview with lines of its own)."""
        return self not in (AlertKind.DIGEST, AlertKind.CHECKPOINT, AlertKind.DELIVERY_FAILED)


_LABELS = {
    AlertKind.REMINDER: "Herinnering",
    AlertKind.DUE: "Deadline verstreken",
    AlertKind.ESCALATION: "Escalatie",
    AlertKind.DIGEST: "Dagoverzicht",
    AlertKind.CHECKPOINT: "Checkpoint",
    AlertKind.DELIVERY_FAILED: "Bezorging mislukt",
}


def single_line(text: str) -> str:
    """Free text that can end up in a header (a subject, an address) on one line.

    Every run of whitespace, line breaks included (also U+2028, NEL, vertical tab), becomes
    one space, and the ends are trimmed: an e-mail header cannot carry a line break.
    """
    return " ".join(text.split())


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


class AlertEvent(NamedTuple):
    """One event of one target. A tuple: a scan makes one per due event, thousands at a time."""

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


class _Step(NamedTuple):
    """One event of every target with a given deadline."""

    kind: AlertKind
    days: int
    day: date
    moment: datetime
    #: The event key after the target's id: "/due/0/2017-06-30".
    key_tail: str


@lru_cache(maxsize=4096)
def _schedule(deadline: date, policy: AlertPolicy) -> tuple[_Step, ...]:
    """The events of any target with this deadline, in order.

    Many targets share a deadline; the dates, holiday shifts, time zones and key texts are
    worked out once per deadline.
    """
    zone = ZoneInfo(policy.timezone)
    at = time(policy.send_hour)
    plan: list[tuple[AlertKind, int, date]] = []
    for lead in sorted(policy.lead_days, reverse=True):
        day = deadline - timedelta(days=lead)
        plan.append(
            (
                AlertKind.REMINDER,
                lead,
                previous_working_day(day) if policy.shift_to_working_day else day,
            )
        )
    plan.append((AlertKind.DUE, 0, deadline + timedelta(days=1)))
    plan += [
        (AlertKind.ESCALATION, after, deadline + timedelta(days=after))
        for after in sorted(policy.escalate_after_days)
    ]
    tail = deadline.isoformat()
    return tuple(
        _Step(kind, days, day, datetime.combine(day, at, zone), f"/{kind.value}/{days}/{tail}")
        for kind, days, day in plan
    )


def _event(target: TargetState, step: _Step) -> AlertEvent:
    return AlertEvent(
        f"t{target.id}{step.key_tail}",
        target.id,
        step.kind,
        step.days,
        target.deadline,
        step.moment,
    )


def events_for(target: TargetState, policy: AlertPolicy) -> Iterator[AlertEvent]:
    """Every event of one target, due or not (closing it does not remove any), in firing order."""
    for step in _schedule(target.deadline, policy):
        if step.kind is not AlertKind.REMINDER or step.day >= target.stated_on:
            yield _event(target, step)


def due_and_next(
    targets: Iterable[TargetState], policy: AlertPolicy, now: datetime
) -> tuple[list[AlertEvent], datetime | None]:
    """In one pass: the events due by `now` (target still open then), and the next moment after.

    An event can fire if it is not a reminder from before the target was stated and its day
    came before the target was closed. (The scan's inner loop: a few steps per candidate.)
    """
    due: list[AlertEvent] = []
    upcoming: datetime | None = None
    reminder = AlertKind.REMINDER
    for target in targets:
        closed_on = target.closed_on
        for step in _schedule(target.deadline, policy):
            if (step.kind is reminder and step.day < target.stated_on) or (
                closed_on is not None and step.day >= closed_on
            ):
                continue
            if step.moment <= now:
                due.append(_event(target, step))
            elif upcoming is None or step.moment < upcoming:
                upcoming = step.moment
    return due, upcoming


def due_events(
    targets: Iterable[TargetState], policy: AlertPolicy, now: datetime
) -> list[AlertEvent]:
    """The events whose moment has come by `now` (and whose target was still open then)."""
    return due_and_next(targets, policy, now)[0]


def next_fire_time(
    targets: Iterable[TargetState], policy: AlertPolicy, now: datetime
) -> datetime | None:
    """The earliest moment after `now` at which a new event becomes due, if any."""
    return due_and_next(targets, policy, now)[1]


def scan_window(policy: AlertPolicy, today: date) -> tuple[date, date]:
    """Deadlines a scan on `today` must look at: from the last escalation back to the first reminder ahead.

    Reminders shift at most a couple of weeks for holidays; the margin covers that.
    """
    margin = 14 if policy.shift_to_working_day else 1
    back = max(policy.escalate_after_days, default=0) + 1
    ahead = max(policy.lead_days, default=0) + margin
    return today - timedelta(days=back), today + timedelta(days=ahead)


def _advance(event: AlertEvent) -> tuple[datetime, int, int]:
    """How far along its target's schedule an event is: later fires, then kind, then days."""
    rank = _RANK[event.kind]
    return event.fire_at, rank, -event.days if event.kind is AlertKind.REMINDER else event.days


_RANK = {AlertKind.REMINDER: 0, AlertKind.DUE: 1, AlertKind.ESCALATION: 2}


def superseded(events: Iterable[AlertEvent]) -> dict[str, str]:
    """Of events raised together, each one that a more advanced event of its target overtook.

    Maps the superseded event's key to the key of its target's most advanced event. A scan
    that runs on time finds one new event per target and supersedes nothing; one that catches
    up sends only the latest news ("te laat", not the reminder that it will be late).
    """
    raised = list(events)
    latest: dict[int, AlertEvent] = {}
    for event in raised:
        best = latest.get(event.target_id)
        if best is None or _advance(event) > _advance(best):
            latest[event.target_id] = event
    return {
        event.key: latest[event.target_id].key
        for event in raised
        if event.key != latest[event.target_id].key
    }

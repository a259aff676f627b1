"""An .ics calendar of deadlines, which Outlook and Google Calendar can subscribe to.

An event's UID is its target's id and nothing else: a rescheduled target is the same event
moved, never a new one beside the old. The feed has no METHOD, so an event's DTSTAMP and
LAST-MODIFIED are when its target was last revised (RFC 5545 §3.8.7.2), which also makes the
same data give the same bytes, and so the same ETag, on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event


@dataclass(frozen=True, slots=True)
class Deadline:
    target_id: int
    covenant: str
    title: str
    what: str
    phrase: str
    deadline: date
    revised_at: datetime
    link: str = ""


def event_uid(target_id: int) -> str:
    """The calendar UID of a target's deadline, the same for as long as the target lives."""
    return f"target-{target_id}@imvo-workflow"


def last_revised(deadlines: list[Deadline]) -> datetime | None:
    """When the newest event in the feed was revised (None for an empty feed)."""
    return max((item.revised_at for item in deadlines), default=None)


def calendar(deadlines: list[Deadline], *, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//imvo-workflow//deadlines//NL")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Amsterdam")
    cal.add("refresh-interval;value=duration", "PT1H")
    for item in deadlines:
        event = Event()
        event.add("uid", event_uid(item.target_id))
        event.add("dtstamp", item.revised_at)
        event.add("last-modified", item.revised_at)
        event.add("dtstart", item.deadline)
        event.add("dtend", item.deadline + timedelta(days=1))
        event.add("summary", f"Deadline {item.title}: {item.what}")
        event.add(
            "description", f'Termijn: "{item.phrase}"' + (f"\n{item.link}" if item.link else "")
        )
        if item.link:
            event.add("url", item.link)
        cal.add_component(event)
    return bytes(cal.to_ical())

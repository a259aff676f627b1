"""An .ics calendar of deadlines, which Outlook and Google Calendar can subscribe to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event


@dataclass(frozen=True, slots=True)
class Deadline:
    uid: str
    covenant: str
    title: str
    what: str
    phrase: str
    deadline: date
    link: str = ""


def calendar(deadlines: list[Deadline], *, name: str, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//imvo-workflow//deadlines//NL")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Amsterdam")
    cal.add("refresh-interval;value=duration", "PT1H")
    for item in deadlines:
        event = Event()
        event.add("uid", f"{item.uid}@imvo-workflow")
        event.add("dtstamp", now)
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

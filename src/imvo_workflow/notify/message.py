"""What an alert says, in plain Dutch, for every channel.

One AlertMessage per delivery; e-mail renders it as text and as html (the same lines,
escaped), the webhook as JSON. The alert's
key travels along as the idempotency key, so a receiver can drop a repeated delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from imvo_workflow.domain.alerts import AlertKind


def dagen(count: int) -> str:
    """A number of days in Dutch: "1 dag", "29 dagen"."""
    return "1 dag" if count == 1 else f"{count} dagen"


@dataclass(frozen=True, slots=True)
class AlertMessage:
    alert_id: int
    key: str
    kind: AlertKind
    days: int
    covenant: str
    title: str
    sector: str
    stage: str
    what: str
    phrase: str
    deadline: date | None
    today: date
    base_url: str = ""
    #: For digests and checkpoints: the lines of the overview.
    lines: tuple[str, ...] = ()

    @property
    def link(self) -> str:
        return f"{self.base_url.rstrip('/')}/convenanten/{self.covenant}" if self.base_url else ""

    @property
    def overdue_days(self) -> int:
        return (
            (self.today - self.deadline).days if self.deadline and self.today > self.deadline else 0
        )

    def subject(self) -> str:
        if not self.kind.of_target:
            return f"[IMVO] {self.kind.label} {self.today.isoformat()}"
        return f"[IMVO] {self.kind.label}: {self.sector} — {self.what}"

    def text(self) -> str:
        if self.kind is AlertKind.DIGEST:
            body = ["Goedemorgen,", "", "Dit staat er vandaag open:", "", *self.lines]
            return "\n".join(body) + "\n"
        if not self.kind.of_target:
            return "\n".join(self.lines) + "\n"
        deadline = self.deadline.strftime("%d-%m-%Y") if self.deadline else "onbekend"
        lines = [
            f"Sector: {self.sector}",
            f"Convenant: {self.title} (fase {self.stage})",
            f"Doel: {self.what}",
            f'Termijn: "{self.phrase}", deadline {deadline}',
        ]
        if self.kind is AlertKind.REMINDER:
            lines.insert(0, f"Over {dagen(self.days)} verloopt de termijn van dit doel.\n")
        else:
            lines.insert(
                0, "De termijn van dit doel is verstreken en het doel is nog niet gehaald.\n"
            )
            lines.append(f"Te laat: {dagen(self.overdue_days)}")
        if self.link:
            lines.append(f"Bekijk het convenant: {self.link}")
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """The text part as html: every line escaped, the link made clickable."""
        link = escape(self.link, quote=True)
        lines = [
            f'<a href="{link}">{escape(line)}</a>'
            if self.link and line.endswith(self.link)
            else escape(line)
            for line in self.text().rstrip("\n").split("\n")
        ]
        return (
            '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
            f"<title>{escape(self.subject())}</title></head>\n"
            "<body><p>" + "<br>\n".join(lines) + "</p></body></html>\n"
        )

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.alert_id,
            "key": self.key,
            "kind": self.kind.value,
            "days": self.days,
            "covenant": self.covenant,
            "title": self.title,
            "sector": self.sector,
            "stage": self.stage,
            "target": self.what,
            "phrase": self.phrase,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "overdue_days": self.overdue_days,
            "link": self.link or None,
            "lines": list(self.lines),
            "text": self.text(),
        }

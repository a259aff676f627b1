"""What a target is called wherever people read it: alerts, e-mails, digests, calendars, pages.

A target is either a stage to reach ("fase ondertekend") or a milestone in its own words
("Plan van aanpak gepubliceerd"). One function names it, so an alert, its e-mail, the
digest line and the calendar entry of the same target say the same thing.
"""

from __future__ import annotations


def target_name(stage: str | None, milestone: str | None) -> str:
    """The milestone's text, or "fase <stage>"; empty for no target at all (a digest)."""
    if milestone:
        return milestone
    return f"fase {stage}" if stage else ""

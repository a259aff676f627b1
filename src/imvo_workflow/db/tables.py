"""Core table handles for hot paths (moves, scans), taken from the ORM classes."""

from __future__ import annotations

from sqlalchemy import Table

from imvo_workflow.db.models import (
    Covenant,
    Organisation,
    Participation,
    Sector,
    Target,
    TransitionRecord,
)

covenant: Table = Covenant.__table__  # type: ignore[assignment]
sector: Table = Sector.__table__  # type: ignore[assignment]
organisation: Table = Organisation.__table__  # type: ignore[assignment]
participation: Table = Participation.__table__  # type: ignore[assignment]
transition: Table = TransitionRecord.__table__  # type: ignore[assignment]
target: Table = Target.__table__  # type: ignore[assignment]

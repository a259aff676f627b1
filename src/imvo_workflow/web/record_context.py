"""What the covenant page needs for its record sections, read on `?peildatum=YYYY-MM-DD`.

web/pages.py calls this while it builds the covenant page; it lives apart from the record's
routes (web/pages_record.py, which render through pages.py) so neither imports the other.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.parties import PartyRole
from imvo_workflow.services.organisations import list_organisations
from imvo_workflow.services.parties import party_overview

ROLES = [(role.value, role.label) for role in PartyRole]


def peildatum(request: Request) -> date | None:
    """The day the page shows (None: now); a malformed one is refused, not ignored."""
    value = request.query_params.get("peildatum")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Peildatum: '{value}' is geen datum (JJJJ-MM-DD).") from None


def parties_context(app: App, request: Request, slug: str) -> dict[str, Any]:
    """The parties section: on the peildatum, and what its forms offer."""
    day = peildatum(request)
    with app.uow(readonly=True) as uow:
        overview = party_overview(conn=uow.conn, covenant=slug, day=day)
        organisations = [(o.name, o.kind) for o in list_organisations(conn=uow.conn)]
    return {
        "parties": overview,
        "organisations": organisations,
        "party_roles": ROLES,
        "peildatum": day,
    }

"""Recording who signed a covenant, and when (the ondertekend move may require enough of them)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.db.upsert import insert_ignoring_conflict
from imvo_workflow.domain.bounds import check_date, check_label
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import InvalidInput, NotFound, RequirementMissing
from imvo_workflow.services import lookup


@dataclass(frozen=True, slots=True)
class SignatureView:
    organisation: str
    signed_on: date
    actor: str


def sign(
    *,
    uow: UnitOfWork,
    covenant: str,
    organisation: str,
    signed_on: date,
    actor: str,
    now: datetime,
) -> bool:
    """Record that `organisation` signed; False if it had already signed."""
    check_label(actor, "Wie het vastlegt")
    check_label(organisation, "De organisatie")
    check_date(signed_on, "De datum van ondertekening")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie dit vastlegt.", "actor")
    if signed_on > now.astimezone(AMSTERDAM).date():
        raise InvalidInput(f"De datum {signed_on} ligt in de toekomst.")
    o = t.organisation
    with uow:
        covenant_id = lookup.covenant_id(uow.conn, covenant)
        org_id = uow.conn.execute(select(o.c.id).where(o.c.name == organisation)).scalar()
        if org_id is None:
            names = list(uow.conn.execute(select(o.c.name)).scalars())
            raise NotFound(
                "organisatie", organisation, difflib.get_close_matches(organisation, names, n=3)
            )
        added = insert_ignoring_conflict(
            uow.conn,
            t.signature,
            {
                "covenant_id": covenant_id,
                "organisation_id": org_id,
                "signed_on": signed_on,
                "actor": actor,
                "recorded_at": now.astimezone(UTC),
            },
            ["covenant_id", "organisation_id"],
        )
        uow.commit()
    return added


def signatures(*, conn: Connection, covenant: str) -> list[SignatureView]:
    covenant_id = lookup.covenant_id(conn, covenant)
    sg, o = t.signature, t.organisation
    return [
        SignatureView(r.name, r.signed_on, r.actor)
        for r in conn.execute(
            select(o.c.name, sg.c.signed_on, sg.c.actor)
            .join(o, o.c.id == sg.c.organisation_id)
            .where(sg.c.covenant_id == covenant_id)
            .order_by(sg.c.signed_on, o.c.name)
        )
    ]

"""Who may sign, and recording their signatures: the part of signing inside a transaction.

Only an organisation that is a party on the day signs (trekker, partij or facilitator whose
participation covers that day), or one the caller adds as `partij` in the same step. A
signature is not dated in the future, nor before the covenant's dialogue or declaration of
intent began. Each signature is a `signature` row and an `ondertekenaar` entry (a party added
here also a `participation` row and a `partij_toegevoegd` entry), all in the caller's
transaction. `plan` checks everything before the first write; `record` writes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, and_, insert, or_, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import check_date, check_label
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput, NotFound, RequirementMissing
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.services import history
from imvo_workflow.services.asof import effective_steps, history_rows
from imvo_workflow.services.history import Head
from imvo_workflow.services.milestones import after_entry

#: The stage a covenant is signed in.
SIGNED = "ondertekend"
#: The stages from whose start a signature may be dated.
SIGNING_STARTS = ("dialoog", "intentieverklaring")
#: The roles that sign for a covenant.
SIGNING_ROLES = ("trekker", "partij", "facilitator")
#: How many organisations one step may name.
MAX_SIGNATORIES = 100


@dataclass(frozen=True, slots=True)
class Signatory:
    organisation_id: int
    name: str
    #: Not yet a party on the day: added as `partij` in the same step.
    joins: bool


def check_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Bounded, non-empty names, each once (in the order given)."""
    if len(names) > MAX_SIGNATORIES:
        raise InvalidInput(f"Te veel ondertekenaars in één stap: maximaal {MAX_SIGNATORIES}.")
    for name in names:
        check_label(name, "De organisatie")
        if not name.strip():
            raise RequirementMissing("Noem de organisatie die tekende.", "organisation")
    return tuple(dict.fromkeys(name.strip() for name in names))


def signing_began(conn: Connection, covenant_id: int) -> date | None:
    """The day the covenant's dialogue or declaration of intent first began (corrections
    applied); None when it never did."""
    steps = effective_steps(history_rows(conn, covenant_id)).get(covenant_id, [])
    days = [s.occurred_on for s in steps if s.to_stage in SIGNING_STARTS]
    return min(days) if days else None


def check_day(conn: Connection, head: Head, on: date, now: datetime) -> None:
    check_date(on, "De datum van ondertekening")
    if on > now.astimezone(AMSTERDAM).date():
        raise InvalidInput(f"De datum van ondertekening {on.isoformat()} ligt in de toekomst.")
    began = signing_began(conn, head.covenant_id)
    if began is None and head.stage in SIGNING_STARTS:
        began = head.stage_since
    if began is None:
        raise InvalidInput(
            f"{head.slug} heeft nog geen dialoog of intentieverklaring gehad; tekenen kan pas daarna."
        )
    if on < began:
        raise InvalidInput(
            f"De datum van ondertekening {on.isoformat()} ligt vóór het begin van de dialoog of "
            f"intentieverklaring van {head.slug} ({began.isoformat()})."
        )


def plan(
    conn: Connection, head: Head, names: tuple[str, ...], on: date, *, add_as_party: bool
) -> list[Signatory]:
    """Resolve and check every signatory; refuse the whole step at the first problem."""
    o, pa, sg = t.organisation, t.participation, t.signature
    found = []
    for name in check_names(names):
        org_id = conn.execute(select(o.c.id).where(o.c.name == name)).scalar()
        if org_id is None:
            known = list(conn.execute(select(o.c.name)).scalars())
            raise NotFound("organisatie", name, difflib.get_close_matches(name, known, n=3))
        signed = conn.execute(
            select(sg.c.signed_on).where(
                sg.c.covenant_id == head.covenant_id, sg.c.organisation_id == org_id
            )
        ).scalar()
        if signed is not None:
            raise InvalidInput(f"{name} heeft {head.slug} al ondertekend op {signed}.")
        party = conn.execute(
            select(pa.c.id).where(
                pa.c.covenant_id == head.covenant_id,
                pa.c.organisation_id == org_id,
                pa.c.role.in_(SIGNING_ROLES),
                or_(pa.c.since.is_(None), pa.c.since <= on),
                or_(pa.c.until.is_(None), pa.c.until >= on),
            )
        ).first()
        if party is None and not add_as_party:
            raise InvalidInput(
                f"{name} is op {on.isoformat()} geen partij van {head.slug} en kan dus niet "
                "tekenen. Voeg de organisatie eerst toe als partij, of teken met "
                "'toevoegen als partij'."
            )
        if party is None:
            current = conn.execute(
                select(pa.c.since).where(
                    pa.c.covenant_id == head.covenant_id,
                    pa.c.organisation_id == org_id,
                    pa.c.role == "partij",
                    and_(pa.c.until.is_(None)),
                )
            ).first()
            if current is not None:
                raise InvalidInput(
                    f"{name} is pas partij van {head.slug} sinds {current.since}; een "
                    "handtekening kan niet eerder."
                )
        found.append(Signatory(int(org_id), name, party is None))
    return found


def record(
    conn: Connection,
    head: Head,
    definition: WorkflowDefinition,
    signatories: list[Signatory],
    *,
    on: date,
    actor: str,
    now: datetime,
) -> Head:
    """Write the planned signatures (and the parties they bring); returns the head after."""
    moment = now.astimezone(UTC)
    for who in signatories:
        if who.joins:
            participation_id = conn.execute(
                insert(t.participation).returning(t.participation.c.id),
                {
                    "covenant_id": head.covenant_id,
                    "organisation_id": who.organisation_id,
                    "role": "partij",
                    "since": on,
                },
            ).scalar_one()
            seq, digest = history.record(
                conn,
                head,
                RecordKind.PARTY_JOINED,
                {
                    "organisation": who.name,
                    "organisation_id": who.organisation_id,
                    "role": "partij",
                    "participation_id": int(participation_id),
                },
                actor=actor,
                reason="toegevoegd bij het ondertekenen",
                occurred_on=on,
                definition_version=definition.version,
                now=now,
            )
            head = after_entry(head, seq, digest)
        signature_id = conn.execute(
            insert(t.signature).returning(t.signature.c.id),
            {
                "covenant_id": head.covenant_id,
                "organisation_id": who.organisation_id,
                "signed_on": on,
                "actor": actor,
                "recorded_at": moment,
            },
        ).scalar_one()
        seq, digest = history.record(
            conn,
            head,
            RecordKind.SIGNATURE,
            {
                "organisation": who.name,
                "organisation_id": who.organisation_id,
                "signature_id": int(signature_id),
            },
            actor=actor,
            reason="",
            occurred_on=on,
            definition_version=definition.version,
            now=now,
        )
        head = after_entry(head, seq, digest)
    return head

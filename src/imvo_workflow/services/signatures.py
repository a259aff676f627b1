"""Signing a covenant, and who signed it when (now, on a day, or as known on a day).

`sign` is the user action: a covenant not yet signed is signed in one step, the move to
ondertekend with its list of signatories (services/moves.py); a covenant already signed gets
the extra signatories recorded. Either way every signature is a chain entry (`ondertekenaar`)
beside its `signature` row, in one transaction (services/signatories.py checks and writes).

The reads fold the chain: `signatures_on` replays the `ondertekenaar` entries, corrections
applied, as they stood on a day or as the database knew them at a moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_label, check_text
from imvo_workflow.domain.chain import CORRECTION_TRIGGER
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import RequirementMissing
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.domain.value import value
from imvo_workflow.services import history, lookup, signatories
from imvo_workflow.services.moves import MoveRequest, make_move
from imvo_workflow.services.queries import aware

_SIGNATURE_ROWS = frozenset({RecordKind.SIGNATURE.value, CORRECTION_TRIGGER})


@value
class SignatureView:
    organisation: str
    signed_on: date
    actor: str
    signature_id: int | None = None


@dataclass(frozen=True, slots=True)
class SignResult:
    covenant: str
    #: True when this step signed the covenant (the move to ondertekend).
    moved: bool
    signed: list[str]
    signed_on: date
    version: int


def sign(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    organisations: tuple[str, ...],
    signed_on: date,
    actor: str,
    reason: str = "",
    add_as_party: bool = False,
    role: str | None = None,
    now: datetime,
) -> SignResult:
    """Record that `organisations` signed `covenant` on `signed_on`, in one step."""
    check_label(actor, "Wie het vastlegt")
    check_text(reason, "De reden")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie dit vastlegt.")
    names = signatories.check_names(organisations)
    if not names:
        raise RequirementMissing("Noem minstens één organisatie die tekende.", "organisation")
    with uow:
        head = history.read_head(uow.conn, covenant)
        if head.stage != signatories.SIGNED:
            result = make_move(
                uow.conn,
                definition,
                MoveRequest(
                    head.slug,
                    signatories.SIGNED,
                    actor,
                    reason or f"Ondertekend door {', '.join(names)}",
                    signed_on,
                    role=role,
                    signatories=names,
                    add_as_party=add_as_party,
                ),
                now=now,
            )
            version, moved = result.version, True
        else:
            signatories.check_day(uow.conn, head, signed_on, now)
            planned = signatories.plan(uow.conn, head, names, signed_on, add_as_party=add_as_party)
            after = signatories.record(
                uow.conn, head, definition, planned, on=signed_on, actor=actor, now=now
            )
            version, moved = after.version, False
        uow.commit()
    return SignResult(head.slug, moved, list(names), signed_on, version)


def signatures(*, conn: Connection, covenant: str) -> list[SignatureView]:
    """Who signed, from the signature rows (kept equal to the chain by every write)."""
    covenant_id = lookup.covenant_id(conn, covenant)
    sg, o = t.signature, t.organisation
    return [
        SignatureView(r.name, r.signed_on, r.actor, r.id)
        for r in conn.execute(
            select(o.c.name, sg.c.signed_on, sg.c.actor, sg.c.id)
            .join(o, o.c.id == sg.c.organisation_id)
            .where(sg.c.covenant_id == covenant_id)
            .order_by(sg.c.signed_on, o.c.name)
        )
    ]


def signatures_on(
    conn: Connection, covenant_id: int, day: date | None, known_by: datetime | None
) -> list[SignatureView]:
    """Who had signed the covenant by `day` (None: ever), as the chain says with its
    corrections, counting only entries recorded before `known_by` (None: all)."""
    return _fold(conn, covenant_id, day, known_by).get(covenant_id, [])


def all_signatures_on(
    conn: Connection, day: date | None, known_by: datetime | None
) -> dict[int, list[SignatureView]]:
    """signatures_on for every covenant at once (the report), by covenant id."""
    return _fold(conn, None, day, known_by)


def _fold(
    conn: Connection, covenant_id: int | None, day: date | None, known_by: datetime | None
) -> dict[int, list[SignatureView]]:
    tr = t.transition
    query = (
        select(
            tr.c.covenant_id,
            tr.c.seq,
            tr.c.trigger,
            tr.c.actor,
            tr.c.occurred_on,
            tr.c.recorded_at,
            tr.c.corrects_seq,
            tr.c.detail,
        )
        .where(or_(tr.c.trigger == RecordKind.SIGNATURE.value, tr.c.trigger == CORRECTION_TRIGGER))
        .order_by(tr.c.covenant_id, tr.c.seq)
    )
    if covenant_id is not None:
        query = query.where(tr.c.covenant_id == covenant_id)
    return fold_signatures(conn.execute(query), day, known_by)


def fold_signatures(
    rows: Iterable[Any], day: date | None, known_by: datetime | None = None
) -> dict[int, list[SignatureView]]:
    """Who had signed each covenant by `day`, from its chain rows in (covenant, seq) order
    (pure: the report passes every row it read once; rows of other kinds are passed over)."""
    found: dict[int, dict[int, SignatureView]] = defaultdict(dict)
    for r in rows:
        if r.trigger not in _SIGNATURE_ROWS:
            continue
        if known_by is not None and aware(r.recorded_at) >= known_by:
            continue
        mine = found[r.covenant_id]
        if r.trigger == CORRECTION_TRIGGER:
            if (fixed := mine.get(r.corrects_seq)) is not None:
                mine[r.corrects_seq] = SignatureView(
                    fixed.organisation, r.occurred_on, fixed.actor, fixed.signature_id
                )
            continue
        detail = read_detail(r.detail)
        mine[r.seq] = SignatureView(
            str(detail.get("organisation", "?")), r.occurred_on, r.actor, detail.get("signature_id")
        )
    return {
        cid: sorted(
            (v for v in views.values() if day is None or v.signed_on <= day),
            key=lambda v: (v.signed_on, v.organisation),
        )
        for cid, views in found.items()
    }

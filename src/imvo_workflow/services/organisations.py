"""Organisations: creating one, renaming one (the old name stays in the history), listing them.

An organisation's name is what every page and report shows, so a rename is a change of record:
the old name row is closed and a new one opened (organisation_name), and every covenant in
which the organisation is or was a party gets an `organisatie_hernoemd` entry in its chain, in
the same transaction, so the audit trail of that covenant says when its party's name changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import MAX_LABEL, check_id, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import ConcurrentUpdate, InvalidInput, NotFound, RequirementMissing
from imvo_workflow.domain.parties import check_kind
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.services import history


@dataclass(frozen=True, slots=True)
class OrganisationView:
    id: int
    name: str
    full_name: str | None
    kind: str
    former_names: list[str]
    covenants: int


@dataclass(frozen=True, slots=True)
class RenameResult:
    organisation_id: int
    old_name: str
    new_name: str
    #: The covenants whose chain got an `organisatie_hernoemd` entry.
    covenants: list[str]


def _check_name(name: str, what: str = "De naam van de organisatie") -> str:
    check_label(name, what)
    if not name.strip():
        raise RequirementMissing("Een organisatie heeft een naam nodig.", "name")
    if name != name.strip():
        raise InvalidInput(f"{what} '{name}' begint of eindigt met een spatie.")
    return name


def _refuse_taken(conn: Connection, name: str, but: int | None = None) -> None:
    o = t.organisation
    query = select(o.c.name).where(func.lower(o.c.name) == name.lower())
    if but is not None:
        query = query.where(o.c.id != but)
    taken = conn.execute(query).scalar()
    if taken is not None:
        raise InvalidInput(f"Er is al een organisatie '{taken}'.")


def insert_organisation(
    conn: Connection, *, name: str, kind: str, full_name: str | None, actor: str, now: datetime
) -> int:
    """Insert an organisation and its first name row in the caller's transaction; its id.

    No checks of kind: the seed also loads the legacy kinds (bedrijf, facilitator).
    """
    try:
        org_id = conn.execute(
            insert(t.organisation).returning(t.organisation.c.id),
            {"name": name, "kind": kind, "full_name": full_name},
        ).scalar_one()
    except IntegrityError as exc:  # a second coordinator added the same name meanwhile
        raise ConcurrentUpdate(f"Iemand anders heeft zojuist '{name}' toegevoegd.") from exc
    conn.execute(
        insert(t.organisation_name),
        {
            "organisation_id": org_id,
            "name": name,
            "replaced_at": None,
            "actor": actor,
            "reason": "",
            "recorded_at": now.astimezone(UTC),
        },
    )
    return int(org_id)


def create_organisation(
    *,
    uow: UnitOfWork,
    name: str,
    kind: str,
    full_name: str | None = None,
    actor: str,
    now: datetime,
) -> OrganisationView:
    """The user action: a new organisation of one of the kinds a coordinator chooses from."""
    _check_name(name)
    chosen = check_kind(kind)
    if full_name is not None:
        check_label(full_name, "De volledige naam", limit=2 * MAX_LABEL)
        full_name = full_name.strip() or None
    check_label(actor, "Wie het vastlegt")
    with uow:
        _refuse_taken(uow.conn, name)
        org_id = insert_organisation(
            uow.conn, name=name, kind=chosen.value, full_name=full_name, actor=actor, now=now
        )
        uow.commit()
    return OrganisationView(org_id, name, full_name, chosen.value, [], 0)


def find_organisation(conn: Connection, organisation: str | int) -> tuple[int, str]:
    """(id, name) of the organisation called `organisation` (or with that id); NotFound with
    the closest names otherwise. A name matches case-insensitively when only one does."""
    o = t.organisation
    if isinstance(organisation, int):
        check_id(organisation, "organisatie")
        row = conn.execute(select(o.c.id, o.c.name).where(o.c.id == organisation)).first()
        if row is None:
            raise NotFound("organisatie", str(organisation))
        return int(row.id), str(row.name)
    check_label(organisation, "De organisatie")
    rows = conn.execute(
        select(o.c.id, o.c.name).where(func.lower(o.c.name) == organisation.strip().lower())
    ).all()
    exact = [r for r in rows if r.name == organisation.strip()]
    if len(exact) == 1 or len(rows) == 1:
        found = (exact or rows)[0]
        return int(found.id), str(found.name)
    names = list(conn.execute(select(o.c.name)).scalars())
    raise NotFound(
        "organisatie", organisation, difflib.get_close_matches(organisation, names, n=3, cutoff=0.5)
    )


def rename_organisation(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    organisation: str | int,
    new_name: str,
    reason: str,
    actor: str,
    now: datetime,
) -> RenameResult:
    """Rename an organisation; the old name is kept, and each of its covenants' chains says so."""
    _check_name(new_name, "De nieuwe naam")
    check_text(reason, "De reden")
    check_label(actor, "Wie het vastlegt")
    if not reason.strip():
        raise RequirementMissing("Geef de reden van de naamswijziging.", "reason")
    moment = now.astimezone(UTC)
    with uow:
        conn = uow.conn
        org_id, old_name = find_organisation(conn, organisation)
        if new_name == old_name:
            raise InvalidInput(f"'{old_name}' heet al zo.")
        _refuse_taken(conn, new_name, but=org_id)
        on = t.organisation_name
        conn.execute(
            update(on)
            .where(on.c.organisation_id == org_id, on.c.replaced_at.is_(None))
            .values(replaced_at=moment)
        )
        conn.execute(
            insert(on),
            {
                "organisation_id": org_id,
                "name": new_name,
                "replaced_at": None,
                "actor": actor,
                "reason": reason,
                "recorded_at": moment,
            },
        )
        try:
            conn.execute(
                update(t.organisation).where(t.organisation.c.id == org_id).values(name=new_name)
            )
        except IntegrityError as exc:
            raise ConcurrentUpdate(f"Iemand anders heeft zojuist '{new_name}' toegevoegd.") from exc
        pa = t.participation
        covenant_ids = list(
            conn.execute(
                select(pa.c.covenant_id).where(pa.c.organisation_id == org_id).distinct()
            ).scalars()
        )
        slugs = []
        for covenant_id in sorted(covenant_ids):
            head = history.read_head_by_id(conn, covenant_id)
            history.record(
                conn,
                head,
                RecordKind.ORGANISATION_RENAMED,
                {"organisation_id": org_id, "old_name": old_name, "new_name": new_name},
                actor=actor,
                reason=reason,
                occurred_on=now.astimezone(AMSTERDAM).date(),
                definition_version=definition.version,
                now=now,
            )
            slugs.append(head.slug)
        uow.commit()
    return RenameResult(org_id, old_name, new_name, slugs)


def list_organisations(*, conn: Connection) -> list[OrganisationView]:
    """Every organisation by name, with its former names and in how many covenants it takes part."""
    o, on, pa = t.organisation, t.organisation_name, t.participation
    former: dict[int, list[str]] = {}
    for r in conn.execute(
        select(on.c.organisation_id, on.c.name)
        .where(on.c.replaced_at.is_not(None))
        .order_by(on.c.id)
    ):
        former.setdefault(r.organisation_id, []).append(r.name)
    counts: dict[int, int] = dict(
        conn.execute(
            select(pa.c.organisation_id, func.count(pa.c.covenant_id.distinct())).group_by(
                pa.c.organisation_id
            )
        ).all()
    )
    return [
        OrganisationView(
            r.id, r.name, r.full_name, r.kind, former.get(r.id, []), int(counts.get(r.id, 0))
        )
        for r in conn.execute(
            select(o.c.id, o.c.name, o.c.full_name, o.c.kind).order_by(func.lower(o.c.name))
        )
    ]

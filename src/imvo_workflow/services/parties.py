"""Parties over time: an organisation joins a covenant in a role from a date, and leaves it.

Each join and leave is one entry in the covenant's chain (`partij_toegevoegd`,
`partij_vertrokken`), written with the participation row it concerns in one transaction. Who
the parties were on a day, or as the database knew it at a moment, is the fold of those
entries (domain/parties.py), so the as-of and known-at views and the audit trail agree.
Participation rows that no entry speaks of (loaded before record-keeping) count as parties from
the start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_id, check_label, check_text
from imvo_workflow.domain.chain import CORRECTION_TRIGGER
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import ConcurrentUpdate, InvalidInput, NotFound, RequirementMissing
from imvo_workflow.domain.parties import (
    PartyEntry,
    PartyPeriod,
    PartyRole,
    check_role,
    fold_parties,
    holdings_on,
    unnamed_in,
)
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.domain.value import value
from imvo_workflow.services import history
from imvo_workflow.services.asof import end_of_day
from imvo_workflow.services.organisations import find_organisation
from imvo_workflow.services.queries import aware


@value
class PartyView:
    """An organisation's part in a covenant on the day asked; `until` set when it had left."""

    participation_id: int
    organisation_id: int
    name: str
    full_name: str | None
    kind: str
    role: str
    since: date | None
    until: date | None
    left_reason: str | None
    current: bool


@dataclass(frozen=True, slots=True)
class PartyOverview:
    """What a covenant page, `imvo parties list` and the API show: on `day` (None: now)."""

    covenant: str
    day: date | None
    known_at: bool
    current: list[PartyView]
    past: list[PartyView]
    unnamed: list[str]


@dataclass(frozen=True, slots=True)
class PartyResult:
    covenant: str
    participation_id: int
    organisation: str
    role: str
    since: date | None
    until: date | None
    seq: int
    version: int


def _today(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


def _check_common(actor: str, reason: str, on: date, now: datetime, what: str) -> None:
    check_label(actor, "Wie het vastlegt")
    check_text(reason, "De reden")
    check_date(on, what)
    if not actor.strip():
        raise RequirementMissing("Geef aan wie dit vastlegt.", "actor")
    if on > _today(now):
        raise InvalidInput(f"{what} {on.isoformat()} ligt in de toekomst.")


def _opened_on(conn: Connection, covenant_id: int) -> date:
    """The opening's date, as its latest correction has it."""
    tr = t.transition
    return conn.execute(  # type: ignore[no-any-return]
        select(tr.c.occurred_on)
        .where(tr.c.covenant_id == covenant_id, (tr.c.seq == 1) | (tr.c.corrects_seq == 1))
        .order_by(tr.c.seq.desc())
        .limit(1)
    ).scalar_one()


def add_party(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    organisation: str,
    role: str,
    since: date,
    actor: str,
    reason: str = "",
    now: datetime,
) -> PartyResult:
    """The user action: `organisation` takes part in `covenant` as `role` from `since`."""
    chosen = check_role(role)
    _check_common(actor, reason, since, now, "De datum van toetreden")
    with uow:
        conn = uow.conn
        head = history.read_head(conn, covenant)
        org_id, name = find_organisation(conn, organisation)
        pid, seq = join_in(
            conn, definition, head, org_id, name, chosen, since, actor, reason, now=now
        )
        uow.commit()
    return PartyResult(head.slug, int(pid), name, chosen.value, since, None, seq, head.version + 1)


def join_in(
    conn: Connection,
    definition: WorkflowDefinition,
    head: history.Head,
    org_id: int,
    name: str,
    chosen: PartyRole,
    since: date,
    actor: str,
    reason: str,
    *,
    now: datetime,
) -> tuple[int, int]:
    """The join inside the caller's transaction; returns (participation id, seq)."""
    if since < (opened := _opened_on(conn, head.covenant_id)):
        raise InvalidInput(
            f"{head.slug} is geopend op {opened.isoformat()}; {name} kan niet eerder "
            f"({since.isoformat()}) toetreden."
        )
    pa = t.participation
    earlier = conn.execute(
        select(pa.c.since, pa.c.until).where(
            pa.c.covenant_id == head.covenant_id,
            pa.c.organisation_id == org_id,
            pa.c.role == chosen.value,
        )
    ).all()
    for r in earlier:
        if r.until is None:
            raise InvalidInput(
                f"{name} is al {chosen.value} van {head.slug}"
                + (f" (sinds {r.since.isoformat()})." if r.since else ".")
            )
        if since <= r.until:
            raise InvalidInput(
                f"{name} was {chosen.value} van {head.slug} tot {r.until.isoformat()}; "
                f"opnieuw toetreden kan pas na die datum, niet op {since.isoformat()}."
            )
    try:
        pid = conn.execute(
            insert(pa).returning(pa.c.id),
            {
                "covenant_id": head.covenant_id,
                "organisation_id": org_id,
                "role": chosen.value,
                "since": since,
                "until": None,
                "left_reason": None,
            },
        ).scalar_one()
    except IntegrityError as exc:  # uq_participation_current: a concurrent join
        raise ConcurrentUpdate(
            f"Iemand anders heeft {name} zojuist als {chosen.value} toegevoegd."
        ) from exc
    seq, _ = record_join(
        conn, definition, head, pid, org_id, name, chosen.value, since, actor, reason, now
    )
    return int(pid), seq


def record_join(
    conn: Connection,
    definition: WorkflowDefinition,
    head: history.Head,
    participation_id: int,
    organisation_id: int,
    organisation: str,
    role: str,
    since: date,
    actor: str,
    reason: str,
    now: datetime,
) -> tuple[int, str]:
    """The `partij_toegevoegd` entry for a participation row just written (the seed uses it)."""
    return history.record(
        conn,
        head,
        RecordKind.PARTY_JOINED,
        {
            "organisation": organisation,
            "organisation_id": organisation_id,
            "role": role,
            "participation_id": int(participation_id),
        },
        actor=actor,
        reason=reason,
        occurred_on=since,
        definition_version=definition.version,
        now=now,
    )


def party_leaves(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    until: date,
    reason: str,
    actor: str,
    organisation: str | None = None,
    role: str | None = None,
    participation_id: int | None = None,
    now: datetime,
) -> PartyResult:
    """The user action: a party (by organisation and role, or by participation id) leaves on
    `until`, for `reason`."""
    _check_common(actor, reason, until, now, "De datum van vertrek")
    if not reason.strip():
        raise RequirementMissing("Geef de reden van het vertrek.", "reason")
    chosen = None if role is None or not role.strip() else check_role(role)
    if participation_id is not None:
        check_id(participation_id, "deelname")
    elif organisation is None:
        raise RequirementMissing("Geef aan welke organisatie vertrekt.", "organisation")
    with uow:
        conn = uow.conn
        head = history.read_head(conn, covenant)
        row = _the_participation(conn, head, organisation, chosen, participation_id)
        seq = leave_in(conn, definition, head, row, until, actor, reason, now=now)
        uow.commit()
    return PartyResult(
        head.slug, row.id, row.name, row.role, row.since, until, seq, head.version + 1
    )


def leave_in(
    conn: Connection,
    definition: WorkflowDefinition,
    head: history.Head,
    row: Any,
    until: date,
    actor: str,
    reason: str,
    *,
    now: datetime,
) -> int:
    """The leave of participation `row` (id, organisation_id, role, since, name) inside the
    caller's transaction; returns the entry's seq."""
    since = row.since or _opened_on(conn, head.covenant_id)
    if until < since:
        raise InvalidInput(
            f"{row.name} trad toe op {since.isoformat()}; vertrekken op "
            f"{until.isoformat()} zou daarvóór zijn."
        )
    pa = t.participation
    changed = conn.execute(
        update(pa)
        .where(pa.c.id == row.id, pa.c.until.is_(None))
        .values(until=until, left_reason=reason)
    )
    if changed.rowcount != 1:
        raise ConcurrentUpdate(f"Iemand anders heeft het vertrek van {row.name} net vastgelegd.")
    seq, _ = history.record(
        conn,
        head,
        RecordKind.PARTY_LEFT,
        {
            "organisation": row.name,
            "organisation_id": row.organisation_id,
            "role": row.role,
            "participation_id": row.id,
        },
        actor=actor,
        reason=reason,
        occurred_on=until,
        definition_version=definition.version,
        now=now,
    )
    return seq


def _the_participation(
    conn: Connection,
    head: history.Head,
    organisation: str | None,
    role: Any,
    participation_id: int | None,
) -> Any:
    """The one current participation meant; refuses a party that is none, or has left."""
    pa, o = t.participation, t.organisation
    query = (
        select(pa.c.id, pa.c.organisation_id, pa.c.role, pa.c.since, pa.c.until, o.c.name)
        .join(o, o.c.id == pa.c.organisation_id)
        .where(pa.c.covenant_id == head.covenant_id)
        .order_by(pa.c.id)
    )
    if participation_id is not None:
        query = query.where(pa.c.id == participation_id)
        shown = f"#{participation_id}"
    else:
        org_id, shown = find_organisation(conn, organisation or "")
        query = query.where(pa.c.organisation_id == org_id)
    if role is not None:
        query = query.where(pa.c.role == role.value)
    rows = conn.execute(query).all()
    if not rows:
        raise NotFound("partij", f"{shown} in {head.slug}")
    current = [r for r in rows if r.until is None]
    if not current:
        last = rows[-1]
        raise InvalidInput(
            f"{last.name} is al vertrokken uit {head.slug} op {last.until.isoformat()}."
        )
    if len(current) > 1:
        roles = ", ".join(r.role for r in current)
        raise RequirementMissing(
            f"{current[0].name} heeft meer dan één rol in {head.slug} ({roles}); geef de rol.",
            "role",
        )
    return current[0]


# -- reading ---------------------------------------------------------------------------

_PARTY_ROWS = frozenset(
    {RecordKind.PARTY_JOINED.value, RecordKind.PARTY_LEFT.value, CORRECTION_TRIGGER}
)


def _entries(conn: Connection, covenant_id: int | None) -> dict[int, list[PartyEntry]]:
    tr = t.transition
    kinds = sorted(_PARTY_ROWS)
    query = (
        select(
            tr.c.covenant_id,
            tr.c.seq,
            tr.c.trigger,
            tr.c.occurred_on,
            tr.c.recorded_at,
            tr.c.reason,
            tr.c.detail,
            tr.c.corrects_seq,
        )
        .where(tr.c.trigger.in_(kinds))
        .order_by(tr.c.covenant_id, tr.c.seq)
    )
    if covenant_id is not None:
        query = query.where(tr.c.covenant_id == covenant_id)
    found: dict[int, list[PartyEntry]] = defaultdict(list)
    for r in conn.execute(query):
        found[r.covenant_id].append(
            PartyEntry(
                r.seq,
                r.trigger,
                r.occurred_on,
                aware(r.recorded_at),
                r.reason,
                read_detail(r.detail),
                r.corrects_seq,
            )
        )
    return found


_pa, _o, _on = t.participation, t.organisation, t.organisation_name
_PARTICIPATION = select(
    _pa.c.id,
    _pa.c.covenant_id,
    _pa.c.organisation_id,
    _pa.c.role,
    _pa.c.since,
    _pa.c.until,
    _pa.c.left_reason,
).order_by(_pa.c.id)
#: Read straight from the driver (db/driver.DriverStatement.rows): a report reads them all.
_PARTICIPATIONS = DriverStatement(_PARTICIPATION)
_PARTICIPATIONS_OF = DriverStatement(
    _PARTICIPATION.where(_pa.c.covenant_id == bindparam("covenant_id"))
)
_ORGANISATIONS = DriverStatement(select(_o.c.id, _o.c.name, _o.c.full_name, _o.c.kind))
_NAMES = DriverStatement(
    select(_on.c.organisation_id, _on.c.name, _on.c.replaced_at).order_by(_on.c.id)
)


def _names_at(conn: Connection, moment: datetime | None) -> dict[int, str]:
    """Each organisation's name at `moment` (None: now), from its name history."""
    found: dict[int, str] = {}
    for r in _NAMES.rows(conn):
        if r.organisation_id in found:
            continue
        if r.replaced_at is None or (moment is not None and aware(r.replaced_at) > moment):
            found[r.organisation_id] = r.name
    return found


def parties_by_covenant(
    conn: Connection, day: date | None, known_by: datetime | None, covenant_id: int | None = None
) -> dict[int, list[PartyView]]:
    """Every covenant's (or one's) parties on `day` (None: now), as known before `known_by`, in
    the order they joined: legacy rows (that no entry speaks of, joined before any entry) first,
    by id as the participations are read; then the fold's periods, which it gives in join order."""
    entries = _entries(conn, covenant_id)
    if covenant_id is None:
        rows = _PARTICIPATIONS.rows(conn)
    else:
        rows = _PARTICIPATIONS_OF.rows(conn, {"covenant_id": covenant_id})
    orgs = {r.id: r for r in _ORGANISATIONS.rows(conn)}
    names = _names_at(conn, known_by or (end_of_day(day) if day is not None else None))
    rows_of: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        rows_of[r.covenant_id].append(r)
    found: dict[int, list[PartyView]] = defaultdict(list)
    for cid in sorted(set(rows_of) | set(entries)):
        spoken_of = {
            int(e.detail["participation_id"])
            for e in entries.get(cid, [])
            if "participation_id" in e.detail
        }
        legacy = [
            PartyPeriod(
                r.id, r.organisation_id, "", r.role, r.since, r.until, r.left_reason, 0, None
            )
            for r in rows_of.get(cid, [])
            if r.id not in spoken_of
        ]
        for period in legacy + fold_parties(entries.get(cid, []), day, known_by):
            org = orgs[period.organisation_id]
            found[cid].append(
                PartyView(
                    period.participation_id,
                    period.organisation_id,
                    names.get(period.organisation_id, org.name),
                    org.full_name,
                    org.kind,
                    period.role,
                    period.since,
                    period.until,
                    period.left_reason,
                    period.until is None,
                )
            )
    return found


def current_names_by_role(
    conn: Connection,
    day: date,
    known_by: datetime | None,
    rows: Iterable[Any],
    fixed: Mapping[int, Mapping[int, date]],
) -> dict[int, dict[str, list[str]]]:
    """Per covenant, the names of its parties on `day` by role, in the order they joined (legacy
    rows, that no entry speaks of, first): what the progress report prints of them, from the
    chain rows it read (`rows`, known by `known_by`; `fixed`: corrected dates, see
    domain/parties.holdings_on): parties_by_covenant's current parties, without the views."""
    holdings = holdings_on(rows, day, fixed)
    legacy: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for r in _PARTICIPATIONS.rows(conn):
        if r.until is None and r.id not in holdings.spoken_of.get(r.covenant_id, ()):
            legacy[r.covenant_id].append((r.organisation_id, r.role))
    orgs = {r.id: r.name for r in _ORGANISATIONS.rows(conn)}
    names = _names_at(conn, known_by or end_of_day(day))
    found: dict[int, dict[str, list[str]]] = {}
    for cid in sorted(holdings.held.keys() | legacy.keys()):
        by_role: dict[str, list[str]] = defaultdict(list)
        for organisation_id, role in legacy.get(cid, []) + holdings.held.get(cid, []):
            by_role[role].append(names.get(organisation_id, orgs[organisation_id]))
        if by_role:
            found[cid] = by_role
    return found


def parties_on(
    conn: Connection, covenant_id: int, day: date | None, known_by: datetime | None
) -> list[PartyView]:
    """One covenant's parties on `day` (None: now) as known before `known_by` (None: all)."""
    return parties_by_covenant(conn, day, known_by, covenant_id).get(covenant_id, [])


def unnamed_participants(conn: Connection, covenant_id: int) -> list[str]:
    """The covenant's notes that speak of participants the source does not name."""
    c = t.covenant
    notes = conn.execute(select(c.c.notes).where(c.c.id == covenant_id)).scalar()
    return unnamed_in(notes or [])


def party_overview(
    *, conn: Connection, covenant: str, day: date | None = None, known_at: bool = False
) -> PartyOverview:
    """Current and past parties and the unnamed participants of `covenant` on `day` (None: now);
    with `known_at`, as the database knew it at the end of `day`."""
    if day is not None:
        check_date(day, "De peildatum")
    if known_at and day is None:
        raise InvalidInput("Geef een peildatum om te zien wat toen bekend was.")
    head = history.read_head(conn, covenant)
    known_by = end_of_day(day) if known_at and day is not None else None
    views = parties_on(conn, head.covenant_id, day, known_by)
    return PartyOverview(
        covenant=head.slug,
        day=day,
        known_at=known_at,
        current=[v for v in views if v.current],
        past=[v for v in views if not v.current],
        unnamed=unnamed_participants(conn, head.covenant_id),
    )

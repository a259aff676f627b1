"""Read-side questions: where does every covenant stand, what does one look like, its history.

Plain data comes back (frozen dataclasses), so the CLI, the web pages and the API render the
same answers and `--json` is a dump of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.entry_text import EntryFacts, corrected_by, describe_all
from imvo_workflow.domain.record import read_detail
from imvo_workflow.domain.targets import target_name
from imvo_workflow.domain.value import value
from imvo_workflow.services import lookup


@value
class TargetView:
    id: int
    stage: str | None
    milestone: str | None
    description: str
    phrase: str
    reference_date: date
    period_start: date
    deadline: date
    status: str
    closed_on: date | None
    overdue: bool
    #: Planned against actual: days closed after the deadline (negative: before it).
    days_late: int | None = None
    close_reason: str | None = None

    @property
    def what(self) -> str:
        return target_name(self.stage, self.milestone)


@value
class StatusRow:
    slug: str
    title: str
    sector: str
    group: str
    parent: str | None
    stage: str
    since: date
    version: int
    next_target: TargetView | None
    overdue: bool
    #: The covenant it continued in (stage `opgegaan`): its slug and title, else None.
    continued_in: str | None = None
    continued_in_title: str | None = None

    @classmethod
    def of(
        cls, covenant: Any, *, stage: str, since: date, version: int, next_target: TargetView | None
    ) -> StatusRow:
        """A row of COVENANTS_IN_ORDER with where it stood (now, or on a day) and its next target."""
        # Continuing is final: a covenant that stood in its current stage then had continued.
        continued = covenant.continued_in is not None and stage == covenant.stage
        return cls(
            slug=covenant.slug,
            title=covenant.title,
            sector=covenant.sector,
            group=covenant.group,
            parent=covenant.parent,
            stage=stage,
            since=since,
            version=version,
            next_target=next_target,
            overdue=next_target is not None and next_target.overdue,
            continued_in=covenant.continued_in if continued else None,
            continued_in_title=covenant.continued_in_title if continued else None,
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    seq: int
    from_stage: str | None
    to_stage: str
    trigger: str
    actor: str
    reason: str
    occurred_on: date
    recorded_at: datetime
    hash: str
    corrects_seq: int | None = None
    #: What the entry did, in one Dutch line (domain/entry_text.py).
    description: str = ""
    #: The seq of the latest correction of this entry, if it was corrected.
    corrected_by: int | None = None


@dataclass(frozen=True, slots=True)
class PartyView:
    name: str
    full_name: str | None
    kind: str
    role: str


@dataclass(frozen=True, slots=True)
class CovenantDetail:
    status: StatusRow
    summary: str
    notes: list[str]
    parties: list[PartyView]
    targets: list[TargetView]
    history: list[HistoryEntry]


def _target_view(row: object, today: date) -> TargetView:
    r = row._mapping  # type: ignore[attr-defined]
    return TargetView(
        id=r["id"],
        stage=r["stage"],
        milestone=r["milestone"],
        description=r["description"],
        phrase=r["phrase"],
        reference_date=r["reference_date"],
        period_start=r["period_start"],
        deadline=r["deadline"],
        status=r["status"],
        closed_on=r["closed_on"],
        overdue=r["status"] == "open" and r["deadline"] < today,
        days_late=days_late(r["deadline"], r["closed_on"]),
        close_reason=r["close_reason"],
    )


def days_late(deadline: date, closed_on: date | None) -> int | None:
    """Planned against actual: positive when closed late, negative when early."""
    return None if closed_on is None else (closed_on - deadline).days


_PARENT = t.covenant.alias("parent")
_CONTINUED = t.covenant.alias("continued_in")
#: Every covenant in the document's order, with its sector and parent (and current stage).
COVENANTS_IN_ORDER = (
    select(
        t.covenant.c.id,
        t.covenant.c.slug,
        t.covenant.c.title,
        t.sector.c.name.label("sector"),
        t.sector.c.group,
        _PARENT.c.slug.label("parent"),
        t.covenant.c.stage,
        t.covenant.c.stage_since,
        t.covenant.c.version,
        t.covenant.c.position,
        _CONTINUED.c.slug.label("continued_in"),
        _CONTINUED.c.title.label("continued_in_title"),
    )
    .join(t.sector, t.sector.c.id == t.covenant.c.sector_id)
    .outerjoin(_PARENT, _PARENT.c.id == t.covenant.c.parent_id)
    .outerjoin(_CONTINUED, _CONTINUED.c.id == t.covenant.c.continued_in_id)
    .order_by(t.covenant.c.position, t.covenant.c.id)
)
_TG = t.target
_NEXT_COLUMNS = (
    _TG.c.id, _TG.c.stage, _TG.c.milestone, _TG.c.description, _TG.c.phrase,
    _TG.c.reference_date, _TG.c.period_start, _TG.c.deadline, _TG.c.status, _TG.c.closed_on,
    _TG.c.close_reason,
)  # fmt: skip


def next_targets(
    conn: Connection, today: date, covenant_ids: list[int] | None
) -> dict[int, TargetView]:
    """Each covenant's next open target (earliest deadline, then id), for `covenant_ids` or,
    with None, for every covenant; only those rows leave the database (one per covenant)."""
    if covenant_ids is not None and not covenant_ids:
        return {}
    ranked = select(
        _TG.c.covenant_id,
        *_NEXT_COLUMNS,
        func.row_number()
        .over(partition_by=_TG.c.covenant_id, order_by=(_TG.c.deadline, _TG.c.id))
        .label("rank"),
    ).where(_TG.c.status == "open")
    if covenant_ids is not None:
        ranked = ranked.where(_TG.c.covenant_id.in_(covenant_ids))
    inner = ranked.subquery("ranked")
    found = {}
    for r in conn.execute(select(inner).where(inner.c.rank == 1)):
        deadline, closed_on = r[8], r[10]
        found[r[0]] = TargetView(
            r[1], r[2], r[3], r[4], r[5], r[6], r[7], deadline, r[9], closed_on,
            r[9] == "open" and deadline < today, days_late(deadline, closed_on), r[11],
        )  # fmt: skip
    return found


def status(*, conn: Connection, today: date, slug: str | None = None) -> list[StatusRow]:
    """Every covenant (or one) with its stage, since when and its next open target."""
    query = (
        COVENANTS_IN_ORDER if slug is None else COVENANTS_IN_ORDER.where(t.covenant.c.slug == slug)
    )
    rows = conn.execute(query).all()
    upcoming = next_targets(conn, today, None if slug is None else [r.id for r in rows])
    return [
        StatusRow.of(
            r, stage=r.stage, since=r.stage_since, version=r.version, next_target=upcoming.get(r.id)
        )
        for r in rows
    ]


def history(
    *, conn: Connection, covenant: str, labels: Mapping[str, str] | None = None
) -> list[HistoryEntry]:
    """The covenant's entries in chain order, each described (stage `labels` by name) and
    marked with the correction that corrected it last."""
    covenant_id = lookup.covenant_id(conn, covenant)
    tr = t.transition
    rows = conn.execute(
        select(
            tr.c.seq,
            tr.c.from_stage,
            tr.c.to_stage,
            tr.c.trigger,
            tr.c.actor,
            tr.c.reason,
            tr.c.occurred_on,
            tr.c.recorded_at,
            tr.c.hash,
            tr.c.corrects_seq,
            tr.c.detail,
        )
        .where(tr.c.covenant_id == covenant_id)
        .order_by(tr.c.seq)
    ).all()
    facts = [
        EntryFacts(
            r.seq,
            r.trigger,
            r.from_stage,
            r.to_stage,
            r.occurred_on,
            r.corrects_seq,
            read_detail(r.detail),
        )
        for r in rows
    ]
    said = describe_all(facts, labels or {})
    fixed = corrected_by(facts)
    return [
        HistoryEntry(
            **{
                **{k: v for k, v in r._mapping.items() if k != "detail"},
                "recorded_at": aware(r.recorded_at),
            },
            description=text,
            corrected_by=fixed.get(r.seq),
        )
        for r, text in zip(rows, said, strict=True)
    ]


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; make them aware like PostgreSQL's."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def detail(
    *, conn: Connection, covenant: str, today: date, labels: Mapping[str, str] | None = None
) -> CovenantDetail:
    covenant_id = lookup.covenant_id(conn, covenant)
    c = t.covenant
    head = conn.execute(select(c.c.slug, c.c.summary, c.c.notes).where(c.c.id == covenant_id)).one()
    (row,) = status(conn=conn, today=today, slug=head.slug)
    o, pa = t.organisation, t.participation
    parties = [
        PartyView(name=r.name, full_name=r.full_name, kind=r.kind, role=r.role)
        for r in conn.execute(
            select(o.c.name, o.c.full_name, o.c.kind, pa.c.role)
            .join(pa, pa.c.organisation_id == o.c.id)
            .where(pa.c.covenant_id == covenant_id, pa.c.until.is_(None))  # current parties
            .order_by(pa.c.id)
        )
    ]
    targets = [
        _target_view(r, today)
        for r in conn.execute(
            select(t.target)
            .where(t.target.c.covenant_id == covenant_id)
            .order_by(t.target.c.deadline)
        )
    ]
    return CovenantDetail(
        status=row,
        summary=head.summary,
        notes=list(head.notes or []),
        parties=parties,
        targets=targets,
        history=history(conn=conn, covenant=head.slug, labels=labels),
    )


def stages_in_use(*, conn: Connection) -> set[str]:
    return set(conn.execute(select(t.covenant.c.stage).distinct()).scalars())


@dataclass(frozen=True, slots=True)
class TargetChangeView:
    target_id: int
    what: str
    old_phrase: str | None
    old_deadline: date | None
    new_phrase: str
    new_deadline: date
    actor: str
    reason: str
    changed_at: datetime


def target_changes(*, conn: Connection, covenant: str) -> list[TargetChangeView]:
    """Every change of the covenant's targets, oldest first: planned against actual."""
    covenant_id = lookup.covenant_id(conn, covenant)
    ch, tg = t.target_change, t.target
    rows = conn.execute(
        select(ch, tg.c.stage, tg.c.milestone)
        .join(tg, tg.c.id == ch.c.target_id)
        .where(tg.c.covenant_id == covenant_id)
        .order_by(ch.c.changed_at, ch.c.id)
    )
    return [
        TargetChangeView(
            target_id=r.target_id,
            what=target_name(r.stage, r.milestone),
            old_phrase=r.old_phrase,
            old_deadline=r.old_deadline,
            new_phrase=r.new_phrase,
            new_deadline=r.new_deadline,
            actor=r.actor,
            reason=r.reason,
            changed_at=aware(r.changed_at),
        )
        for r in rows
    ]

"""A signed covenant's terms (looptijden): the first one from the signing, and renewals.

Each term is a `term` row written with one `looptijd` entry in the covenant's chain (the row
keeps the entry's seq), in the same transaction. Its end is watched by a milestone target
"Einde looptijd (termijn N)" made through services/targets.record_target, so lead-time
reminders and the overdue alert for the end come from the ordinary alert scan and its
deliveries. A renewal (domain/terms.py: it starts the day after the previous term ends) links
to the previous term and closes that term's end milestone as met, with a `mijlpaal_gesloten`
entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, insert, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_date, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import InvalidInput, RequirementMissing
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.domain.terms import (
    check_first_term,
    check_renewal,
    end_milestone,
    nl_date,
    renewal_start,
)
from imvo_workflow.services import history
from imvo_workflow.services.queries import aware
from imvo_workflow.services.targets import TargetSpec, record_target

#: The stage a covenant must be in to have a term.
SIGNED = "ondertekend"


@dataclass(frozen=True, slots=True)
class TermView:
    id: int
    number: int
    starts_on: date
    ends_on: date
    previous_id: int | None
    seq: int
    recorded_at: datetime
    #: In force on the day asked about (today for the current view).
    current: bool


@dataclass(frozen=True, slots=True)
class TermResult:
    covenant: str
    term: TermView
    target_id: int
    seq: int


def set_term(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    ends_on: date,
    starts_on: date | None = None,
    actor: str,
    reason: str = "",
    now: datetime,
) -> TermResult:
    """The first term of a signed covenant: from `starts_on` (default: the signing date)."""
    _check_words(covenant, actor, reason)
    with uow:
        head = history.read_head(uow.conn, covenant)
        _require_signed(head)
        if _terms(uow.conn, head.covenant_id):
            raise InvalidInput(
                f"{head.slug} heeft al een looptijd; een volgende looptijd is een verlenging "
                f"(`imvo terms renew {head.slug}` of het verlengformulier)."
            )
        start = head.stage_since if starts_on is None else starts_on
        check_first_term(start, ends_on, head.stage_since)
        result = _open_term(uow.conn, definition, head, 1, start, ends_on, None, actor, reason, now)
        uow.commit()
    return result


def renew_term(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    ends_on: date,
    starts_on: date | None = None,
    actor: str,
    reason: str,
    now: datetime,
) -> TermResult:
    """Open the next term, from the day after the current one ends, linked to it."""
    _check_words(covenant, actor, reason)
    if not reason.strip():
        raise RequirementMissing("Geef de reden van de verlenging.", "reason")
    with uow:
        conn = uow.conn
        head = history.read_head(conn, covenant)
        _require_signed(head)
        known = _terms(conn, head.covenant_id)
        if not known:
            raise InvalidInput(
                f"{head.slug} heeft nog geen looptijd om te verlengen; leg eerst de looptijd "
                f"vast (`imvo terms set {head.slug}`)."
            )
        last = known[-1]
        start = renewal_start(last.ends_on) if starts_on is None else starts_on
        check_renewal(start, ends_on, last.ends_on)
        result = _open_term(
            conn, definition, head, last.number + 1, start, ends_on, last, actor, reason, now
        )
        met_on = min(start, now.astimezone(AMSTERDAM).date())
        _close_end(conn, definition, head.covenant_id, last, met_on, actor, reason, now)
        uow.commit()
    return result


def _check_words(covenant: str, actor: str, reason: str) -> None:
    check_label(covenant, "Het convenant")
    check_label(actor, "Wie de looptijd vastlegt")
    check_text(reason, "De reden")
    if not actor.strip():
        raise RequirementMissing("Geef aan wie de looptijd vastlegt.", "actor")


def _require_signed(head: history.Head) -> None:
    if head.stage != SIGNED:
        raise InvalidInput(
            f"{head.slug} is niet ondertekend (fase '{head.stage}'); alleen een ondertekend "
            "convenant heeft een looptijd."
        )


def _open_term(
    conn: Connection,
    definition: WorkflowDefinition,
    head: history.Head,
    number: int,
    starts_on: date,
    ends_on: date,
    previous: TermView | None,
    actor: str,
    reason: str,
    now: datetime,
) -> TermResult:
    recorded = now.astimezone(UTC)
    term_id = conn.execute(
        insert(t.term).returning(t.term.c.id),
        {
            "covenant_id": head.covenant_id,
            "number": number,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "previous_id": None if previous is None else previous.id,
            "seq": head.last_seq + 1,  # the entry below; a lost race rolls both back
            "recorded_at": recorded,
        },
    ).scalar_one()
    detail = {
        "term_id": term_id,
        "number": number,
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "previous_term_id": None if previous is None else previous.id,
    }
    seq, _ = history.record(
        conn,
        head,
        RecordKind.TERM,
        detail,
        actor=actor,
        reason=reason,
        occurred_on=starts_on,
        definition_version=definition.version,
        now=now,
    )
    today = now.astimezone(AMSTERDAM).date()
    target = record_target(
        conn,
        definition,
        TargetSpec(
            covenant=head.slug,
            phrase=nl_date(ends_on),
            reference=min(today, ends_on),
            actor=actor,
            milestone=end_milestone(number),
            description=f"Looptijd {number} loopt tot en met {nl_date(ends_on)}.",
            reason=reason,
        ),
        now=now,
    )
    view = TermView(
        int(term_id),
        number,
        starts_on,
        ends_on,
        None if previous is None else previous.id,
        seq,
        recorded,
        starts_on <= today <= ends_on,
    )
    return TermResult(head.slug, view, target.target_id, seq)


def _close_end(
    conn: Connection,
    definition: WorkflowDefinition,
    covenant_id: int,
    previous: TermView,
    on: date,
    actor: str,
    reason: str,
    now: datetime,
) -> None:
    """The previous term's end milestone is met by the renewal (one mijlpaal_gesloten entry)."""
    tg = t.target
    milestone = end_milestone(previous.number)
    target_id = conn.execute(
        select(tg.c.id).where(
            tg.c.covenant_id == covenant_id,
            tg.c.milestone == milestone,
            tg.c.status == "open",
        )
    ).scalar()
    if target_id is None:  # closed already (or never made): nothing to meet
        return
    conn.execute(
        update(tg)
        .where(tg.c.id == target_id)
        .values(status="met", closed_on=on, closed_at=now.astimezone(UTC), close_reason=reason)
    )
    history.record(
        conn,
        history.read_head_by_id(conn, covenant_id),
        RecordKind.MILESTONE_CLOSED,
        {"target_id": int(target_id), "milestone": milestone, "outcome": "bereikt"},
        actor=actor,
        reason=reason,
        occurred_on=on,
        definition_version=definition.version,
        now=now,
    )


def _terms(conn: Connection, covenant_id: int) -> list[TermView]:
    return _read(conn, covenant_id, None, None, None)


def list_terms(*, conn: Connection, covenant: str, today: date) -> list[TermView]:
    """Every term of `covenant` (its name), renewals still to begin included; `current` marks
    the one in force today."""
    check_label(covenant, "Het convenant")
    head = history.read_head(conn, covenant)
    return _read(conn, head.covenant_id, None, None, today)


def terms_on(
    conn: Connection, covenant_id: int, day: date | None, known_by: datetime | None
) -> list[TermView]:
    """The as-of view: the terms begun by `day` (None: every term), as entered before
    `known_by` (None: all we know now); `current` marks the one in force on `day`."""
    if day is not None:
        check_date(day, "De peildatum")
    return _read(conn, covenant_id, day, known_by, day)


def _read(
    conn: Connection,
    covenant_id: int,
    day: date | None,
    known_by: datetime | None,
    current_on: date | None,
) -> list[TermView]:
    tm = t.term
    rows = conn.execute(
        select(tm).where(tm.c.covenant_id == covenant_id).order_by(tm.c.number)
    ).all()
    found = []
    for r in rows:
        recorded = aware(r.recorded_at)
        if (known_by is not None and recorded >= known_by) or (
            day is not None and r.starts_on > day
        ):
            continue
        in_force = current_on is not None and r.starts_on <= current_on <= r.ends_on
        found.append(
            TermView(
                r.id, r.number, r.starts_on, r.ends_on, r.previous_id, r.seq, recorded, in_force
            )
        )
    return found

"""Setting a target ("ondertekend in de eerste helft van 2017") and keeping its change history.

A target is set in the words people use; the phrase is kept and resolved to a period whose end
is the deadline. Setting it again (a new phrase for the same stage or milestone) changes the
open target in place and records old and new period, who and why in `target_change`, so the
planned and the actual dates both stay visible; each setting is also a `doel_vastgelegd` entry
in the covenant's chain, in the same transaction. Alerts are keyed by target and deadline, so a
moved deadline gets its own reminders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.alerts import single_line
from imvo_workflow.domain.bounds import check_date, check_id, check_label, check_text
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import (
    ConcurrentUpdate,
    InvalidInput,
    NotFound,
    RequirementMissing,
    UnknownStage,
)
from imvo_workflow.domain.periods import resolve_period
from imvo_workflow.domain.record import RecordKind
from imvo_workflow.domain.targets import target_name
from imvo_workflow.services import history

#: Where each entrypoint takes the reference date: a refusal about it names all of them.
REFERENCE_HINT = (
    "(Webformulier: het veld 'Peildatum'; CLI: --reference JJJJ-MM-DD; API: het veld "
    '"reference".)'
)


@dataclass(frozen=True, slots=True)
class TargetResult:
    target_id: int
    created: bool
    phrase: str
    period_start: date
    deadline: date
    old_phrase: str | None
    old_deadline: date | None


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """What a user sets: for `covenant` (its name), `stage` or `milestone` by `phrase`."""

    covenant: str
    phrase: str
    reference: date
    actor: str
    stage: str | None = None
    milestone: str | None = None
    description: str = ""
    reason: str = ""
    #: The day it was set, the `doel_vastgelegd` entry's occurred_on: today by default; the
    #: seed gives the report's date (its targets were set in the report).
    set_on: date | None = None


def set_target(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    phrase: str,
    reference: date,
    stage: str | None = None,
    milestone: str | None = None,
    description: str = "",
    actor: str,
    reason: str = "",
    now: datetime,
) -> TargetResult:
    """The user action: record or change a target, one transaction."""
    spec = TargetSpec(covenant, phrase, reference, actor, stage, milestone, description, reason)
    with uow:
        result = record_target(uow.conn, definition, spec, now=now)
        uow.commit()
    return result


def record_target(
    conn: Connection, definition: WorkflowDefinition, spec: TargetSpec, *, now: datetime
) -> TargetResult:
    """Record or change a target inside the caller's transaction (the seed loads many)."""
    stage, reference = spec.stage, spec.reference
    milestone = None if spec.milestone is None else single_line(spec.milestone)  # in a subject
    check_label(spec.phrase, "De termijn")
    check_label(spec.actor, "Wie het doel vastlegt")
    check_label(stage or "", "De fase")
    check_label(milestone or "", "De mijlpaal")
    check_text(spec.description, "De omschrijving")
    check_text(spec.reason, "De reden")
    check_date(reference, "De peildatum")
    if (stage is None) == (milestone is None):
        raise InvalidInput("Een doel is óf een fase óf een mijlpaal.")
    if not spec.actor.strip():
        raise RequirementMissing("Geef aan wie dit doel vastlegt.", "actor")
    period = resolve_period(spec.phrase, reference)
    today = now.astimezone(AMSTERDAM).date()
    if reference > today:
        raise InvalidInput(
            f"De peildatum {reference.isoformat()} ligt na vandaag ({today.isoformat()}); de "
            f"peildatum is de dag waarop het doel werd uitgesproken. {REFERENCE_HINT}"
        )
    if period.end < reference:
        raise InvalidInput(
            f'De deadline van "{period.phrase}" ({period.end.isoformat()}) ligt vóór de '
            f"peildatum {reference.isoformat()}. De peildatum is de dag waarop het doel werd "
            f"uitgesproken: geef die datum mee of kies een termijn die later eindigt. "
            f"{REFERENCE_HINT}"
        )
    head = history.read_head(conn, spec.covenant)
    covenant_id, slug, current = head.covenant_id, head.slug, head.stage
    if stage is not None:
        _check_stage_ahead(definition, slug, current, stage)
    tg = t.target
    same = tg.c.stage == stage if stage is not None else tg.c.milestone == milestone
    existing = conn.execute(
        select(tg.c.id, tg.c.phrase, tg.c.deadline).where(
            tg.c.covenant_id == covenant_id, tg.c.status == "open", same
        )
    ).first()
    values = {
        "phrase": period.phrase,
        "reference_date": reference,
        "period_start": period.start,
        "deadline": period.end,
    }
    if existing is None:
        new = values | {
            "covenant_id": covenant_id,
            "stage": stage,
            "milestone": milestone,
            "description": spec.description,
            "status": "open",
            "closed_on": None,
            "closed_at": None,
            "created_at": now.astimezone(UTC),
        }
        try:  # uq_target_open_stage: someone else inserted this stage's target meanwhile
            target_id = conn.execute(insert(tg).returning(tg.c.id), new).scalar_one()
        except IntegrityError as exc:
            raise ConcurrentUpdate(
                f"Iemand anders heeft zojuist een doel voor {target_name(stage, milestone)} "
                f"van {slug} vastgelegd; jouw doel is niet opgeslagen. Bekijk het en probeer "
                "het opnieuw."
            ) from exc
        old_phrase, old_deadline = None, None
    else:
        target_id, old_phrase, old_deadline = existing
        changes = values | ({"description": spec.description} if spec.description else {})
        conn.execute(update(tg).where(tg.c.id == target_id).values(**changes))
    conn.execute(
        insert(t.target_change),
        {
            "target_id": target_id,
            "old_phrase": old_phrase,
            "old_deadline": old_deadline,
            "new_phrase": period.phrase,
            "new_period_start": period.start,
            "new_deadline": period.end,
            "reference_date": reference,
            "actor": spec.actor,
            "reason": spec.reason,
            "changed_at": now.astimezone(UTC),
        },
    )
    history.record(
        conn,
        head,
        RecordKind.TARGET_SET,
        {
            "target_id": int(target_id),
            "what": target_name(stage, milestone),
            "phrase": period.phrase,
            "reference_date": reference.isoformat(),
            "period_start": period.start.isoformat(),
            "deadline": period.end.isoformat(),
            "old_phrase": old_phrase,
            "old_deadline": old_deadline.isoformat() if old_deadline else None,
        },
        actor=spec.actor,
        reason=spec.reason,
        occurred_on=spec.set_on or today,
        definition_version=definition.version,
        now=now,
    )
    return TargetResult(
        int(target_id),
        existing is None,
        period.phrase,
        period.start,
        period.end,
        old_phrase,
        old_deadline,
    )


def _check_stage_ahead(definition: WorkflowDefinition, slug: str, current: str, stage: str) -> None:
    if stage not in definition.stages:
        raise UnknownStage(stage, list(definition.stages))
    if stage == current or stage not in definition.ahead_of(current):
        ahead = sorted(definition.ahead_of(current) - {current})
        raise InvalidInput(
            f"{slug} staat al in '{current}'; een doel voor '{stage}' kan niet meer gehaald "
            f"worden. Mogelijke doelfasen: {', '.join(ahead) or 'geen'}."
        )


def reset_target(
    *,
    uow: UnitOfWork,
    definition: WorkflowDefinition,
    covenant: str,
    target_id: int,
    phrase: str,
    reference: date,
    actor: str,
    reason: str,
    now: datetime,
) -> TargetResult:
    """The user action: give an open target of `covenant` (by its id) a new phrase, with why."""
    check_id(target_id, "doel", f"#{target_id}")
    check_text(reason, "De reden")
    if not reason.strip():
        raise RequirementMissing("Geef een reden voor de nieuwe termijn.", "reason")
    with uow:
        head = history.read_head(uow.conn, covenant)
        tg = t.target
        found = uow.conn.execute(
            select(tg.c.stage, tg.c.milestone).where(
                tg.c.id == target_id, tg.c.covenant_id == head.covenant_id, tg.c.status == "open"
            )
        ).first()
        if found is None:
            raise NotFound("open doel", f"#{target_id} van {head.slug}")
        spec = TargetSpec(
            head.slug, phrase, reference, actor, found.stage, found.milestone, "", reason
        )
        result = record_target(uow.conn, definition, spec, now=now)
        uow.commit()
    return result


def drop_target_in(
    conn: Connection,
    definition: WorkflowDefinition,
    head: history.Head,
    target_id: int,
    *,
    on: date,
    actor: str,
    reason: str,
    now: datetime,
) -> tuple[int, str]:
    """Drop (vervallen) an open target that should never have been set, dated `on`, with a
    `doel_vervallen` entry; returns (seq, hash). A milestone that ran its course is closed with
    services/milestones instead; a stage target otherwise closes by the move that meets it."""
    tg = t.target
    row = conn.execute(
        select(tg.c.stage, tg.c.milestone, tg.c.phrase, tg.c.deadline).where(
            tg.c.id == target_id, tg.c.covenant_id == head.covenant_id, tg.c.status == "open"
        )
    ).first()
    if row is None:
        raise NotFound("open doel", f"#{target_id} van {head.slug}")
    conn.execute(
        update(tg)
        .where(tg.c.id == target_id)
        .values(
            status="cancelled", closed_on=on, closed_at=now.astimezone(UTC), close_reason=reason
        )
    )
    return history.record(
        conn,
        head,
        RecordKind.TARGET_DROPPED,
        {
            "target_id": int(target_id),
            "what": target_name(row.stage, row.milestone),
            "phrase": row.phrase,
            "deadline": row.deadline.isoformat(),
        },
        actor=actor,
        reason=reason,
        occurred_on=on,
        definition_version=definition.version,
        now=now,
    )

"""Bringing a covenant seeded from an earlier reading of the seed file up to the current one.

The seed file is a reading of the 2016 annex, and readings get corrected (issue 13: the report
date, roles the annex does not state, a milestone read as a stage target, a date against the
file's own rule). A database seeded before keeps its history (rows are never edited), so
`imvo seed` on a covenant it holds already appends each difference between what the seed wrote
and what the file now says as entries of the covenant's chain, through the services every
other change uses:

- a date: a correction of the seeded entry (a move, a party's joining, the source's text);
- a role: the party leaves its old role and joins in the stated one, both on the opening day;
- a target: restated with the file's phrase and reference date; an open target the seed set
  that the file no longer has is dropped (vervallen) on the report date; a new one is set.

Only what the seed wrote (or migration 0013 wrote for it) and nobody changed since is revised:
a coordinator's move, party or target is left as it is. Each entry is by "seed", with the
file's `revised` reason (the covenant's own if it has one). A second run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from imvo_workflow.db import tables as t
from imvo_workflow.domain.alerts import single_line
from imvo_workflow.domain.chain import CORRECTION_TRIGGER
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.parties import PartyRole
from imvo_workflow.domain.record import RecordKind, is_record, read_detail
from imvo_workflow.services import audit, history
from imvo_workflow.services.milestones import MilestoneClosing, close_in
from imvo_workflow.services.parties import join_in, leave_in
from imvo_workflow.services.seedfile import SeedCovenant, SeedFile
from imvo_workflow.services.targets import TargetSpec, drop_target_in, record_target

REVISION_ACTOR = "seed"
#: Who wrote a covenant's seeded entries besides the file's own `by`.
_SEEDED_BY = frozenset({REVISION_ACTOR, "migratie 0013"})
_DEFAULT_REASON = "Seed herzien: de seed leest de voortgangsrapportage nu anders."


@dataclass(frozen=True, slots=True)
class _Ctx:
    conn: Connection
    definition: WorkflowDefinition
    data: SeedFile
    item: SeedCovenant
    covenant_id: int
    reason: str
    seeded_by: frozenset[str]
    now: datetime

    def head(self) -> history.Head:
        return history.read_head_by_id(self.conn, self.covenant_id)


def revise(
    conn: Connection,
    definition: WorkflowDefinition,
    data: SeedFile,
    item: SeedCovenant,
    covenant_id: int,
    *,
    now: datetime,
) -> int:
    """Append the differences between `item` and what the seed wrote for it; returns how many."""
    ctx = _Ctx(
        conn,
        definition,
        data,
        item,
        covenant_id,
        item.revised or data.revised or _DEFAULT_REASON,
        _SEEDED_BY | {step.by for step in item.history},
        now,
    )
    return _dates(ctx) + _roles(ctx) + _targets(ctx)


def _dates(ctx: _Ctx) -> int:
    tr = t.transition
    rows = ctx.conn.execute(
        select(tr.c.seq, tr.c.trigger, tr.c.to_stage, tr.c.actor, tr.c.occurred_on, tr.c.detail)
        .add_columns(tr.c.corrects_seq)
        .where(tr.c.covenant_id == ctx.covenant_id)
        .order_by(tr.c.seq)
    ).all()
    effective = {r.seq: r.occurred_on for r in rows}
    for r in rows:
        if r.corrects_seq is not None:
            effective[r.corrects_seq] = r.occurred_on
    opened = ctx.item.history[0].on
    moves = [r for r in rows if r.trigger != CORRECTION_TRIGGER and not is_record(r.trigger)]
    wanted: list[tuple[int, date]] = []
    for row, step in zip(moves, ctx.item.history, strict=False):
        if row.to_stage != step.stage or row.actor != step.by:
            break  # the covenant's history went another way: leave it
        wanted.append((row.seq, step.on))
    current = _current_participations(ctx)
    for r in rows:
        detail = read_detail(r.detail) if r.actor in ctx.seeded_by else {}
        if r.trigger == RecordKind.PARTY_JOINED and detail.get("participation_id") in current:
            wanted.append((r.seq, opened))
        elif r.trigger == RecordKind.NOTE and _same_text(detail.get("text"), ctx.item.summary):
            wanted.append((r.seq, ctx.data.report_date))
    changes = [(seq, on) for seq, on in wanted if effective[seq] != on]
    # Moves keep their order: those moving earlier are corrected first to last, the others
    # last to first, so each correction stays between its neighbours.
    earlier = sorted((c for c in changes if c[1] < effective[c[0]]), key=lambda c: c[0])
    later = sorted((c for c in changes if c[1] > effective[c[0]]), key=lambda c: -c[0])
    for seq, on in earlier + later:
        audit.correct_in(ctx.conn, ctx.head(), seq, REVISION_ACTOR, ctx.reason, on, now=ctx.now)
    return len(changes)


def _same_text(stored: object, summary: str) -> bool:
    return bool(summary.strip()) and str(stored or "").strip() == summary.strip()


def _current_participations(ctx: _Ctx) -> dict[int, Any]:
    pa, o = t.participation, t.organisation
    rows = ctx.conn.execute(
        select(pa.c.id, pa.c.organisation_id, pa.c.role, pa.c.since, pa.c.until, o.c.name)
        .join(o, o.c.id == pa.c.organisation_id)
        .where(pa.c.covenant_id == ctx.covenant_id, pa.c.until.is_(None))
        .order_by(pa.c.id)
    ).all()
    return {r.id: r for r in rows}


def _roles(ctx: _Ctx) -> int:
    item, conn = ctx.item, ctx.conn
    stated = [(PartyRole.TREKKER, item.trekker), (PartyRole.FACILITATOR, item.facilitator)]
    stated += [(PartyRole.PARTIJ, name) for name in item.parties]
    stated += [(PartyRole.BETROKKEN, name) for name in item.involved]
    roles: dict[str, set[PartyRole]] = {}
    for role, name in stated:
        if name is not None:
            roles.setdefault(name, set()).add(role)
    tr, pa, o = t.transition, t.participation, t.organisation
    seeded = {
        read_detail(r.detail).get("participation_id")
        for r in conn.execute(
            select(tr.c.detail).where(
                tr.c.covenant_id == ctx.covenant_id,
                tr.c.trigger == RecordKind.PARTY_JOINED.value,
                tr.c.actor.in_(ctx.seeded_by),
            )
        )
    }
    opened, count = item.history[0].on, 0
    for row in _current_participations(ctx).values():
        if row.name in roles and row.role not in roles[row.name] and row.id in seeded:
            leave_in(
                conn,
                ctx.definition,
                ctx.head(),
                row,
                opened,
                REVISION_ACTOR,
                ctx.reason,
                now=ctx.now,
            )
            count += 1
    ever = {
        (r.name, r.role)
        for r in conn.execute(
            select(o.c.name, pa.c.role)
            .join(o, o.c.id == pa.c.organisation_id)
            .where(pa.c.covenant_id == ctx.covenant_id)
        )
    }
    ids = dict(conn.execute(select(o.c.name, o.c.id).where(o.c.name.in_(roles))).all())
    for name, wanted in roles.items():
        for role in sorted(wanted):
            if (name, role.value) not in ever and name in ids:
                join_in(
                    conn,
                    ctx.definition,
                    ctx.head(),
                    ids[name],
                    name,
                    role,
                    opened,
                    REVISION_ACTOR,
                    ctx.reason,
                    now=ctx.now,
                )
                count += 1
    return count


def _targets(ctx: _Ctx) -> int:
    conn, data = ctx.conn, ctx.data
    tg, ch = t.target, t.target_change
    latest: dict[int, Any] = {}
    for r in conn.execute(
        select(tg.c.id, tg.c.stage, tg.c.milestone, tg.c.status, ch.c.new_phrase)
        .add_columns(ch.c.reference_date, ch.c.actor)
        .join(ch, ch.c.target_id == tg.c.id)
        .where(tg.c.covenant_id == ctx.covenant_id)
        .order_by(tg.c.id, ch.c.changed_at, ch.c.id)
    ):
        latest[r.id] = r
    head, count = ctx.head(), 0
    wanted = {
        (s.stage, None if s.milestone is None else single_line(s.milestone)): s
        for s in ctx.item.targets
    }
    for key, target in wanted.items():
        found = [r for r in latest.values() if (r.stage, r.milestone) == key]
        opened = [r for r in found if r.status == "open"]
        reference = target.reference or data.reference_date
        if found and not opened:
            continue  # met or closed since: its story goes on without the seed
        if opened and (
            opened[0].actor not in ctx.seeded_by
            or (opened[0].new_phrase, opened[0].reference_date) == (target.phrase, reference)
        ):
            continue  # as the file says, or a coordinator set it since
        if target.stage is not None and target.stage not in ctx.definition.ahead_of(head.stage):
            continue  # no longer reachable from where the covenant stands
        spec = TargetSpec(
            covenant=head.slug,
            phrase=target.phrase,
            reference=reference,
            actor=REVISION_ACTOR,
            stage=target.stage,
            milestone=target.milestone,
            description=target.description,
            reason=ctx.reason,
            set_on=data.report_date,
        )
        record_target(conn, ctx.definition, spec, now=ctx.now)
        count += 1
    for r in latest.values():
        if r.status != "open" or r.actor not in ctx.seeded_by or (r.stage, r.milestone) in wanted:
            continue
        if r.milestone is not None:
            closing = MilestoneClosing(r.id, "vervallen", data.report_date, ctx.reason)
            close_in(
                conn,
                ctx.head(),
                ctx.definition,
                closing,
                actor=REVISION_ACTOR,
                default_on=data.report_date,
                now=ctx.now,
            )
        else:
            drop_target_in(
                conn,
                ctx.definition,
                ctx.head(),
                r.id,
                on=data.report_date,
                actor=REVISION_ACTOR,
                reason=ctx.reason,
                now=ctx.now,
            )
        count += 1
    return count

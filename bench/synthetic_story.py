"""One synthetic covenant's life, day by day: what a coordinator would have entered, as rows.

bench/synthetic.py drives this for every covenant. A `Story` walks a covenant's clock forward
from its opening to the last day and writes, in order, what the services would have written:
the history entry (chained and hashed exactly as services/history.py does, with the same
triggers and detail objects as the services that own each kind) and the read-model rows
beside it (participation, signature, target, target_change, note, term). Ids of rows that a
detail names are handed out here (`Ids`), so the whole database can be written with bulk
inserts afterwards. Pure Python: nothing here touches a database.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from imvo_workflow.domain.chain import GENESIS, OPENING_TRIGGER, ChainEntry, entry_hash
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.periods import dutch_date, resolve_period
from imvo_workflow.domain.record import RecordKind, canonical_detail
from imvo_workflow.domain.targets import target_name
from imvo_workflow.domain.terms import end_milestone, nl_date

Row = dict[str, Any]
#: Where a covenant may go next, with weights (the graph in stages.yaml allows each).
NEXT = {
    "verkenning": {"kwartiermaker": 4, "dialoog": 3, "intentieverklaring": 1, "afgezien": 1},
    "kwartiermaker": {"dialoog": 7, "intentieverklaring": 2, "afgezien": 1},
    "dialoog": {"intentieverklaring": 4, "ondertekend": 5, "afgezien": 1},
    "intentieverklaring": {"ondertekend": 7, "dialoog": 2, "afgezien": 1},
    "afgezien": {"verkenning": 1},
}
SIGNING_ROLES = ("trekker", "partij", "facilitator")  # services/signatories.py
NOTES = (
    "Overleg met de partijen over de risicoanalyse; vervolgafspraak gepland.",
    "De werkgroep heeft de eerste versie van de afspraken besproken.",
    "Stuurgroep bijeengekomen: draagvlak bij de leden groeit.",
    "Nieuwe deelnemers melden zich; de planning blijft staan.",
    "Vertraging door de zomer; de partijen hervatten het gesprek in september.",
)
SLIP_REASONS = ("partijen hebben meer tijd nodig", "wachten op de achterban", "nieuwe planning")


@dataclass
class Ids:
    """The next free id of each table whose ids a history detail names."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


@dataclass
class Rows:
    """Everything generated, per table, in insertion order (parents before children)."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        self.tables.setdefault(table, []).append(row)


@dataclass
class Party:
    participation_id: int
    organisation_id: int
    role: str
    since: date
    until: date | None = None


@dataclass
class Target:
    row: Row

    @property
    def open(self) -> bool:
        return bool(self.row["status"] == "open")


@dataclass
class Story:
    """One covenant's record, built entry by entry; `head` moves like the covenant row's."""

    definition: WorkflowDefinition
    rows: Rows
    ids: Ids
    rng: random.Random
    covenant: Row
    name_on: Callable[[int, date], str]
    actors: tuple[str, ...]
    seq: int = 0
    prev: str = GENESIS
    parties: list[Party] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    terms: list[Row] = field(default_factory=list)

    # -- the chain ---------------------------------------------------------------------
    def entry(
        self,
        trigger: str,
        on: date,
        *,
        reason: str = "",
        to: str | None = None,
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> None:
        """Append one history entry (services/history._write); a move when `to` is given."""
        c = self.covenant
        first = self.seq == 0
        self.seq += 1
        moment = datetime.combine(on, time(8, 0), AMSTERDAM) + timedelta(seconds=self.seq)
        chained = ChainEntry(
            c["id"], self.seq, None if first else c["stage"], to or c["stage"], trigger,
            actor or self.rng.choice(self.actors), reason, on, moment.astimezone(UTC),
            self.definition.version, self.prev, None,
            None if detail is None else canonical_detail(detail),
        )  # fmt: skip
        self.prev = entry_hash(chained)
        self.rows.add("transition", {**_fields(chained), "hash": self.prev})
        if to is not None:
            c["stage"], c["stage_since"] = to, on
        c.update(version=self.seq, last_seq=self.seq, head_hash=self.prev)

    def moment(self, on: date) -> datetime:
        """The recorded_at the next entry will get (read models carry the same moment)."""
        return (
            datetime.combine(on, time(8, 0), AMSTERDAM) + timedelta(seconds=self.seq + 1)
        ).astimezone(UTC)

    # -- what a coordinator does -------------------------------------------------------------
    def open(self, on: date) -> None:
        self.entry(OPENING_TRIGGER, on, reason="aangemaakt", to=self.definition.initial)

    def join(self, organisation_id: int, role: str, on: date, reason: str = "") -> None:
        pid = self.ids.take("participation")
        self.rows.add("participation", {
            "id": pid, "covenant_id": self.covenant["id"], "organisation_id": organisation_id,
            "role": role, "since": on, "until": None, "left_reason": None,
        })  # fmt: skip
        self.parties.append(Party(pid, organisation_id, role, on))
        self.entry(RecordKind.PARTY_JOINED, on, reason=reason, detail=self._party(pid, on))

    def leave(self, party: Party, on: date) -> None:
        reason = "treedt terug uit het convenantproces"
        party.until = on
        row = next(
            r for r in self.rows.tables["participation"][::-1] if r["id"] == party.participation_id
        )
        row.update(until=on, left_reason=reason)
        self.entry(
            RecordKind.PARTY_LEFT, on, reason=reason, detail=self._party(party.participation_id, on)
        )

    def _party(self, pid: int, on: date) -> dict[str, Any]:
        p = next(p for p in self.parties if p.participation_id == pid)
        return {
            "organisation": self.name_on(p.organisation_id, on),
            "organisation_id": p.organisation_id, "role": p.role, "participation_id": pid,
        }  # fmt: skip

    def note(self, on: date, text: str) -> None:
        nid = self.ids.take("note")
        self.rows.add("note", {
            "id": nid, "covenant_id": self.covenant["id"], "seq": self.seq + 1, "written_on": on,
            "author": (actor := self.rng.choice(self.actors)), "text": text,
            "recorded_at": self.moment(on),
        })  # fmt: skip
        self.entry(RecordKind.NOTE, on, detail={"note_id": nid, "text": text}, actor=actor)

    def summary(self, on: date, text: str) -> None:
        old, self.covenant["summary"] = self.covenant["summary"], text
        detail = {"text": text, "old_text": old}
        self.entry(RecordKind.SUMMARY, on, reason="samenvatting bijgewerkt", detail=detail)

    def set_target(
        self, on: date, phrase: str, *, stage: str | None = None, milestone: str | None = None,
        description: str = "", reason: str = "", target: Target | None = None,
    ) -> Target:  # fmt: skip
        """services/targets.record_target: a new target, or a new phrase for an open one."""
        period = resolve_period(phrase, on)
        moment = self.moment(on)
        values = {"phrase": period.phrase, "reference_date": on,
                  "period_start": period.start, "deadline": period.end}  # fmt: skip
        old_phrase = old_deadline = None
        if target is None:
            target = Target({
                "id": self.ids.take("target"), "covenant_id": self.covenant["id"],
                "stage": stage, "milestone": milestone, "description": description,
                "status": "open", "closed_on": None, "closed_at": None, "close_reason": None,
                "created_at": moment, **values,
            })  # fmt: skip
            self.rows.add("target", target.row)
            self.targets.append(target)
        else:
            old_phrase, old_deadline = target.row["phrase"], target.row["deadline"]
            target.row.update(values)
        row = target.row
        self.rows.add("target_change", {
            "target_id": row["id"], "old_phrase": old_phrase, "old_deadline": old_deadline,
            "new_phrase": period.phrase, "new_period_start": period.start,
            "new_deadline": period.end, "reference_date": on, "actor": "synthetisch",
            "reason": reason, "changed_at": moment,
        })  # fmt: skip
        self.entry(RecordKind.TARGET_SET, on, reason=reason, actor="synthetisch", detail={
            "target_id": row["id"], "what": target_name(row["stage"], row["milestone"]),
            "phrase": period.phrase, "reference_date": on.isoformat(),
            "period_start": period.start.isoformat(), "deadline": period.end.isoformat(),
            "old_phrase": old_phrase,
            "old_deadline": old_deadline.isoformat() if old_deadline else None,
        })  # fmt: skip
        return target

    def close_milestone(self, target: Target, on: date, outcome: str, reason: str = "") -> None:
        status = {"bereikt": "met", "vervallen": "cancelled"}[outcome]
        target.row.update(status=status, closed_on=on, closed_at=self.moment(on),
                          close_reason=reason or None)  # fmt: skip
        detail = {"target_id": target.row["id"], "milestone": target.row["milestone"],
                  "outcome": outcome}  # fmt: skip
        self.entry(RecordKind.MILESTONE_CLOSED, on, reason=reason, detail=detail)

    def move(self, dest: str, on: date) -> None:
        """services/moves.make_move: the entry, signatures and dropped milestones on reaching
        a terminal stage, then the targets the move meets or ends (moves.close_targets)."""
        stages = self.definition.stages
        trigger = self.definition.resolve(self.covenant["stage"], dest).trigger
        self.entry(trigger, on, reason=f"stap naar {dest}", to=dest)
        if stages[dest].terminal:
            for party in self.parties:
                if party.until is None and party.role in SIGNING_ROLES:
                    self._sign(party, on)
            label = stages[dest].label.nl
            for target in sorted(self.targets, key=lambda x: (x.row["deadline"], x.row["id"])):
                if target.open and target.row["milestone"] is not None:
                    self.close_milestone(target, on, "vervallen", f"vervallen: convenant {label}")
        ended = set(stages) - self.definition.ahead_of(dest)
        moment = self.moment(on)  # closings carry the move's `now`, as one transaction
        for target in self.targets:
            stage = target.row["stage"]
            if target.open and (stages[dest].cancels_targets or stage == dest or stage in ended):
                status = "met" if stage == dest else "cancelled"
                target.row.update(status=status, closed_on=on, closed_at=moment)

    def _sign(self, party: Party, on: date) -> None:
        sid = self.ids.take("signature")
        self.rows.add("signature", {
            "id": sid, "covenant_id": self.covenant["id"], "organisation_id": party.organisation_id,
            "signed_on": on, "actor": "synthetisch", "recorded_at": self.moment(on),
        })  # fmt: skip
        detail = {"organisation": self.name_on(party.organisation_id, on),
                  "organisation_id": party.organisation_id, "signature_id": sid}  # fmt: skip
        self.entry(RecordKind.SIGNATURE, on, detail=detail, actor="synthetisch")

    def term(self, starts_on: date, ends_on: date, today: date) -> None:
        """services/terms._open_term (and, for a renewal, _close_end)."""
        previous = self.terms[-1] if self.terms else None
        number = len(self.terms) + 1
        tid = self.ids.take("term")
        reason = "verlenging" if previous else "looptijd vastgelegd"
        row = {"id": tid, "covenant_id": self.covenant["id"], "number": number,
               "starts_on": starts_on, "ends_on": ends_on,
               "previous_id": previous["id"] if previous else None, "seq": self.seq + 1,
               "recorded_at": self.moment(today)}  # fmt: skip
        self.rows.add("term", row)
        self.terms.append(row)
        self.entry(RecordKind.TERM, starts_on, reason=reason, detail={
            "term_id": tid, "number": number, "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "previous_term_id": previous["id"] if previous else None,
        })  # fmt: skip
        self.set_target(
            min(today, ends_on), nl_date(ends_on), milestone=end_milestone(number),
            description=f"Looptijd {number} loopt tot en met {nl_date(ends_on)}.", reason=reason,
        )  # fmt: skip
        if previous is not None:
            name = end_milestone(previous["number"])
            for target in self.targets:
                if target.open and target.row["milestone"] == name:
                    self.close_milestone(target, min(starts_on, today), "bereikt", reason)


def _fields(entry: ChainEntry) -> Row:
    return {name: getattr(entry, name) for name in ChainEntry.__dataclass_fields__}


def phrase_for(rng: random.Random, reference: date, days: int) -> str:
    """A Dutch target phrase for about `days` after `reference`, in one of the usual forms."""
    when = reference + timedelta(days=days)
    y, q = when.year, (when.month - 1) // 3 + 1
    forms = (f"Q{q} {y}", f"eind {y}" if when.month >= 10 else f"Q{q} van {y}",
             f"{'eerste' if when.month <= 6 else 'tweede'} helft {y}",
             dutch_date(when).split(" ", 1)[1], dutch_date(when))  # fmt: skip
    return rng.choice(forms)

"""Who took part in a covenant on a given day: the fold of its party entries (pure).

A covenant's parties are not a list that is overwritten: each join (`partij_toegevoegd`) and
each leave (`partij_vertrokken`) is an entry in its hash chain, with the day it happened
(occurred_on) and the moment it was entered (recorded_at). "Who were the parties on D" folds
the entries that happened by D; "what did we know at M" folds only those entered before M.
A correction of a party entry (services/audit.correct) moves its date and replaces its reason,
as it does for a move. The participation table is the read model the services keep beside it.

Also here: the roles and organisation kinds with their Dutch labels (one enum each, checked
against the database's CHECK constraints by a unit test), and which of a covenant's notes name
participants the source does not name ("een vakbond en verschillende NGO's").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.domain.value import value


class PartyRole(StrEnum):
    """An organisation's part in a covenant process."""

    TREKKER = "trekker"
    FACILITATOR = "facilitator"
    KWARTIERMAKER = "kwartiermaker"
    PARTIJ = "partij"
    BETROKKEN = "betrokken"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    PartyRole.TREKKER: "Trekker",
    PartyRole.FACILITATOR: "Facilitator",
    PartyRole.KWARTIERMAKER: "Kwartiermaker",
    PartyRole.PARTIJ: "Partij",
    PartyRole.BETROKKEN: "Betrokken",
}


class OrganisationKind(StrEnum):
    """What kind of organisation it is; the last two only for organisations the 2016 seed holds."""

    MINISTERIE = "ministerie"
    BRANCHEORGANISATIE = "brancheorganisatie"
    NGO = "ngo"
    VAKBOND = "vakbond"
    KENNISINSTELLING = "kennisinstelling"
    OVERHEID = "overheid"
    OVERIG = "overig"
    BEDRIJF = "bedrijf"
    FACILITATOR = "facilitator"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    OrganisationKind.MINISTERIE: "Ministerie",
    OrganisationKind.BRANCHEORGANISATIE: "Brancheorganisatie",
    OrganisationKind.NGO: "Ngo",
    OrganisationKind.VAKBOND: "Vakbond",
    OrganisationKind.KENNISINSTELLING: "Kennisinstelling",
    OrganisationKind.OVERHEID: "Overheid",
    OrganisationKind.OVERIG: "Overig",
    OrganisationKind.BEDRIJF: "Bedrijf",
    OrganisationKind.FACILITATOR: "Facilitator",
}
#: The kinds a coordinator picks from for a new organisation.
CHOOSABLE_KINDS = tuple(OrganisationKind)[:7]


def check_role(role: str) -> PartyRole:
    """`role` as a PartyRole, or InvalidInput listing the roles there are."""
    try:
        return PartyRole(role.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Onbekende rol '{role}'. Kies uit: {', '.join(r.value for r in PartyRole)}."
        ) from None


def check_kind(kind: str) -> OrganisationKind:
    """`kind` as one of the kinds a coordinator may choose, or InvalidInput listing them."""
    try:
        found = OrganisationKind(kind.strip().lower())
    except ValueError:
        found = None
    if found is None or found not in CHOOSABLE_KINDS:
        raise InvalidInput(
            f"Onbekende soort organisatie '{kind}'. Kies uit: "
            f"{', '.join(k.value for k in CHOOSABLE_KINDS)}."
        )
    return found


@value
class PartyEntry:
    """One history row that concerns parties: a join, a leave, or a correction of either."""

    seq: int
    trigger: str
    occurred_on: date
    recorded_at: datetime
    reason: str
    detail: dict[str, Any]
    corrects_seq: int | None = None


@value
class PartyPeriod:
    """An organisation's part in a covenant as the fold found it on the day asked."""

    participation_id: int
    organisation_id: int
    organisation: str
    role: str
    since: date
    until: date | None
    left_reason: str | None
    joined_seq: int
    left_seq: int | None


def fold_parties(
    entries: Iterable[PartyEntry], day: date | None, known_by: datetime | None = None
) -> list[PartyPeriod]:
    """The parties on `day` (None: every entry, however late), from entries in chain order.

    Only entries recorded before `known_by` count (None: all). A party that left on or before
    `day` is in the list with its `until` and reason; one that joined after `day` is not. The
    list is in the order the parties joined.
    """
    known = [e for e in entries if known_by is None or e.recorded_at < known_by]
    by_seq = {e.seq: e for e in known if e.corrects_seq is None}
    for fix in known:
        original = by_seq.get(fix.corrects_seq) if fix.corrects_seq is not None else None
        if original is not None:
            by_seq[original.seq] = replace(
                original, occurred_on=fix.occurred_on, reason=fix.reason or original.reason
            )
    periods: dict[int, PartyPeriod] = {}
    for seq in sorted(by_seq):  # positional fields below: a report folds thousands of these
        entry = by_seq[seq]
        if day is not None and entry.occurred_on > day:
            continue
        d = entry.detail
        pid = int(d["participation_id"])
        if entry.trigger == RecordKind.PARTY_JOINED:
            periods.pop(pid, None)  # (a participation joins once; if twice, in the later place)
            periods[pid] = PartyPeriod(
                pid, int(d["organisation_id"]), str(d["organisation"]), str(d["role"]),
                entry.occurred_on, None, None, seq, None,
            )  # fmt: skip
        elif entry.trigger == RecordKind.PARTY_LEFT and (was := periods.get(pid)) is not None:
            periods[pid] = PartyPeriod(
                pid, was.organisation_id, was.organisation, was.role, was.since,
                entry.occurred_on, entry.reason, was.joined_seq, seq,
            )  # fmt: skip
    return list(periods.values())


@dataclass(frozen=True, slots=True)
class Holdings:
    """Per covenant, what its party entries say of a day: the participations held then, as
    (organisation id, role) in the order they joined, and every participation its entries
    speak of, however late (a participation none speaks of is a legacy row)."""

    held: dict[int, list[tuple[int, str]]]
    spoken_of: dict[int, set[int]]


def holdings_on(
    rows: Iterable[Any], day: date, fixed: Mapping[int, Mapping[int, date]]
) -> Holdings:
    """fold_parties' current parties on `day`, for every covenant at once, from chain rows as
    read (the progress report's: covenant_id, seq, trigger, occurred_on, detail as stored;
    corrections among them are passed over) and `fixed`, per covenant the date each corrected
    row's latest correction gave it. The rows are those known by the report's moment already.

    What a report prints of the parties is who held which role on its day; folding every entry
    into a PartyEntry and a PartyPeriod first, for the six thousand a thousand covenants have,
    cost a tenth of the report's build. A property test holds this to fold_parties.
    """
    holding: dict[int, dict[int, tuple[int, str] | None]] = {}
    spoken_of: dict[int, set[int]] = {}
    joined, left = RecordKind.PARTY_JOINED.value, RecordKind.PARTY_LEFT.value
    for r in rows:
        trigger = r.trigger
        if trigger != joined and trigger != left:
            continue
        cid = r.covenant_id
        periods = holding.get(cid)
        if periods is None:
            periods, spoken_of[cid] = holding.setdefault(cid, {}), set()
        d = read_detail(r.detail)
        pid = int(d["participation_id"])
        spoken_of[cid].add(pid)
        mine = fixed.get(cid)
        if (mine.get(r.seq, r.occurred_on) if mine else r.occurred_on) > day:
            continue
        if trigger == joined:
            periods.pop(pid, None)  # (as fold_parties: a second join puts it in the later place)
            periods[pid] = (int(d["organisation_id"]), str(d["role"]))
        elif pid in periods:
            periods[pid] = None  # left: no longer held, its place kept for a join again
    return Holdings(
        {cid: [p for p in periods.values() if p is not None] for cid, periods in holding.items()},
        spoken_of,
    )


#: How the source speaks of participants without naming them.
_UNNAMED = re.compile(
    r"(?<!\w)(een vakbond|vakbond\(en\)|vakbondsfederaties|verschillende ngo'?s|ngo'?s|"
    r"maatschappelijke organisaties|bedrijven die|onafhankelijke voorzitter|"
    r"betrokken (nederlandse )?organisaties|de partijen die)(?!\w)",
    re.IGNORECASE,
)


def unnamed_in(notes: Iterable[str]) -> list[str]:
    """The notes, in the source's words, that speak of participants it does not name."""
    return [note for note in notes if _UNNAMED.search(note)]

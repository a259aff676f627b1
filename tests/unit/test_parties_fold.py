"""The fold of party entries (domain/parties.py): as of a day, as known at a moment, corrected;
and the roles and kinds the code offers are the ones the database's CHECK constraints allow."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imvo_workflow.db.tables import ORGANISATION_KINDS, PARTICIPATION_ROLES
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.parties import (
    CHOOSABLE_KINDS,
    OrganisationKind,
    PartyEntry,
    PartyRole,
    check_kind,
    check_role,
    fold_parties,
    holdings_on,
    unnamed_in,
)

JOIN, LEAVE, FIX = "partij_toegevoegd", "partij_vertrokken", "correctie"
DETAIL = {"organisation": "Ngo A", "organisation_id": 7, "role": "partij", "participation_id": 3}


def at(day: int, month: int = 1, year: int = 2017) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


ENTRIES = [
    PartyEntry(2, JOIN, date(2016, 9, 1), at(1, 10, 2016), "", DETAIL),
    PartyEntry(5, LEAVE, date(2017, 6, 1), at(1, 9), "uitgestapt", DETAIL),
]


def test_as_of_a_day_the_leave_counts_only_once_it_happened() -> None:
    assert fold_parties(ENTRIES, date(2016, 8, 31)) == []
    (before,) = fold_parties(ENTRIES, date(2017, 5, 31))
    assert (before.since, before.until, before.organisation) == (date(2016, 9, 1), None, "Ngo A")
    (after,) = fold_parties(ENTRIES, date(2017, 6, 1))
    assert (after.until, after.left_reason, after.left_seq) == (date(2017, 6, 1), "uitgestapt", 5)
    assert fold_parties(ENTRIES, None) == [after]


def test_known_at_a_moment_only_entries_recorded_before_it_count() -> None:
    (known,) = fold_parties(ENTRIES, date(2017, 7, 1), known_by=at(1, 8))
    assert known.until is None
    assert fold_parties(ENTRIES, date(2017, 7, 1), known_by=at(1, 9, 2016)) == []


def test_a_correction_moves_an_entry_and_replaces_its_reason() -> None:
    fixed = [*ENTRIES, PartyEntry(6, FIX, date(2017, 7, 1), at(2, 9), "juli", {}, corrects_seq=5)]
    (party,) = fold_parties(fixed, date(2017, 6, 15))
    assert party.until is None
    (party,) = fold_parties(fixed, date(2017, 7, 1))
    assert (party.until, party.left_reason) == (date(2017, 7, 1), "juli")


def test_roles_and_kinds_are_the_databases() -> None:
    assert {r.value for r in PartyRole} == set(PARTICIPATION_ROLES)
    assert tuple(k.value for k in OrganisationKind) == ORGANISATION_KINDS
    assert tuple(k.value for k in CHOOSABLE_KINDS) == ORGANISATION_KINDS[:7]
    assert all(r.label for r in PartyRole) and all(k.label for k in OrganisationKind)


def test_unknown_roles_and_legacy_kinds_are_refused_for_new_input() -> None:
    assert check_role(" Trekker ") is PartyRole.TREKKER
    with pytest.raises(InvalidInput, match="Kies uit"):
        check_role("baas")
    with pytest.raises(InvalidInput, match="Kies uit"):
        check_kind("bedrijf")
    assert check_kind("NGO") is OrganisationKind.NGO


def test_unnamed_participants_are_the_notes_that_speak_of_them() -> None:
    notes = [
        "Naast FNLI en CBL zijn vakbondsfederaties, IDH en verschillende NGO's partij.",
        "De sector (LTO Nederland), vakbond(en) en maatschappelijke organisaties tekenden.",
        "Na twee constructieve eerste bijeenkomsten zijn de partijen positief gestemd.",
    ]
    assert unnamed_in(notes) == notes[:2]


@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.booleans(), st.integers(0, 40)), min_size=0, max_size=25
    ),
    st.integers(0, 40),
)
def test_the_fold_gives_its_periods_in_the_order_they_joined(
    moves: list[tuple[int, bool, int]], asked: int
) -> None:
    """parties_by_covenant relies on it: it lists the fold's periods as they come, unsorted."""
    first = date(2016, 1, 1)
    entries = [
        PartyEntry(
            seq,
            JOIN if joins else LEAVE,
            first + timedelta(days=offset),
            at(1),
            "",
            {**DETAIL, "participation_id": pid, "organisation_id": pid},
        )
        for seq, (pid, joins, offset) in enumerate(moves, 1)
    ]
    periods = fold_parties(entries, first + timedelta(days=asked))
    assert periods == sorted(periods, key=lambda p: (p.joined_seq, p.participation_id))


@given(
    st.lists(
        st.tuples(st.integers(1, 2), st.integers(1, 5), st.booleans(), st.integers(0, 40)),
        max_size=30,
    ),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 40)), max_size=6),
    st.integers(0, 40),
)
def test_holdings_on_a_day_are_the_folds_current_parties(
    moves: list[tuple[int, int, bool, int]], fixes: list[tuple[int, int]], asked: int
) -> None:
    """The report's fold over every covenant's chain rows (holdings_on) holds, per covenant,
    the parties fold_parties finds current on the day, in its order, corrections applied, and
    names every participation an entry speaks of."""
    first = date(2016, 1, 1)
    rows: list[ChainRow] = []
    for covenant_id, pid, joins, offset in moves:
        detail = {**DETAIL, "participation_id": pid, "organisation_id": 10 * pid, "role": "partij"}
        seq = len(rows) + 1
        rows.append(
            ChainRow(covenant_id, seq, JOIN if joins else LEAVE, first + timedelta(days=offset),
                     json.dumps(detail), None)
        )  # fmt: skip
    for index, offset in fixes:  # corrections of earlier rows, each after the row it corrects
        if index < len(rows) and rows[index].corrects_seq is None:
            fixed_row = rows[index]
            rows.append(
                ChainRow(fixed_row.covenant_id, len(rows) + 1, FIX,
                         first + timedelta(days=offset), None, fixed_row.seq)
            )  # fmt: skip
    rows.sort(key=lambda r: (r.covenant_id, r.seq))
    day = first + timedelta(days=asked)
    fixed: dict[int, dict[int, date]] = {}
    for r in rows:
        if r.corrects_seq is not None:
            fixed.setdefault(r.covenant_id, {})[r.corrects_seq] = r.occurred_on
    holdings = holdings_on(rows, day, fixed)
    for covenant_id in (1, 2):
        entries = [
            PartyEntry(r.seq, r.trigger, r.occurred_on, at(1), "",
                       json.loads(r.detail) if r.detail else {}, r.corrects_seq)
            for r in rows
            if r.covenant_id == covenant_id
        ]  # fmt: skip
        current = [
            (p.organisation_id, p.role) for p in fold_parties(entries, day) if p.until is None
        ]
        assert holdings.held.get(covenant_id, []) == current
        spoken = {int(e.detail["participation_id"]) for e in entries if e.detail}
        assert holdings.spoken_of.get(covenant_id, set()) == spoken


class ChainRow(NamedTuple):
    """A chain row as the report reads it: its detail as stored (JSON text)."""

    covenant_id: int
    seq: int
    trigger: str
    occurred_on: date
    detail: str | None
    corrects_seq: int | None

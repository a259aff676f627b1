"""The pure rules of terms and continuation: a renewal starts the day after the previous end,
a term ends after it starts and not before the signing; no continuing in oneself or in a
cycle; the end milestone's phrase reads back as exactly the end date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imvo_workflow.domain.continuation import check_target
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.domain.periods import resolve_period
from imvo_workflow.domain.terms import check_first_term, check_renewal, nl_date, renewal_start

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(DAYS)
def test_the_end_phrase_resolves_to_the_end_date(day: date) -> None:
    period = resolve_period(nl_date(day), day)
    assert (period.start, period.end) == (day, day)


@given(DAYS, st.integers(min_value=-400, max_value=400))
def test_only_the_day_after_the_previous_end_starts_a_renewal(end: date, shift: int) -> None:
    start = renewal_start(end) + timedelta(days=shift)
    if shift == 0:
        check_renewal(start, start + timedelta(days=365), end)
    else:
        with pytest.raises(InvalidInput, match="overlapt" if shift < 0 else "sluit niet aan"):
            check_renewal(start, start + timedelta(days=365), end)


def test_a_first_term_starts_at_or_after_the_signing_and_ends_after_it_starts() -> None:
    signed = date(2016, 7, 4)
    check_first_term(signed, date(2021, 7, 4), signed)
    for start, end, words in [
        (date(2016, 7, 3), date(2021, 7, 4), "vóór de ondertekening"),
        (signed, signed, "eindigen na het begin"),
        (signed, date(2016, 1, 1), "eindigen na het begin"),
    ]:
        with pytest.raises(InvalidInput, match=words):
            check_first_term(start, end, signed)


def test_continuing_in_oneself_or_in_a_cycle_is_refused() -> None:
    check_target(1, 2, {})
    check_target(1, 2, {3: 2})
    with pytest.raises(InvalidInput, match="zichzelf"):
        check_target(1, 1, {})
    with pytest.raises(InvalidInput, match="kring"):
        check_target(1, 2, {2: 1})
    with pytest.raises(InvalidInput, match="kring"):
        check_target(1, 3, {3: 2, 2: 1})
    check_target(1, 3, {3: 2, 2: 3})  # a cycle elsewhere does not hang the check

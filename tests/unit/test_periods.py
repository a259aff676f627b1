"""Dutch target phrases resolve exactly as DESIGN.md ("Target periods") says, or are refused."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import MONTHS
from imvo_workflow.domain.errors import UnparseablePeriod
from imvo_workflow.domain.periods import MAX_YEAR, MIN_YEAR, Period, resolve_period

REF = date(2016, 11, 1)
MID_DECEMBER = date(2016, 12, 15)


def d(text: str) -> date:
    return date.fromisoformat(text)


# (phrase, reference, start, end); one block per row of the DESIGN.md table.
TABLE = [
    # 20 december 2016
    ("20 december 2016", REF, "2016-12-20", "2016-12-20"),
    ("  20   DECEMBER 2016 ", REF, "2016-12-20", "2016-12-20"),
    ("1 januari 2017", REF, "2017-01-01", "2017-01-01"),
    ("29 februari 2016", REF, "2016-02-29", "2016-02-29"),
    # uiterlijk / vóór 1 maart 2018
    ("uiterlijk 1 maart 2018", REF, "2016-11-01", "2018-03-01"),
    ("vóór 1 maart 2018", REF, "2016-11-01", "2018-03-01"),
    ("voor 1 maart 2018", REF, "2016-11-01", "2018-03-01"),
    ("VÓÓR 1 Maart 2018", REF, "2016-11-01", "2018-03-01"),
    ("Uiterlijk 1 november 2016", REF, "2016-11-01", "2016-11-01"),
    # december 2016, februari
    ("december 2016", REF, "2016-12-01", "2016-12-31"),
    ("in december 2016", REF, "2016-12-01", "2016-12-31"),
    ("December van 2016", REF, "2016-12-01", "2016-12-31"),
    ("februari 2016", REF, "2016-02-01", "2016-02-29"),
    ("februari", REF, "2017-02-01", "2017-02-28"),
    # begin / medio (half) / eind december 2016
    ("begin december 2016", REF, "2016-12-01", "2016-12-10"),
    ("medio december 2016", REF, "2016-12-11", "2016-12-20"),
    ("half december 2016", REF, "2016-12-11", "2016-12-20"),
    ("eind december 2016", REF, "2016-12-21", "2016-12-31"),
    ("Eind februari 2017", REF, "2017-02-21", "2017-02-28"),
    ("in het begin van december 2016", REF, "2016-12-01", "2016-12-10"),
    # eerste / tweede helft november 2016
    ("eerste helft november 2016", REF, "2016-11-01", "2016-11-15"),
    ("tweede helft november 2016", REF, "2016-11-16", "2016-11-30"),
    ("in de tweede helft van november 2016", REF, "2016-11-16", "2016-11-30"),
    ("tweede helft februari 2016", REF, "2016-02-16", "2016-02-29"),
    # Q3 2018, derde kwartaal (van) 2018, 3e kwartaal 2018
    ("Q3 2018", REF, "2018-07-01", "2018-09-30"),
    ("q3 2018", REF, "2018-07-01", "2018-09-30"),
    ("derde kwartaal 2018", REF, "2018-07-01", "2018-09-30"),
    ("derde kwartaal van 2018", REF, "2018-07-01", "2018-09-30"),
    ("3e kwartaal 2018", REF, "2018-07-01", "2018-09-30"),
    ("Q1 van 2017", REF, "2017-01-01", "2017-03-31"),
    ("eerste kwartaal 2017", REF, "2017-01-01", "2017-03-31"),
    ("2e kwartaal 2017", REF, "2017-04-01", "2017-06-30"),
    ("in het vierde kwartaal van 2016", REF, "2016-10-01", "2016-12-31"),
    ("Q4 2016", REF, "2016-10-01", "2016-12-31"),
    # eerste / tweede helft (van) 2017, H1 / H2 2017
    ("eerste helft 2017", REF, "2017-01-01", "2017-06-30"),
    ("eerste helft van 2017", REF, "2017-01-01", "2017-06-30"),
    ("in de eerste helft van 2017", REF, "2017-01-01", "2017-06-30"),
    ("tweede helft van 2017", REF, "2017-07-01", "2017-12-31"),
    ("H1 2017", REF, "2017-01-01", "2017-06-30"),
    ("h2 2017", REF, "2017-07-01", "2017-12-31"),
    # begin 2017
    ("begin 2017", REF, "2017-01-01", "2017-03-31"),
    ("in het begin van 2017", REF, "2017-01-01", "2017-03-31"),
    ("BEGIN   2017", REF, "2017-01-01", "2017-03-31"),
    # medio / midden 2017
    ("medio 2017", REF, "2017-05-01", "2017-08-31"),
    ("midden 2017", REF, "2017-05-01", "2017-08-31"),
    ("medio van 2017", REF, "2017-05-01", "2017-08-31"),
    # eind 2016
    ("eind 2016", REF, "2016-10-01", "2016-12-31"),
    ("Eind van 2016", REF, "2016-10-01", "2016-12-31"),
    # voorjaar (lente) / zomer / najaar (herfst) 2017, rond de zomer van 2017
    ("voorjaar 2017", REF, "2017-03-01", "2017-05-31"),
    ("lente 2017", REF, "2017-03-01", "2017-05-31"),
    ("zomer 2017", REF, "2017-06-01", "2017-08-31"),
    ("rond de zomer van 2017", REF, "2017-06-01", "2017-08-31"),
    ("in de zomer van 2017", REF, "2017-06-01", "2017-08-31"),
    ("najaar 2017", REF, "2017-09-01", "2017-11-30"),
    ("herfst 2017", REF, "2017-09-01", "2017-11-30"),
    # winter 2017
    ("winter 2017", REF, "2017-12-01", "2018-02-28"),
    ("winter 2019", REF, "2019-12-01", "2020-02-29"),
    ("in de winter van 2015", REF, "2015-12-01", "2016-02-29"),
    # 2017, in 2017
    ("2017", REF, "2017-01-01", "2017-12-31"),
    ("in 2017", REF, "2017-01-01", "2017-12-31"),
    (" In 2017 ", REF, "2017-01-01", "2017-12-31"),
    # dit jaar, nog dit jaar, nog in 2016
    ("dit jaar", REF, "2016-11-01", "2016-12-31"),
    ("nog dit jaar", REF, "2016-11-01", "2016-12-31"),
    ("Nog Dit Jaar", MID_DECEMBER, "2016-12-15", "2016-12-31"),
    ("nog in 2016", REF, "2016-11-01", "2016-12-31"),
    ("nog in 2017", REF, "2016-11-01", "2017-12-31"),
    # volgend jaar
    ("volgend jaar", REF, "2017-01-01", "2017-12-31"),
    ("Volgend Jaar", date(2020, 6, 1), "2021-01-01", "2021-12-31"),
    # A of B
    ("eind 2016 of begin 2017", REF, "2016-10-01", "2017-03-31"),
    ("Q4 2016 of Q1 van 2017", REF, "2016-10-01", "2017-03-31"),
    ("eind november of begin december", REF, "2016-11-21", "2016-12-10"),
]


@pytest.mark.parametrize(("phrase", "reference", "start", "end"), TABLE)
def test_table(phrase: str, reference: date, start: str, end: str) -> None:
    period = resolve_period(phrase, reference)

    assert (period.start, period.end) == (d(start), d(end))
    assert period.deadline == period.end
    assert period.phrase == phrase.strip()


# Phrases without a year: the earliest such period that ends on or after the reference date.
YEARLESS = [
    ("februari", REF, "2017-02-01", "2017-02-28"),
    ("eind november", REF, "2016-11-21", "2016-11-30"),
    ("eind oktober", REF, "2017-10-21", "2017-10-31"),
    ("tweede helft november", REF, "2016-11-16", "2016-11-30"),
    ("eerste helft november", REF, "2016-11-01", "2016-11-15"),
    ("begin december", REF, "2016-12-01", "2016-12-10"),
    ("20 december", REF, "2016-12-20", "2016-12-20"),
    ("1 november", REF, "2016-11-01", "2016-11-01"),
    ("Q1", REF, "2017-01-01", "2017-03-31"),
    ("Q4", REF, "2016-10-01", "2016-12-31"),
    ("derde kwartaal", REF, "2017-07-01", "2017-09-30"),
    ("H2", REF, "2016-07-01", "2016-12-31"),
    ("zomer", REF, "2017-06-01", "2017-08-31"),
    ("winter", REF, "2016-12-01", "2017-02-28"),
    ("uiterlijk 1 maart", REF, "2016-11-01", "2017-03-01"),
    ("februari", MID_DECEMBER, "2017-02-01", "2017-02-28"),
    ("eind november", MID_DECEMBER, "2017-11-21", "2017-11-30"),
    ("tweede helft november", MID_DECEMBER, "2017-11-16", "2017-11-30"),
    ("begin december", MID_DECEMBER, "2017-12-01", "2017-12-10"),
    ("medio december", MID_DECEMBER, "2016-12-11", "2016-12-20"),
    ("20 december", MID_DECEMBER, "2016-12-20", "2016-12-20"),
    ("Q1", MID_DECEMBER, "2017-01-01", "2017-03-31"),
    ("Q4", MID_DECEMBER, "2016-10-01", "2016-12-31"),
    ("zomer", MID_DECEMBER, "2017-06-01", "2017-08-31"),
    ("eind oktober", MID_DECEMBER, "2017-10-21", "2017-10-31"),
    ("winter", date(2016, 1, 15), "2015-12-01", "2016-02-29"),
    ("29 februari", date(2016, 1, 15), "2016-02-29", "2016-02-29"),
]


@pytest.mark.parametrize(("phrase", "reference", "start", "end"), YEARLESS)
def test_yearless_phrases_take_the_first_period_not_yet_over(
    phrase: str, reference: date, start: str, end: str
) -> None:
    period = resolve_period(phrase, reference)

    assert (period.start, period.end) == (d(start), d(end))


REFUSED = [
    "op korte termijn",
    "Q5 2017",
    "Q0 2017",
    "H3 2017",
    "vijfde kwartaal 2017",
    "derde helft 2017",
    "31 februari 2017",
    "29 februari 2017",
    "31 april 2017",
    "0 mei 2017",
    "32 mei 2017",
    "13e maand",
    "",
    "   ",
    "eind",
    "begin",
    "eerste helft",
    "kwartaal 2017",
    "2017 2018",
    "december 2016 2017",
    "2016 december",
    "1899",
    "2201",
    "Q1 0017",
    "20170",
    "zomer van",
    "van",
    "in",
    "of",
    "eind 2016 of",
    "begin 2017 of eind 2016",
    "2016 of 2017 of 2018",
    "uiterlijk",
    "uiterlijk 1 maart 2016",
    "voor eind 2016",
    "voor 2017",
    "nog in 2015",
    "29 februari",
    "1-3-2018",
    "december '16",
    "ergens in 2017",
    "eind 2016.",
]


@pytest.mark.parametrize("phrase", REFUSED)
def test_refusals_quote_the_phrase(phrase: str) -> None:
    with pytest.raises(UnparseablePeriod) as refused:
        resolve_period(phrase, REF)

    assert f'"{phrase}"' in str(refused.value)
    assert refused.value.phrase == phrase


def test_period_is_immutable() -> None:
    period = resolve_period("Q1 2017", REF)

    assert isinstance(period, Period)
    with pytest.raises(AttributeError):
        period.end = REF  # type: ignore[misc]


OTHER_WORDS = """
    begin medio half midden eind eerste tweede derde vierde 1e 2e 3e 4e helft kwartaal
    q1 Q4 q5 h1 H2 h3 zomer winter lente voorjaar najaar herfst dit volgend jaar
    nog uiterlijk vóór voor van de het in rond of 0 1 15 29 30 31 32 1899 1900 2016 2017 2200 9999
"""
VOCABULARY = [*MONTHS, *OTHER_WORDS.split()]
references = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    phrase=st.one_of(st.text(), st.lists(st.sampled_from(VOCABULARY), max_size=6).map(" ".join)),
    reference=st.one_of(st.dates(), references),
)
def test_any_text_resolves_or_is_refused(phrase: str, reference: date) -> None:
    try:
        period = resolve_period(phrase, reference)
    except UnparseablePeriod as refused:
        assert f'"{phrase}"' in str(refused)
    else:
        assert period.start <= period.end
        assert MIN_YEAR <= reference.year <= MAX_YEAR
        assert MIN_YEAR <= period.start.year <= MAX_YEAR


years = st.integers(min_value=1900, max_value=2200)
months = st.sampled_from(MONTHS)
# Bodies of phrases; a year, with or without "van", is appended by the test.
grammar = st.one_of(
    st.tuples(st.sampled_from(["begin", "medio", "half", "eind", "in het begin van"]), months),
    st.tuples(st.sampled_from(["eerste helft", "tweede helft van", "in de eerste helft"]), months),
    st.tuples(st.sampled_from(["Q1", "q2", "Q3", "Q4", "derde kwartaal", "1e kwartaal"])),
    st.tuples(st.sampled_from(["H1", "h2", "zomer", "rond de winter", "lente", "herfst"])),
    st.tuples(months),
    st.tuples(st.integers(min_value=1, max_value=31).map(str), months),
).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(
    body=grammar,
    year=st.one_of(st.none(), years),
    joiner=st.sampled_from(["", "van "]),
    reference=references,
)
def test_grammar_phrases_resolve_to_ordered_periods(
    body: str, year: int | None, joiner: str, reference: date
) -> None:
    phrase = body if year is None else f"{body} {joiner}{year}"
    words = body.split()
    first, last = words[0], words[-1]
    names_one_day = first.isdigit()
    try:
        period = resolve_period(phrase, reference)
    except UnparseablePeriod as refused:
        if year is None and reference.year == MAX_YEAR and "1900 en 2200" in str(refused):
            return  # the next such period starts in 2201: past the bound
        # Otherwise only a day that does not exist in its month (in every year tried).
        assert names_one_day
        assert int(first) > 28
        if year is not None:
            assert int(first) > calendar.monthrange(year, MONTHS.index(last) + 1)[1]
        return
    assert period.start <= period.end
    if year is None:
        assert period.end >= reference
        assert period.start.year <= reference.year + 1
    else:
        assert period.start.year == year
    if names_one_day:
        assert period.start == period.end
        assert (period.start.day, MONTHS[period.start.month - 1]) == (int(first), last)


@settings(max_examples=300, deadline=None)
@given(deadline=references, reference=references)
def test_uiterlijk_runs_from_the_reference_date(deadline: date, reference: date) -> None:
    phrase = f"uiterlijk {deadline.day} {MONTHS[deadline.month - 1]} {deadline.year}"
    if deadline < reference:
        with pytest.raises(UnparseablePeriod):
            resolve_period(phrase, reference)
        return
    period = resolve_period(phrase, reference)

    assert (period.start, period.end) == (reference, deadline)


@pytest.mark.parametrize(
    ("phrase", "reference"),
    [
        ("nog dit jaar", date(9999, 12, 31)),
        ("volgend jaar", date(9999, 12, 31)),
        ("volgend jaar", date(2200, 6, 1)),
        ("februari", date(1899, 12, 31)),
        ("Q1 2017", date(1, 1, 1)),
    ],
)
def test_years_from_the_reference_date_are_bounded_too(phrase: str, reference: date) -> None:
    """`targets set ... "nog dit jaar" --reference 9999-12-31` stored a deadline in 9999."""
    with pytest.raises(UnparseablePeriod) as refused:
        resolve_period(phrase, reference)

    assert "1900 en 2200" in str(refused.value)


def test_29_februari_without_a_year_looks_no_further_than_next_year() -> None:
    """The documented rule: written on 2016-11-01 it is refused, not read as 2020-02-29."""
    with pytest.raises(UnparseablePeriod) as refused:
        resolve_period("29 februari", date(2016, 11, 1))

    assert "29 februari 2017 bestaat niet" in str(refused.value)

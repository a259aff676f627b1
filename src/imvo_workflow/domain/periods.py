"""Turn the Dutch target phrases people write ("Q1 van 2017", "eind 2016") into deadlines.

Covenant targets are recorded as free text, but alerts and reports need a period [start, end]
whose end is the deadline. The accepted phrases are the ones in DESIGN.md ("Target periods")
and deliberately no more: anything else is refused with UnparseablePeriod instead of guessed.
Phrases without a year resolve against a reference date, the day the statement was made: to
the earliest such period that has not ended on that day, in the reference's year or the year
after, never later. So "29 februari" written on 2016-11-01 is refused ("29 februari 2017
bestaat niet") rather than read as 2020-02-29, which nobody writing it then means. Reference
dates and resolved periods lie in the years 1900-2200 (domain/bounds.py).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from imvo_workflow.domain.bounds import MAX_YEAR, MIN_YEAR
from imvo_workflow.domain.errors import UnparseablePeriod

__all__ = ["MAX_YEAR", "MIN_YEAR", "Period", "resolve_period"]


@dataclass(frozen=True, slots=True)
class Period:
    """A resolved target: the phrase as written and the period it names."""

    phrase: str
    start: date
    end: date

    @property
    def deadline(self) -> date:
        return self.end


_MONTHS = {
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "augustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
_MONTH_NAMES = {number: name for name, number in _MONTHS.items()}
# Parts of a month as day ranges; day 0 stands for the month's last day.
_MONTH_PARTS = {"begin": (1, 10), "medio": (11, 20), "eind": (21, 0)}
_MONTH_HALVES = {1: (1, 15), 2: (16, 0)}
# Parts of a year as month ranges; months past 12 run into the next year (winter).
_YEAR_PARTS = {"begin": (1, 3), "medio": (5, 8), "eind": (10, 12)}
_YEAR_HALVES = {1: (1, 6), 2: (7, 12)}
_QUARTERS = {n: (3 * n - 2, 3 * n) for n in range(1, 5)}
_SEASONS = {"voorjaar": (3, 5), "zomer": (6, 8), "najaar": (9, 11), "winter": (12, 14)}
_SYNONYMS = {"lente": "voorjaar", "herfst": "najaar", "half": "medio", "midden": "medio"}
_ORDINALS = {"eerste": 1, "tweede": 2, "derde": 3, "vierde": 4, "1e": 1, "2e": 2, "3e": 3, "4e": 4}
# "dit jaar" starts at the reference date (what is left of the year), "volgend jaar" on 1 Jan.
_RELATIVE_YEARS: dict[tuple[str, ...], int] = {
    ("dit", "jaar"): 0,
    ("volgend", "jaar"): 1,
    ("volgende", "jaar"): 1,
}
_PREFIXES = frozenset({"uiterlijk", "voor", "nog"})
_LEADING_FILLERS = frozenset({"in", "rond", "de", "het"})
_INNER_FILLERS = frozenset({"van", "de", "het"})
_NUMBERED = re.compile(r"(?P<kind>[qh])(?P<n>[0-9]{1,2})")
_DIGITS = re.compile(r"[0-9]+")

_Span = tuple[date, date]


class _Refusal(Exception):
    """Why a phrase is refused; resolve_period turns it into UnparseablePeriod."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # year, day, month, ord, q, h, part, season, helft, kwartaal
    num: int = 0
    word: str = ""


def _date(year: int, month: int, day: int) -> date:
    """A calendar date, day 0 meaning the month's last day; impossible dates are refused."""
    try:
        return date(year, month, day or calendar.monthrange(year, month)[1])
    except (ValueError, OverflowError):
        raise _Refusal(f"{day} {_MONTH_NAMES.get(month, month)} {year} bestaat niet") from None


def _days(year: int, month: int, first: int, last: int) -> _Span:
    return _date(year, month, first), _date(year, month, last)


def _months(year: int, first: int, last: int) -> _Span:
    end_year, end_month = year + (last - 1) // 12, (last - 1) % 12 + 1
    return _date(year, first, 1), _date(end_year, end_month, 0)


def _nth(table: dict[int, tuple[int, int]], token: _Token, what: str) -> tuple[int, int]:
    if token.num not in table:
        raise _Refusal(f"er is geen {what} nummer {token.num}")
    return table[token.num]


_Builder = Callable[[Sequence[_Token], int], _Span]
# Each accepted word order (without its trailing year) and how it becomes a period in a year.
_SHAPES: dict[tuple[str, ...], _Builder] = {
    (): lambda t, y: _months(y, 1, 12),
    ("part",): lambda t, y: _months(y, *_YEAR_PARTS[t[0].word]),
    ("ord", "helft"): lambda t, y: _months(y, *_nth(_YEAR_HALVES, t[0], "helft")),
    ("h",): lambda t, y: _months(y, *_nth(_YEAR_HALVES, t[0], "helft")),
    ("ord", "kwartaal"): lambda t, y: _months(y, *_nth(_QUARTERS, t[0], "kwartaal")),
    ("q",): lambda t, y: _months(y, *_nth(_QUARTERS, t[0], "kwartaal")),
    ("season",): lambda t, y: _months(y, *_SEASONS[t[0].word]),
    ("month",): lambda t, y: _days(y, t[0].num, 1, 0),
    ("part", "month"): lambda t, y: _days(y, t[1].num, *_MONTH_PARTS[t[0].word]),
    ("ord", "helft", "month"): lambda t, y: _days(y, t[2].num, *_nth(_MONTH_HALVES, t[0], "helft")),
    ("day", "month"): lambda t, y: _days(y, t[1].num, t[0].num, t[0].num),
}
# Without a year these name no whole ("eind", "eerste helft"): refused rather than guessed.
_YEAR_REQUIRED = frozenset({(), ("part",), ("ord", "helft")})


def _classify(word: str) -> _Token:
    word = _SYNONYMS.get(word, word)
    if word in _MONTHS:
        return _Token("month", _MONTHS[word], word)
    if word in _ORDINALS:
        return _Token("ord", _ORDINALS[word], word)
    if word in _MONTH_PARTS:
        return _Token("part", 0, word)
    if word in _SEASONS:
        return _Token("season", 0, word)
    if word in ("helft", "kwartaal"):
        return _Token(word, 0, word)
    if numbered := _NUMBERED.fullmatch(word):
        return _Token(numbered["kind"], int(numbered["n"]), word)
    if _DIGITS.fullmatch(word) and len(word) == 4:
        if not MIN_YEAR <= int(word) <= MAX_YEAR:
            raise _Refusal(f"het jaar {word} ligt niet tussen {MIN_YEAR} en {MAX_YEAR}")
        return _Token("year", int(word), word)
    if _DIGITS.fullmatch(word) and len(word) <= 2 and 1 <= int(word) <= 31:
        return _Token("day", int(word), word)
    raise _Refusal(f"'{word}' ken ik niet als deel van een periode")


def _upcoming(build: Callable[[int], _Span], reference: date) -> _Span:
    """The earliest such period that has not ended on the reference date, looking no further
    than the year after it: "29 februari" written on 2016-11-01 is refused (29 februari 2017
    does not exist), not read as 2020, which nobody writing it then means."""
    refusal = _Refusal(f"geen zulke periode na {dutch_date(reference)}")
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            span = build(year)
        except _Refusal as impossible:  # 29 februari in a common year, or out of range
            refusal = impossible
            continue
        if span[1] >= reference:
            return span
    raise refusal


def _resolve_core(words: Sequence[str], reference: date) -> tuple[_Span, tuple[str, ...]]:
    if not words:
        raise _Refusal("er staat geen periode")
    tokens = [_classify(word) for word in words]
    year = tokens.pop().num if tokens[-1].kind == "year" else None
    shape = tuple(token.kind for token in tokens)
    build = _SHAPES.get(shape)
    if build is None:
        raise _Refusal("deze woorden vormen samen geen periode")
    if year is not None:
        return build(tokens, year), shape
    if shape in _YEAR_REQUIRED:
        raise _Refusal("zonder jaartal is dit geen periode")
    return _upcoming(lambda y: build(tokens, y), reference), shape


def _resolve_plain(words: Sequence[str], reference: date) -> tuple[_Span, tuple[str, ...]]:
    offset = _RELATIVE_YEARS.get(tuple(words))
    if offset is None:
        return _resolve_core(words, reference)
    year = reference.year + offset
    start = reference if offset == 0 else _date(year, 1, 1)
    return (start, _date(year, 12, 31)), ("relative",)


def _strip_fillers(words: Sequence[str]) -> list[str]:
    """Drop filler words in front of the period and between its parts, never the last word."""
    kept = list(words)
    while len(kept) > 1 and kept[0] in _LEADING_FILLERS:
        kept.pop(0)
    return [w for i, w in enumerate(kept) if w not in _INNER_FILLERS or i == len(kept) - 1]


def _resolve_single(words: Sequence[str], reference: date) -> _Span:
    words = _strip_fillers(words)
    if not words or words[0] not in _PREFIXES:
        return _resolve_plain(words, reference)[0]
    # "uiterlijk X", "vóór X", "nog (in) X": from the reference date up to the end of X.
    (_, end), shape = _resolve_plain(_strip_fillers(words[1:]), reference)
    if words[0] == "voor" and shape != ("day", "month"):
        raise _Refusal("'vóór' gaat alleen samen met een dag, zoals 'vóór 1 maart 2018'")
    if end < reference:
        raise _Refusal(f"{dutch_date(end)} ligt vóór de peildatum {dutch_date(reference)}")
    return reference, end


def dutch_date(day: date) -> str:
    """`day` in Dutch words this parser reads back as exactly that day: "4 juli 2021"."""
    return f"{day.day} {_MONTH_NAMES[day.month]} {day.year}"


def _resolve_words(words: list[str], reference: date) -> _Span:
    if "of" not in words:
        return _resolve_single(words, reference)
    # "eind 2016 of begin 2017": from the start of the first to the end of the second.
    cut = words.index("of")
    if "of" in words[cut + 1 :]:
        raise _Refusal("meer dan één 'of'")
    start, _ = _resolve_single(words[:cut], reference)
    _, end = _resolve_single(words[cut + 1 :], reference)
    if start > end:
        raise _Refusal("het eerste deel ligt na het tweede")
    return start, end


def resolve_period(phrase: str, reference: date) -> Period:
    """Resolve a Dutch target phrase; `reference` is the day it was written down.

    Raises UnparseablePeriod, quoting the phrase, for anything outside the documented forms.
    The reference date and the period's start must lie in the years MIN_YEAR..MAX_YEAR
    (domain/bounds.py), also when the year comes from the reference ("nog dit jaar").
    """
    words = unicodedata.normalize("NFC", phrase).lower().replace("ó", "o").split()
    try:
        _check_years(reference, "de peildatum")
        start, end = _resolve_words(words, reference)
        _check_years(start, "de periode")  # its end may run on into the next year (winter)
    except _Refusal as refusal:
        raise UnparseablePeriod(phrase, refusal.why) from None
    return Period(phrase.strip(), start, end)


def _check_years(day: date, what: str) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _Refusal(f"{what} ({day.isoformat()}) ligt niet tussen {MIN_YEAR} en {MAX_YEAR}")

"""What a target phrase means, in the words the target form shows while it is typed.

The covenant page's target form asks for a phrase ("Q1 van 2017") and shows, as you type,
the period it resolves to ("1 januari 2017 – 31 maart 2017, deadline 31-03-2017"); the API
answers the same question. The resolving is domain/periods.py's, refusals and all: a phrase
it does not know is refused with its examples, never guessed.

Pure: no database or web imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from imvo_workflow.domain.bounds import check_date, check_label
from imvo_workflow.domain.periods import dutch_date, resolve_period


@dataclass(frozen=True, slots=True)
class PeriodPreview:
    phrase: str
    reference: date
    start: date
    end: date
    #: "1 januari 2017 – 31 maart 2017, deadline 31-03-2017"
    text: str


def preview_period(phrase: str, reference: date) -> PeriodPreview:
    """The period `phrase` names when written on `reference`; UnparseablePeriod otherwise."""
    check_label(phrase, "De termijn")
    check_date(reference, "De peildatum")
    period = resolve_period(phrase, reference)
    end = period.end
    span = (
        dutch_date(period.start)
        if period.start == end
        else (f"{dutch_date(period.start)} – {dutch_date(end)}")
    )
    text = f"{span}, deadline {end.day:02d}-{end.month:02d}-{end.year}"
    return PeriodPreview(period.phrase, reference, period.start, end, text)

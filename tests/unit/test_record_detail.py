"""A stored detail reads back as it was written, whichever JSON reader takes it."""

from __future__ import annotations

import pytest

from imvo_workflow.domain.record import canonical_detail, read_detail


@pytest.mark.parametrize(
    "detail",
    [
        {},
        {"organisation": "Stichting Fairwear", "participation_id": 12, "role": "partij"},
        {"text": "Gesprek met “ngo's” — €, ü, 中文\nTweede regel", "note_id": 2**63 - 1},
        {"nested": {"list": [1, "twee", None, True]}, "deadline": "2017-06-30"},
    ],
)
def test_a_canonical_detail_reads_back_the_same(detail: dict[str, object]) -> None:
    assert read_detail(canonical_detail(detail)) == detail


def test_what_the_fast_reader_refuses_reads_as_the_standard_library_reads_it() -> None:
    # orjson refuses NaN and integers beyond 64 bits; json reads them: a detail stored by an
    # older release must not become unreadable.
    assert read_detail('{"big": 18446744073709551616, "x": NaN}')["big"] == 2**64
    assert read_detail(None) == {} and read_detail("") == {} and read_detail("[1]") == {}

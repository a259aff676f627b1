"""The HTML report's page is joined once around the template's two marks (reports/render.py)."""

from __future__ import annotations

import pytest

from imvo_workflow.reports.render import _SECTIONS_MARK, _TIMELINE_MARK, _split_once


@pytest.mark.parametrize("mark", [_TIMELINE_MARK, _SECTIONS_MARK])
def test_a_mark_is_split_on_once(mark: str) -> None:
    assert _split_once(f"<main>{mark}</main>", mark) == ("<main>", "</main>")


@pytest.mark.parametrize("page", ["<main></main>", "{0}{0}"])
def test_a_template_that_lost_a_mark_or_wrote_it_twice_is_refused(page: str) -> None:
    with pytest.raises(RuntimeError, match="exactly once"):
        _split_once(page.format(_SECTIONS_MARK), _SECTIONS_MARK)

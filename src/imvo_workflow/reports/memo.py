"""A memo for the renderers: what a thousand covenants repeat (a day's place on the timeline,
a stage's colour, a label's pixels, a table cell's escaped text) made once per rendering."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


class Memo(dict[_K, _V]):
    """A value per key, made by `make` the first time it is looked up (memo[key]); a miss
    costs one call, a hit a dict lookup. Kept for one rendering, so it holds one report."""

    def __init__(self, make: Callable[[_K], _V]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: _K) -> _V:
        value = self[key] = self.make(key)
        return value

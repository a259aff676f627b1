"""CPython's cycle collector, paused while a report is built or rendered.

A report over a thousand covenants makes hundreds of thousands of small objects (rows, views,
lines of text) and none of them in a cycle: reference counting frees every one. The cycle
collector still runs every 700 allocations, and every tenth of those runs walks every object
the process holds (SQLAlchemy, Jinja, python-docx, the rows read so far): a fifth of the
report's time, for nothing to collect. So it is paused for the duration and resumed after.

Process-wide, as the collector is: reports built at once (two web requests in threads) share
one pause, and the collector resumes when the last of them ends, unless it was off before.

On resuming, what the pause made and kept (the report itself: tens of thousands of values) is
moved into the oldest generation as it is (gc.freeze then gc.unfreeze: two list splices), not
walked by a young-generation pass that would find nothing in it: that pass was 7 % of the
report's build. A cycle made during the pause is still found, by the next full collection.
Objects the process froze itself stay frozen (the web app freezes what it built at start-up,
web/app.py): with any frozen, the promotion is left out and the young pass runs as before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block (or, as a decorator, the function) with the cycle collector paused."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                _promote_what_the_pause_kept()
                gc.enable()


def _promote_what_the_pause_kept() -> None:
    """Every tracked object into the oldest generation, unwalked (see the module's docstring)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()

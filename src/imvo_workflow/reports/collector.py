"""CPython's cycle collector, paused while a report is built or rendered.

A report over a thousand covenants makes hundreds of thousands of small objects (rows, views,
lines of text) and none of them in a cycle: reference counting frees every one. The cycle
collector still runs every 700 allocations, and every tenth of those runs walks every object
the process holds (SQLAlchemy, Jinja, python-docx, the rows read so far): a fifth of the
report's time, for nothing to collect. So it is paused for the duration and resumed after.

Process-wide, as the collector is: reports built at once (two web requests in threads) share
one pause, and the collector resumes when the last of them ends, unless it was off before.
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
                gc.enable()

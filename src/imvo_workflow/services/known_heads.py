"""The chain heads this process has seen committed, so a move with a known version skips its read.

A client that states the version it read (the API's `If-Match`, the web form's hidden
version) usually moves a covenant this process moved last: the head that move committed is
the head the next one is chained on. On PostgreSQL such a move is then one statement,
committed as it completes (services/moves.py), instead of a read, three writes and the commit.

Nothing here has to be right for the history to be. The head is remembered per database
(engine) and slug, only after the commit that wrote it; the statement that uses it is guarded
by every field of the head (services/history.py), so a head remembered wrongly writes
nothing and the move is made again from the head read in its transaction. A remembered head
whose version is not the one the caller states is never used.
"""

from __future__ import annotations

import weakref

from sqlalchemy import Engine

from imvo_workflow.services.history import Head

#: Heads kept per database before the memory starts afresh (a board of 10,000 covenants fits).
LIMIT = 50_000

_KNOWN: weakref.WeakKeyDictionary[Engine, dict[str, Head]] = weakref.WeakKeyDictionary()


def remember(engine: Engine, head: Head) -> None:
    """Keep `head`, committed just now on `engine`'s database."""
    known = _KNOWN.get(engine)
    if known is None:
        known = _KNOWN.setdefault(engine, {})
    if len(known) >= LIMIT:
        known.clear()
    known[head.slug] = head


def recall(engine: Engine, slug: str, version: int) -> Head | None:
    """The head of `slug` at `version`, if this process committed it; None otherwise."""
    known = _KNOWN.get(engine)
    head = None if known is None else known.get(slug)
    return head if head is not None and head.version == version else None

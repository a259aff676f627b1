"""Bearer tokens this process verified a moment ago, so the next API request need not read them.

Every API request names its token, and reading it (a pool checkout, a transaction of its own,
the lookup) cost more than a whole move on PostgreSQL (bench/web.py, issue 14). So a token
found valid is kept, by its hash and per database, for at most `TTL_SECONDS` (a monotonic
clock: the app's own clock may stand still, IMVO_NOW) and never past its own expiry.

Revoking stays effective. A revocation or a disabled user committed in this process forgets
every kept token at once (`forget_all`), so the very next request reads the token again. A
lookup that began before such a change cannot put its older answer back afterwards: it is
kept only while the generation it started in is still the current one. Another process (the
CLI, a second web process) cannot reach this memory: there a revoked token, or a disabled
user's, stops working within `TTL_SECONDS`, the bound README (Operations) states. Only
successes are kept: an unknown or refused token is read every time, so a new token, or an
enabled user's, works at once.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:  # services/auth.py imports this module
    from imvo_workflow.services.auth import UserView

#: How long another process may go on accepting a token revoked elsewhere.
TTL_SECONDS = 1.0
#: Tokens kept per database before the memory starts afresh.
LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Kept:
    user: UserView
    #: The token's own end (None: it has none), against the app's clock.
    expires_at: datetime | None
    #: Until when (monotonic seconds) this answer may be used.
    fresh_until: float


class VerifiedTokens:
    """Token hash -> the user it was verified for, per engine; see the module's docstring."""

    def __init__(self, *, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._kept: weakref.WeakKeyDictionary[Engine, dict[str, Kept]] = weakref.WeakKeyDictionary()
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Take it before reading a token; hand it to `keep`."""
        return self._generation

    def recall(self, engine: Engine, digest: str, *, now: datetime) -> UserView | None:
        """The user of the token with hash `digest`, if verified here less than `ttl` ago
        and not expired at `now`; None otherwise (read it)."""
        kept = self._kept.get(engine)
        found = None if kept is None else kept.get(digest)
        if found is None:
            return None
        if found.fresh_until <= self.clock() or (
            found.expires_at is not None and found.expires_at <= now
        ):
            kept.pop(digest, None)  # type: ignore[union-attr]
            return None
        return found.user

    def keep(
        self,
        engine: Engine,
        digest: str,
        user: UserView,
        *,
        expires_at: datetime | None,
        generation: int,
    ) -> None:
        """Keep a token just read as valid, unless something was revoked since `generation`."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            kept = self._kept.get(engine)
            if kept is None:
                kept = self._kept.setdefault(engine, {})
            if len(kept) >= LIMIT:
                kept.clear()
            kept[digest] = Kept(user, expires_at, self.clock() + self.ttl)

    def forget_all(self) -> None:
        """Forget every kept token (of every database): call after committing a revocation."""
        with self._lock:
            self._generation += 1
            for kept in list(self._kept.values()):
                kept.clear()


#: This process's memory of verified tokens (web/security.py's api_user reads it).
TOKENS = VerifiedTokens()

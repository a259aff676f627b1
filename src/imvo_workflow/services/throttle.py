"""Login throttling per (name, client address) and per client address, kept in the database.

Counting per user let anyone keep an account locked (three wrong passwords from anywhere
and the right one was refused too) and never slowed a name nobody has, so the 429 told which
names exist. Here the counters are keyed by a SHA-256 of the scope: a name that exists and
one that does not are counted alike, without a user row, and a stranger's attempts slow that
stranger's address only. Every web process shares the counters through the database.

A failure is counted with one INSERT … ON CONFLICT DO UPDATE … RETURNING, so simultaneous
wrong passwords are each counted (reading the number, adding one in Python and writing it
back lost all but one of eight at once on PostgreSQL).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from imvo_workflow.db import tables as t
from imvo_workflow.domain.bounds import user_name_key
from imvo_workflow.services.queries import aware

#: Wrong passwords for one name from one address before each further one doubles the wait.
FREE_PER_NAME = 3
#: Wrong passwords from one address (any names) before every login from it waits.
FREE_PER_ADDRESS = 20
MAX_WAIT = timedelta(minutes=5)
#: A counter without a failure for this long starts again from zero.
FORGET_AFTER = timedelta(hours=1)


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def name_key(name: str, address: str) -> str:
    """The counter of one name from one address ("Anna" and "anna" are one name)."""
    return _key("name", user_name_key(name), address)


def address_key(address: str) -> str:
    """The counter of every name from one address."""
    return _key("address", address)


def _wait(failures: int, free: int) -> timedelta | None:
    over = failures - free
    if over < 0:
        return None
    return MAX_WAIT if over >= 9 else min(timedelta(seconds=2**over), MAX_WAIT)


def seconds_to_wait(conn: Connection, *, name: str, address: str, now: datetime) -> int:
    """How long a login for `name` from `address` must still wait (0: it may try now)."""
    lt = t.login_throttle
    until = conn.execute(
        select(lt.c.blocked_until).where(
            lt.c.key.in_([name_key(name, address), address_key(address)]),
            lt.c.blocked_until.is_not(None),
        )
    ).scalars()
    left = max(((aware(moment) - now).total_seconds() for moment in until), default=0.0)
    return max(1, int(left)) if left > 0 else 0


def record_failure(conn: Connection, *, name: str, address: str, now: datetime) -> None:
    """Count one wrong password for `name` from `address`, and block when over the limit."""
    lt = t.login_throttle
    at = now.astimezone(UTC)
    stale = at - FORGET_AFTER
    # Forget counters nobody has failed on for a while (an attacker's names included).
    conn.execute(
        delete(lt).where(
            lt.c.last_failure_at < stale, or_(lt.c.blocked_until.is_(None), lt.c.blocked_until < at)
        )
    )
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # The name's counter first, then the address's: every login takes the two row locks in
    # the same order, so concurrent failures wait for each other instead of deadlocking.
    for key, free in (
        (name_key(name, address), FREE_PER_NAME),
        (address_key(address), FREE_PER_ADDRESS),
    ):
        statement = dialect.insert(lt).values(key=key, failures=1, last_failure_at=at)
        counted = conn.execute(
            statement.on_conflict_do_update(
                index_elements=[lt.c.key],
                set_={
                    "failures": case((lt.c.last_failure_at < stale, 1), else_=lt.c.failures + 1),
                    "last_failure_at": at,
                },
            ).returning(lt.c.failures)
        ).scalar_one()
        wait = _wait(int(counted), free)
        if wait is not None:
            # Only for the count this failure made: a later failure sets its own, longer wait.
            conn.execute(
                update(lt)
                .where(lt.c.key == key, lt.c.failures == counted)
                .values(blocked_until=at + wait)
            )


def is_counted(conn: Connection, *, name: str, address: str) -> bool:
    """Whether this name from this address has wrong passwords on record."""
    lt = t.login_throttle
    found = conn.execute(select(lt.c.key).where(lt.c.key == name_key(name, address))).first()
    return found is not None


def forget_name(conn: Connection, *, name: str, address: str) -> None:
    """A right password: this name from this address starts afresh (the address does not:
    an attacker's own account must not clear the address's count of guesses at others)."""
    lt = t.login_throttle
    conn.execute(delete(lt).where(lt.c.key == name_key(name, address)))

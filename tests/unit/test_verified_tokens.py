"""The memory of verified bearer tokens (services/verified_tokens.py): what it keeps, for how
long, and that a revocation in this process wins over every answer read before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine

from imvo_workflow.services import verified_tokens
from imvo_workflow.services.auth import UserView
from imvo_workflow.services.verified_tokens import VerifiedTokens

NOW = datetime(2016, 11, 1, 10, 0, tzinfo=UTC)
ANNA = UserView(1, "anna", "coordinator", None)


class Clock:
    def __init__(self) -> None:
        self.at = 100.0

    def __call__(self) -> float:
        return self.at


def test_a_verified_token_is_kept_for_the_ttl_and_no_longer() -> None:
    clock, engine = Clock(), create_engine("sqlite://")
    memory = VerifiedTokens(ttl=1.0, clock=clock)
    assert memory.recall(engine, "h", now=NOW) is None
    memory.keep(engine, "h", ANNA, expires_at=None, generation=memory.generation)
    assert memory.recall(engine, "h", now=NOW) == ANNA
    clock.at += 0.99
    assert memory.recall(engine, "h", now=NOW) == ANNA
    clock.at += 0.01
    assert memory.recall(engine, "h", now=NOW) is None
    assert memory.recall(engine, "h", now=NOW) is None  # dropped, not only hidden


def test_a_kept_token_never_outlives_its_own_expiry() -> None:
    clock, engine = Clock(), create_engine("sqlite://")
    memory = VerifiedTokens(ttl=60.0, clock=clock)
    ends = NOW + timedelta(seconds=5)
    memory.keep(engine, "h", ANNA, expires_at=ends, generation=memory.generation)
    assert memory.recall(engine, "h", now=ends - timedelta(microseconds=1)) == ANNA
    assert memory.recall(engine, "h", now=ends) is None


def test_forget_all_forgets_every_database_and_wins_over_a_lookup_begun_before_it() -> None:
    clock, one, other = Clock(), create_engine("sqlite://"), create_engine("sqlite://")
    memory = VerifiedTokens(ttl=60.0, clock=clock)
    memory.keep(one, "h", ANNA, expires_at=None, generation=memory.generation)
    memory.keep(other, "h", ANNA, expires_at=None, generation=memory.generation)
    begun = memory.generation  # a request reads the token (still valid in its snapshot) ...
    memory.forget_all()  # ... while a revocation commits
    assert memory.recall(one, "h", now=NOW) is None
    assert memory.recall(other, "h", now=NOW) is None
    memory.keep(one, "h", ANNA, expires_at=None, generation=begun)  # its older answer
    assert memory.recall(one, "h", now=NOW) is None
    memory.keep(one, "h", ANNA, expires_at=None, generation=memory.generation)
    assert memory.recall(one, "h", now=NOW) == ANNA


def test_tokens_are_kept_per_database() -> None:
    clock, one, other = Clock(), create_engine("sqlite://"), create_engine("sqlite://")
    memory = VerifiedTokens(ttl=60.0, clock=clock)
    memory.keep(one, "h", ANNA, expires_at=None, generation=memory.generation)
    assert memory.recall(other, "h", now=NOW) is None


def test_the_memory_is_bounded_and_a_zero_ttl_keeps_nothing() -> None:
    clock, engine = Clock(), create_engine("sqlite://")
    memory = VerifiedTokens(ttl=60.0, clock=clock)
    for n in range(verified_tokens.LIMIT + 1):
        memory.keep(engine, f"h{n}", ANNA, expires_at=None, generation=memory.generation)
    assert memory.recall(engine, "h0", now=NOW) is None  # started afresh at the limit
    assert memory.recall(engine, f"h{verified_tokens.LIMIT}", now=NOW) == ANNA
    off = VerifiedTokens(ttl=0, clock=clock)
    off.keep(engine, "h", ANNA, expires_at=None, generation=off.generation)
    assert off.recall(engine, "h", now=NOW) is None

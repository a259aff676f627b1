"""What a move must bring: the facts of one move, and the Machine's conditions that read them.

A transition's requirements (a reason, a date, at least N parties or signatures) and the roles
that may fire it are not checked beside the state machine but by it: each becomes a condition
of the transition in the shared `transitions.Machine`. A condition reads the facts the move
carries; when it fails it leaves a refusal on the facts that names what is missing, in Dutch,
so the service can raise it as it is.

Counting parties and signatures needs the database; the facts hold those counts as callables,
so only a transition that requires them asks (the hot path of a plain move asks nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from imvo_workflow.domain.definition_file import Label, Requires
from imvo_workflow.domain.errors import DomainError, Forbidden, RequirementMissing


class Described(Protocol):
    """What a condition needs to know of its transition to explain a refusal."""

    @property
    def label(self) -> Label: ...
    @property
    def requires(self) -> Requires: ...
    @property
    def roles(self) -> tuple[str, ...]: ...


def _no_count() -> int:
    return 0


@dataclass(slots=True)
class MoveFacts:
    """The facts one move brings to the Machine; `refusal` is set by the condition that fails.

    `role` None means the caller speaks for the system (the seed, a test): roles are not asked.
    `offering` asks which moves to offer a user before the move's facts are known: only the
    roles decide then (the form asks for the reason and date a move requires).
    """

    covenant: str
    role: str | None = None
    reason: str = ""
    occurred_on: date | None = None
    count_parties: Callable[[], int] = _no_count
    count_signatures: Callable[[], int] = _no_count
    offering: bool = False
    refusal: DomainError | None = field(default=None)


#: A condition as the Machine calls it (send_event=True): with the event's data.
Condition = Callable[[Any], bool]


def _facts(event: Any) -> MoveFacts | None:
    """The facts a role condition reads (None: replaying recorded history, the graph only)."""
    facts: MoveFacts | None = event.kwargs.get("facts")
    return facts


def _known_facts(event: Any) -> MoveFacts | None:
    """The facts a requirement reads: none while only offering moves."""
    facts = _facts(event)
    return None if facts is None or facts.offering else facts


def _refuse(facts: MoveFacts, refusal: DomainError) -> bool:
    facts.refusal = refusal
    return False


def _role_allowed(spec: Described) -> Condition:
    def check(event: Any) -> bool:
        facts = _facts(event)
        if facts is None or facts.role is None or facts.role in spec.roles:
            return True
        return _refuse(
            facts,
            Forbidden(
                f"Met de rol '{facts.role}' mag je '{spec.label.nl}' niet uitvoeren "
                f"(toegestaan: {', '.join(spec.roles)})."
            ),
        )

    return check


def _has_reason(spec: Described) -> Condition:
    def check(event: Any) -> bool:
        facts = _known_facts(event)
        if facts is None or facts.reason.strip():
            return True
        return _refuse(
            facts, RequirementMissing(f"'{spec.label.nl}' vraagt om een reden.", "reason")
        )

    return check


def _has_date(spec: Described) -> Condition:
    def check(event: Any) -> bool:
        facts = _known_facts(event)
        if facts is None or facts.occurred_on is not None:
            return True
        return _refuse(
            facts,
            RequirementMissing(
                f"'{spec.label.nl}' vraagt om de datum waarop het gebeurde.", "date"
            ),
        )

    return check


def _at_least(
    needed: int,
    count: Callable[[MoveFacts], int],
    explain: Callable[[MoveFacts, int], str],
) -> Condition:
    """A condition that the move's covenant has at least `needed` of something it counts."""

    def check(event: Any) -> bool:
        facts = _known_facts(event)
        if facts is None:
            return True
        found = count(facts)
        return found >= needed or _refuse(facts, RequirementMissing(explain(facts, found)))

    return check


def _enough_signatures(spec: Described) -> Condition:
    needed = spec.requires.min_signatures
    return _at_least(
        needed,
        lambda facts: facts.count_signatures(),
        lambda facts, found: (
            f"'{spec.label.nl}' vraagt om minstens {needed} ondertekenaars; "
            f"voor {facts.covenant} zijn er {found} vastgelegd (imvo sign)."
        ),
    )


def _enough_parties(spec: Described) -> Condition:
    needed = spec.requires.min_parties
    return _at_least(
        needed,
        lambda facts: facts.count_parties(),
        lambda facts, found: (
            f"'{spec.label.nl}' vraagt om minstens {needed} partijen; "
            f"{facts.covenant} heeft er {found}."
        ),
    )


def conditions_for(spec: Described) -> list[Condition]:
    """The Machine's conditions for one transition, in the order a refusal is explained:
    who may fire it, then what it requires."""
    needs = spec.requires
    conditions = [_role_allowed(spec)]
    if needs.reason:
        conditions.append(_has_reason(spec))
    if needs.date:
        conditions.append(_has_date(spec))
    if needs.min_signatures:
        conditions.append(_enough_signatures(spec))
    if needs.min_parties:
        conditions.append(_enough_parties(spec))
    return conditions

"""Domain errors: one type per thing a coordinator can get wrong, each with a plain message.

Entrypoints (CLI, web, API) map these to exit codes and HTTP statuses in one place; the
message is written for the person who typed the command, not for the developer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every refusal the product explains to its user.

    What an entrypoint answers (an exit code, an HTTP status) is decided by that entrypoint's
    one table (web/errors.py for HTTP), not here: the domain knows no adapters.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnparseablePeriod(DomainError):
    """A Dutch target phrase that does not name a period we can resolve without guessing."""

    def __init__(self, phrase: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(
            f'"{phrase}" is geen periode die ik kan omrekenen naar een datum{detail}. '
            'Voorbeelden: "Q1 2017", "eind 2016", "eerste helft van 2017", "20 december 2016".'
        )
        self.phrase = phrase


class InvalidDefinition(DomainError):
    """The workflow definition file breaks a rule; the message names file, line and rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class NotFound(DomainError):
    """Something named by the user does not exist; suggests the closest names."""

    def __init__(self, kind: str, name: str, suggestions: Iterable[str] = ()) -> None:
        options = list(suggestions)
        hint = f" Bedoelde je: {', '.join(options)}?" if options else ""
        super().__init__(f"Onbekende {kind} '{name}'.{hint}")
        self.kind = kind
        self.name = name
        self.suggestions = options


class UnknownSector(NotFound):
    def __init__(self, name: str, suggestions: Iterable[str] = ()) -> None:
        super().__init__("sector", name, suggestions)


class UnknownStage(NotFound):
    def __init__(self, name: str, suggestions: Iterable[str] = ()) -> None:
        super().__init__("fase", name, suggestions)


@dataclass(frozen=True, slots=True)
class AllowedMove:
    """A move the graph allows from a stage: what a client sends back to make it.

    `to` is the destination stage and `trigger` the transition's name; either one, sent as a
    move's `to`, makes this move.
    """

    to: str
    trigger: str

    def __str__(self) -> str:
        return f"{self.to} ({self.trigger})"


class ForbiddenTransition(DomainError):
    """The graph does not allow this move from the current stage; lists what it does allow."""

    def __init__(
        self, covenant: str, stage: str, wanted: str, moves: Sequence[AllowedMove]
    ) -> None:
        self.moves = list(moves)
        options = ", ".join(self.allowed) if self.moves else "geen (eindfase)"
        super().__init__(
            f"{covenant} staat in fase '{stage}'; '{wanted}' is vanaf daar niet toegestaan. "
            f"Toegestaan: {options}."
        )

    @property
    def allowed(self) -> list[str]:
        """The allowed moves as the message words them: "dialoog (dialoog_starten)"."""
        return [str(move) for move in self.moves]


class RequirementMissing(DomainError):
    """A transition's requirement (reason, date, parties) is not met.

    `field` names what is missing (reason, date, actor) so each entrypoint can say where to
    give it: a CLI flag, a form field.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConcurrentUpdate(DomainError):
    """Someone else moved the covenant first (optimistic lock); nothing was written."""


class PreconditionFailed(ConcurrentUpdate):
    """The version the caller named (HTTP `If-Match`) is not the current one; nothing was
    written. Unlike a plain ConcurrentUpdate the caller stated a condition, and it is false."""


class MalformedRequest(DomainError):
    """A request the caller built wrongly (a header that is not in its required form)."""


class InvalidInput(DomainError):
    """A value in an impossible format (a date, a number)."""


class NotAuthenticated(DomainError):
    """Nobody is logged in (no session, a dead session, no or an unknown API token)."""

    def __init__(self, message: str = "Log eerst in.") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    """The one permission error: who asks may not do this (their role is too small, their
    role may not fire this transition, or a form did not come from their own session).

    The message says what was refused and, where it helps, which role would be allowed.
    """

    def __init__(self, message: str = "Met jouw rol mag je dit niet doen.") -> None:
        super().__init__(message)

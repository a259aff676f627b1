"""Replaying a history through the workflow: the current stage must equal its result.

A history is valid when every row starts where the previous one ended and every move (after
the creation row) is one the definition allows. Correction rows amend an earlier row and do
not move the covenant, and neither do record entries (domain/record.py): replay passes over
them. Pure: works on any sequence of steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.errors import DomainError, ForbiddenTransition
from imvo_workflow.domain.record import is_record


class Step(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def from_stage(self) -> str | None: ...
    @property
    def to_stage(self) -> str: ...
    @property
    def trigger(self) -> str: ...
    @property
    def corrects_seq(self) -> int | None: ...


class BrokenHistory(DomainError):
    """A history that does not replay: names the first row that breaks it."""


def replay(steps: Iterable[Step], definition: WorkflowDefinition) -> str | None:
    """The stage a history leads to; raises BrokenHistory at the first impossible row."""
    stage: str | None = None
    for step in steps:
        if step.corrects_seq is not None or is_record(step.trigger):
            continue  # a correction or a change of the record around the stage: not a move
        if step.from_stage != stage:
            raise BrokenHistory(
                f"rij {step.seq}: begint in '{step.from_stage}', maar de vorige rij eindigde in '{stage}'"
            )
        if stage is None:
            if step.to_stage != definition.initial:
                raise BrokenHistory(
                    f"rij {step.seq}: een geschiedenis begint in '{definition.initial}'"
                )
        else:
            try:
                reached = definition.fire(stage, step.trigger)
            except ForbiddenTransition as exc:
                raise BrokenHistory(f"rij {step.seq}: {exc.message}") from exc
            if reached != step.to_stage:
                raise BrokenHistory(
                    f"rij {step.seq}: '{step.trigger}' leidt naar '{reached}', niet '{step.to_stage}'"
                )
        stage = step.to_stage
    return stage

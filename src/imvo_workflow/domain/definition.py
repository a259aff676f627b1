"""The validated workflow definition and its one shared `transitions.Machine`, which decides.

The Machine is built once per definition and shared by every covenant (`model=None`): building
one per object costs more than the database write it guards. Each of its transitions carries
the edge as the file describes it (label, requirements, roles), and its conditions are those
requirements and roles (domain/requirements.py). Whether a move is allowed, which moves leave a
stage and what a user means by "ondertekend" are all asked of the Machine; the only tables kept
beside it are derived answers to graph questions it has no method for (which stages can still
be reached, which targets can still be met).

Each thread steps its own model: a cursor registered once (adding a model to a Machine costs
more than a move), loaded with one move's stage and facts before the Machine is asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from transitions import Machine, MachineError
from transitions import Transition as MachineTransition

from imvo_workflow.domain.definition_file import (
    DefinitionFile,
    Label,
    ReminderPolicyFile,
    Requires,
    StageFile,
    _reachable,
    read_definition_file,
)
from imvo_workflow.domain.errors import AllowedMove, ForbiddenTransition, InvalidDefinition
from imvo_workflow.domain.requirements import MoveFacts, conditions_for

ReminderPolicy = ReminderPolicyFile
Stage = StageFile


@dataclass(frozen=True, slots=True)
class Transition:
    """One edge of the graph as the file describes it: `trigger` from `source` leads to `dest`."""

    trigger: str
    source: str
    dest: str
    label: Label
    requires: Requires
    roles: tuple[str, ...]


class _Edge(MachineTransition):
    """The Machine's transition, carrying the edge it was built from."""

    def __init__(self, *args: Any, edge: Transition, order: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.edge = edge
        self.order = order


class _DecidingMachine(Machine):
    transition_cls = _Edge


class _Cursor:
    """The model the shared Machine steps; set to one move's stage before it is asked."""

    state: str


@dataclass(eq=False)
class WorkflowDefinition:
    version: str
    stages: dict[str, Stage]
    initial: str
    transitions: tuple[Transition, ...]
    reminders: ReminderPolicy
    renamed_stages: dict[str, str]
    source_path: Path | None = None
    _reachable: dict[str, frozenset[str]] = field(init=False, repr=False)
    _ahead: dict[str, frozenset[str]] = field(init=False, repr=False)
    _machine: Machine = field(init=False, repr=False)
    _local: threading.local = field(init=False, repr=False, default_factory=threading.local)
    _asked: dict[tuple[str, str, str], list[_Edge]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._machine = _DecidingMachine(
            model=None,
            states=list(self.stages),
            initial=self.initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=True,
        )
        for order, edge in enumerate(self.transitions):
            conditions: list[str | Callable[..., bool | None]] = [*conditions_for(edge)]
            self._machine.add_transition(
                edge.trigger,
                edge.source,
                edge.dest,
                conditions=conditions,
                edge=edge,
                order=order,
            )
        edges = {name: {t.dest for t in self.allowed(name)} for name in self.stages}
        self._reachable = {name: frozenset(_reachable(edges, name)) for name in self.stages}
        # Going through a stage that cancels targets (afgezien) ends every target on the way,
        # so "ahead" stops there: a target is only meetable on a path that does not cancel it.
        cancelling = {name for name, stage in self.stages.items() if stage.cancels_targets}
        self._ahead = {
            name: frozenset(
                _reachable(
                    {k: (set() if k in cancelling and k != name else v) for k, v in edges.items()},
                    name,
                )
            )
            for name in self.stages
        }

    # -- asked of the Machine ------------------------------------------------------------
    @property
    def machine(self) -> Machine:
        return self._machine

    def _edges(self, stage: str, *, trigger: str = "", dest: str = "*") -> list[_Edge]:
        """The Machine's transitions from `stage` (by trigger or destination), in file order.

        Remembered per question: the Machine's graph is fixed once built, and asking it walks
        every event, which cost more per move than the database's own work on SQLite.
        """
        key = (stage, trigger, dest)
        found = self._asked.get(key)
        if found is None:
            edges = (
                []
                if stage not in self.stages
                else self._machine.get_transitions(trigger=trigger, source=stage, dest=dest)
            )
            found = self._asked[key] = sorted(cast(list[_Edge], edges), key=lambda e: e.order)
        return found

    def allowed(self, stage: str) -> list[Transition]:
        """The moves that leave `stage`, in file order, as the Machine has them."""
        return [e.edge for e in self._edges(stage)]

    def resolve(self, stage: str, wanted: str, *, covenant: str = "") -> Transition:
        """The transition a user means by `wanted` (a trigger or a destination stage)."""
        found = self._edges(stage, trigger=wanted) or self._edges(stage, dest=wanted)
        if not found:
            raise ForbiddenTransition(
                covenant or "Dit convenant", stage, wanted, self._offer(stage)
            )
        return found[0].edge

    def offered(self, stage: str, *, role: str | None) -> list[Transition]:
        """The moves to offer a user with `role` in `stage`: those the Machine may fire for them."""
        cursor = self._cursor()
        facts = MoveFacts(covenant="", role=role, offering=True)
        offered = []
        for edge in self._edges(stage):
            cursor.state = stage
            if cursor.may_trigger(edge.edge.trigger, facts=facts):  # type: ignore[attr-defined]
                offered.append(edge.edge)
        return offered

    def _offer(self, stage: str) -> list[AllowedMove]:
        return [AllowedMove(t.dest, t.trigger) for t in self.allowed(stage)]

    def fire(self, stage: str, trigger: str, facts: MoveFacts | None = None) -> str:
        """Ask the Machine to step from `stage` with `trigger`; return the new stage.

        With `facts`, the transition's conditions (roles, requirements) decide too, and a
        refusal is raised as the condition that failed explains it. Without, only the graph
        is asked: replaying recorded history, whose requirements were met when it was written.
        """
        cursor = self._cursor()
        if stage not in self.stages:
            raise ForbiddenTransition(_name(facts), stage, trigger, [])
        cursor.state = stage
        try:
            stepped = cursor.trigger(trigger, facts=facts)  # type: ignore[attr-defined]
        except (MachineError, AttributeError) as exc:
            raise ForbiddenTransition(_name(facts), stage, trigger, self._offer(stage)) from exc
        if not stepped:
            refusal = facts.refusal if facts is not None else None
            raise refusal or ForbiddenTransition(_name(facts), stage, trigger, self._offer(stage))
        return cursor.state

    def _cursor(self) -> _Cursor:
        """This thread's model (registered once, kept for the thread's life: the web server
        and schedulers use fixed pools, so these stay few)."""
        cursor: _Cursor | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = _Cursor()
            self._machine.add_model(cursor, initial=self.initial)
            self._local.cursor = cursor
        return cursor

    # -- graph questions the Machine has no method for -----------------------------------
    def reachable_from(self, stage: str) -> frozenset[str]:
        """Stages that can still be reached from `stage`, itself included."""
        return self._reachable.get(stage, frozenset({stage}))

    def ahead_of(self, stage: str) -> frozenset[str]:
        """Stages a target set in `stage` can still be met in: reachable without passing a
        stage that cancels targets (the cancelling stage itself included), `stage` included."""
        return self._ahead.get(stage, frozenset({stage}))

    def stranded(self, stages_in_use: Iterable[str]) -> list[str]:
        """Stored stages this definition no longer has and gives no new name for."""
        return sorted(
            {s for s in stages_in_use if s not in self.stages and s not in self.renamed_stages}
        )

    def mermaid(self) -> str:
        """The graph as Mermaid `stateDiagram-v2` source."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        lines += [f"    {t.source} --> {t.dest}: {t.label.nl}" for t in self.transitions]
        lines += [f"    {name} --> [*]" for name, s in self.stages.items() if s.terminal]
        return "\n".join(lines)


def _name(facts: MoveFacts | None) -> str:
    return facts.covenant if facts is not None and facts.covenant else "Dit convenant"


def build_definition(spec: DefinitionFile, source_path: Path | None = None) -> WorkflowDefinition:
    initial = next(s.name for s in spec.stages if s.initial)
    transitions = tuple(
        Transition(t.trigger, source, t.dest, t.label, t.requires, tuple(t.roles))
        for t in spec.transitions
        for source in t.sources
    )
    return WorkflowDefinition(
        version=str(spec.version),
        stages={s.name: s for s in spec.stages},
        initial=initial,
        transitions=transitions,
        reminders=spec.reminders,
        renamed_stages=dict(spec.renamed_stages),
        source_path=source_path,
    )


def load_definition(path: Path) -> WorkflowDefinition:
    """Read, validate and build; raises InvalidDefinition with file:line messages."""
    return build_definition(read_definition_file(path), source_path=path)


def refuse_stranding(definition: WorkflowDefinition, stages_in_use: Iterable[str]) -> None:
    """Refuse a definition that would leave stored covenants in a stage it lacks."""
    lost = definition.stranded(stages_in_use)
    if lost:
        where = definition.source_path or "de definitie"
        raise InvalidDefinition(
            [
                f"{where}: fase '{name}' is in gebruik door opgeslagen convenanten maar ontbreekt; "
                f"geef onder 'renamed_stages' aan welke fase het wordt ({name}: <nieuwe fase>)"
                for name in lost
            ]
        )

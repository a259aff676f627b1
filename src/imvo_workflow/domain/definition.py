"""The validated workflow definition and its one shared `transitions.Machine`.

Everything a move needs to know about the graph is computed here once, at load time: which
triggers leave a stage, which stage a move to a destination would use, which stages are still
reachable (to cancel targets that can no longer be met). The Machine is shared by every
covenant (`model=None`, one cursor model per thread), because building a Machine per object
costs more than the database write it guards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from transitions import Machine, MachineError

from imvo_workflow.domain.definition_file import (
    DefinitionFile,
    Label,
    ReminderPolicyFile,
    Requires,
    StageFile,
    _reachable,
    read_definition_file,
)
from imvo_workflow.domain.errors import ForbiddenTransition, InvalidDefinition

ReminderPolicy = ReminderPolicyFile
Stage = StageFile


@dataclass(frozen=True, slots=True)
class Transition:
    """One edge of the graph: `trigger` from `source` leads to `dest`."""

    trigger: str
    source: str
    dest: str
    label: Label
    requires: Requires
    roles: tuple[str, ...]


class _Cursor:
    """The object the shared Machine steps; its `state` is set from the database row."""

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
    _from: dict[str, dict[str, Transition]] = field(init=False, repr=False)
    _reachable: dict[str, frozenset[str]] = field(init=False, repr=False)
    _ahead: dict[str, frozenset[str]] = field(init=False, repr=False)
    _machine: Machine = field(init=False, repr=False)
    _local: threading.local = field(init=False, repr=False, default_factory=threading.local)

    def __post_init__(self) -> None:
        self._from = {name: {} for name in self.stages}
        for tr in self.transitions:
            self._from[tr.source][tr.trigger] = tr
        edges = {name: {t.dest for t in self._from[name].values()} for name in self.stages}
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
        self._machine = Machine(
            model=None,
            states=list(self.stages),
            transitions=[
                {"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in self.transitions
            ],
            initial=self.initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    # -- graph queries -------------------------------------------------------------------
    @property
    def machine(self) -> Machine:
        return self._machine

    def allowed(self, stage: str) -> list[Transition]:
        """The moves that leave `stage`, in file order."""
        return list(self._from.get(stage, {}).values())

    def reachable_from(self, stage: str) -> frozenset[str]:
        """Stages that can still be reached from `stage`, itself included."""
        return self._reachable.get(stage, frozenset({stage}))

    def ahead_of(self, stage: str) -> frozenset[str]:
        """Stages a target set in `stage` can still be met in: reachable without passing a
        stage that cancels targets (the cancelling stage itself included), `stage` included."""
        return self._ahead.get(stage, frozenset({stage}))

    def resolve(self, stage: str, wanted: str, *, covenant: str = "") -> Transition:
        """The transition a user means by `wanted` (a trigger or a destination stage)."""
        options = self._from.get(stage, {})
        found = options.get(wanted) or next((t for t in options.values() if t.dest == wanted), None)
        if found is None:
            allowed = [f"{t.dest} ({t.trigger})" for t in options.values()]
            raise ForbiddenTransition(covenant or "Dit convenant", stage, wanted, allowed)
        return found

    def fire(self, stage: str, trigger: str) -> str:
        """Step the shared Machine from `stage` with `trigger`; return the new stage.

        Each thread steps its own cursor (registered once, kept for the thread's life:
        the web server and schedulers use fixed pools, so these stay few).
        """
        cursor: _Cursor | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = _Cursor()
            self._machine.add_model(cursor, initial=self.initial)
            self._local.cursor = cursor
        if stage not in self.stages:
            raise ForbiddenTransition("Dit convenant", stage, trigger, [])
        cursor.state = stage
        try:
            cursor.trigger(trigger)  # type: ignore[attr-defined]
        except (MachineError, AttributeError) as exc:
            allowed = [f"{t.dest} ({t.trigger})" for t in self.allowed(stage)]
            raise ForbiddenTransition("Dit convenant", stage, trigger, allowed) from exc
        return cursor.state

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

"""The schema of data/stages.yaml and the graph rules a definition must obey.

Shape errors come from pydantic; graph errors (unknown stage, duplicate trigger from one
source, unreachable stage, terminal stage with outgoing moves, no initial stage) are checked
here, so every refusal can name the file, the line and the rule in plain words.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from imvo_workflow.domain.errors import InvalidDefinition
from imvo_workflow.domain.yamlfile import YamlDocument

Role = Literal["admin", "coordinator", "viewer"]
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    nl: str
    en: str


class StageFile(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    label: Label
    description: str = ""
    initial: bool = False
    terminal: bool = False
    cancels_targets: bool = False
    color: str = Field(default="#cccccc", pattern=r"^#[0-9a-fA-F]{6}$")


class Requires(_Strict):
    reason: bool = False
    date: bool = False
    min_parties: int = Field(default=0, ge=0)
    #: Signatures recorded (imvo sign) before the move is allowed.
    min_signatures: int = Field(default=0, ge=0)


class TransitionFile(_Strict):
    trigger: str = Field(pattern=NAME_PATTERN)
    sources: list[str] = Field(min_length=1)
    dest: str
    label: Label
    requires: Requires = Requires()
    roles: list[Role] = ["admin", "coordinator"]


class ReminderPolicyFile(_Strict):
    lead_days: list[int] = Field(default=[30, 7])
    escalate_after_days: list[int] = Field(default=[30])
    send_hour: int = Field(default=9, ge=0, le=23)
    timezone: str = "Europe/Amsterdam"
    shift_to_working_day: bool = True


class DefinitionFile(_Strict):
    version: int | str
    stages: list[StageFile] = Field(min_length=1)
    transitions: list[TransitionFile]
    reminders: ReminderPolicyFile = ReminderPolicyFile()
    #: old stage name -> new stage name, for covenants stored in a stage this file dropped.
    renamed_stages: dict[str, str] = {}


def _graph_problems(doc: YamlDocument, spec: DefinitionFile) -> list[str]:
    problems: list[str] = []
    names = [s.name for s in spec.stages]
    known = set(names)
    for i, stage in enumerate(spec.stages):
        if names.index(stage.name) != i:
            problems.append(doc.problem(("stages", i, "name"), f"fase '{stage.name}' staat dubbel"))
    initials = [i for i, s in enumerate(spec.stages) if s.initial]
    if not initials:
        problems.append(
            doc.problem(("stages",), "geen beginfase: zet 'initial: true' bij één fase")
        )
    for i in initials[1:]:
        problems.append(doc.problem(("stages", i, "initial"), "meer dan één beginfase"))
    terminal = {s.name for s in spec.stages if s.terminal}

    seen: dict[tuple[str, str], int] = {}
    edges: dict[str, set[str]] = {name: set() for name in names}
    for i, tr in enumerate(spec.transitions):
        loc: tuple[str | int, ...] = ("transitions", i)
        if tr.dest not in known:
            problems.append(
                doc.problem((*loc, "dest"), f"onbekende fase '{tr.dest}' in '{tr.trigger}'")
            )
        for j, source in enumerate(tr.sources):
            if source not in known:
                problems.append(
                    doc.problem(
                        (*loc, "sources", j), f"onbekende fase '{source}' in '{tr.trigger}'"
                    )
                )
                continue
            if source in terminal:
                problems.append(
                    doc.problem(
                        (*loc, "sources", j),
                        f"eindfase '{source}' kan geen uitgaande overgang '{tr.trigger}' hebben",
                    )
                )
            if (source, tr.trigger) in seen:
                problems.append(
                    doc.problem(
                        (*loc, "trigger"),
                        f"trigger '{tr.trigger}' vanuit '{source}' staat dubbel "
                        f"(ook op regel {seen[(source, tr.trigger)]})",
                    )
                )
            else:
                seen[(source, tr.trigger)] = doc.line_of((*loc, "trigger"))
            if tr.dest in known:
                edges[source].add(tr.dest)
    for old, new in spec.renamed_stages.items():
        if new not in known:
            problems.append(
                doc.problem(
                    ("renamed_stages", old), f"'{old}' wordt '{new}', maar die fase bestaat niet"
                )
            )
    if initials and not problems:
        reachable = _reachable(edges, spec.stages[initials[0]].name)
        for i, stage in enumerate(spec.stages):
            if stage.name not in reachable:
                problems.append(
                    doc.problem(
                        ("stages", i, "name"),
                        f"fase '{stage.name}' is onbereikbaar vanuit de beginfase",
                    )
                )
    return problems


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def read_definition_file(path: Path) -> DefinitionFile:
    """Parse and validate; raise InvalidDefinition listing every problem with file and line."""
    doc = YamlDocument.read(path)
    spec = doc.validate(DefinitionFile)
    problems = _graph_problems(doc, spec)
    if problems:
        raise InvalidDefinition(problems)
    return spec

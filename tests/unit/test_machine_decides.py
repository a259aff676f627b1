"""The shared transitions.Machine is what says yes or no: roles and requirements are its conditions.

These tests ask the definition, and also the Machine underneath it directly, so a requirement
checked beside the Machine instead of by it would fail them.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.domain.errors import Forbidden, ForbiddenTransition, RequirementMissing
from imvo_workflow.domain.requirements import MoveFacts

GRAPH = """\
version: 1
stages:
  - {name: open, label: {nl: Open, en: Open}, initial: true}
  - {name: talks, label: {nl: Gesprek, en: Talks}}
  - {name: signed, label: {nl: Getekend, en: Signed}, terminal: true}
  - {name: dropped, label: {nl: Afgezien, en: Dropped}, terminal: true, cancels_targets: true}
transitions:
  - trigger: start
    sources: [open]
    dest: talks
    label: {nl: Gesprek starten, en: Start talks}
    requires: {date: true, min_parties: 2}
  - trigger: sign
    sources: [talks]
    dest: signed
    label: {nl: Ondertekenen, en: Sign}
    requires: {reason: true, min_signatures: 1}
    roles: [admin]
  - trigger: drop
    sources: [open, talks]
    dest: dropped
    label: {nl: Afzien, en: Drop}
"""


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> WorkflowDefinition:
    path: Path = tmp_path_factory.mktemp("graph") / "stages.yaml"
    path.write_text(textwrap.dedent(GRAPH), encoding="utf-8")
    return load_definition(path)


def facts(**given: object) -> MoveFacts:
    base: dict[str, object] = {"covenant": "Convenant Test", "role": "coordinator"}
    return MoveFacts(**(base | given))  # type: ignore[arg-type]


def test_every_requirement_and_role_is_a_condition_of_the_machines_transition(
    definition: WorkflowDefinition,
) -> None:
    by_trigger = {tr.edge.trigger: tr for tr in definition.machine.get_transitions(source="talks")}
    # role + reason + min_signatures
    assert len(by_trigger["sign"].conditions) == 3
    # role only: a move that requires nothing is still asked who fires it
    assert len(by_trigger["drop"].conditions) == 1


def test_the_machine_refuses_a_move_without_its_requirements_and_names_what_is_missing(
    definition: WorkflowDefinition,
) -> None:
    with pytest.raises(RequirementMissing, match="datum") as no_date:
        definition.fire("open", "start", facts(count_parties=lambda: 5))
    assert no_date.value.field == "date"
    with pytest.raises(RequirementMissing, match=r"minstens 2 partijen; Convenant Test heeft er 1"):
        definition.fire(
            "open", "start", facts(occurred_on=date(2016, 1, 1), count_parties=lambda: 1)
        )
    done = facts(occurred_on=date(2016, 1, 1), count_parties=lambda: 2)
    assert definition.fire("open", "start", done) == "talks"


def test_roles_are_asked_first_and_refused_as_forbidden(definition: WorkflowDefinition) -> None:
    counted: list[str] = []

    def signatures() -> int:
        counted.append("asked")
        return 1

    with pytest.raises(Forbidden, match=r"rol 'coordinator'.*toegestaan: admin"):
        definition.fire("talks", "sign", facts(reason="getekend", count_signatures=signatures))
    assert counted == []  # refused before the database would be asked anything
    signed = facts(role="admin", reason="getekend", count_signatures=signatures)
    assert definition.fire("talks", "sign", signed) == "signed"
    assert counted == ["asked"]


def test_a_move_the_graph_lacks_lists_what_the_machine_allows(
    definition: WorkflowDefinition,
) -> None:
    with pytest.raises(ForbiddenTransition) as refused:
        definition.fire("open", "sign", facts())
    assert refused.value.allowed == ["talks (start)", "dropped (drop)"]


def test_offered_moves_are_those_the_machine_may_fire_for_the_users_role(
    definition: WorkflowDefinition,
) -> None:
    offered = definition.offered("talks", role="coordinator")
    assert [t.trigger for t in offered] == ["drop"]  # sign needs admin; its reason comes later
    assert [t.trigger for t in definition.offered("talks", role="admin")] == ["sign", "drop"]
    assert definition.offered("signed", role="admin") == []


def test_replaying_recorded_history_asks_the_graph_only(definition: WorkflowDefinition) -> None:
    assert definition.fire("talks", "sign") == "signed"
    with pytest.raises(ForbiddenTransition):
        definition.fire("signed", "drop")

"""The workflow definition: data/stages.yaml loads as DESIGN.md says, mistakes are refused.

DESIGN.md, "Stages are data": loading validates everything and refuses with file, line and a
plain message; a definition that would strand stored covenants is refused until a mapping is
given; one `transitions.Machine` per definition, shared by all covenants. Pure: no database.
"""

from __future__ import annotations

import random
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imvo_workflow.domain.definition import (
    WorkflowDefinition,
    load_definition,
    refuse_stranding,
)
from imvo_workflow.domain.errors import DomainError, ForbiddenTransition, InvalidDefinition
from imvo_workflow.domain.replay import BrokenHistory, replay
from imvo_workflow.settings import DEFAULT_STAGES_FILE

STAGES = DEFAULT_STAGES_FILE
#: Marks the line a refusal must point at in the small YAML files below.
MARK = "# <-"

ACTIVE = ["verkenning", "kwartiermaker", "dialoog", "intentieverklaring"]


@pytest.fixture(scope="module")
def definition() -> WorkflowDefinition:
    return load_definition(STAGES)


def _write(tmp_path: Path, text: str, name: str = "stages.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _marked_line(path: Path) -> int:
    """The 1-based line carrying MARK (exactly one per file)."""
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if MARK in line]
    assert len(lines) == 1, f"expected exactly one {MARK!r} in {path}"
    return lines[0]


def _refusal(path: Path) -> InvalidDefinition:
    with pytest.raises(InvalidDefinition) as info:
        load_definition(path)
    return info.value


# --- 1. data/stages.yaml --------------------------------------------------------------------


def test_stages_yaml_has_the_seven_stages_with_dutch_and_english_labels(
    definition: WorkflowDefinition,
) -> None:
    labels = {name: (s.label.nl, s.label.en) for name, s in definition.stages.items()}
    assert labels == {
        "verkenning": ("Verkenning", "Exploration"),
        "kwartiermaker": ("Kwartiermaker", "Quartermaster"),
        "dialoog": ("Dialoog", "Dialogue"),
        "intentieverklaring": ("Intentieverklaring", "Declaration of intent"),
        "ondertekend": ("Ondertekend", "Signed"),
        "afgezien": ("Afgezien", "Abandoned"),
        "opgegaan": ("Opgegaan in ander convenant", "Continued in another covenant"),
    }
    assert list(definition.stages) == [
        "verkenning",
        "kwartiermaker",
        "dialoog",
        "intentieverklaring",
        "ondertekend",
        "afgezien",
        "opgegaan",
    ]
    assert definition.version == "2"
    assert definition.source_path == STAGES


def test_verkenning_is_initial_and_ondertekend_and_opgegaan_are_terminal(
    definition: WorkflowDefinition,
) -> None:
    assert definition.initial == "verkenning"
    assert [n for n, s in definition.stages.items() if s.initial] == ["verkenning"]
    assert [n for n, s in definition.stages.items() if s.terminal] == ["ondertekend", "opgegaan"]
    assert definition.allowed("ondertekend") == []
    # afgezien is not an end: it can be reopened.
    assert not definition.stages["afgezien"].terminal


@pytest.mark.parametrize(
    ("source", "dest"),
    [("intentieverklaring", "dialoog"), ("dialoog", "intentieverklaring")],
)
def test_intentieverklaring_comes_before_or_after_dialoog(
    definition: WorkflowDefinition, source: str, dest: str
) -> None:
    assert definition.resolve(source, dest).dest == dest
    assert dest in {t.dest for t in definition.allowed(source)}


def test_intentieverklaring_before_dialoog_as_in_goud(definition: WorkflowDefinition) -> None:
    # Goud: intentieverklaring end 2015, the stakeholder dialogue afterwards, then signing.
    stage = definition.initial
    for trigger in ("intentieverklaring_tekenen", "dialoog_starten", "ondertekenen"):
        stage = definition.fire(stage, trigger)
    assert stage == "ondertekend"


@pytest.mark.parametrize("stage", ACTIVE)
def test_afgezien_from_every_active_stage_needs_a_reason(
    definition: WorkflowDefinition, stage: str
) -> None:
    move = definition.resolve(stage, "afgezien")
    assert move.trigger == "afzien"
    assert move.requires.reason is True


def test_afgezien_is_reachable_from_exactly_the_active_stages(
    definition: WorkflowDefinition,
) -> None:
    sources = {t.source for t in definition.transitions if t.dest == "afgezien"}
    assert sources == set(ACTIVE)
    active = {n for n, s in definition.stages.items() if not s.terminal and n != "afgezien"}
    assert active == set(ACTIVE)


def test_heropenen_goes_back_to_verkenning_and_needs_a_reason(
    definition: WorkflowDefinition,
) -> None:
    move = definition.resolve("afgezien", "verkenning")
    assert move.trigger == "heropenen"
    assert move.requires.reason is True
    assert [t.dest for t in definition.allowed("afgezien")] == ["verkenning"]


def test_ondertekend_only_from_dialoog_or_intentieverklaring(
    definition: WorkflowDefinition,
) -> None:
    sources = {t.source for t in definition.transitions if t.dest == "ondertekend"}
    assert sources == {"dialoog", "intentieverklaring"}


# --- 2. mistakes are refused with file:line and a plain message -----------------------------

VALID = """
version: 1
stages:
  - name: a
    label: {nl: A, en: A}
    initial: true
  - name: b
    label: {nl: B, en: B}
    terminal: true
transitions:
  - trigger: go
    sources: [a]
    dest: b
    label: {nl: Ga, en: Go}
"""

# (id, file text with MARK on the offending line, words the message must contain)
MISTAKES: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "unknown-dest",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
        transitions:
          - trigger: go
            sources: [a]
            dest: c  # <-
            label: {nl: Ga, en: Go}
        """,
        ("onbekende fase 'c'", "'go'"),
    ),
    (
        "unknown-source",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
        transitions:
          - trigger: go
            sources:
              - a
              - c  # <-
            dest: b
            label: {nl: Ga, en: Go}
        """,
        ("onbekende fase 'c'", "'go'"),
    ),
    (
        "duplicate-trigger-from-one-source",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
          - name: c
            label: {nl: C, en: C}
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            label: {nl: Ga, en: Go}
          - trigger: go  # <-
            sources: [c, a]
            dest: c
            label: {nl: Ga, en: Go}
          - trigger: back
            sources: [b]
            dest: c
            label: {nl: Terug, en: Back}
        """,
        ("trigger 'go' vanuit 'a' staat dubbel", "ook op regel 11"),
    ),
    (
        "unreachable-stage",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
          - name: eiland  # <-
            label: {nl: Eiland, en: Island}
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            label: {nl: Ga, en: Go}
          - trigger: weg
            sources: [eiland]
            dest: a
            label: {nl: Weg, en: Away}
        """,
        ("fase 'eiland' is onbereikbaar",),
    ),
    (
        "terminal-with-outgoing",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
            terminal: true
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            label: {nl: Ga, en: Go}
          - trigger: terug
            sources:
              - b  # <-
            dest: a
            label: {nl: Terug, en: Back}
        """,
        ("eindfase 'b'", "uitgaande overgang 'terug'"),
    ),
    (
        "no-initial-stage",
        """
        version: 1
        stages:
          - name: a  # <-
            label: {nl: A, en: A}
          - name: b
            label: {nl: B, en: B}
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            label: {nl: Ga, en: Go}
        """,
        ("geen beginfase", "initial: true"),
    ),
    (
        "two-initial-stages",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
            initial: true  # <-
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            label: {nl: Ga, en: Go}
        """,
        ("meer dan één beginfase",),
    ),
    (
        "duplicate-stage-name",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
          - name: a  # <-
            label: {nl: A2, en: A2}
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            label: {nl: Ga, en: Go}
        """,
        ("fase 'a' staat dubbel",),
    ),
    (
        "unknown-key",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
        transitions:
          - trigger: go
            sources: [a]
            dest: b
            destination: b  # <-
            label: {nl: Ga, en: Go}
        """,
        ("transitions.0.destination", "Extra inputs are not permitted"),
    ),
    (
        "wrong-type-sources",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
        transitions:
          - trigger: go
            sources: a  # <-
            dest: b
            label: {nl: Ga, en: Go}
        """,
        ("transitions.0.sources", "valid list"),
    ),
    (
        "wrong-type-bool",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: misschien  # <-
          - name: b
            label: {nl: B, en: B}
        transitions: []
        """,
        ("stages.0.initial", "valid boolean"),
    ),
    (
        "wrong-type-int",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
        transitions: []
        reminders:
          lead_days: [30, 7]
          send_hour: negen  # <-
        """,
        ("reminders.send_hour", "valid integer"),
    ),
    (
        "bad-stage-name",
        """
        version: 1
        stages:
          - name: Fase Een  # <-
            label: {nl: A, en: A}
            initial: true
        transitions: []
        """,
        ("stages.0.name", "should match pattern"),
    ),
    (
        "broken-yaml",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
            dest: b: c  # <-
        transitions: []
        """,
        ("geen geldige YAML", "mapping values are not allowed here"),
    ),
    (
        "renamed-to-unknown-stage",
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
        transitions: []
        renamed_stages:
          oud: a
          ouder: nergens  # <-
        """,
        ("'ouder' wordt 'nergens'", "bestaat niet"),
    ),
]


def test_the_valid_base_file_loads(tmp_path: Path) -> None:
    definition = load_definition(_write(tmp_path, VALID))
    assert definition.fire("a", "go") == "b"


@pytest.mark.parametrize(("text", "words"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistake_is_refused_at_its_line(tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    path = _write(tmp_path, text)
    line = _marked_line(path)
    error = _refusal(path)
    prefix = f"{path}:{line}: "
    hits = [p for p in error.problems if p.startswith(prefix)]
    assert hits, f"no problem at {prefix!r}: {error.problems}"
    assert any(all(word in p for word in words) for p in hits), error.problems
    # The message shown to the user is the list of problems, one per line.
    assert str(error) == "\n".join(error.problems)
    assert all(p.startswith(f"{path}:") for p in error.problems)
    assert "Traceback" not in str(error)


def test_unknown_key_also_reports_the_missing_field_at_the_transition(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
            initial: true
          - name: b
            label: {nl: B, en: B}
        transitions:
          - trigger: go
            sources: [a]
            destination: b
            label: {nl: Ga, en: Go}
        """,
    )
    assert _refusal(path).problems == [
        f"{path}:9: transitions.0.dest: Field required",
        f"{path}:11: transitions.0.destination: Extra inputs are not permitted",
    ]


def test_duplicate_trigger_names_the_first_line_too(tmp_path: Path) -> None:
    text = VALID + ("  - trigger: go\n    sources: [a]\n    dest: a\n    label: {nl: Ga, en: Go}\n")
    path = _write(tmp_path, text)
    assert _refusal(path).problems == [
        f"{path}:14: trigger 'go' vanuit 'a' staat dubbel (ook op regel 10)"
    ]


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        stages:
          - name: a
            label: {nl: A, en: A}
          - name: a
            label: {nl: A, en: A}
        transitions:
          - trigger: go
            sources: [x]
            dest: y
            label: {nl: Ga, en: Go}
        """,
    )
    assert _refusal(path).problems == [
        f"{path}:5: fase 'a' staat dubbel",
        f"{path}:3: geen beginfase: zet 'initial: true' bij één fase",
        f"{path}:10: onbekende fase 'y' in 'go'",
        f"{path}:9: onbekende fase 'x' in 'go'",
    ]


def test_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "bestaat-niet.yaml"
    error = _refusal(path)
    assert error.problems == [f"{path}: kan het bestand niet lezen: No such file or directory"]


def test_unreadable_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "een-map.yaml"
    path.mkdir()
    error = _refusal(path)
    assert error.problems == [f"{path}: kan het bestand niet lezen: Is a directory"]


def test_file_that_is_not_utf8_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace("Ga", "Café").encode("latin-1"))
    line = VALID.splitlines().index(next(x for x in VALID.splitlines() if "Ga" in x)) + 1
    error = _refusal(path)
    assert error.problems == [f"{path}:{line}: het bestand is geen UTF-8-tekst"]


def test_duplicate_key_is_refused_at_its_second_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\nversion: 2\n")
    (problem,) = _refusal(path).problems
    assert problem.startswith(f"{path}:2: ") and "'version'" in problem


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    (problem,) = _refusal(path).problems
    assert problem.startswith(f"{path}:1: ")


# --- 3. YAML 1.1 booleans stay strings ------------------------------------------------------


def test_stages_and_triggers_named_like_yaml11_booleans_stay_strings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        stages:
          - name: on
            label: {nl: aan, en: on}
            initial: true
          - name: off
            label: {nl: uit, en: off}
          - name: yes
            label: {nl: ja, en: yes}
          - name: no
            label: {nl: nee, en: no}
            terminal: true
        transitions:
          - trigger: no
            sources: [on]
            dest: off
            label: {nl: nee, en: no}
          - trigger: yes
            sources: [off, on]
            dest: yes
            label: {nl: ja, en: yes}
          - trigger: off
            sources: [yes]
            dest: no
            label: {nl: uit, en: off}
        renamed_stages: {y: yes, n: no}
        """,
    )
    definition = load_definition(path)
    assert list(definition.stages) == ["on", "off", "yes", "no"]
    assert definition.initial == "on"
    assert definition.stages["no"].terminal
    assert [(t.trigger, t.source, t.dest) for t in definition.transitions] == [
        ("no", "on", "off"),
        ("yes", "off", "yes"),
        ("yes", "on", "yes"),
        ("off", "yes", "no"),
    ]
    assert definition.stages["on"].label.en == "on"
    assert definition.renamed_stages == {"y": "yes", "n": "no"}
    assert definition.fire("on", "no") == "off"
    assert definition.fire("off", "yes") == "yes"
    assert definition.fire("yes", "off") == "no"
    assert definition.resolve("on", "yes").trigger == "yes"


def test_true_and_false_are_still_booleans(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("initial: true", "initial: True"))
    assert load_definition(path).initial == "a"
    path = _write(tmp_path, VALID.replace("    terminal: true", "    terminal: false"))
    assert not load_definition(path).stages["b"].terminal


# --- 4. stranding ---------------------------------------------------------------------------


def test_stranding_is_refused_naming_the_stage_and_renamed_stages(
    definition: WorkflowDefinition,
) -> None:
    with pytest.raises(InvalidDefinition) as info:
        refuse_stranding(definition, {"verkenning", "oud_stadium"})
    (problem,) = info.value.problems
    assert problem.startswith(f"{STAGES}: ")
    assert "'oud_stadium'" in problem
    assert "renamed_stages" in problem
    assert definition.stranded(["verkenning", "oud_stadium", "oud_stadium", "aaa"]) == [
        "aaa",
        "oud_stadium",
    ]


def test_stranding_passes_with_a_mapping(tmp_path: Path) -> None:
    text = STAGES.read_text(encoding="utf-8") + "\nrenamed_stages:\n  oud_stadium: verkenning\n"
    definition = load_definition(_write(tmp_path, text))
    refuse_stranding(definition, {"verkenning", "oud_stadium"})
    assert definition.stranded({"verkenning", "oud_stadium"}) == []
    assert definition.renamed_stages == {"oud_stadium": "verkenning"}


@pytest.mark.parametrize("in_use", [set(), {"verkenning"}, set(ACTIVE) | {"ondertekend"}])
def test_no_stranding_when_every_stored_stage_exists(
    definition: WorkflowDefinition, in_use: set[str]
) -> None:
    refuse_stranding(definition, in_use)
    assert definition.stranded(in_use) == []


# --- 5. one shared Machine ------------------------------------------------------------------


def test_one_machine_per_definition(definition: WorkflowDefinition) -> None:
    machine = definition.machine
    definition.fire("verkenning", "dialoog_starten")
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(definition.machine))
    thread.start()
    thread.join()
    assert definition.machine is machine
    assert result == [machine]


def test_fire_returns_the_destination_of_every_transition(definition: WorkflowDefinition) -> None:
    for t in definition.transitions:
        assert definition.fire(t.source, t.trigger) == t.dest, t


@pytest.mark.parametrize(
    ("stage", "trigger", "allowed"),
    [
        (
            "verkenning",
            "ondertekenen",
            [
                "kwartiermaker (kwartiermaker_starten)",
                "dialoog (dialoog_starten)",
                "intentieverklaring (intentieverklaring_tekenen)",
                "afgezien (afzien)",
                "opgegaan (opgaan_in)",
            ],
        ),
        ("afgezien", "bestaat_niet", ["verkenning (heropenen)"]),
        ("ondertekend", "afzien", []),
    ],
)
def test_forbidden_fire_lists_the_allowed_moves(
    definition: WorkflowDefinition, stage: str, trigger: str, allowed: list[str]
) -> None:
    with pytest.raises(ForbiddenTransition) as info:
        definition.fire(stage, trigger)
    assert info.value.allowed == allowed
    message = str(info.value)
    assert f"'{stage}'" in message
    assert f"'{trigger}'" in message
    for move in allowed:
        assert move in message
    if not allowed:
        assert "geen (eindfase)" in message
    # The shared cursor is not left in a broken state.
    assert definition.fire("verkenning", "afzien") == "afgezien"


def test_fire_from_an_unknown_stage_is_forbidden(definition: WorkflowDefinition) -> None:
    with pytest.raises(ForbiddenTransition):
        definition.fire("oud_stadium", "afzien")


@pytest.mark.parametrize(
    ("stage", "wanted", "trigger", "dest"),
    [
        ("verkenning", "dialoog", "dialoog_starten", "dialoog"),
        ("verkenning", "dialoog_starten", "dialoog_starten", "dialoog"),
        ("intentieverklaring", "dialoog", "dialoog_starten", "dialoog"),
        (
            "dialoog",
            "intentieverklaring_tekenen",
            "intentieverklaring_tekenen",
            "intentieverklaring",
        ),
        ("intentieverklaring", "ondertekend", "ondertekenen", "ondertekend"),
        ("afgezien", "heropenen", "heropenen", "verkenning"),
    ],
)
def test_resolve_by_destination_or_trigger(
    definition: WorkflowDefinition, stage: str, wanted: str, trigger: str, dest: str
) -> None:
    move = definition.resolve(stage, wanted)
    assert (move.source, move.trigger, move.dest) == (stage, trigger, dest)


@pytest.mark.parametrize(
    ("stage", "wanted"),
    [("verkenning", "ondertekend"), ("kwartiermaker", "ondertekenen"), ("ondertekend", "dialoog")],
)
def test_resolve_refuses_a_forbidden_move(
    definition: WorkflowDefinition, stage: str, wanted: str
) -> None:
    with pytest.raises(ForbiddenTransition) as info:
        definition.resolve(stage, wanted, covenant="Convenant Goud")
    assert str(info.value).startswith(f"Convenant Goud staat in fase '{stage}'")
    assert info.value.allowed == [f"{t.dest} ({t.trigger})" for t in definition.allowed(stage)]


def test_fire_from_many_threads_at_once(definition: WorkflowDefinition) -> None:
    threads_n, fires = 8, 2000
    moves = [(t.source, t.trigger, t.dest) for t in definition.transitions]
    barrier = threading.Barrier(threads_n)
    failures: list[str] = []
    counts: list[int] = []
    machine = definition.machine

    def work(seed: int) -> None:
        rng = random.Random(seed)
        done = 0
        barrier.wait()
        for _ in range(fires):
            source, trigger, dest = rng.choice(moves)
            try:
                reached = definition.fire(source, trigger)
            except Exception as exc:  # collected and reported by the main thread
                failures.append(f"{source} --{trigger}--> {exc!r}")
                continue
            if reached != dest:
                failures.append(f"{source} --{trigger}--> {reached}, expected {dest}")
            done += 1
        counts.append(done)

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    assert counts == [fires] * threads_n
    assert definition.machine is machine


# --- 6. mermaid -----------------------------------------------------------------------------


def test_mermaid_draws_every_edge(definition: WorkflowDefinition) -> None:
    text = definition.mermaid()
    lines = [line.strip() for line in text.splitlines()]
    assert text.startswith("stateDiagram-v2")
    assert "[*] --> verkenning" in lines
    assert "ondertekend --> [*]" in lines
    for t in definition.transitions:
        assert f"{t.source} --> {t.dest}: {t.label.nl}" in lines
    edges = [line for line in lines[1:] if "[*]" not in line]
    assert len(edges) == len(definition.transitions)


# --- 7. replay ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    seq: int
    from_stage: str | None
    to_stage: str
    trigger: str
    corrects_seq: int | None = None


def _history(*stages_and_triggers: tuple[str, str]) -> list[Row]:
    rows = [Row(1, None, "verkenning", "aanmaken")]
    for stage, trigger in stages_and_triggers:
        rows.append(Row(len(rows) + 1, rows[-1].to_stage, stage, trigger))
    return rows


def test_replay_of_a_valid_history_returns_the_last_stage(definition: WorkflowDefinition) -> None:
    rows = _history(
        ("afgezien", "afzien"),
        ("verkenning", "heropenen"),
        ("intentieverklaring", "intentieverklaring_tekenen"),
        ("dialoog", "dialoog_starten"),
        ("ondertekend", "ondertekenen"),
    )
    assert replay(rows, definition) == "ondertekend"
    assert replay(rows[:1], definition) == "verkenning"
    assert replay([], definition) is None


@pytest.mark.parametrize(
    ("rows", "seq", "words"),
    [
        pytest.param(
            [
                Row(1, None, "verkenning", "aanmaken"),
                Row(2, "verkenning", "dialoog", "dialoog_starten"),
                Row(3, "verkenning", "kwartiermaker", "kwartiermaker_starten"),
            ],
            3,
            ("begint in 'verkenning'", "eindigde in 'dialoog'"),
            id="starts-elsewhere",
        ),
        pytest.param(
            [
                Row(1, None, "verkenning", "aanmaken"),
                Row(2, "verkenning", "ondertekend", "ondertekenen"),
            ],
            2,
            ("'ondertekenen' is vanaf daar niet toegestaan",),
            id="forbidden-trigger",
        ),
        pytest.param(
            [Row(1, None, "dialoog", "aanmaken")],
            1,
            ("begint in 'verkenning'",),
            id="first-row-not-initial",
        ),
        pytest.param(
            [Row(1, "verkenning", "dialoog", "dialoog_starten")],
            1,
            ("begint in 'verkenning'", "eindigde in 'None'"),
            id="first-row-with-a-from-stage",
        ),
        pytest.param(
            [
                Row(1, None, "verkenning", "aanmaken"),
                Row(2, "verkenning", "afgezien", "dialoog_starten"),
            ],
            2,
            ("'dialoog_starten' leidt naar 'dialoog', niet 'afgezien'",),
            id="to-stage-disagrees-with-trigger",
        ),
    ],
)
def test_replay_names_the_broken_row(
    definition: WorkflowDefinition, rows: list[Row], seq: int, words: tuple[str, ...]
) -> None:
    with pytest.raises(BrokenHistory) as info:
        replay(rows, definition)
    assert isinstance(info.value, DomainError)
    assert str(info.value).startswith(f"rij {seq}: ")
    for word in words:
        assert word in str(info.value)


# --- 8. random walks ------------------------------------------------------------------------


def _walk(definition: WorkflowDefinition, start: str, choices: list[int]) -> list[tuple[str, str]]:
    """(stage, trigger) pairs of a walk from `start`; stops early at a stage without moves."""
    stage, steps = start, []
    for choice in choices:
        options = definition.allowed(stage)
        if not options:
            break
        move = options[choice % len(options)]
        steps.append((move.dest, move.trigger))
        stage = move.dest
    return steps


@settings(max_examples=300, deadline=None)
@given(choices=st.lists(st.integers(min_value=0, max_value=10), max_size=40))
def test_random_walks_replay_to_their_last_stage(
    definition: WorkflowDefinition, choices: list[int]
) -> None:
    steps = _walk(definition, definition.initial, choices)
    expected = steps[-1][0] if steps else definition.initial
    assert replay(_history(*steps), definition) == expected


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(
        ["verkenning", "kwartiermaker", "dialoog", "intentieverklaring", "ondertekend", "afgezien"]
    ),
    choices=st.lists(st.integers(min_value=0, max_value=10), max_size=40),
)
def test_reachable_from_contains_every_stage_a_walk_visits(
    definition: WorkflowDefinition, start: str, choices: list[int]
) -> None:
    reachable = definition.reachable_from(start)
    assert start in reachable
    stage = start
    for dest, trigger in _walk(definition, start, choices):
        assert dest in reachable
        assert definition.fire(stage, trigger) == dest
        stage = dest


def test_reachable_from_is_exact_for_the_real_graph(definition: WorkflowDefinition) -> None:
    everything = frozenset(definition.stages)
    for stage in [*ACTIVE, "afgezien"]:
        assert definition.reachable_from(stage) == everything
    assert definition.reachable_from("ondertekend") == {"ondertekend"}

"""libyaml reads a YAML file as the pure-Python loader does, and a refusal reads as before.

domain/yamlfile.py parses with libyaml's parser when PyYAML has it (issue 14: the pure-Python
parser was a tenth of `imvo status`'s start) and reads a refused file again with the
pure-Python StrictBoolLoader, so the message and line stay those it always gave.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from imvo_workflow.domain import yamlfile
from imvo_workflow.domain.errors import InvalidDefinition
from imvo_workflow.domain.yamlfile import StrictBoolLoader, YamlDocument
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import DEFAULT_STAGES_FILE

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


def _nodes(node: yaml.Node | None) -> Iterator[tuple[Any, ...]]:
    if node is None:
        return
    value = node.value if isinstance(node.value, str) else None
    yield type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column, value
    if isinstance(node.value, list):
        for item in node.value:
            for child in item if isinstance(item, tuple) else (item,):
                yield from _nodes(child)


@needs_libyaml
@pytest.mark.parametrize("path", [DEFAULT_STAGES_FILE, SEED_2016], ids=["stages", "seed"])
def test_libyaml_builds_what_the_python_loader_builds(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yamlfile._FAST_LOADER is not None
    fast_node, fast_data = yamlfile._parse(text, yamlfile._FAST_LOADER)
    node, data = yamlfile._parse(text, StrictBoolLoader)
    assert fast_data == data
    assert list(_nodes(fast_node)) == list(_nodes(node))


@needs_libyaml
def test_yaml11_booleans_stay_strings_with_libyaml_too() -> None:
    assert yamlfile._FAST_LOADER is not None
    _node, data = yamlfile._parse("no: on\nyes: [off, true, False]\n", yamlfile._FAST_LOADER)
    assert data == {"no": "on", "yes": ["off", True, False]}


@pytest.mark.parametrize(
    "text",
    ["a: 1\n  b: 2\nc: [\n", "stages:\n  - name: a\n    name: b\n", "a: 'open\n", "- a\nb: 1\n"],
    ids=["indent", "duplicate-key", "open-quote", "list-then-map"],
)
def test_a_refused_file_reads_as_the_python_loader_words_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as python:
        yamlfile._parse(text, StrictBoolLoader)
    mark = python.value.problem_mark  # type: ignore[attr-defined]
    with pytest.raises(InvalidDefinition) as refused:
        YamlDocument.read(path)
    assert refused.value.problems == [
        f"{path}:{mark.line + 1}: geen geldige YAML: {python.value.problem}"  # type: ignore[attr-defined]
    ]

"""Read YAML the way an operator means it, and point at the line where a rule is broken.

PyYAML's SafeLoader follows YAML 1.1, which turns `on`, `off`, `yes` and `no` into booleans:
a stage or trigger called `no` would silently become False. This loader resolves only
`true`/`false`. It also keeps the node tree, so a validation error found later can be traced
back to the file's line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from imvo_workflow.domain.errors import InvalidDefinition

M = TypeVar("M", bound=BaseModel)


class _StrictBool(yaml.constructor.SafeConstructor):
    """Refuses duplicate keys; with `_strict_booleans`, YAML 1.2 booleans (only true/false)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"sleutel '{key}' staat dubbel", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _strict_booleans(loader: type[yaml.resolver.BaseResolver]) -> None:
    loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
    }
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )


class StrictBoolLoader(_StrictBool, yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (only true/false) that refuses duplicate keys."""


_strict_booleans(StrictBoolLoader)

#: The same loader on libyaml's parser, when PyYAML has it: the pure-Python parser took 20-30
#: ms of every `imvo` command's start for the definition alone (issue 14). What it builds is
#: the same; a file it refuses is read again by StrictBoolLoader, whose words and lines the
#: refusal then gives, as before.
_FAST_LOADER: type[yaml.CSafeLoader] | None = None
if yaml.__with_libyaml__:

    class _FastStrictBoolLoader(_StrictBool, yaml.CSafeLoader):
        pass

    _strict_booleans(_FastStrictBoolLoader)
    _FAST_LOADER = _FastStrictBoolLoader


def _parse(
    text: str, loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
) -> tuple[yaml.Node | None, Any]:
    """The node tree (kept for line look-ups) and the data built from it: one parse."""
    parser = loader(text)
    try:
        node = parser.get_single_node()
        return node, (parser.construct_document(node) if node is not None else None)
    finally:
        parser.dispose()


class YamlDocument:
    """A parsed YAML file: its data plus the node tree for line look-ups."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.data: Any
        if _FAST_LOADER is not None:
            try:
                self.node, self.data = _parse(text, _FAST_LOADER)
                return
            except yaml.YAMLError:
                pass  # refused: read again below, so the message is the one it always was
        try:
            self.node, self.data = _parse(text, StrictBoolLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise InvalidDefinition([f"{path}:{line}: geen geldige YAML: {problem}"]) from exc

    @classmethod
    def read(cls, path: Path) -> YamlDocument:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidDefinition(
                [f"{path}: kan het bestand niet lezen: {exc.strerror}"]
            ) from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InvalidDefinition([f"{path}:{line}: het bestand is geen UTF-8-tekst"]) from exc
        return cls(path, text)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """1-based line of the deepest node that `loc` (a pydantic error path) reaches."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else 1
        for key in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == key:
                        child = value_node
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(key, int)
                and 0 <= key < len(node.value)
            ):
                child = node.value[key]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def problem(self, loc: Sequence[str | int], message: str) -> str:
        """A message of the form `file:line: message`."""
        return f"{self.path}:{self.line_of(loc)}: {message}"

    def validate(self, model: type[M]) -> M:
        """Validate the data against a pydantic model; every error names its line."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise InvalidDefinition(
                [self.problem(err["loc"], _located(err["loc"], err["msg"])) for err in exc.errors()]
            ) from exc


def _located(loc: Sequence[str | int], message: str) -> str:
    return f"{'.'.join(map(str, loc))}: {message}" if loc else message

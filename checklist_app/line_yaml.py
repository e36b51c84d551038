"""YAML with line numbers: mappings and lists that know where they and their entries stand, so
that a problem in a checklist can name its line.

PyYAML is imported on the first `load`: a scan whose checklists come from the rules cache (see
checklists.load_checklists) never needs it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml


class LineMap(dict[Any, Any]):
    """A YAML mapping that remembers where it and each of its keys stand."""

    line: int = 0
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class LineList(list[Any]):
    """A YAML sequence that remembers the line of each entry."""

    lines: list[int]


class YamlProblem(Exception):
    """The text is not YAML: where (1-based line) and why."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load(text: str) -> object:
    """The YAML document in `text`, with LineMap and LineList for its mappings and lists (safe
    loading only: plain values, no objects). Raises YamlProblem."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise YamlProblem(mark.line + 1 if mark else 1,
                          f"YAML syntax error: {error.problem or error}") from error
    except yaml.YAMLError as error:
        raise YamlProblem(1, f"YAML error: {error}") from error


@cache
def _loader() -> type[yaml.SafeLoader]:
    """A safe loader (libyaml's when present) whose mappings and lists know their lines."""
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class LineLoader(base):  # type: ignore[valid-type,misc]
        pass

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)
    return LineLoader


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)
        if key in result:
            result.duplicates.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result

"""YAML with line numbers, so that every problem in a procedure, rules or mapping file names its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from model.errors import InputError, Problem


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict[Any, int]


class LineList(list[Any]):
    """A YAML sequence that remembers the line of itself and of each item."""

    line: int = 0
    lines: list[int]


class _LineLoader(yaml.SafeLoader):
    duplicate_keys: list[tuple[int, str]]


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in out:
            loader.duplicate_keys.append((line, str(key)))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList()
    out.line = node.start_mark.line + 1
    out.lines = []
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[arg-type]
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)  # type: ignore[arg-type]


def read_yaml(path: Path | str, text: str | None = None) -> Any:
    """Parse a YAML file into LineDict/LineList values; syntax errors and duplicate keys raise
    an InputError naming the line."""
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(
                source, [Problem(source, "an existing file", "no file at this path")]
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                source,
                [Problem(f"byte {exc.start}", "UTF-8 text", "bytes that are not UTF-8")],
            ) from None
    loader = _LineLoader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        raise InputError(source, [Problem(where, "valid YAML", str(exc.problem or exc))]) from None
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        raise InputError(
            source,
            [
                Problem(f"line {line}", f"the key '{key}' once in its mapping", "it again")
                for line, key in loader.duplicate_keys
            ],
        )
    return data


def line_of(container: Any, key: Any = None) -> int:
    """The line of ``container`` (or of its ``key``), 0 when unknown."""
    if key is not None:
        if isinstance(container, LineDict):
            return container.lines.get(key, container.line)
        if isinstance(container, LineList) and isinstance(key, int) and key < len(container.lines):
            return container.lines[key]
    return getattr(container, "line", 0)


def kind_of(value: Any) -> str:
    """What a YAML value is, in words for an error message ("a list", "nothing", "'abc'")."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return repr(value)

"""The mapping file: which column of a council's extract holds each field, and what its local
activity names mean (``load_mapping``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import yaml

from conformance.logio.schema import (
    DEFAULT_ATTRIBUTES,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    ColumnMap,
)
from model.errors import InputError, Problem

__all__ = ["load_mapping"]


def load_mapping(
    path: Path,
    vocabulary: frozenset[str] = frozenset(),
    attributes: Sequence[str] = DEFAULT_ATTRIBUTES,
) -> tuple[ColumnMap, dict[str, str]]:
    """Read a mapping file (YAML) into a ``ColumnMap`` and an activity map.

    The file looks like::

        columns:
          case_id: CASE_REF
          timestamp: EVENT_DTTM
          alleged_is_child: IS_CHILD
        activities:
          "LADO referral": LADO contacted

    Unknown keys, values that are not text, duplicate keys and (when ``vocabulary`` is
    given) activity targets outside it are reported together, each with its line.
    """
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        found = "bytes that are not UTF-8" if isinstance(err, UnicodeDecodeError) else "no file"
        raise InputError(
            str(path), [Problem(name, "a readable YAML file in UTF-8", found)]
        ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}, line {mark.line + 1}" if mark is not None else name
        reason = getattr(err, "problem", None) or "text that is not YAML"
        raise InputError(str(path), [Problem(where, "valid YAML", str(reason))]) from None
    problems: list[Problem] = []
    column_values: dict[str, str] = {}
    activities: dict[str, str] = {}
    allowed_columns = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS, *attributes)
    if not isinstance(root, yaml.MappingNode):
        raise InputError(
            str(path),
            [
                Problem(
                    name, "a mapping with the keys 'columns' and/or 'activities'", "something else"
                )
            ],
        )
    for key_node, value_node in _mapping_items(root, name, "", problems):
        key = key_node.value
        if key == "columns":
            for ckey, cvalue in _mapping_items(value_node, name, "columns", problems):
                where = f"{name}, line {ckey.start_mark.line + 1}, key 'columns.{ckey.value}'"
                if ckey.value not in allowed_columns:
                    problems.append(
                        Problem(where, "one of " + ", ".join(allowed_columns), "an unknown key")
                    )
                    continue
                text_value = _yaml_text(cvalue, where, problems)
                if text_value is not None:
                    column_values[ckey.value] = text_value
        elif key == "activities":
            for akey, avalue in _mapping_items(value_node, name, "activities", problems):
                where = f"{name}, line {akey.start_mark.line + 1}, activity '{akey.value}'"
                if not isinstance(akey, yaml.ScalarNode) or akey.value.strip() == "":
                    problems.append(
                        Problem(where, "a local activity name", "an empty or non-text key")
                    )
                    continue
                target = _yaml_text(avalue, where, problems)
                if target is None:
                    continue
                if vocabulary and target not in vocabulary:
                    close = difflib.get_close_matches(target, sorted(vocabulary), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    problems.append(
                        Problem(
                            where,
                            "a canonical activity name known to the model or the rules",
                            f"'{target}', which is not one{hint}",
                        )
                    )
                    continue
                activities[akey.value.strip()] = target
        else:
            problems.append(
                Problem(
                    f"{name}, line {key_node.start_mark.line + 1}, key '{key}'",
                    "'columns' or 'activities'",
                    "an unknown key",
                )
            )
    if problems:
        raise InputError(str(path), problems)
    attribute_columns = {a: column_values[a] for a in attributes if a in column_values}
    fields = {f: column_values[f] for f in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS) if f in column_values}
    return ColumnMap(attributes=attribute_columns, **fields), activities


def _mapping_items(
    node: yaml.Node, name: str, section: str, problems: list[Problem]
) -> Iterator[tuple[yaml.ScalarNode, yaml.Node]]:
    """Yield the (key, value) pairs of a YAML mapping node; report duplicates and non-maps."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return  # "activities:" with nothing under it
    if not isinstance(node, yaml.MappingNode):
        problems.append(
            Problem(
                f"{name}, line {line}, key '{section}'",
                "a mapping (key: value lines)",
                "something else",
            )
        )
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(
                Problem(
                    f"{name}, line {key_node.start_mark.line + 1}",
                    "a text key",
                    "a list or mapping",
                )
            )
            continue
        label = f"{section}.{key_node.value}" if section else key_node.value
        if key_node.value in seen:
            problems.append(
                Problem(
                    f"{name}, line {key_node.start_mark.line + 1}, key '{label}'",
                    "each key once",
                    "a repeated key",
                )
            )
            continue
        seen.add(key_node.value)
        yield key_node, value_node


_YAML_KINDS: Final = {
    "null": "an empty value",
    "int": "a number",
    "float": "a number",
    "bool": "a yes/no value",
    "timestamp": "a date",
}


def _yaml_text(node: yaml.Node, where: str, problems: list[Problem]) -> str | None:
    """The text of a YAML scalar that resolved to a string, else report what it was."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        if node.value.strip():
            return str(node.value)
        problems.append(Problem(where, "a text value", "an empty value"))
        return None
    if isinstance(node, yaml.ScalarNode):
        kind = node.tag.rsplit(":", 1)[-1]
        found = _YAML_KINDS.get(kind, "a value that is not text")
        if kind != "null":
            found += " (quote it to make it text)"
    else:
        found = "a list or mapping"
    problems.append(Problem(where, "a text value", found))
    return None

"""The mapping file: how a council's extract says what the contract's schema says.

A YAML file; every key is optional::

    columns:                      # which column holds each field or case attribute
      case_id: CASE_REF
      activity: STEP
      timestamp: EVENT_DTTM
      children_at_continuing_risk: RISK_FLAG
    activities:                   # local step names -> the contract's activities
      "Strat disc": Strategy discussion held
      "ICPC": Initial child protection conference held
    ignore:                       # local steps that are not part of the procedure
      - Case note
      - Phone call
    values:                       # per case attribute (or its column): local words
      children_at_continuing_risk:
        "Not recorded": unknown
        "Y - confirmed": true
    timestamp_format:             # one strptime format, a list tried in order, or auto
      - "%d/%m/%Y %H:%M"
      - "%d/%m/%Y"
    date_order: day-first         # auto (default), day-first or month-first
    encoding: cp1252
    delimiter: ","
    sheet: Events                 # an Excel sheet: its name or its position (1 = first)

``load_mapping_file`` reads it and reports every problem at once (file, line, key, what was
expected, what was found). ``unmatched_entries`` lists, by name, every entry that matched
nothing in the log read with it (a misspelt local name shows at the top of the output).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml

from conformance.logio.dates import DATE_ORDERS, FormatError, timestamp_spec
from conformance.logio.flags import UNKNOWN, flag_value
from conformance.logio.schema import DEFAULT_ATTRIBUTES, ColumnMap
from model.errors import InputError, Problem

__all__ = ["FIELDS", "LOG_SETTINGS_KEYS", "MAPPING_KEYS", "MappingFile", "column_map",
           "load_log_settings", "load_mapping", "load_mapping_file", "unmatched_entries"]

FIELDS: Final = ("case_id", "activity", "timestamp", "resource", "role")
MAPPING_KEYS: Final = (
    "columns", "activities", "ignore", "values", "timestamp_format", "date_order",
    "encoding", "delimiter", "sheet",
)


@dataclass(frozen=True)
class MappingFile:
    """A mapping file, read. ``lines`` gives the line of each entry, keyed by
    (section, key): ("activities", local name), ("ignore", local name),
    ("values", "attribute: word")."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)
    activities: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    values: dict[str, dict[str, bool | None]] = field(default_factory=dict)
    timestamp_formats: tuple[str, ...] | None = None  # None: not given; (): automatic
    date_order: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    lines: dict[tuple[str, str], int] = field(default_factory=dict)


_YAML_KINDS: Final = {
    "null": "an empty value",
    "int": "a number",
    "float": "a number",
    "bool": "a yes/no value",
    "timestamp": "a date",
}


def _items(node: yaml.Node, name: str, section: str, problems: list[Problem]
           ) -> Iterator[tuple[yaml.ScalarNode, yaml.Node]]:
    """The (key, value) pairs of a YAML mapping node; duplicates and non-maps reported."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(f"{name}, line {node.start_mark.line + 1}, key '{section}'",
                                "a mapping (key: value lines)", "something else"))
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(f"{name}, line {key_node.start_mark.line + 1}",
                                    "a text key", "a list or mapping"))
            continue
        label = f"{section}.{key_node.value}" if section else key_node.value
        if key_node.value in seen:
            problems.append(Problem(f"{name}, line {key_node.start_mark.line + 1}, key "
                                    f"'{label}'", "each key once", "a repeated key"))
            continue
        seen.add(key_node.value)
        yield key_node, value_node


def _text(node: yaml.Node, where: str, problems: list[Problem], *, allow_number: bool = False
          ) -> str | None:
    if isinstance(node, yaml.ScalarNode) and (
        node.tag == "tag:yaml.org,2002:str" or (allow_number and node.tag.endswith(":int"))
    ):
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


def _texts(node: yaml.Node, where: str, problems: list[Problem]) -> list[tuple[str, int]]:
    """A text or a list of texts, each with its line."""
    if isinstance(node, yaml.SequenceNode):
        out = []
        for item in node.value:
            text = _text(item, f"{where}, line {item.start_mark.line + 1}", problems)
            if text is not None:
                out.append((text, item.start_mark.line + 1))
        return out
    text = _text(node, where, problems)
    return [] if text is None else [(text, node.start_mark.line + 1)]


def load_mapping_file(
    path: Path,
    vocabulary: frozenset[str] = frozenset(),
    attributes: Sequence[str] = (),
) -> MappingFile:
    """Read a mapping file; ``InputError`` lists every problem. ``vocabulary`` (when given)
    is the set of activity names a mapping may map onto; ``attributes`` the case attributes
    that ``columns`` and ``values`` may name."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        found = "bytes that are not UTF-8" if isinstance(err, UnicodeDecodeError) else "no file"
        raise InputError(str(path), [Problem(name, "a readable YAML file in UTF-8", found)]
                         ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}, line {mark.line + 1}" if mark is not None else name
        reason = getattr(err, "problem", None) or "text that is not YAML"
        raise InputError(str(path), [Problem(where, "valid YAML", str(reason))]) from None
    if root is None:
        return MappingFile(name)
    if not isinstance(root, yaml.MappingNode):
        raise InputError(str(path), [Problem(name, "a mapping with keys such as 'columns' and "
                                                   "'activities'", "something else")])
    problems: list[Problem] = []
    allowed_columns = (*FIELDS, *attributes)
    out: dict[str, object] = {}
    columns: dict[str, str] = {}
    activities: dict[str, str] = {}
    ignore: list[str] = []
    values: dict[str, dict[str, bool | None]] = {}
    lines: dict[tuple[str, str], int] = {}
    raw_values: list[tuple[yaml.ScalarNode, yaml.Node]] = []
    for key_node, value_node in _items(root, name, "", problems):
        key = key_node.value
        line = key_node.start_mark.line + 1
        where = f"{name}, line {line}, key '{key}'"
        if key == "columns":
            for ckey, cvalue in _items(value_node, name, "columns", problems):
                cwhere = f"{name}, line {ckey.start_mark.line + 1}, key 'columns.{ckey.value}'"
                if ckey.value not in allowed_columns:
                    close = difflib.get_close_matches(ckey.value, allowed_columns, n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    problems.append(Problem(cwhere, "one of " + ", ".join(allowed_columns),
                                            "an unknown key" + hint))
                    continue
                column = _text(cvalue, cwhere, problems)
                if column is not None:
                    columns[ckey.value] = column.strip()
        elif key == "activities":
            for akey, avalue in _items(value_node, name, "activities", problems):
                awhere = f"{name}, line {akey.start_mark.line + 1}, activity '{akey.value}'"
                if akey.value.strip() == "":
                    problems.append(Problem(awhere, "a local activity name", "an empty key"))
                    continue
                target = _text(avalue, awhere, problems)
                if target is None:
                    continue
                if vocabulary and target not in vocabulary:
                    close = difflib.get_close_matches(target, sorted(vocabulary), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    problems.append(Problem(
                        awhere, "a canonical activity name known to the model or the rules",
                        f"'{target}', which is not one{hint}"))
                    continue
                local = akey.value.strip()
                activities[local] = target
                lines[("activities", local)] = akey.start_mark.line + 1
        elif key == "ignore":
            for local, item_line in _texts(value_node, where, problems):
                local = local.strip()
                if local in activities:
                    problems.append(Problem(f"{name}, line {item_line}, ignore '{local}'",
                                            "a local name either mapped or ignored",
                                            "a name that 'activities' also maps"))
                    continue
                ignore.append(local)
                lines[("ignore", local)] = item_line
        elif key == "values":
            raw_values.extend(_items(value_node, name, "values", problems))
        elif key == "timestamp_format":
            formats = _texts(value_node, where, problems)
            if formats:
                try:
                    spec = timestamp_spec([f for f, _ in formats])
                    out["timestamp_formats"] = spec.formats
                except FormatError as err:
                    problems.append(Problem(where, err.expected, err.found))
        elif key == "date_order":
            order = _text(value_node, where, problems)
            if order is not None and order.strip() not in DATE_ORDERS:
                problems.append(Problem(where, "one of " + ", ".join(DATE_ORDERS),
                                        f"{order!r}"))
            elif order is not None:
                out["date_order"] = order.strip()
        elif key in ("encoding", "delimiter"):
            given = _text(value_node, where, problems)
            if given is not None:
                if key == "encoding":
                    import codecs

                    try:
                        codecs.lookup(given.strip())
                    except LookupError:
                        problems.append(Problem(where, "an encoding name such as utf-8 or "
                                                       "cp1252", f"{given!r}"))
                        continue
                    given = given.strip()
                elif len(given) != 1:
                    problems.append(Problem(where, "a single character such as ',' or ';' "
                                                   "(write a tab as \"\\t\")", f"{given!r}"))
                    continue
                out[key] = given
        elif key == "sheet":
            given = _text(value_node, where, problems, allow_number=True)
            if given is not None:
                out["sheet"] = int(given) if given.strip().isdigit() else given.strip()
        else:
            close = difflib.get_close_matches(key, MAPPING_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(where, "one of " + ", ".join(MAPPING_KEYS),
                                    "an unknown key" + hint))
    by_column = {column: attribute for attribute, column in columns.items()}
    for vkey, vnode in raw_values:
        vwhere = f"{name}, line {vkey.start_mark.line + 1}, key 'values.{vkey.value}'"
        attribute = vkey.value if vkey.value in attributes else by_column.get(vkey.value)
        if attribute is None or attribute not in attributes:
            problems.append(Problem(vwhere, "a case attribute (" + ", ".join(attributes)
                                    + ") or the column mapped to one", "an unknown name"))
            continue
        words: dict[str, bool | None] = {}
        for wkey, wvalue in _items(vnode, name, f"values.{vkey.value}", problems):
            wwhere = f"{name}, line {wkey.start_mark.line + 1}, value '{wkey.value}'"
            meaning: bool | str | None = "a list or mapping"
            if isinstance(wvalue, yaml.ScalarNode):
                raw = wvalue.value
                if wvalue.tag.endswith(":bool"):
                    meaning = raw.strip().lower() in ("true", "yes", "on")
                else:
                    meaning = flag_value(None if wvalue.tag.endswith(":null") else raw)
            if isinstance(meaning, str):
                found = meaning if not isinstance(wvalue, yaml.ScalarNode) else repr(meaning)
                problems.append(Problem(wwhere, f"true, false or {UNKNOWN}", found))
                continue
            words[str(wkey.value).strip()] = meaning
            lines[("values", f"{attribute}: {str(wkey.value).strip()}")] = (
                wkey.start_mark.line + 1)
        values[attribute] = words
    if problems:
        raise InputError(str(path), problems)
    sheet = out.get("sheet")
    given_formats = out.get("timestamp_formats")
    return MappingFile(
        name=name, columns=columns, activities=activities, ignore=tuple(ignore), values=values,
        timestamp_formats=tuple(given_formats) if isinstance(given_formats, tuple) else None,
        date_order=str(out["date_order"]) if "date_order" in out else None,
        encoding=str(out["encoding"]) if "encoding" in out else None,
        delimiter=str(out["delimiter"]) if "delimiter" in out else None,
        sheet=sheet if isinstance(sheet, (str, int)) else None,
        lines=lines,
    )


def unmatched_entries(
    mapping: MappingFile,
    local_activities: Mapping[str, int],
    seen_values: Mapping[str, set[str]],
) -> list[Problem]:
    """One warning per mapping entry that matched nothing in the log: an ``activities`` or
    ``ignore`` name that no event carries (with the nearest name the log has), a ``values``
    word that no row of its column holds. ``local_activities``: the log's activity names as
    written (before mapping) with counts; ``seen_values``: per attribute, the values seen."""
    problems: list[Problem] = []
    present = {a.strip().casefold(): a for a in local_activities}
    names = sorted(local_activities)
    for section, entries in (("activities", list(mapping.activities)),
                             ("ignore", list(mapping.ignore))):
        for local in entries:
            if local.strip().casefold() in present:
                continue
            close = difflib.get_close_matches(local, names, n=1, cutoff=0.6)
            hint = f"; the log has {close[0]!r}" if close else ""
            line = mapping.lines.get((section, local), 0)
            problems.append(Problem(
                f"{mapping.name}, line {line}, {section} {local!r}",
                "a local name that events of the log carry",
                f"no event with this name{hint}", topic="mapping-unmatched"))
    for attribute, words in mapping.values.items():
        seen = {" ".join(v.split()).casefold() for v in seen_values.get(attribute, set())}
        for word in words:
            if " ".join(word.split()).casefold() not in seen:
                line = mapping.lines.get(("values", f"{attribute}: {word}"), 0)
                problems.append(Problem(
                    f"{mapping.name}, line {line}, values of {attribute} {word!r}",
                    "a value that rows of the column hold", "no row with this value",
                    topic="mapping-unmatched"))
    return problems


def column_map(mapping: MappingFile) -> ColumnMap:
    """The mapping's ``columns`` as a ``ColumnMap`` (fields and case attributes)."""
    fields = {f: mapping.columns[f] for f in FIELDS if f in mapping.columns}
    attributes = {a: c for a, c in mapping.columns.items() if a not in FIELDS}
    return ColumnMap(attributes=attributes, **fields)


def load_mapping(
    path: Path,
    vocabulary: frozenset[str] = frozenset(),
    attributes: Sequence[str] = DEFAULT_ATTRIBUTES,
) -> tuple[ColumnMap, dict[str, str]]:
    """A mapping file's columns (``ColumnMap``) and activity map; ``load_mapping_file`` gives
    everything else it says too (ignore list, values, formats, encoding, sheet)."""
    mapping = load_mapping_file(path, vocabulary, attributes)
    return column_map(mapping), dict(mapping.activities)


LOG_SETTINGS_KEYS: Final = ("timestamp_format", "date_order", "encoding", "delimiter", "sheet")


def load_log_settings(path: Path) -> MappingFile:
    """The ``[log]`` table of a settings file (``--config``): how to read the log, with the keys
    of a mapping file that say so (timestamp_format, date_order, encoding, delimiter, sheet).
    Returned as a ``MappingFile`` without columns or names; empty when there is no table."""
    from model.tomlsource import read_toml

    data = read_toml(path, what="a check configuration file")
    table = data.get("log")
    name = Path(path).name
    if table is None:
        return MappingFile(name)
    problems: list[Problem] = []
    if not isinstance(table, dict):
        raise InputError(str(path), [Problem(f"{name}, key 'log'", "a table [log]",
                                             "something else")])
    out: dict[str, object] = {}
    for key, value in table.items():
        where = f"{name}, key 'log.{key}'"
        if key not in LOG_SETTINGS_KEYS:
            problems.append(Problem(where, "one of the keys " + ", ".join(LOG_SETTINGS_KEYS),
                                    "an unknown key"))
        elif key == "timestamp_format":
            listed = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in listed):
                problems.append(Problem(where, "a format or a list of formats (text)",
                                        "something else"))
                continue
            try:
                out[key] = timestamp_spec(listed).formats
            except FormatError as err:
                problems.append(Problem(where, err.expected, err.found))
        elif key == "date_order":
            if value not in DATE_ORDERS:
                problems.append(Problem(where, "one of " + ", ".join(DATE_ORDERS),
                                        repr(value)))
            else:
                out[key] = value
        elif key == "sheet":
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                problems.append(Problem(where, "a sheet name or a position from 1",
                                        repr(value)))
            else:
                out[key] = value
        elif not isinstance(value, str) or (key == "delimiter" and len(value) != 1):
            problems.append(Problem(where, "a single character" if key == "delimiter"
                                    else "an encoding name such as cp1252", repr(value)))
        else:
            if key == "encoding":
                import codecs

                try:
                    codecs.lookup(value)
                except LookupError:
                    problems.append(Problem(where, "an encoding name such as cp1252",
                                            repr(value)))
                    continue
            out[key] = value
    if problems:
        raise InputError(str(path), problems)
    formats = out.get("timestamp_format")
    sheet = out.get("sheet")
    return MappingFile(
        name, timestamp_formats=tuple(formats) if isinstance(formats, tuple) else None,
        date_order=str(out["date_order"]) if "date_order" in out else None,
        encoding=str(out["encoding"]) if "encoding" in out else None,
        delimiter=str(out["delimiter"]) if "delimiter" in out else None,
        sheet=sheet if isinstance(sheet, (str, int)) else None)

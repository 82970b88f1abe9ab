"""Read an event log (CSV, Parquet or XES) into the schema of CONTRACT.md §3.

``read_log`` is where event data enters the checker, so it validates everything and
reports every problem of a file at once (``InputError``), never a raw value from the
log: messages name the file, the line (or row, or XES line) and the column, what was
expected and what kind of thing was found.

What it guarantees about the result (``EventLog``):

* ``events`` is sorted by case id, then UTC time, then file order (pm4py results depend
  on row order); case ids are text exactly as in the file (never turned into NA), with
  surrounding spaces removed, as are activities, resources and roles.
* Timestamps are ISO 8601. Without an offset they are Europe/London wall-clock times: in
  the repeated hour when clocks go back the first (BST) reading is taken, a time in the
  hour skipped when clocks go forward is moved forward by the gap; both are counted in a
  warning. A date without a time is ``date_only`` and stands for local midnight.
* When a log carries lifecycle transitions only ``complete`` events are kept (an empty
  transition counts as complete); how many others were left out is a warning and
  ``excluded_other_lifecycle``.
* Events after the as-of time are left out and counted; cases with no event left are not
  in ``cases``. Activities outside the vocabulary are kept and counted. Duplicate rows are
  kept and warned about. Case attributes on which the rows of a case disagree are unknown
  (NA) for that case and listed in ``attribute_conflicts``.
* Columns that look like personal data are named in a warning, by column name only.

CSV line numbers count the header as line 1 and include blank lines and lines inside
quoted fields; XES positions are the XML line of the ``<event>`` (or ``<trace>``) element.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import itertools
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ErrorString
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from conformance.personal import personal_data
from model.errors import InputError, Problem

LONDON: Final = ZoneInfo("Europe/London")

DEFAULT_ATTRIBUTES: Final[tuple[str, ...]] = (
    "concern_about_line_manager",
    "children_at_continuing_risk",
    "adult_in_contact_with_children",
    "alleged_is_child",
)

SUPPORTED_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".tsv", ".txt", ".parquet", ".xes", ".xes.gz")

_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "f"})
_FLAG_WORDS: Final = "true, false, yes, no, y, n, t, f, 1, 0 (any case) or an empty value"
_LISTED: Final = 20  # rows listed in one problem before "... (N in total)"
_OLDEST_YEAR: Final = 1900
_NEWEST_YEAR: Final = 2199
_SAMPLE_ROWS: Final = 1000  # rows looked at for personal-data value patterns
_DELIMITERS: Final = (",", ";", "\t", "|")

_DATE_RE: Final = r"\d{4}-\d{2}-\d{2}"
_NAIVE_RE: Final = _DATE_RE + r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
_OFFSET_RE: Final = _NAIVE_RE + r"\s?(?:Z|[+-]\d{2}(?::?\d{2})?)"
_ISO_EXPECTED: Final = (
    "an ISO 8601 date-time (such as 2024-05-01T09:30:00, optionally with an offset "
    "such as Z or +01:00) or a date (2024-05-01)"
)

# Fields of the event schema and the XES standard key that may stand in for each.
_REQUIRED: Final = ("case_id", "activity", "timestamp")
_OPTIONAL: Final = ("resource", "role")
_LABELS: Final = {
    "case_id": "case id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "role": "role",
}
_XES_KEYS: Final = {
    "case_id": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
    "role": "org:role",
}
_LIFECYCLE_KEY: Final = "lifecycle:transition"


@dataclass(frozen=True)
class ColumnMap:
    """Which column of the file holds each field (defaults: the contract's names).

    ``attributes`` maps a canonical case-attribute name to its column when that differs.
    When a field keeps its default name, the XES standard key is accepted too
    (``case:concept:name``, ``concept:name``, ``time:timestamp``, ``org:resource``,
    ``org:role``, ``case:<attribute>``).
    """

    case_id: str = "case_id"
    activity: str = "activity"
    timestamp: str = "timestamp"
    resource: str = "resource"
    role: str = "role"
    attributes: Mapping[str, str] = field(default_factory=dict)


_DEFAULT_COLUMNS: Final = ColumnMap()


@dataclass(frozen=True)
class ReadOptions:
    """How to read a log. Every field has a default that suits the contract's schema."""

    columns: ColumnMap = field(default_factory=ColumnMap)
    activity_map: Mapping[str, str] = field(default_factory=dict)  # local name -> canonical
    vocabulary: frozenset[str] = frozenset()  # known canonical names; empty = accept all
    attributes: tuple[str, ...] = DEFAULT_ATTRIBUTES  # case attributes to read if present
    timestamp_format: str | None = None  # strptime format for non-ISO exports
    delimiter: str | None = None  # None = sniff (comma, semicolon, tab, pipe)
    encoding: str | None = None  # None = UTF-8 (BOM or not), else cp1252 with a warning
    as_of: datetime | None = None  # extraction time; naive = Europe/London; None = latest
    max_field_bytes: int = 1_000_000


@dataclass(frozen=True)
class EventLog:
    """A validated event log in the contract's schema.

    ``events`` columns: case_id, activity (canonical after mapping), resource, role
    (pandas ``str``; a missing resource or role is NaN), time_utc
    (``datetime64[ns, UTC]``), date_only (bool) and source_row (int64: the CSV line
    with the header as line 1; for XES and Parquet the 1-based event number in file
    order). ``cases`` has one row per case (index ``case_id``, first-appearance order)
    and one nullable ``boolean`` column per requested case attribute (NA = unknown,
    absent or disagreeing).
    """

    source: str
    events: pd.DataFrame
    cases: pd.DataFrame
    as_of: pd.Timestamp
    warnings: tuple[Problem, ...]
    unknown_activities: Mapping[str, int]
    attribute_conflicts: pd.DataFrame
    personal_data_columns: tuple[str, ...]
    excluded_after_as_of: int
    excluded_other_lifecycle: int = 0
    columns_used: Mapping[str, str] = field(default_factory=dict)  # field -> file column/key
    columns_available: tuple[str, ...] = ()  # every column (or XES key) of the file
    personal_data_reasons: Mapping[str, str] = field(default_factory=dict)  # column -> why


# ---------------------------------------------------------------------------------------
# Entry points


def read_log(path: Path, options: ReadOptions = ReadOptions()) -> EventLog:
    """Read, validate and normalise an event log; raise ``InputError`` with every problem.

    The format follows the file name: ``.csv``/``.tsv``/``.txt``, ``.parquet``, ``.xes``
    or ``.xes.gz``.
    """
    path = Path(path)
    source = str(path)
    name = path.name
    lower = name.lower()
    if not path.is_file():
        raise InputError(source, [Problem(name, "an existing, readable file", "no such file")])
    if lower.endswith((".xes", ".xes.gz")):
        table = _read_xes(path, source, options)
    elif lower.endswith(".parquet"):
        table = _read_parquet(path, source, options)
    elif lower.endswith((".csv", ".tsv", ".txt")):
        table = _read_csv(path, source, options)
    else:
        raise InputError(
            source,
            [
                Problem(
                    name,
                    "a file name ending in " + ", ".join(SUPPORTED_SUFFIXES),
                    "another suffix",
                )
            ],
        )
    return _build(table, options)


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
    allowed_columns = (*_REQUIRED, *_OPTIONAL, *attributes)
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
    fields = {f: column_values[f] for f in (*_REQUIRED, *_OPTIONAL) if f in column_values}
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


# ---------------------------------------------------------------------------------------
# What each format reader hands over


@dataclass
class _Table:
    """One row per event in file order, before validation (internal)."""

    source: str
    name: str
    data: dict[str, pd.Series]  # field -> values (text, or typed from Parquet)
    attributes: dict[str, pd.Series]  # case attribute -> values (text or boolean)
    columns: dict[str, str]  # field or attribute -> the column or key it came from
    position: npt.NDArray[np.int64]  # line (CSV, XES) or row (Parquet) for messages
    source_row: npt.NDArray[np.int64]
    available: tuple[str, ...]
    sample: dict[str, pd.Series]  # column -> a sample of its values as text
    problems: list[Problem]
    warnings: list[Problem]
    row_word: str = "line"
    column_word: str = "column"
    case_ids_checked: bool = False  # the reader already reported missing case ids


def _lines_phrase(word: str, numbers: npt.NDArray[np.int64]) -> str:
    """'line 5', 'lines 5, 9' or 'lines 5, 9, ... (345 in total)'."""
    shown = ", ".join(str(int(n)) for n in numbers[:_LISTED])
    if len(numbers) == 1:
        return f"{word} {shown}"
    if len(numbers) > _LISTED:
        return f"{word}s {shown}, ... ({len(numbers):,} in total)"
    return f"{word}s {shown}"


def _names_phrase(names: Sequence[str], limit: int = 60) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in total)"
    return shown or "none"


def _text(values: pd.Series) -> pd.Series:
    """Values as pandas text with surrounding spaces removed; missing becomes ''."""
    if values.dtype != "str":
        values = values.astype("str")
    return values.fillna("").str.strip()


def _find_column(available: Sequence[str], candidates: Sequence[str]) -> str | None:
    for candidate in candidates:
        if candidate in available:
            return candidate
    folded: dict[str, str] = {}
    for column in available:
        folded.setdefault(column.strip().casefold(), column)
    for candidate in candidates:
        if candidate.strip().casefold() in folded:
            return folded[candidate.strip().casefold()]
    return None


@dataclass(frozen=True)
class _Resolved:
    fields: dict[str, str]  # field -> column
    attributes: dict[str, str]  # attribute -> column
    lifecycle: str | None
    problems: list[Problem]


def _resolve_columns(available: Sequence[str], options: ReadOptions, where: str) -> _Resolved:
    """Find the column of each field; report missing required (or explicitly named) ones."""
    columns = options.columns
    fields: dict[str, str] = {}
    problems: list[Problem] = []
    for name in (*_REQUIRED, *_OPTIONAL):
        given = getattr(columns, name)
        is_default = given == getattr(_DEFAULT_COLUMNS, name)
        candidates = [given, _XES_KEYS[name]] if is_default else [given]
        found = _find_column(available, candidates)
        if found is not None:
            fields[name] = found
        elif name in _REQUIRED or not is_default:
            problems.append(
                Problem(
                    where,
                    f"a column for the {_LABELS[name]} named "
                    + " or ".join(repr(c) for c in candidates),
                    f"no such column; available columns: {_names_phrase(available)}",
                )
            )
    attributes: dict[str, str] = {}
    for attribute in options.attributes:
        mapped = columns.attributes.get(attribute)
        candidates = [mapped] if mapped else [attribute, "case:" + attribute]
        found = _find_column(available, candidates)
        if found is not None:
            attributes[attribute] = found
        elif mapped:
            problems.append(
                Problem(
                    where,
                    f"a column for the case attribute {attribute!r} named {mapped!r}",
                    f"no such column; available columns: {_names_phrase(available)}",
                )
            )
    lifecycle = _find_column(available, [_LIFECYCLE_KEY])
    return _Resolved(fields, attributes, lifecycle, problems)


def _sample_positions(n: int) -> npt.NDArray[np.int64]:
    """Evenly spread row positions (deterministic) for value-pattern checks."""
    if n <= _SAMPLE_ROWS:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, _SAMPLE_ROWS).astype(np.int64))


# ---------------------------------------------------------------------------------------
# CSV


def _read_csv(path: Path, source: str, options: ReadOptions) -> _Table:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    name = path.name
    try:
        raw = path.read_bytes()
    except OSError:
        raise InputError(
            source, [Problem(name, "a readable file", "a file that cannot be read")]
        ) from None
    data, warnings = _to_utf8(raw, source, name, options.encoding)
    del raw
    if not data or data.isspace():
        raise InputError(
            source,
            [
                Problem(
                    name,
                    "a header line naming the columns, then one line per event",
                    "an empty file",
                )
            ],
        )
    end = data.find(b"\n")
    first_line = data[: end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")
    if options.delimiter:
        delimiter = options.delimiter
    elif name.lower().endswith(".tsv"):
        delimiter = "\t"
    else:
        delimiter = max(_DELIMITERS, key=first_line.count)
    if len(delimiter) != 1:
        raise InputError(
            source, [Problem("option delimiter", "a single character", "several characters")]
        )
    header_where = f"{name}, line 1 (the header)"
    if not first_line.strip():
        raise InputError(
            source, [Problem(header_where, "a header line naming the columns", "an empty line")]
        )
    try:
        header = [h.strip() for h in next(csv.reader([first_line], delimiter=delimiter))]
    except csv.Error:
        raise InputError(
            source,
            [Problem(header_where, "a header line naming the columns", "an unreadable line")],
        ) from None
    resolved = _resolve_columns(header, options, header_where)
    if resolved.problems and _looks_like_data(header):
        raise InputError(
            source,
            [
                Problem(
                    header_where,
                    "a header line naming the columns (case_id, activity, timestamp, ...)",
                    "a line that looks like data (it holds a date or a number), not column names",
                )
            ],
        )
    problems = list(resolved.problems)
    for column in {*resolved.fields.values(), *resolved.attributes.values()}:
        if header.count(column) > 1:
            problems.append(
                Problem(
                    header_where, f"the column {column!r} once", f"it {header.count(column)} times"
                )
            )

    internal = [f"c{i}" for i in range(len(header))]
    longest_line = _longest_line(data)
    invalid: list[tuple[int, bool]] = []  # (record number, has an unclosed quote)

    def on_invalid(row: Any) -> str:
        # The row's text is inspected (never reported): an odd number of quotes means one
        # was left open and swallowed the following lines.
        invalid.append((row.number or 0, str(row.text).count('"') % 2 == 1))
        return "skip"

    def parse(use_threads: bool) -> Any:
        return pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                column_names=internal,
                skip_rows=1,
                use_threads=use_threads,
                block_size=max(1 << 24, 2 * longest_line + 1024),
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in internal},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = parse(use_threads=True)
        if invalid:
            invalid.clear()
            parse(use_threads=False)  # slower, but numbers the bad rows
    except pa.ArrowInvalid:
        # The parser's own message quotes the offending text, so it is not passed on.
        raise InputError(
            source,
            [
                *problems,
                Problem(
                    name,
                    f"well-formed CSV separated by {delimiter!r} (every quote closed)",
                    "text the CSV parser cannot split into fields (for example an unclosed quote)",
                ),
            ],
        ) from None
    if invalid:
        numbers = np.array([number for number, _ in invalid], dtype=np.int64)
        quoted = np.array([unclosed for _, unclosed in invalid], dtype=bool)
        if (~quoted).any():
            problems.append(
                Problem(
                    f"{name}, {_lines_phrase('line', numbers[~quoted])}",
                    f"{len(header)} fields separated by {delimiter!r}, as in the header",
                    "a different number of fields",
                )
            )
        if quoted.any():
            problems.append(
                Problem(
                    f"{name}, {_lines_phrase('line', numbers[quoted])}",
                    "every quoted field closed by a quote",
                    "a quote that is never closed",
                )
            )
        raise InputError(source, problems)

    n = table.num_rows
    # Line numbers: header is line 1; a quoted field spanning lines pushes later rows down.
    newlines = np.zeros(n, dtype=np.int64)
    if b'"' in data:
        for column in table.columns:
            newlines += _arrow_ints(pc.count_substring(column, "\n"))
    lines = 2 + np.arange(n, dtype=np.int64) + np.cumsum(newlines) - newlines
    blank = np.ones(n, dtype=bool)
    for index, column in enumerate(table.columns):
        lengths = _arrow_ints(pc.binary_length(column))
        blank &= lengths == 0
        over = np.flatnonzero(lengths > options.max_field_bytes)
        if len(over):
            problems.append(
                Problem(
                    f"{name}, {_lines_phrase('line', lines[over])}, column {header[index]!r}",
                    f"fields of at most {options.max_field_bytes:,} bytes",
                    f"a field of {int(lengths[over].max()):,} bytes",
                )
            )
    keep = np.flatnonzero(~blank)  # blank lines are not events
    if len(keep) == 0:
        raise InputError(
            source,
            [*problems, Problem(name, "at least one data line after the header", "no data lines")],
        )
    if len(keep) < n:
        table = table.take(pa.array(keep))
        lines = lines[keep]

    def column_of(column_name: str) -> pd.Series:
        return pd.Series(table.column(header.index(column_name)).to_pandas(), dtype="str")

    positions = _sample_positions(table.num_rows)
    sampled = table.take(pa.array(positions))
    sample = {
        header[i]: pd.Series(sampled.column(i).to_pandas(), dtype="str")
        for i in range(len(header))
        if header[i]
    }
    return _Table(
        source=source,
        name=name,
        data={f: column_of(c) for f, c in resolved.fields.items()}
        | ({"lifecycle": column_of(resolved.lifecycle)} if resolved.lifecycle else {}),
        attributes={a: column_of(c) for a, c in resolved.attributes.items()},
        columns=dict(resolved.fields)
        | dict(resolved.attributes)
        | ({"lifecycle": resolved.lifecycle} if resolved.lifecycle else {}),
        position=lines,
        source_row=lines.copy(),
        available=tuple(h for h in header if h),
        sample=sample,
        problems=problems,
        warnings=warnings,
    )


def _arrow_ints(array: Any) -> npt.NDArray[np.int64]:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _longest_line(data: bytes) -> int:
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], ends, [len(data)]))
    return int(np.diff(bounds).max())


_DATA_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}.*|[+-]?\d+([.,]\d+)?"
)


def _looks_like_data(header: Sequence[str]) -> bool:
    """A first line holding a date or a plain number is data, not column names."""
    return any(_DATA_LIKE.fullmatch(h) for h in header if h)


_CONTROL_BYTES: Final = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _to_utf8(
    raw: bytes, source: str, name: str, encoding: str | None
) -> tuple[bytes, list[Problem]]:
    """The file as UTF-8 bytes without BOM, or ``InputError`` for the wrong kind of file."""

    def line_of(offset: int) -> int:
        return raw.count(b"\n", 0, offset) + 1

    binary = "a text file (CSV)"
    if encoding:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise InputError(
                source,
                [
                    Problem(
                        "option encoding",
                        "an encoding name such as utf-8, cp1252 or utf-16",
                        "an unknown name",
                    )
                ],
            ) from None
        except UnicodeDecodeError as err:
            raise InputError(
                source,
                [
                    Problem(
                        f"{name}, line {line_of(err.start)}",
                        f"text in the {encoding} encoding",
                        "bytes that are not valid in that encoding",
                    )
                ],
            ) from None
        text = text.removeprefix("\ufeff")
        if "\x00" in text:
            line = text.count("\n", 0, text.index("\x00")) + 1
            raise InputError(
                source, [Problem(f"{name}, line {line}", binary, "binary data (NUL characters)")]
            )
        return text.encode("utf-8"), []
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InputError(
            source,
            [
                Problem(
                    name,
                    "text encoded as UTF-8",
                    "the file looks like UTF-32; save as UTF-8 or pass --encoding utf-32",
                )
            ],
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(raw):
        raise InputError(
            source,
            [
                Problem(
                    name,
                    "text encoded as UTF-8",
                    "the file looks like UTF-16; save as UTF-8 or pass --encoding utf-16",
                )
            ],
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError(
            source, [Problem(f"{name}, line {line_of(nul)}", binary, "binary data (NUL bytes)")]
        )
    data = raw.removeprefix(codecs.BOM_UTF8)
    head = data[:65536]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(head) // 100):
        raise InputError(source, [Problem(name, binary, "binary data (many control bytes)")])
    if data.isascii():
        return data, []
    try:
        data.decode("utf-8")
        return data, []
    except UnicodeDecodeError as err:
        first_bad = err.start + (len(raw) - len(data))
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as err:
        line = line_of(err.start + (len(raw) - len(data)))
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {line}",
                    "text encoded as UTF-8 (or Windows-1252)",
                    "bytes that are neither (binary data?); pass --encoding if you know it",
                )
            ],
        ) from None
    warning = Problem(
        f"{name}, line {line_of(first_bad)}",
        "text encoded as UTF-8",
        "bytes that are not UTF-8; the file was read as Windows-1252 (cp1252): "
        "pass --encoding if that is wrong",
    )
    return text.encode("utf-8"), [warning]


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 without a BOM: text whose every other byte is NUL."""
    head = raw[:4096]
    if len(head) < 4:
        return False
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    return max(even, odd) >= 0.3 * half and min(even, odd) <= 0.05 * half


# ---------------------------------------------------------------------------------------
# Parquet


def _read_parquet(path: Path, source: str, options: ReadOptions) -> _Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = path.name
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        raise InputError(
            source, [Problem(name, "a Parquet file", "a file that cannot be read as Parquet")]
        ) from None
    available = [str(c) for c in table.column_names]
    resolved = _resolve_columns(available, options, f"{name} (columns)")
    problems = list(resolved.problems)
    if table.num_rows == 0:
        raise InputError(source, [*problems, Problem(name, "at least one row", "no rows")])

    def column_of(column: str, *, typed: bool) -> pd.Series:
        array = table.column(column)
        kind = array.type
        if typed and (pa.types.is_timestamp(kind) or pa.types.is_boolean(kind)):
            series: pd.Series = array.to_pandas()
            return series.astype("boolean") if pa.types.is_boolean(kind) else series
        if pa.types.is_floating(kind) or pa.types.is_nested(kind) or pa.types.is_binary(kind):
            problems.append(
                Problem(
                    f"{name}, column {column!r}",
                    "text, whole numbers, dates or timestamps",
                    f"a column of type {kind}",
                )
            )
            return pd.Series([""] * table.num_rows, dtype="str")
        return pd.Series(array.cast(pa.string()).to_pandas(), dtype="str")

    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    data = {f: column_of(c, typed=f == "timestamp") for f, c in resolved.fields.items()}
    if resolved.lifecycle:
        data["lifecycle"] = column_of(resolved.lifecycle, typed=False)
    attributes = {a: column_of(c, typed=True) for a, c in resolved.attributes.items()}
    positions = _sample_positions(table.num_rows)
    sampled = table.take(pa.array(positions))
    sample: dict[str, pd.Series] = {}
    for column in available:
        kind = sampled.column(column).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind):
            sample[column] = pd.Series(
                sampled.column(column).cast(pa.string()).to_pandas(), dtype="str"
            )
    return _Table(
        source=source,
        name=name,
        data=data,
        attributes=attributes,
        columns=dict(resolved.fields)
        | dict(resolved.attributes)
        | ({"lifecycle": resolved.lifecycle} if resolved.lifecycle else {}),
        position=rows,
        source_row=rows.copy(),
        available=tuple(available),
        sample=sample,
        problems=problems,
        warnings=[],
        row_word="row",
    )


# ---------------------------------------------------------------------------------------
# XES


class _NotXes(Exception):
    """Raised from inside the XML parser when the root element is not <log>."""


_EVENT_FIELDS: Final = ("activity", "timestamp", "resource", "role", "lifecycle")


class _XesCollector:
    """Expat element handlers that keep, event by event, only what the reader needs.

    Only attributes that are direct children of ``<trace>`` and ``<event>`` count; nested
    (list or container) attributes and log-level metadata are skipped.
    """

    def __init__(
        self,
        event_keys: Mapping[str, int],
        case_key: str,
        attribute_keys: Mapping[str, str],
    ) -> None:
        self.expat: Any = None  # the underlying expat parser, for line numbers
        self._event_keys = event_keys
        self.field_keys = {_EVENT_FIELDS[i]: k for k, i in event_keys.items()} | {
            "case_id": case_key
        }
        self._case_keys = frozenset({case_key, "case:" + case_key})
        self._attribute_keys = attribute_keys
        self._local: dict[str, str] = {}
        self.depth = 0
        self.trace_depth = 0  # 0 = not inside a trace
        self.event_depth = 0
        self._event_attribute_depth = -1
        self._sampling = True
        self.trace_ids: list[str | None] = []
        self.trace_lines: list[int] = []
        self.trace_events: list[int] = []
        self.trace_attributes: dict[str, list[str | None]] = {
            a: [] for a in dict.fromkeys(attribute_keys.values())
        }
        self._trace: dict[str, str] = {}
        self._trace_id: str | None = None
        self.event_trace: list[int] = []
        self.event_lines: list[int] = []
        self.event_values: tuple[list[str | None], ...] = tuple([] for _ in _EVENT_FIELDS)
        self._event: list[str | None] = [None] * len(_EVENT_FIELDS)
        self.events_outside_traces = 0
        self.event_keys_seen: dict[str, None] = {}
        self.trace_keys_seen: dict[str, None] = {}
        self.samples: dict[str, list[str]] = {}

    def line(self) -> int:
        """The parser's current line (for messages)."""
        return int(self.expat.CurrentLineNumber) if self.expat is not None else 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        if depth == self._event_attribute_depth:  # the hot path: an attribute of an event
            key = attrib.get("key")
            if key is None:
                return
            index = self._event_keys.get(key)
            if index is not None:
                self._event[index] = attrib.get("value")
            if key not in self.event_keys_seen:
                self.event_keys_seen[key] = None
            if self._sampling:
                self._sample(key, tag, attrib)
            return
        if self.event_depth:
            return  # nested inside an event attribute
        local = self._local_name(tag)
        if self.trace_depth:
            if depth != self.trace_depth + 1:
                return
            if local == "event":
                self.event_depth = depth
                self._event_attribute_depth = depth + 1
                self.event_lines.append(self.expat.CurrentLineNumber)
                return
            key = attrib.get("key")
            value = attrib.get("value")
            if key is None or value is None:
                return
            if key in self._case_keys:
                self._trace_id = value
            attribute = self._attribute_keys.get(key)
            if attribute is not None:
                self._trace[attribute] = value
            column = "case:" + key
            if column not in self.trace_keys_seen:
                self.trace_keys_seen[column] = None
            if self._sampling:
                self._sample(column, tag, attrib)
        elif depth == 1:
            if local != "log":
                raise _NotXes
        elif local == "trace" and depth == 2:
            self.trace_depth = depth
            self.trace_lines.append(self.expat.CurrentLineNumber)
            self.trace_events.append(0)
            self._trace = {}
            self._trace_id = None
        elif local == "event" and depth == 2:
            self.events_outside_traces += 1

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == self.event_depth:
            self.event_depth = 0
            self._event_attribute_depth = -1
            trace = len(self.trace_ids)
            self.event_trace.append(trace)
            self.trace_events[trace] += 1
            for values, value in zip(self.event_values, self._event, strict=True):
                values.append(value)
            self._event = [None] * len(_EVENT_FIELDS)
            if self._sampling and len(self.event_trace) >= _SAMPLE_ROWS:
                self._sampling = False
        elif depth == self.trace_depth:
            self.trace_depth = 0
            self.trace_ids.append(self._trace_id)
            for attribute, values in self.trace_attributes.items():
                values.append(self._trace.get(attribute))

    def _local_name(self, tag: str) -> str:
        local = self._local.get(tag)
        if local is None:
            local = self._local[tag] = tag.rpartition("}")[2]
        return local

    def _sample(self, column: str, tag: str, attrib: dict[str, str]) -> None:
        """Keep text values of the first events and traces for personal-data checks."""
        value = attrib.get("value")
        if value is not None and self._local_name(tag) in ("string", "int", "id"):
            self.samples.setdefault(column, []).append(value)


@contextmanager
def _open_binary(path: Path) -> Iterator[io.BufferedIOBase]:
    """The file's bytes, gunzipped when it is gzip-compressed (by content, not name)."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


def _read_xes(path: Path, source: str, options: ReadOptions) -> _Table:
    name = path.name
    columns = options.columns

    def key_for(fieldname: str, xes_key: str) -> str:
        given: str = getattr(columns, fieldname)
        return xes_key if given == getattr(_DEFAULT_COLUMNS, fieldname) else given

    event_keys = {
        key_for("activity", "concept:name"): 0,
        key_for("timestamp", "time:timestamp"): 1,
        key_for("resource", "org:resource"): 2,
        key_for("role", "org:role"): 3,
        _LIFECYCLE_KEY: 4,
    }
    case_key = key_for("case_id", "concept:name").removeprefix("case:")
    attribute_keys: dict[str, str] = {}
    for attribute in options.attributes:
        key = columns.attributes.get(attribute, attribute).removeprefix("case:")
        attribute_keys[key] = attribute
        attribute_keys["case:" + key] = attribute
    collector = _XesCollector(event_keys, case_key, attribute_keys)
    parser = DefusedXMLParser(
        target=collector, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    # Element callbacks go straight from expat to the collector (the ElementTree layer in
    # between doubles the time); defusedxml's DOCTYPE and entity guards stay installed.
    expat = collector.expat = parser.parser
    expat.ordered_attributes = False
    expat.StartElementHandler = collector.start
    expat.EndElementHandler = collector.end
    expat.DefaultHandlerExpand = None
    try:
        with _open_binary(path) as stream:
            while chunk := stream.read(1 << 20):
                parser.feed(chunk)
            parser.close()
    except DefusedXmlException:
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {collector.line()}",
                    "an XES file without a DOCTYPE, entity declarations or external references",
                    "a DOCTYPE or entity declaration; it was refused without being read "
                    "(it could read other files or exhaust memory)",
                )
            ],
        ) from None
    except ParseError as err:
        line, column = err.position
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {line}, column {column}",
                    "well-formed XML (XES)",
                    f"XML that is not well-formed ({ErrorString(err.code)})",
                )
            ],
        ) from None
    except _NotXes:
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {collector.line()}",
                    "an XES <log> root element",
                    "another element",
                )
            ],
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise InputError(
            source,
            [
                Problem(
                    name, "a complete gzip-compressed file", "a damaged or truncated gzip stream"
                )
            ],
        ) from None
    return _xes_table(collector, source, name, options, case_key)


def _xes_table(
    collector: _XesCollector, source: str, name: str, options: ReadOptions, case_key: str
) -> _Table:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    n = len(collector.event_trace)
    if n == 0:
        raise InputError(
            source, [Problem(name, "at least one <event> inside a <trace>", "no events")]
        )
    trace_lines = np.asarray(collector.trace_lines, dtype=np.int64)
    trace_events = np.asarray(collector.trace_events, dtype=np.int64)
    trace_of_event = np.asarray(collector.event_trace, dtype=np.int64)
    ids = collector.trace_ids
    missing = np.asarray([i is None for i in ids], dtype=bool) & (trace_events > 0)
    if missing.any():
        problems.append(
            Problem(
                f"{name}, {_lines_phrase('line', trace_lines[missing])} (<trace>)",
                f"a trace attribute {case_key!r} (the case id)",
                "a trace without one",
            )
        )
    case_ids = np.asarray(["" if i is None else i for i in ids], dtype=object)
    empty_traces = int((trace_events == 0).sum())
    if empty_traces:
        warnings.append(
            Problem(
                name,
                "traces with at least one event",
                f"{empty_traces:,} traces without events (no case made)",
            )
        )
    if collector.events_outside_traces:
        warnings.append(
            Problem(
                name,
                "events inside traces",
                f"{collector.events_outside_traces:,} <event> elements outside any trace (ignored)",
            )
        )
    attributes: dict[str, pd.Series] = {}
    for attribute, per_trace in collector.trace_attributes.items():
        if all(v is None for v in per_trace):
            continue
        values, bad = _parse_flags(pd.Series(per_trace, dtype="str"))
        if bad.any():
            problems.append(
                Problem(
                    f"{name}, {_lines_phrase('line', trace_lines[bad])} (<trace>), key {attribute!r}",
                    _FLAG_WORDS,
                    "other text",
                )
            )
        attributes[attribute] = pd.Series(values[trace_of_event]).astype("boolean")
    data = {
        "case_id": pd.Series(case_ids[trace_of_event], dtype="str"),
    }
    for fieldname, values_list in zip(_EVENT_FIELDS, collector.event_values, strict=True):
        if fieldname in ("resource", "role", "lifecycle") and all(v is None for v in values_list):
            continue
        data[fieldname] = pd.Series(values_list, dtype="str")
    available = (*collector.trace_keys_seen, *collector.event_keys_seen)
    return _Table(
        source=source,
        name=name,
        data=data,
        attributes=attributes,
        columns={f: collector.field_keys[f] for f in data} | {a: a for a in attributes},
        position=np.asarray(collector.event_lines, dtype=np.int64),
        source_row=np.arange(1, n + 1, dtype=np.int64),
        available=available,
        sample={k: pd.Series(v, dtype="str") for k, v in collector.samples.items()},
        problems=problems,
        warnings=warnings,
        column_word="key",
        case_ids_checked=True,
    )


# ---------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class _Times:
    ns: npt.NDArray[np.int64]  # UTC nanoseconds since the epoch (only where valid)
    valid: npt.NDArray[np.bool_]
    date_only: npt.NDArray[np.bool_]
    empty: npt.NDArray[np.bool_]
    unparseable: npt.NDArray[np.bool_]
    out_of_range: npt.NDArray[np.bool_]
    ambiguous: int  # wall times in the repeated hour (read as BST)
    nonexistent: int  # wall times in the skipped hour (moved forward)


def _localise(naive: pd.Series) -> tuple[pd.Series, int, int]:
    """Europe/London wall-clock times to UTC, counting the DST-ambiguous and -skipped ones."""
    local = naive.dt.tz_localize(LONDON, ambiguous="NaT", nonexistent="NaT")
    odd = (local.isna() & naive.notna()).to_numpy()
    ambiguous = nonexistent = 0
    if odd.any():
        wall = naive[odd]
        first = np.ones(len(wall), dtype=bool)  # True = daylight time: the first reading
        fixed = wall.dt.tz_localize(LONDON, ambiguous=first, nonexistent="shift_forward")
        nonexistent = int((fixed.dt.tz_localize(None) != wall).sum())
        ambiguous = len(wall) - nonexistent
        local = local.where(~odd, fixed)
    return local.dt.tz_convert("UTC"), ambiguous, nonexistent


def _to_ns(
    parsed_utc: pd.Series,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """UTC nanoseconds, a valid mask and an out-of-range mask for parsed UTC times."""
    valid = parsed_utc.notna().to_numpy()
    years = parsed_utc.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    in_range = valid & (years >= _OLDEST_YEAR) & (years <= _NEWEST_YEAR)
    naive = parsed_utc.dt.tz_localize(None).where(in_range)
    ns = naive.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view(np.int64)
    return ns, in_range, valid & ~in_range


_TIME_DIRECTIVES: Final = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R")


def _parse_times(values: pd.Series, fmt: str | None, source: str) -> _Times:
    n = len(values)
    ns = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    date_only = np.zeros(n, dtype=bool)
    out_of_range = np.zeros(n, dtype=bool)
    ambiguous = nonexistent = 0

    def store(mask: npt.NDArray[np.bool_], parsed_utc: pd.Series) -> None:
        part_ns, part_ok, part_oor = _to_ns(parsed_utc)
        where = np.flatnonzero(mask)
        ns[where[part_ok]] = part_ns[part_ok]
        valid[where[part_ok]] = True
        out_of_range[where[part_oor]] = True

    def store_naive(mask: npt.NDArray[np.bool_], parsed: pd.Series) -> None:
        nonlocal ambiguous, nonexistent
        utc, amb, non = _localise(parsed)
        ambiguous += amb
        nonexistent += non
        store(mask, utc)

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        empty = values.isna().to_numpy()
        store(~empty, values[~empty].dt.tz_convert("UTC"))
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        empty = values.isna().to_numpy()
        store_naive(~empty, values[~empty])
    else:
        text = _text(values)
        empty = (text == "").to_numpy()
        if fmt is not None:
            zoned = "%z" in fmt or "%Z" in fmt
            try:
                parsed = pd.to_datetime(text[~empty], format=fmt, errors="coerce", utc=zoned)
            except ValueError:
                raise InputError(
                    source,
                    [
                        Problem(
                            "option timestamp_format",
                            "a strptime format such as %Y/%m/%d %H:%M:%S",
                            "a format that cannot be used",
                        )
                    ],
                ) from None
            if zoned:
                store(~empty, parsed)
            else:
                store_naive(~empty, parsed)
            date_only[:] = not any(d in fmt for d in _TIME_DIRECTIVES)
        else:
            naive = text.str.fullmatch(_NAIVE_RE).to_numpy(dtype=bool)
            if naive.any():
                store_naive(naive, pd.to_datetime(text[naive], format="ISO8601", errors="coerce"))
            rest = ~naive & ~empty
            if rest.any():
                rest_text = text[rest]
                dates = np.zeros(n, dtype=bool)
                dates[rest] = rest_text.str.fullmatch(_DATE_RE).to_numpy(dtype=bool)
                offsets = np.zeros(n, dtype=bool)
                offsets[rest] = rest_text.str.fullmatch(_OFFSET_RE).to_numpy(dtype=bool)
                if dates.any():
                    store_naive(
                        dates, pd.to_datetime(text[dates], format="%Y-%m-%d", errors="coerce")
                    )
                    date_only |= dates
                if offsets.any():
                    store(
                        offsets,
                        pd.to_datetime(text[offsets], format="ISO8601", errors="coerce", utc=True),
                    )
    unparseable = ~empty & ~valid & ~out_of_range
    return _Times(
        ns, valid, date_only & valid, empty, unparseable, out_of_range, ambiguous, nonexistent
    )


def _parse_flags(values: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Case-attribute values as 1.0 / 0.0 / NaN (unknown), and a mask of unreadable ones."""
    if isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool:
        numbers = values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(numbers, dtype=np.float64), np.zeros(len(values), dtype=np.bool_)
    codes, uniques = pd.factorize(_text(values).str.lower())
    lookup = np.array(
        [1.0 if u in _TRUE else 0.0 if u in _FALSE else np.nan for u in uniques] + [np.nan]
    )
    bad = np.array([u != "" and u not in _TRUE and u not in _FALSE for u in uniques] + [False])
    flags_out: npt.NDArray[np.float64] = lookup[codes]
    bad_out: npt.NDArray[np.bool_] = bad[codes]
    return flags_out, bad_out


# ---------------------------------------------------------------------------------------
# Personal data

# Words that, before "name", make it a person's name ("child name", "staff_name").
_PERSON_WORDS: Final = frozenset(
    {
        *("person", "client", "patient", "child", "children", "staff", "employee", "worker"),
        *("user", "parent", "carer", "officer", "contact", "subject", "victim", "offender"),
        *("alleged", "referrer", "customer", "applicant", "owner", "member", "resident"),
        *("pupil", "student", "mother", "father", "given", "first", "last", "middle", "maiden"),
        *("full", "family"),
    }
)
# Column names (tokens joined, case-folded) that name personal data, by kind.
_PERSONAL_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "people's names": (
        *("forename", "forenames", "surname", "surnames", "firstname", "lastname", "fullname"),
        *("givenname", "familyname", "middlename", "maidenname"),
    ),
    "dates of birth": ("dob", "birthdate", "dateofbirth", "birthday"),
    "NHS numbers": ("nhs", "nhsno", "nhsnum", "nhsnumber"),
    "addresses": ("postcode", "postcodes", "zipcode", "address", "addresses", "street"),
    "e-mail addresses": ("email", "emails", "emailaddress"),
    "phone numbers": ("phone", "phones", "telephone", "tel", "mobile", "phonenumber"),
    "national insurance or pupil numbers": ("nino", "nationalinsurancenumber", "upn"),
}
_PERSONAL_WORDS: Final = {w: kind for kind, words in _PERSONAL_NAMES.items() for w in words}
_EMAIL_RE: Final = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_POSTCODE_RE: Final = r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}"
_NHS_WEIGHTS: Final = np.arange(10, 1, -1, dtype=np.int64)


def _name_reason(column: str) -> str | None:
    """Why a column's name suggests personal data, or None."""
    tokens = [t.lower() for t in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", column)]
    if tokens in (["name"], ["names"]):
        return "its name suggests people's names"
    for size in (3, 2, 1):
        for start in range(len(tokens) - size + 1):
            kind = _PERSONAL_WORDS.get("".join(tokens[start : start + size]))
            if kind is not None:
                return f"its name suggests {kind}"
    for before, after in itertools.pairwise(tokens):
        if after in ("name", "names") and before in _PERSON_WORDS:
            return "its name suggests people's names"
    return None


def _nhs_numbers(values: pd.Series) -> int:
    """How many values are NHS numbers (10 digits, optionally spaced, valid check digit)."""
    digits = values.str.replace(r"[ -]", "", regex=True)
    candidates = digits[digits.str.fullmatch(r"\d{10}").to_numpy(dtype=bool)]
    if candidates.empty:
        return 0
    grid = (np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8) - ord("0")).reshape(
        -1, 10
    )
    check = 11 - (grid[:, :9].astype(np.int64) @ _NHS_WEIGHTS) % 11
    check[check == 11] = 0
    return int(((check != 10) & (check == grid[:, 9])).sum())


def _value_reason(values: pd.Series) -> str | None:
    """Why a sample of a column's values looks like personal data, or None."""
    text = _text(values)
    text = text[(text != "").to_numpy()]
    if text.empty:
        return None
    if text.str.contains(_EMAIL_RE, regex=True).any():
        return "values that look like e-mail addresses"
    half = len(text) / 2
    if text.str.upper().str.fullmatch(_POSTCODE_RE).sum() >= half:
        return "values that look like UK postcodes"
    if _nhs_numbers(text) >= half:
        return "values that look like NHS numbers (valid check digits)"
    return None


def _personal_data(
    available: Sequence[str], sample: Mapping[str, pd.Series]
) -> list[tuple[str, str]]:
    """(column, reason) for each column whose name or sampled values look like personal data."""
    found = []
    for column in available:
        reason = _name_reason(column)
        if reason is None and column in sample:
            reason = _value_reason(sample[column])
        if reason is not None:
            found.append((column, reason))
    return found


# ---------------------------------------------------------------------------------------
# From a table to an EventLog


def _as_of_utc(value: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("ns")


def _build(table: _Table, options: ReadOptions) -> EventLog:
    problems = list(table.problems)
    warnings = list(table.warnings)
    name = table.name
    n = len(table.position)

    def where(field_or_attribute: str, mask: npt.NDArray[np.bool_]) -> str:
        column = table.columns[field_or_attribute]
        rows = _lines_phrase(table.row_word, table.position[mask])
        return f"{name}, {rows}, {table.column_word} {column!r}"

    texts: dict[str, pd.Series] = {}
    for fieldname in ("case_id", "activity"):
        if fieldname in table.data:
            texts[fieldname] = _text(table.data[fieldname])
            empty = (texts[fieldname] == "").to_numpy()
            if fieldname == "case_id" and table.case_ids_checked:
                continue
            if empty.any():
                problems.append(
                    Problem(
                        where(fieldname, empty),
                        "a case id" if fieldname == "case_id" else "an activity",
                        "an empty value",
                    )
                )
    times: _Times | None = None
    if "timestamp" in table.data:
        fmt = options.timestamp_format
        times = _parse_times(table.data["timestamp"], fmt, table.source)
        expected = f"a timestamp in the format {fmt}" if fmt else _ISO_EXPECTED
        if times.empty.any():
            problems.append(
                Problem(where("timestamp", times.empty), "a timestamp", "an empty value")
            )
        if times.unparseable.any():
            problems.append(
                Problem(
                    where("timestamp", times.unparseable),
                    expected,
                    "text that is not such a timestamp"
                    + ("" if fmt else "; if the export writes dates another way, say how with "
                       "--timestamp-format, e.g. '%d/%m/%Y %H:%M'"),
                )
            )
        if times.out_of_range.any():
            problems.append(
                Problem(
                    where("timestamp", times.out_of_range),
                    f"a date between {_OLDEST_YEAR} and {_NEWEST_YEAR}",
                    "a date outside that range",
                )
            )
    flags: dict[str, npt.NDArray[np.float64]] = {}
    for attribute, values in table.attributes.items():
        flags[attribute], bad = _parse_flags(values)
        if bad.any():
            problems.append(Problem(where(attribute, bad), _FLAG_WORDS, "other text"))
    if problems:
        raise InputError(table.source, problems)
    assert times is not None  # a missing timestamp column is a problem above
    case_text, activity_text = texts["case_id"], texts["activity"]

    # Which events are kept: lifecycle 'complete' (or none), then not after as-of.
    keep = np.ones(n, dtype=bool)
    excluded_lifecycle = 0
    if "lifecycle" in table.data:
        transition = _text(table.data["lifecycle"]).str.lower()
        other = ((transition != "") & (transition != "complete")).to_numpy()
        excluded_lifecycle = int(other.sum())
        if excluded_lifecycle:
            keep &= ~other
            lost = _cases_lost(case_text, ~other)
            warnings.append(
                Problem(
                    f"{name}, {table.column_word} {table.columns['lifecycle']!r}",
                    "only events whose lifecycle transition is 'complete' (the steps judged)",
                    f"{excluded_lifecycle:,} events with another transition (such as start or "
                    f"schedule), left out"
                    + (f"; {lost:,} cases had no complete event" if lost else ""),
                    topic="lifecycle",
                )
            )
            if not keep.any():
                raise InputError(
                    table.source,
                    [
                        Problem(
                            name, "at least one event with lifecycle transition 'complete'", "none"
                        )
                    ],
                )
    as_of = (
        _as_of_utc(options.as_of)
        if options.as_of is not None
        else pd.Timestamp(int(times.ns[keep].max()), tz="UTC")
    )
    after = keep & (times.ns > as_of.value)
    excluded_after = int(after.sum())
    if excluded_after:
        before = keep & ~after
        lost = _cases_lost(case_text, before) - _cases_lost(case_text, keep)
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                f"events at or before the as-of time {as_of.isoformat()}",
                f"{excluded_after:,} events after it, left out"
                + (f"; {lost:,} cases had no event before it" if lost else ""),
                topic="after-as-of",
            )
        )
        keep = before
    if times.ambiguous:
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                "unambiguous local times",
                f"{times.ambiguous:,} times without an offset in the hour repeated when clocks go "
                "back; read as British Summer Time (the first occurrence)",
            )
        )
    if times.nonexistent:
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                "local times that exist",
                f"{times.nonexistent:,} times without an offset in the hour skipped when clocks "
                "go forward; moved forward by an hour",
            )
        )

    kept = np.flatnonzero(keep)
    everything = len(kept) == n

    def kept_of(values: pd.Series) -> pd.Series:
        return values if everything else values.iloc[kept].reset_index(drop=True)

    case = kept_of(case_text)
    codes, case_ids = pd.factorize(case)  # first-appearance order

    # Activities: map local names, count those outside the vocabulary (kept).
    activity_map = {k.strip(): v for k, v in options.activity_map.items()}
    act_codes, act_names = pd.factorize(kept_of(activity_text))
    mapped = np.asarray([activity_map.get(a, a) for a in act_names], dtype=object)
    unknown: dict[str, int] = {}
    if options.vocabulary:
        counts = np.bincount(act_codes, minlength=len(mapped))
        for activity, count in zip(mapped, counts, strict=True):
            if activity not in options.vocabulary:
                unknown[activity] = unknown.get(activity, 0) + int(count)
        unknown = dict(sorted(unknown.items(), key=lambda item: (-item[1], item[0])))
        if unknown:
            listed = ", ".join(f"{a!r} ({c:,})" for a, c in list(unknown.items())[:50])
            more = f", ... ({len(unknown)} names)" if len(unknown) > 50 else ""
            warnings.append(
                Problem(
                    f"{name}, {table.column_word} {table.columns['activity']!r}",
                    "activity names of the model, the rules or the mapping",
                    f"{sum(unknown.values()):,} events with other names, kept: {listed}{more}",
                    topic="unknown-activities",
                )
            )
    activity_names = pd.array(mapped, dtype="str")

    def optional_text(fieldname: str) -> pd.Series:
        if fieldname not in table.data:
            return pd.Series(np.full(len(kept), np.nan, dtype=object), dtype="str")
        values = kept_of(_text(table.data[fieldname]))
        return values.where(values != "")

    resource = optional_text("resource")
    role = optional_text("role")
    ns = times.ns[kept]
    source_row = table.source_row[kept]

    cases, attribute_conflicts, attribute_warnings = _case_attributes(
        table, options.attributes, {a: f[kept] for a, f in flags.items()}, codes, case_ids
    )
    warnings.extend(attribute_warnings)

    personal = personal_data(table.available, table.sample)
    for column, reason in personal:
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {column!r}",
                "no personal data in a log for auditing (pseudonymise it first)",
                f"a {table.column_word} that looks like personal data: {reason}",
                topic="personal-data",
            )
        )

    # Sort: case id, then time, then file order.
    names = np.asarray(case_ids, dtype=object)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    # Two stable sorts (time, then case) keep file order for ties: rows are in file order.
    order = np.argsort(ns, kind="stable")
    order = order[np.argsort(rank[codes][order], kind="stable")]
    duplicates = _duplicates(order, codes, act_codes, ns, resource)
    if len(duplicates):
        warnings.append(
            Problem(
                f"{name}, {_lines_phrase(table.row_word, np.sort(table.position[kept][duplicates]))}",
                "each event once",
                f"{len(duplicates):,} rows repeating an earlier row's case, activity, time "
                "and resource (kept)",
            )
        )
    events = pd.DataFrame(
        {
            "case_id": pd.Series(case_ids.take(codes[order]), dtype="str"),
            "activity": pd.Series(activity_names.take(act_codes[order])),
            "time_utc": pd.Series(ns[order].view("datetime64[ns]")).dt.tz_localize("UTC"),
            "date_only": times.date_only[kept][order],
            "source_row": source_row[order].astype(np.int64),
            "resource": _reordered(resource, order),
            "role": _reordered(role, order),
        }
    )
    return EventLog(
        source=table.source,
        events=events,
        cases=cases,
        as_of=as_of,
        warnings=tuple(warnings),
        unknown_activities=unknown,
        attribute_conflicts=attribute_conflicts,
        personal_data_columns=tuple(c for c, _ in personal),
        excluded_after_as_of=excluded_after,
        excluded_other_lifecycle=excluded_lifecycle,
        columns_used=dict(table.columns),
        columns_available=tuple(table.available),
        personal_data_reasons=dict(personal),
    )


def _case_attributes(
    table: _Table,
    attributes: Sequence[str],
    flags: Mapping[str, npt.NDArray[np.float64]],
    codes: npt.NDArray[np.intp],
    case_ids: pd.Index,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """One value per case and attribute; rows that disagree make it unknown (NA).

    Returns the cases frame, the (case_id, attribute) conflicts and one warning per
    attribute with conflicts (a count, no values).
    """
    cases = pd.DataFrame(index=pd.Index(case_ids, dtype="str", name="case_id"))
    conflict_rows: list[tuple[int, int]] = []
    warnings: list[Problem] = []
    everyone = range(len(case_ids))
    for attribute_index, attribute in enumerate(attributes):
        if attribute not in flags:
            cases[attribute] = pd.array([pd.NA] * len(case_ids), dtype="boolean")
            continue
        grouped = pd.Series(flags[attribute]).groupby(codes)
        low = grouped.min().reindex(everyone).to_numpy()
        high = grouped.max().reindex(everyone).to_numpy()
        conflict = ~np.isnan(low) & ~np.isnan(high) & (low != high)
        values = pd.array(np.where(conflict, np.nan, low), dtype="Float64")
        cases[attribute] = values.astype("boolean")
        if conflict.any():
            conflict_rows.extend((int(c), attribute_index) for c in np.flatnonzero(conflict))
            warnings.append(
                Problem(
                    f"{table.name}, {table.column_word} {table.columns[attribute]!r}",
                    "the same value on every row of a case",
                    f"{int(conflict.sum()):,} cases whose rows disagree; the attribute is "
                    "treated as unknown for them",
                    topic="attribute-conflicts",
                )
            )
    conflict_rows.sort()
    conflicts = pd.DataFrame(
        {
            "case_id": pd.Series([case_ids[c] for c, _ in conflict_rows], dtype="str"),
            "attribute": pd.Series([attributes[a] for _, a in conflict_rows], dtype="str"),
        }
    )
    return cases, conflicts, warnings


def _duplicates(
    order: npt.NDArray[np.intp],
    codes: npt.NDArray[np.intp],
    act_codes: npt.NDArray[np.intp],
    ns: npt.NDArray[np.int64],
    resource: pd.Series,
) -> npt.NDArray[np.intp]:
    """Positions of events repeating an earlier one's case, activity, time and resource.

    ``order`` sorts by case, time and file order, so only rows that share case and time
    with a neighbour in it can be duplicates; just those are compared.
    """
    sorted_case, sorted_ns = codes[order], ns[order]
    tie = (sorted_case[1:] == sorted_case[:-1]) & (sorted_ns[1:] == sorted_ns[:-1])
    in_tie = np.zeros(len(order), dtype=bool)
    in_tie[1:] |= tie
    in_tie[:-1] |= tie
    candidates = order[in_tie]  # grouped by case and time, file order within a group
    resource_codes, _ = pd.factorize(resource.iloc[candidates], use_na_sentinel=True)
    frame = pd.DataFrame(
        {
            "c": codes[candidates],
            "a": act_codes[candidates],
            "t": ns[candidates],
            "r": resource_codes,
        }
    )
    found: npt.NDArray[np.intp] = candidates[frame.duplicated().to_numpy()]
    return found


def _reordered(values: pd.Series, order: npt.NDArray[np.intp]) -> pd.Series:
    """``values`` in ``order``, taken through its distinct values (much faster for text)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return pd.Series(uniques.take(codes[order], allow_fill=True, fill_value=None), dtype="str")


def _cases_lost(case: pd.Series, keep: npt.NDArray[np.bool_]) -> int:
    """How many cases have no event left under ``keep``."""
    codes, uniques = pd.factorize(case)
    present = np.zeros(len(uniques), dtype=bool)
    present[codes[keep]] = True
    return int((~present).sum())

"""The ledger of a scenario: where every number comes from.

A scenario file carries its ledger in itself, one table per field::

    [ledger."roles.lado.headcount"]
    kind = "estimated"                 # "estimated", "published" or "assumed"
    source = "log.csv: people recorded in the role lado, 2024-04-01 to 2025-03-31"
    n = 412                            # estimated: the sample size (required)
    interval = [2, 2]                  # estimated or published: a 95% interval (required for
                                       # an estimated number), containing the value
    note = "..."                       # optional: anything else (a goodness-of-fit figure)

    [ledger.'tasks."Family informed".lag']
    kind = "assumed"
    source = "assumption: no data"
    range = [0.5, 3]                   # assumed numbers: a plausible range (low, high) for the
                                       # sensitivity analysis, containing the value

Field keys are the field paths that ``simulation.scenario.field_keys``, ``Scenario.with_values``
and ``lscb sweep --vary`` read: ``roles.lado.headcount``, ``scenario.demand`` (or its short form
``demand``), ``tasks."Family informed".lag.mean`` (keys with spaces in double quotes). A key must
name a field written in the same file (a table or a value; a list counts as one value). An entry
covers its field and everything inside it: one entry for ``tasks."Family informed".lag`` covers
the lag's distribution and its parameters.

``range`` is allowed on an assumed number only (the sensitivity analysis varies that number
over it); ``interval`` on an estimated or published number (an estimated table or list, such as
a fitted distribution or a weekday profile, gives ``n`` alone, and its ``note`` the fit). Every problem of a ledger is reported at once, each naming its field
(``field 'ledger."roles.lado.headcount".range'``).

API (this module imports nothing of the simulator, so the scenario reader can use it):

- ``ledger_problems(data) -> list[Problem]``: the problems of the ledger of a scenario given as
  the mapping ``tomllib`` reads (the scenario reader adds them to its own).
- ``load_ledger(source) -> Ledger``: from a scenario file path, a parsed mapping or a
  ``Scenario`` (its ``data``); raises ``InputError`` listing every problem.
- ``Ledger``: ``entries`` (field key -> ``Entry``, in file order), ``entry_for(field)`` (the
  entry that covers a field, or None), ``uncovered`` (the fields written in the file that no
  entry covers, run settings excepted), ``ranged()`` (assumed numbers with a range: what a
  sensitivity analysis varies), ``value(field)``.
- ``ledger_table(source) -> pandas.DataFrame``: one row per entry (``TABLE_COLUMNS``), then one
  row per uncovered field with kind "unrecorded".
- ``write_ledger_csv(source, path)``: that table as CSV (UTF-8, "\\n" line ends).
- ``ledger_toml(entries) -> str``: entries as ``[ledger."..."]`` tables, for the end of a
  scenario file (deterministic: the same entries give the same text).
- ``drop_entries(data, fields)``: remove the entries of fields being changed from a scenario
  mapping (``Scenario.with_values`` does, so that a sweep or a sensitivity run may move a
  number outside its recorded interval or range).
- ``field_key(keys)``, ``split_field(key)``, ``lookup(data, key)``, ``toml_key``,
  ``toml_value``: the path and TOML helpers the writer of a scenario file needs.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from model.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KINDS",
    "RUN_SETTINGS",
    "TABLE_COLUMNS",
    "Entry",
    "Ledger",
    "drop_entries",
    "field_key",
    "ledger_problems",
    "ledger_table",
    "ledger_toml",
    "load_ledger",
    "lookup",
    "split_field",
    "toml_key",
    "toml_value",
    "write_ledger_csv",
]

KINDS: Final = ("estimated", "published", "assumed")
# Fields that say how to run, not what the county is like: no ledger entry is expected.
RUN_SETTINGS: Final = (
    "scenario.name", "scenario.description", "scenario.replications", "scenario.seed",
    "scenario.timeline_days",
)
TABLE_COLUMNS: Final = (
    "field", "kind", "value", "source", "n", "interval_low", "interval_high", "range_low",
    "range_high", "note",
)
_SHORT: Final = frozenset({
    "name", "description", "start", "horizon_days", "warm_up_days", "drain_days",
    "replications", "seed", "dispatch", "demand", "background_demand", "timeline_days",
})
_ENTRY_KEYS: Final = ("kind", "source", "n", "interval", "range", "note")
_BARE: Final = re.compile(r"[A-Za-z0-9_-]+")
_MISSING: Final = object()


# ------------------------------------------------------------------------- field paths


def split_field(key: str) -> tuple[str, ...]:
    """The keys of a field path: 'tasks."Family informed".work' -> ('tasks', 'Family
    informed', 'work'); a short form of a [scenario] field ('demand') -> ('scenario',
    'demand')."""
    keys = [m.group(1) if m.group(1) is not None else m.group(2)
            for m in re.finditer(r'"([^"]*)"|([^.]+)', key)]
    if len(keys) == 1 and keys[0] in _SHORT:
        keys = ["scenario", keys[0]]
    return tuple(keys)


def field_key(keys: Sequence[str]) -> str:
    """The field path of these keys, as the sweep and the ledger write it: keys that are not
    bare words in double quotes."""
    return ".".join(k if _BARE.fullmatch(k) else f'"{k}"' for k in keys)


def lookup(data: Mapping[str, Any], key: str) -> Any:
    """The value at a field path in a scenario mapping; raises KeyError when there is none."""
    node: Any = data
    for part in split_field(key):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def _leaves(node: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for name, value in node.items():
        here = (*prefix, name)
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, here)
        else:
            yield here


# ------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class Entry:
    """Where one field's value comes from."""

    field: str  # the canonical field path ('scenario.demand' for 'demand')
    kind: str  # estimated, published or assumed
    source: str
    n: int | None = None  # sample size
    interval: tuple[float, float] | None = None  # 95% interval of an estimate
    range: tuple[float, float] | None = None  # plausible range of an assumption
    note: str = ""

    def covers(self, field: str) -> bool:
        """This entry is for the field or a table that holds it."""
        mine, theirs = split_field(self.field), split_field(field)
        return theirs[: len(mine)] == mine


@dataclass(frozen=True)
class Ledger:
    entries: Mapping[str, Entry]  # canonical field path -> entry, in the file's order
    data: Mapping[str, Any]  # the scenario it describes (without the ledger)
    source: str = ""

    def entry_for(self, field: str) -> Entry | None:
        """The entry for this field or the nearest table that holds it."""
        keys = split_field(field)
        for length in range(len(keys), 0, -1):
            entry = self.entries.get(field_key(keys[:length]))
            if entry is not None:
                return entry
        return None

    def value(self, field: str) -> Any:
        return lookup(self.data, field)

    @property
    def uncovered(self) -> tuple[str, ...]:
        """The fields written in the scenario that no entry covers (run settings excepted)."""
        out = []
        for keys in _leaves(self.data, ()):
            key = field_key(keys)
            if key not in RUN_SETTINGS and self.entry_for(key) is None:
                out.append(key)
        return tuple(out)

    def ranged(self) -> tuple[Entry, ...]:
        """The assumed numbers with a plausible range, in the file's order."""
        return tuple(e for e in self.entries.values()
                     if e.kind == "assumed" and e.range is not None)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)


def _where(key: str, part: str = "") -> str:
    shown = f"ledger.{toml_key(key)}" + (f".{part}" if part else "")
    return f"field '{shown}'"


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:40] + "..."
        return "an empty text" if not value else repr(text)
    if isinstance(value, list):
        return "a list of " + str(len(value))
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _pair(raw: Any, where: str, problems: list[Problem]) -> tuple[float, float] | None:
    if (not isinstance(raw, list) or len(raw) != 2 or not all(_number(v) for v in raw)):
        problems.append(Problem(where, "two numbers [low, high]", _describe(raw)))
        return None
    low, high = float(raw[0]), float(raw[1])
    if low > high:
        problems.append(Problem(where, "low at most high", f"[{low:g}, {high:g}]"))
        return None
    return low, high


def _parse(data: Mapping[str, Any]) -> tuple[dict[str, Entry], list[Problem]]:
    problems: list[Problem] = []
    entries: dict[str, Entry] = {}
    raw_ledger = data.get("ledger", {})
    if not isinstance(raw_ledger, Mapping):
        return {}, [Problem("field 'ledger'", 'tables [ledger."<field>"]',
                            _describe(raw_ledger))]
    scenario = {k: v for k, v in data.items() if k != "ledger"}
    for key, body in raw_ledger.items():
        before = len(problems)
        canonical = field_key(split_field(key))
        if not isinstance(body, Mapping):
            problems.append(Problem(_where(key), "a table with kind and source",
                                    _describe(body)))
            continue
        if canonical.split(".")[0] == "ledger" or canonical in entries:
            problems.append(Problem(_where(key), "one entry per field of the scenario",
                                    "a second entry for " + canonical
                                    if canonical in entries else "the ledger itself"))
            continue
        try:
            value = lookup(scenario, key)
        except KeyError:
            problems.append(Problem(
                _where(key), "the path of a field written in this scenario file (such as "
                "roles.lado.headcount or tasks.\"Family informed\".work)",
                "no such field in the file"))
            value = _MISSING
        for name in body:
            if name not in _ENTRY_KEYS:
                problems.append(Problem(_where(key, name), "one of " + ", ".join(_ENTRY_KEYS),
                                        "an unknown field"))
        kind = body.get("kind", _MISSING)
        if kind is _MISSING:
            problems.append(Problem(_where(key, "kind"), " or ".join(KINDS), "nothing"))
        elif kind not in KINDS:
            problems.append(Problem(_where(key, "kind"), '"estimated", "published" or '
                                    '"assumed"', _describe(kind)))
        source = body.get("source", _MISSING)
        if not isinstance(source, str) or not source.strip():
            problems.append(Problem(
                _where(key, "source"), "a text saying where the value comes from (the data, "
                "the publication, or why it is assumed)",
                "nothing" if source is _MISSING else _describe(source)))
        note = body.get("note", "")
        if not isinstance(note, str):
            problems.append(Problem(_where(key, "note"), "a text", _describe(note)))
        n: int | None = None
        raw_n = body.get("n", _MISSING)
        if raw_n is not _MISSING:
            if isinstance(raw_n, bool) or not isinstance(raw_n, int) or raw_n < 0:
                problems.append(Problem(_where(key, "n"), "a whole number of at least 0 (the "
                                        "sample size)", _describe(raw_n)))
            else:
                n = raw_n
        elif kind == "estimated":
            problems.append(Problem(_where(key, "n"), "the sample size of the estimate",
                                    "nothing"))
        interval: tuple[float, float] | None = None
        raw_interval = body.get("interval", _MISSING)
        if raw_interval is not _MISSING:
            if kind == "assumed":
                problems.append(Problem(_where(key, "interval"), "no interval for an "
                                        "assumption (give its plausible range)", "an interval"))
            elif value is not _MISSING and not _number(value):
                problems.append(Problem(_where(key, "interval"), "an interval only for a "
                                        "number", f"the field holds {_describe(value)}"))
            else:
                interval = _pair(raw_interval, _where(key, "interval"), problems)
                if (interval is not None and _number(value)
                        and not interval[0] <= value <= interval[1]):
                    problems.append(Problem(
                        _where(key, "interval"), f"an interval containing the value "
                        f"({_describe(value)})", f"[{interval[0]:g}, {interval[1]:g}]"))
        elif kind == "estimated" and _number(value):
            problems.append(Problem(_where(key, "interval"), "the 95% interval of the "
                                    "estimate [low, high]", "nothing"))
        rng: tuple[float, float] | None = None
        raw_range = body.get("range", _MISSING)
        if raw_range is not _MISSING:
            if kind != "assumed":
                problems.append(Problem(_where(key, "range"), "a range only for an assumption "
                                        "(kind = \"assumed\")", f"kind {_describe(kind)}"))
            elif value is not _MISSING and not _number(value):
                problems.append(Problem(_where(key, "range"), "a range only for a number "
                                        "(put the entry on the number, such as "
                                        "....lag.mean)", f"the field holds {_describe(value)}"))
            else:
                rng = _pair(raw_range, _where(key, "range"), problems)
                if rng is not None and _number(value) and not rng[0] <= value <= rng[1]:
                    problems.append(Problem(
                        _where(key, "range"), f"a range containing the value "
                        f"({_describe(value)})", f"[{rng[0]:g}, {rng[1]:g}]"))
        if len(problems) == before:
            entries[canonical] = Entry(canonical, str(kind), str(source), n, interval, rng,
                                       str(note))
    return entries, problems


def drop_entries(data: dict[str, Any], fields: Sequence[str]) -> None:
    """Remove from a scenario mapping the ledger entries of fields that are being changed (an
    entry for the field, a table holding it, or a field inside it): a changed value no longer
    comes from where its entry says (``Scenario.with_values`` does this)."""
    raw = data.get("ledger")
    if not isinstance(raw, dict):
        return
    changed = [split_field(f) for f in fields]
    for key in list(raw):
        mine = split_field(key)
        if any(c[: len(mine)] == mine or mine[: len(c)] == c for c in changed):
            del raw[key]


def ledger_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every problem of the ledger of a scenario mapping (empty when it is sound or absent)."""
    return _parse(data)[1]


def _data_of(source: Any) -> tuple[Mapping[str, Any], str]:
    if isinstance(source, Ledger):
        return {**source.data, "ledger": {}}, source.source
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(str(path), [Problem(str(path), "an existing scenario file",
                                                 "no such file")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), [Problem(str(path), "a readable UTF-8 TOML file",
                                                 type(exc).__name__)]) from exc
        try:
            return tomllib.loads(text), str(path)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(str(path), [Problem(str(path), "valid TOML", str(exc))],
                             summary=f"{path}: not valid TOML") from exc
    if isinstance(source, Mapping):
        return source, "the scenario"
    data = getattr(source, "data", None)
    if isinstance(data, Mapping):
        return data, str(getattr(source, "source", "the scenario"))
    raise TypeError(f"not a scenario: {type(source).__name__}")


def load_ledger(source: Any) -> Ledger:
    """The ledger of a scenario: a file path, the mapping TOML gives, a ``Scenario`` (its
    ``data``) or a ``Ledger``. Raises ``InputError`` listing every problem of the ledger."""
    if isinstance(source, Ledger):
        return source
    data, name = _data_of(source)
    entries, problems = _parse(data)
    if problems:
        raise InputError(name, problems,
                         summary=f"{name}: {len(problems)} problem(s) in the ledger")
    scenario = {k: v for k, v in data.items() if k != "ledger"}
    return Ledger(entries, scenario, name)


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        if "distribution" in value:
            params = ", ".join(f"{k} {_shown(v)}" for k, v in value.items()
                               if k != "distribution")
            return f"{value['distribution']} ({params})" if params else str(value["distribution"])
        return "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if len(value) > 6:
            return f"[{len(value)} values]"
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def ledger_table(source: Any) -> pd.DataFrame:
    """The ledger as a table (``TABLE_COLUMNS``): one row per entry in the file's order, then
    one row per field no entry covers (kind "unrecorded")."""
    import pandas as pd

    ledger = load_ledger(source)
    rows: list[dict[str, Any]] = []
    for e in ledger:
        rows.append({
            "field": e.field, "kind": e.kind, "value": _shown(ledger.value(e.field)),
            "source": e.source, "n": e.n,
            "interval_low": e.interval[0] if e.interval else None,
            "interval_high": e.interval[1] if e.interval else None,
            "range_low": e.range[0] if e.range else None,
            "range_high": e.range[1] if e.range else None,
            "note": e.note,
        })
    for key in ledger.uncovered:
        rows.append(dict.fromkeys(TABLE_COLUMNS) | {
            "field": key, "kind": "unrecorded", "value": _shown(ledger.value(key)),
            "source": "no ledger entry", "note": "",
        })
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    frame["n"] = frame["n"].astype("Int64")
    return frame


def write_ledger_csv(source: Any, path: Path | str) -> Path:
    """Write ``ledger_table(source)`` as CSV; returns the path."""
    target = Path(path)
    ledger_table(source).to_csv(target, index=False, lineterminator="\n", encoding="utf-8")
    return target


# ------------------------------------------------------------------------- writing TOML


def toml_key(key: str) -> str:
    """A TOML key for any text: bare when it can be, else a quoted string."""
    if _BARE.fullmatch(key):
        return key
    if '"' in key and "'" not in key and "\n" not in key:
        return f"'{key}'"
    return _basic_string(key)


def _basic_string(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{out}"'


def toml_value(value: Any, digits: int = 6) -> str:
    """A value as TOML text, deterministically: floats to ``digits`` significant figures
    (whole floats keep a '.0'), tables inline, keys in the order given."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        text = f"{value:.{digits}g}"
        if "e" in text or "." in text:
            return text
        return text + ".0"
    if isinstance(value, str):
        return _basic_string(value)
    if isinstance(value, (date, time)):
        return value.isoformat() if isinstance(value, date) else f'"{value:%H:%M}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, digits) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v, digits)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def ledger_toml(entries: Sequence[Entry] | Ledger) -> str:
    """The entries as ``[ledger."<field>"]`` tables, in the order given."""
    blocks = []
    for e in entries:
        lines = [f"[ledger.{toml_key(e.field)}]", f"kind = {toml_value(e.kind)}",
                 f"source = {toml_value(e.source)}"]
        if e.n is not None:
            lines.append(f"n = {e.n}")
        if e.interval is not None:
            lines.append(f"interval = {toml_value(list(e.interval))}")
        if e.range is not None:
            lines.append(f"range = {toml_value(list(e.range))}")
        if e.note:
            lines.append(f"note = {toml_value(e.note)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)

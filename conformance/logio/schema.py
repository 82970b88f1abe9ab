"""What a log reader is given and gives back: ``ColumnMap``, ``ReadOptions`` and ``EventLog``.

Also the fields of the event schema (CONTRACT §3) and the XES standard keys that may stand in
for them, which the column resolver, the mapping file and the XES reader share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import pandas as pd

from conformance.logio.limits import DEFAULT_LIMITS, Limits
from model import contract
from model.errors import Problem

if TYPE_CHECKING:
    from conformance.logio.censusfile import CensusInfo
    from conformance.logio.mapping import MappingFile

__all__ = [
    "BAD_ROWS",
    "DEFAULT_ATTRIBUTES",
    "DEFAULT_CATEGORIES",
    "SUPPORTED_SUFFIXES",
    "ColumnMap",
    "Coverage",
    "EventLog",
    "ReadOptions",
]


DEFAULT_ATTRIBUTES: Final[tuple[str, ...]] = contract.ATTRIBUTES
"""The contract's case attributes (CONTRACT §2): the true/false ones and ``offence``."""

DEFAULT_CATEGORIES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"offence": contract.OFFENCES}
)
"""The categorical case attributes and their values; the others are true/false."""


SUPPORTED_SUFFIXES: Final[tuple[str, ...]] = (
    ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".xes", ".xes.gz", ".xml",
)


# Fields of the event schema and the XES standard key that may stand in for each.
REQUIRED_FIELDS: Final = ("case_id", "activity", "timestamp")


OPTIONAL_FIELDS: Final = ("resource", "role")


FIELD_LABELS: Final = {
    "case_id": "case id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "role": "role",
}


XES_KEYS: Final = {
    "case_id": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
    "role": "org:role",
}


LIFECYCLE_KEY: Final = "lifecycle:transition"


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


DEFAULT_COLUMNS: Final = ColumnMap()


BAD_ROWS: Final = ("fail", "skip")
"""``--on-bad-rows``: stop on rows that cannot be read (default) or leave them out, listed in
the rejects file."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read a log. Every field has a default that suits the contract's schema.

    ``timestamp_format``: one strptime format, or several tried in order on each row, or
    None / ``auto`` / ``mixed``: the automatic reader (ISO 8601, and UK dates day first unless
    the whole column proves otherwise; ``conformance.logio.dates``). ``date_order``: ``auto``,
    ``day-first`` or ``month-first``. ``sheet``: an Excel sheet's name or position (1 = the
    first). ``ignore``: local activity names left out before judging (counted).
    ``value_maps``: per case attribute, local words -> True, False or None (unknown).
    ``on_bad_rows``: ``fail`` or ``skip`` (``BAD_ROWS``). ``as_of_reason``: why ``as_of`` is
    what it is (for the summary); ``mapping``: the mapping file read (its entries that match
    nothing are reported).
    """

    columns: ColumnMap = field(default_factory=ColumnMap)
    activity_map: Mapping[str, str] = field(default_factory=dict)  # local name -> canonical
    vocabulary: frozenset[str] = frozenset()  # known canonical names; empty = accept all
    attributes: tuple[str, ...] = DEFAULT_ATTRIBUTES  # case attributes to read if present
    # the categorical ones among them, with their values (the others are true/false)
    categories: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_CATEGORIES))
    timestamp_format: str | tuple[str, ...] | None = None  # strptime format(s); None: auto
    delimiter: str | None = None  # None = sniff (comma, semicolon, tab, pipe)
    encoding: str | None = None  # None = UTF-8 (BOM or not), else cp1252 with a warning
    as_of: datetime | None = None  # extraction time; naive = Europe/London; None = latest
    date_order: str = "auto"
    sheet: str | int | None = None
    ignore: tuple[str, ...] = ()
    value_maps: Mapping[str, Mapping[str, bool | None]] = field(default_factory=dict)
    on_bad_rows: str = "fail"
    as_of_reason: str = ""
    mapping: MappingFile | None = None
    limits: Limits = DEFAULT_LIMITS  # what the file may make the reader do
    # keep the start events apart and give each complete event its start (``start_utc``):
    # ``lscb calibrate`` times the work with them; the checker judges complete events only
    keep_starts: bool = False


@dataclass(frozen=True)
class Coverage:
    """How much of the file became events the rules can judge (the first block of every
    output). ``rows`` read as events; ``skipped`` rows that could not be read (``--on-bad-rows
    skip``); ``ignored`` events per local name the mapping's ignore list left out; ``mapped``
    events whose activity the procedure or the rules know (of the events kept)."""

    rows: int = 0
    skipped: int = 0
    ignored: Mapping[str, int] = field(default_factory=dict)
    events: int = 0
    mapped: int = 0


@dataclass(frozen=True)
class EventLog:
    """A validated event log in the contract's schema.

    ``events`` columns: case_id, activity (canonical after mapping), resource, role
    (pandas ``str``; a missing resource or role is NaN), time_utc
    (``datetime64[ns, UTC]``), date_only (bool) and source_row (int64: the CSV line
    with the header as line 1; for XES and Parquet the 1-based event number in file
    order); with ``ReadOptions.keep_starts``, also start_utc (each complete event's start
    event, ``conformance.logio.lifecycle``; NaT when it has none). ``cases`` has one row per
    case (index ``case_id``, first-appearance order)
    and one column per requested case attribute: nullable ``boolean``, or ``string`` for a
    categorical one such as ``offence`` (NA = unknown, absent or disagreeing).
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
    coverage: Coverage | None = None  # None: built from frames, not read from a file
    as_of_reason: str = ""  # why the as-of time is what it is, in words
    date_order: str = ""  # how the order of day and month was decided, in words
    unmatched_mapping: tuple[Problem, ...] = ()  # mapping entries that matched nothing
    rejects: pd.DataFrame | None = None  # rows left out (line, column, problem, value)
    row_word: str = "line"  # what a position in ``rejects`` counts: line (CSV, XML) or row
    census: CensusInfo | None = None  # when the log is a Children in Need census
    sheet: str = ""  # the Excel sheet read
    columns_available: tuple[str, ...] = ()  # every column (or XES key) of the file
    personal_data_reasons: Mapping[str, str] = field(default_factory=dict)  # column -> why

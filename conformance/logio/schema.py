"""What a log reader is given and gives back: ``ColumnMap``, ``ReadOptions`` and ``EventLog``.

Also the fields of the event schema (CONTRACT §3) and the XES standard keys that may stand in
for them, which the column resolver, the mapping file and the XES reader share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import pandas as pd

from model.errors import Problem

__all__ = [
    "DEFAULT_ATTRIBUTES",
    "SUPPORTED_SUFFIXES",
    "ColumnMap",
    "EventLog",
    "ReadOptions",
]


DEFAULT_ATTRIBUTES: Final[tuple[str, ...]] = (
    "concern_about_line_manager",
    "children_at_continuing_risk",
    "adult_in_contact_with_children",
    "alleged_is_child",
)


SUPPORTED_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".tsv", ".txt", ".parquet", ".xes", ".xes.gz")


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

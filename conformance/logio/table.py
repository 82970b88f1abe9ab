"""What each format reader hands over (``RawTable``), and the helpers they share: finding the
column of each field, sampling rows, and naming rows in messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.schema import (
    DEFAULT_COLUMNS,
    FIELD_LABELS,
    LIFECYCLE_KEY,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    XES_KEYS,
    ReadOptions,
)
from model.errors import Problem

_LISTED: Final = 20  # rows listed in one problem before "... (N in total)"


SAMPLE_ROWS: Final = 1000  # rows looked at for personal-data value patterns


@dataclass
class RawTable:
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


def lines_phrase(word: str, numbers: npt.NDArray[np.int64]) -> str:
    """'line 5', 'lines 5, 9' or 'lines 5, 9, ... (345 in total)'."""
    shown = ", ".join(str(int(n)) for n in numbers[:_LISTED])
    if len(numbers) == 1:
        return f"{word} {shown}"
    if len(numbers) > _LISTED:
        return f"{word}s {shown}, ... ({len(numbers):,} in total)"
    return f"{word}s {shown}"


def names_phrase(names: Sequence[str], limit: int = 60) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in total)"
    return shown or "none"


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
class ResolvedColumns:
    fields: dict[str, str]  # field -> column
    attributes: dict[str, str]  # attribute -> column
    lifecycle: str | None
    problems: list[Problem]


def resolve_columns(available: Sequence[str], options: ReadOptions, where: str) -> ResolvedColumns:
    """Find the column of each field; report missing required (or explicitly named) ones."""
    columns = options.columns
    fields: dict[str, str] = {}
    problems: list[Problem] = []
    for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS):
        given = getattr(columns, name)
        is_default = given == getattr(DEFAULT_COLUMNS, name)
        candidates = [given, XES_KEYS[name]] if is_default else [given]
        found = _find_column(available, candidates)
        if found is not None:
            fields[name] = found
        elif name in REQUIRED_FIELDS or not is_default:
            problems.append(
                Problem(
                    where,
                    f"a column for the {FIELD_LABELS[name]} named "
                    + " or ".join(repr(c) for c in candidates),
                    f"no such column; available columns: {names_phrase(available)}",
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
                    f"no such column; available columns: {names_phrase(available)}",
                )
            )
    lifecycle = _find_column(available, [LIFECYCLE_KEY])
    return ResolvedColumns(fields, attributes, lifecycle, problems)


def sample_positions(n: int) -> npt.NDArray[np.int64]:
    """Evenly spread row positions (deterministic) for value-pattern checks."""
    if n <= SAMPLE_ROWS:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, SAMPLE_ROWS).astype(np.int64))

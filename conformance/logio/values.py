"""Values of a log: timestamps (``dates``: ISO 8601, UK dates decided from the whole column, or
given formats; naive ones are Europe/London wall time), yes/no case attributes (``flags``:
built-in words and a column's own), and text with surrounding spaces removed."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from conformance.logio.dates import (
    ISO_EXPECTED,
    NEWEST_YEAR,
    OLDEST_YEAR,
    Times,
    parse_timestamps,
)
from conformance.logio.flags import FLAG_WORDS, parse_flags, quote_values
from model.calendar import LONDON

__all__ = [
    "FLAG_WORDS",
    "ISO_EXPECTED",
    "NEWEST_YEAR",
    "OLDEST_YEAR",
    "Times",
    "as_utc",
    "parse_flags",
    "parse_timestamps",
    "quote_values",
    "stripped_text",
]


def stripped_text(values: pd.Series) -> pd.Series:
    """Values as pandas text with surrounding spaces removed; missing becomes ''."""
    if values.dtype != "str":
        values = values.astype("str")
    return values.fillna("").str.strip()


def as_utc(value: pd.Timestamp | datetime | str) -> pd.Timestamp:
    """An instant as a UTC timestamp in nanoseconds; a naive one is Europe/London wall time (in
    the repeated hour the first, British Summer Time, reading; in the skipped hour moved
    forward)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("ns")

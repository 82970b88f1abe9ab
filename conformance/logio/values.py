"""Values of a log: timestamps (``dates``: ISO 8601, UK dates decided from the whole column, or
given formats; naive ones are Europe/London wall time), yes/no case attributes (``flags``:
built-in words and a column's own), and text (``text``: one dtype, ``TEXT``, under pandas 2.3
and 3) with surrounding spaces removed."""

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
from conformance.logio.flags import FLAG_WORDS, parse_category, parse_flags, quote_values
from conformance.logio.text import TEXT, as_text, stripped_text
from model.calendar import LONDON

__all__ = [
    "FLAG_WORDS",
    "ISO_EXPECTED",
    "NEWEST_YEAR",
    "OLDEST_YEAR",
    "TEXT",
    "Times",
    "as_text",
    "as_utc",
    "parse_category",
    "parse_flags",
    "parse_timestamps",
    "quote_values",
    "stripped_text",
]


def as_utc(value: pd.Timestamp | datetime | str) -> pd.Timestamp:
    """An instant as a UTC timestamp in nanoseconds; a naive one is Europe/London wall time (in
    the repeated hour the first, British Summer Time, reading; in the skipped hour moved
    forward)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("ns")

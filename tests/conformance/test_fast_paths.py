"""The fast paths of reading a log and writing its report give what the plain ways give:
pyarrow's ISO 8601 cast as pandas' ``to_datetime``, each distinct wall time localised once as
every row localised, whole-column lateness bands as the band of each row, the CSV reader's
block size and sample rows as measured and taken by pyarrow."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from conformance.logio import dates
from conformance.logio.csvfile import _block_size, _longest_line, _take_sorted
from conformance.logio.text import TEXT
from conformance.report.formatting import lateness_band, lateness_bands

# Each shape the ISO 8601 patterns let through, with the values pyarrow refuses (pandas reads
# some: a space before the offset; leaves others unread: 31 February, hour 24, second 60, an
# offset of 25 hours, years out of nanosecond range).
OFFSET = [
    "2024-05-01T09:30+01:00", "2024-05-01 09:30:00Z", "2024-05-01T09:30:00.123456789+0100",
    "2024-05-01T09:30:00+01", "2024-05-01T09:30:00 +01:00", "2024-02-31T09:30:00+01:00",
    "2024-05-01T24:00:00+01:00", "2024-05-01T23:59:60+01:00", "2024-05-01T09:30:00-23:59",
    "2024-05-01T09:30:00+25:00", "2024-05-01T09:30:00+01:60", "0001-05-01T09:30:00Z",
    "2300-05-01T09:30:00Z", "2024-05-01T09:30:00.5Z",
]
NAIVE = [
    "2024-05-01T09:30", "2024-05-01 09:30:00.1", "2024-03-31T01:30", "2024-10-27T01:30",
    "2262-04-11T23:47:16.854775807", "2262-04-12T00:00", "1677-09-21T00:12:43.145224193",
    "2024-02-30T10:00",
]
DATES = ["2024-02-29", "2023-02-29", "1900-01-01", "2199-12-31", "2024-13-01"]


@pytest.mark.parametrize(("values", "fmt", "utc"), [
    (OFFSET, "ISO8601", True), (NAIVE, "ISO8601", False), (DATES, "%Y-%m-%d", False)])
def test_iso_times_are_pandas_times_one_by_one_and_together(values: list[str], fmt: str,
                                                             utc: bool) -> None:
    for part in [*([v] for v in values), values]:
        text = pd.Series(part, dtype=TEXT)
        got = dates._iso_times(text, fmt, utc=utc)
        want = pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
        pd.testing.assert_series_equal(got, want)


def test_localising_each_distinct_wall_time_once_counts_every_row() -> None:
    walls = ["2024-03-31T01:30", "2024-10-27T01:30", "2024-10-27T01:30", "2024-03-31T01:15",
             "2024-03-31T01:30", "2024-06-01T12:00", "", "2024-06-01T12:00"]
    times = dates.parse_timestamps(pd.Series(walls, dtype=TEXT))
    assert (times.ambiguous, times.nonexistent) == (2, 3)  # rows, not distinct values
    naive = pd.to_datetime(pd.Series(walls), errors="coerce")
    by_row = naive.dt.tz_localize(dates.LONDON, ambiguous=np.ones(len(naive), dtype=bool),
                                  nonexistent="shift_forward").dt.tz_convert("UTC")
    valid = times.valid
    assert valid.tolist() == [True] * 6 + [False, True]
    assert times.ns[valid].tolist() == by_row[valid].array.asi8.tolist()


def test_lateness_bands_are_the_band_of_each_row() -> None:
    rng = random.Random(3)
    hours = [None, np.nan, pd.NA, 0.0, 0.5, 0.999, 1.0, 3.2, 30.0]
    days = [None, np.nan, pd.NA, 0, 0.5, 1, 1.0, 2, 5, 5.5, 6, 15, 16]
    only = [True, False, np.nan, 0, 1, None]
    for _ in range(500):
        n = rng.randint(0, 6)
        h = [rng.choice(hours) for _ in range(n)]
        d = [rng.choice(days) for _ in range(n)]
        o = [rng.choice(only) for _ in range(n)]
        want = [lateness_band(a, b, bool(c)) for a, b, c in zip(h, d, o, strict=True)]
        assert lateness_bands(h, d, o) == want
        assert lateness_bands(pd.Series(h, dtype=object), pd.Series(d, dtype=object), o) == want


def test_the_csv_block_size_is_as_if_every_line_were_measured() -> None:
    rng = random.Random(1)
    lengths = [0, 1, 5, (1 << 21) - 1, 1 << 21, (1 << 21) + 1, (1 << 22) - 1, 1 << 22,
               (1 << 22) + 1, 9_000_000]
    for _ in range(60):
        lines = [b"x" * rng.choice(lengths) for _ in range(rng.randint(0, 4))]
        data = b"\n".join(lines) + rng.choice([b"", b"\n"])
        assert _block_size(data) == max(1 << 24, 2 * _longest_line(data) + 1024)


def test_sample_rows_taken_chunk_by_chunk_are_pyarrows() -> None:
    rng = np.random.default_rng(0)
    for trial in range(100):
        chunks = [pa.array([f"v{trial}.{i}.{j}" for j in range(int(rng.integers(0, 5)))],
                           pa.string()) for i in range(int(rng.integers(0, 6)))]
        column = pa.chunked_array(chunks, type=pa.string())
        n = len(column)
        positions = (np.unique(rng.integers(0, n, size=int(rng.integers(0, n + 1))))
                     if n else np.zeros(0, dtype=np.int64)).astype(np.int64)
        assert (_take_sorted(column, positions).to_pylist()
                == column.take(pa.array(positions, pa.int64())).to_pylist())

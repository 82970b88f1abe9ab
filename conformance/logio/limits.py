"""Limits on what a log can make the reader do, so that a small file cannot cost gigabytes.

Each limit has a default that suits real extracts (the largest public process-mining logs have
about a million events; a council's log for this procedure has thousands) and a command-line
option to raise it. Every refusal is an ``InputError`` (exit status 2) that names the file, the
limit, what was found and the option that raises it. The limits are checked before the
expensive step they guard: a CSV header's columns before the file is parsed, a Parquet file's
rows and column sizes from its metadata before any column is read, an Excel workbook's size
(unpacked, for ``.xlsx``) before it is opened and its rows and columns while the sheet is read,
an XES file's or a CIN census's size, values and events while it is streamed.

=======================  =========================  ==========================================
limit                    option                     what it bounds
=======================  =========================  ==========================================
events (rows)            ``--max-events``           rows of a CSV or Parquet file or an Excel
                                                    sheet, events of XES or a CIN census
columns                  ``--max-columns``          columns of a header, a Parquet schema or
                                                    any row of an Excel sheet; XES keys (not
                                                    a census: its elements are fixed)
bytes of one field       ``--max-field-bytes``      one CSV field, Excel cell, Parquet value,
                                                    XES or census value
bytes of content         ``--max-input-bytes``      a CSV file; an Excel file and an .xlsx's
                                                    parts unpacked; the XML of an XES file
                                                    after gunzipping, or of a census; the
                                                    Parquet columns read
=======================  =========================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from model.errors import InputError, Problem

__all__ = [
    "DEFAULT_LIMITS",
    "MIB",
    "LimitExceeded",
    "Limits",
    "StreamGuard",
    "limit_problem",
]

MIB: Final = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one log may hold; see the module's table."""

    max_events: int = 5_000_000
    max_columns: int = 1_000
    max_field_bytes: int = 1_000_000
    max_input_bytes: int = 1 << 30

    def __post_init__(self) -> None:
        for name in ("max_events", "max_columns", "max_field_bytes", "max_input_bytes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} is at least 1")


DEFAULT_LIMITS: Final = Limits()

_OPTIONS: Final = {
    "max_events": ("--max-events", "events"),
    "max_columns": ("--max-columns", "columns"),
    "max_field_bytes": ("--max-field-bytes", "bytes in one field"),
    "max_input_bytes": ("--max-input-bytes", "bytes of content"),
}


def limit_problem(where: str, limits: Limits, limit: str, found: str) -> Problem:
    """The problem of an input past ``limit`` (a field name of :class:`Limits`)."""
    option, unit = _OPTIONS[limit]
    value = int(getattr(limits, limit))
    return Problem(where, f"at most {value:,} {unit} (the limit; {option} raises it)", found,
                   topic="limit")


class LimitExceeded(Exception):
    """Raised from inside a streaming parser when an input passes a limit."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class StreamGuard:
    """Watches the bytes of a stream (an XML file, gunzipped) as they are fed to a parser.

    Stops the stream when its content passes ``max_input_bytes``, and when a stretch of more
    than ``max_field_bytes`` (plus room for the rest of one element) has no ``<``: no element
    starts there, so one attribute value or text is that long. The parser would otherwise hold
    the whole value in memory before any handler could look at it.
    """

    _SLACK: Final = 64 * 1024

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self.total = 0
        self._since_tag = 0  # bytes since the last '<'

    def check(self, chunk: bytes) -> None:
        """Account for ``chunk``; ``LimitExceeded`` when a limit is passed."""
        self.total += len(chunk)
        if self.total > self.limits.max_input_bytes:
            raise LimitExceeded(limit_problem(
                self.name, self.limits, "max_input_bytes",
                f"more than that (the content, uncompressed, is larger than "
                f"{self.limits.max_input_bytes:,} bytes)"))
        longest = self.limits.max_field_bytes + self._SLACK
        starts = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("<"))
        if len(starts) == 0:
            self._since_tag += len(chunk)
            gap = self._since_tag
        else:
            gaps = np.diff(starts) if len(starts) > 1 else np.zeros(0, dtype=np.int64)
            gap = max(self._since_tag + int(starts[0]),
                      int(gaps.max()) if len(gaps) else 0)
            self._since_tag = len(chunk) - int(starts[-1])
            gap = max(gap, self._since_tag)
        if gap > longest:
            raise LimitExceeded(limit_problem(
                self.name, self.limits, "max_field_bytes",
                f"a value (or text between elements) of more than {longest:,} bytes"))


def raise_limit(source: str, exceeded: LimitExceeded) -> InputError:
    """The ``InputError`` for a limit passed while streaming ``source``."""
    return InputError(source, [exceeded.problem])


def arrow_lengths(array: Any) -> Any:
    """The byte length of every value of an Arrow string array (chunked or dictionary-encoded
    arrays included), as an Arrow array; for a dictionary, the lengths of its values taken by
    index, without decoding the strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([arrow_lengths(c) for c in array.chunks], type=pa.int64())
    if pa.types.is_dictionary(array.type):
        sizes = pc.binary_length(array.dictionary).cast(pa.int64())
        return sizes.take(array.indices)
    return pc.binary_length(array).cast(pa.int64())

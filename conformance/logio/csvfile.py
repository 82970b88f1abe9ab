"""CSV (and TSV) logs: the encoding (UTF-8, else Windows-1252 with a warning; UTF-16 and binary
files refused), the delimiter (sniffed from the header), the header and the line numbers that
messages name (a quoted field spanning lines pushes later rows down). Parsed with pyarrow."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.limits import limit_problem
from conformance.logio.schema import ReadOptions
from conformance.logio.table import RawTable, lines_phrase, resolve_columns, sample_positions
from conformance.logio.values import TEXT, as_text
from model.errors import InputError, Problem

_DELIMITERS: Final = (",", ";", "\t", "|")


def read_csv(path: Path, source: str, options: ReadOptions) -> RawTable:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    name = path.name
    limits = options.limits
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > limits.max_input_bytes:
        raise InputError(source, [limit_problem(
            name, limits, "max_input_bytes", f"a file of {size:,} bytes")])
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
    fields_in_header = first_line.count(delimiter) + 1
    if fields_in_header > limits.max_columns:
        raise InputError(source, [limit_problem(
            header_where, limits, "max_columns", f"{fields_in_header:,} columns")])
    lines_in_file = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines_in_file - 1 > limits.max_events:
        raise InputError(source, [limit_problem(
            name, limits, "max_events",
            f"{lines_in_file - 1:,} lines after the header (one event each, or part of one)")])
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
    resolved = resolve_columns(header, options, header_where)
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
    block_size = _block_size(data)
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
                block_size=block_size,
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
    rejected: list[tuple[int, str, str]] = []
    skipped_lines = np.zeros(0, dtype=np.int64)
    if invalid and options.on_bad_rows == "skip" and not any(q for _, q in invalid):
        # Lines with the wrong number of fields are left out and listed in the rejects file.
        skipped_lines = np.sort(np.array([number for number, _ in invalid], dtype=np.int64))
        problem = (f"a different number of fields than the header's {len(header)} "
                   f"(separated by {delimiter!r})")
        rejected = [(int(line), "", problem) for line in skipped_lines]
        invalid.clear()
    if invalid:
        numbers = np.array([number for number, _ in invalid], dtype=np.int64)
        quoted = np.array([unclosed for _, unclosed in invalid], dtype=bool)
        if (~quoted).any():
            problems.append(
                Problem(
                    f"{name}, {lines_phrase('line', numbers[~quoted])}",
                    f"{len(header)} fields separated by {delimiter!r}, as in the header",
                    "a different number of fields",
                )
            )
        if quoted.any():
            problems.append(
                Problem(
                    f"{name}, {lines_phrase('line', numbers[quoted])}",
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
    if len(skipped_lines):
        # Each left-out line pushes the later rows down by one: the smallest fixed point of
        # line = base + (left-out lines at or before it).
        base = lines
        while True:
            moved = base + np.searchsorted(skipped_lines, lines, side="right")
            if np.array_equal(moved, lines):
                break
            lines = moved
    blank = np.ones(n, dtype=bool)
    for index, column in enumerate(table.columns):
        lengths = _arrow_ints(pc.binary_length(column))
        blank &= lengths == 0
        over = np.flatnonzero(lengths > limits.max_field_bytes)
        if len(over):
            problems.append(limit_problem(
                f"{name}, {lines_phrase('line', lines[over])}, column {header[index]!r}",
                limits, "max_field_bytes", f"a field of {int(lengths[over].max()):,} bytes"))
    keep = np.flatnonzero(~blank)  # blank lines are not events
    if len(keep) == 0:
        raise InputError(
            source,
            [*problems, Problem(name, "at least one data line after the header", "no data lines")],
        )
    if len(keep) < n:
        table = table.take(pa.array(keep))
        lines = lines[keep]

    def text_column(column: Any) -> pd.Series:
        # Straight into pandas' Arrow-backed text (TEXT), without a Python string per value.
        return as_text(column.to_pandas(types_mapper={pa.string(): TEXT}.get))

    def column_of(column_name: str) -> pd.Series:
        return text_column(table.column(header.index(column_name)))

    positions = sample_positions(table.num_rows)
    sample = {
        header[i]: text_column(_take_sorted(table.column(i), positions))
        for i in range(len(header))
        if header[i]
    }
    return RawTable(
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
        rejected=rejected,
    )


def _take_sorted(column: Any, positions: npt.NDArray[np.int64]) -> Any:
    """The values at ``positions`` (ascending) of a chunked column, chunk by chunk (pyarrow's
    own take joins all the chunks into one array first)."""
    import pyarrow as pa

    pieces = []
    start = 0
    for chunk in column.chunks:
        end = start + len(chunk)
        low, high = np.searchsorted(positions, [start, end])
        if high > low:
            pieces.append(chunk.take(pa.array(positions[low:high] - start)))
        start = end
    return pa.chunked_array(pieces, type=column.type)


def _arrow_ints(array: Any) -> npt.NDArray[np.int64]:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


_BLOCK: Final = 1 << 24  # pyarrow's block size for a CSV (16 MiB), unless a line is too long


def _block_size(data: bytes) -> int:
    """pyarrow's block size: 16 MiB, or more than twice the longest line when that is more.
    A line longer than twice ``window`` bytes holds a whole aligned window without a line
    break; when every window has one, no line is near 8 MiB and the lines are not measured."""
    window = 1 << 21
    if all(data.find(b"\n", start, start + window) >= 0
           for start in range(0, len(data) - window + 1, window)):
        return _BLOCK
    return max(_BLOCK, 2 * _longest_line(data) + 1024)


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

"""Parquet logs: typed timestamps and booleans are kept; text and whole numbers are read as
text; other column types are refused, naming the column.

Only the columns the log needs are read (by projection), after the file's metadata has been
checked against the limits (``conformance.logio.limits``): its rows, its columns and the
uncompressed size of the columns to be read. Text columns are read dictionary-encoded, so that
the size of every value, and of the column once decoded, is known before any string is built: a
small file of millions of repeated values cannot expand into gigabytes unchecked. The other
columns are looked at only for personal data, through a sample of at most 1,000 values cut to
4,096 characters each, and only when their uncompressed size is modest; a larger one is judged
by its name alone, and a warning says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from conformance.logio.limits import MIB, Limits, arrow_lengths, limit_problem
from conformance.logio.schema import ReadOptions
from conformance.logio.table import RawTable, resolve_columns, sample_positions
from conformance.logio.values import as_text
from model.errors import InputError, Problem

_SAMPLE_CHARACTERS: Final = 4096  # of one value, for the personal-data patterns
_SAMPLE_COLUMN_BYTES: Final = 64 * MIB  # an unused column larger than this is not sampled


def _column_sizes(metadata: Any, names: Sequence[str]) -> dict[str, int]:
    """Each top-level column's uncompressed size in bytes, summed over the row groups."""
    sizes = dict.fromkeys(names, 0)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for leaf in range(row_group.num_columns):
            chunk = row_group.column(leaf)
            top = str(chunk.path_in_schema).split(".", 1)[0]
            if top in sizes:
                sizes[top] += int(chunk.total_uncompressed_size)
    return sizes


def read_parquet(path: Path, source: str, options: ReadOptions) -> RawTable:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    name = path.name
    limits: Limits = options.limits
    try:
        schema = pq.read_schema(path)
        texts = [f.name for f in schema if pa.types.is_string(f.type)
                 or pa.types.is_large_string(f.type)]
        parquet = pq.ParquetFile(path, read_dictionary=texts)
        metadata = parquet.metadata
    except (pa.ArrowException, OSError):
        raise InputError(
            source, [Problem(name, "a Parquet file", "a file that cannot be read as Parquet")]
        ) from None
    available = [str(c) for c in schema.names]
    if len(available) > limits.max_columns:
        raise InputError(source, [limit_problem(
            f"{name} (columns)", limits, "max_columns", f"{len(available):,} columns")])
    n = int(metadata.num_rows)
    if n > limits.max_events:
        raise InputError(source, [limit_problem(name, limits, "max_events", f"{n:,} rows")])
    resolved = resolve_columns(available, options, f"{name} (columns)")
    problems = list(resolved.problems)
    if n == 0:
        raise InputError(source, [*problems, Problem(name, "at least one row", "no rows")])
    needed = list(dict.fromkeys([
        *resolved.fields.values(), *resolved.attributes.values(),
        *([resolved.lifecycle] if resolved.lifecycle else []),
    ]))
    sizes = _column_sizes(metadata, available)
    to_read = sum(sizes[c] for c in needed)
    if to_read > limits.max_input_bytes:
        raise InputError(source, [limit_problem(
            name, limits, "max_input_bytes",
            f"columns to read of {to_read:,} bytes uncompressed")])
    try:
        table = parquet.read(columns=needed)
    except (pa.ArrowException, OSError):
        raise InputError(
            source, [Problem(name, "a Parquet file", "a file that cannot be read as Parquet")]
        ) from None

    decoded = 0
    for column in needed:
        array = table.column(column)
        kind = array.type
        if not (pa.types.is_dictionary(kind) or pa.types.is_string(kind)
                or pa.types.is_large_string(kind)):
            continue
        lengths = arrow_lengths(array)
        longest = pc.max(lengths).as_py() or 0
        if longest > limits.max_field_bytes:
            over = np.flatnonzero(np.asarray(lengths.to_numpy(zero_copy_only=False))
                                  > limits.max_field_bytes)
            listed = ", ".join(str(int(r) + 1) for r in over[:20])
            more = f", ... ({len(over):,} in total)" if len(over) > 20 else ""
            problems.append(limit_problem(
                f"{name}, row{'s' if len(over) > 1 else ''} {listed}{more}, column {column!r}",
                limits, "max_field_bytes", f"a value of {int(longest):,} bytes"))
        decoded += int(pc.sum(lengths).as_py() or 0)
    if decoded > limits.max_input_bytes:
        problems.append(limit_problem(
            name, limits, "max_input_bytes",
            f"text columns of {decoded:,} bytes once decoded (repeated values stored once)"))
    if any(p.topic == "limit" for p in problems):
        raise InputError(source, problems)

    def column_of(column: str, *, typed: bool) -> pd.Series:
        array = table.column(column)
        kind = array.type
        if pa.types.is_dictionary(kind):
            array = array.cast(kind.value_type)
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
            return as_text([""] * table.num_rows)
        return as_text(array.cast(pa.string()).to_pandas())

    rows = np.arange(1, n + 1, dtype=np.int64)
    data = {f: column_of(c, typed=f == "timestamp") for f, c in resolved.fields.items()}
    if resolved.lifecycle:
        data["lifecycle"] = column_of(resolved.lifecycle, typed=False)
    attributes = {a: column_of(c, typed=True) for a, c in resolved.attributes.items()}

    positions = pa.array(sample_positions(n))
    sample: dict[str, pd.Series] = {}
    too_large: list[str] = []
    for column in available:
        field = schema.field(column)
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
                or pa.types.is_integer(field.type)):
            continue
        if column not in needed and sizes[column] > _SAMPLE_COLUMN_BYTES:
            too_large.append(column)
            continue
        array = (table.column(column) if column in needed
                 else parquet.read(columns=[column]).column(column))
        if pa.types.is_dictionary(array.type):  # cut the distinct values, then pick the rows
            array = pa.chunked_array([
                pa.DictionaryArray.from_arrays(
                    chunk.indices, pc.utf8_slice_codeunits(chunk.dictionary, 0,
                                                           _SAMPLE_CHARACTERS))
                for chunk in array.chunks
            ]).take(positions).cast(pa.string())
        else:
            array = array.take(positions).cast(pa.string())
            array = pc.utf8_slice_codeunits(array, 0, _SAMPLE_CHARACTERS)
        sample[column] = as_text(array.to_pandas())
    warnings: list[Problem] = []
    if too_large:
        shown = ", ".join(repr(c) for c in too_large[:20])
        warnings.append(Problem(
            f"{name}, column{'s' if len(too_large) > 1 else ''} {shown}",
            "columns small enough to look at for personal data by their values",
            f"column{'s' if len(too_large) > 1 else ''} of more than "
            f"{_SAMPLE_COLUMN_BYTES // MIB} MiB that the log does not use: not read, and judged "
            "by name only", topic="personal-data-unsampled"))
    return RawTable(
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
        warnings=warnings,
        row_word="row",
    )

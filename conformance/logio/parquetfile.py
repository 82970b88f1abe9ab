"""Parquet logs: typed timestamps and booleans are kept; text and whole numbers are read as
text; other column types are refused, naming the column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from conformance.logio.schema import ReadOptions
from conformance.logio.table import RawTable, resolve_columns, sample_positions
from conformance.logio.values import as_text
from model.errors import InputError, Problem


def read_parquet(path: Path, source: str, options: ReadOptions) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = path.name
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        raise InputError(
            source, [Problem(name, "a Parquet file", "a file that cannot be read as Parquet")]
        ) from None
    available = [str(c) for c in table.column_names]
    resolved = resolve_columns(available, options, f"{name} (columns)")
    problems = list(resolved.problems)
    if table.num_rows == 0:
        raise InputError(source, [*problems, Problem(name, "at least one row", "no rows")])

    def column_of(column: str, *, typed: bool) -> pd.Series:
        array = table.column(column)
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

    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    data = {f: column_of(c, typed=f == "timestamp") for f, c in resolved.fields.items()}
    if resolved.lifecycle:
        data["lifecycle"] = column_of(resolved.lifecycle, typed=False)
    attributes = {a: column_of(c, typed=True) for a, c in resolved.attributes.items()}
    positions = sample_positions(table.num_rows)
    sampled = table.take(pa.array(positions))
    sample: dict[str, pd.Series] = {}
    for column in available:
        kind = sampled.column(column).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind):
            sample[column] = as_text(sampled.column(column).cast(pa.string()).to_pandas())
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
        warnings=[],
        row_word="row",
    )

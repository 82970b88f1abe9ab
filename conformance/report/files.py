"""The files of ``lscb check --out``: deviations.csv and cases.csv (safe to open in a
spreadsheet), summary.json and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import pandas as pd

from conformance.report.formatting import iso_texts
from conformance.report.htmlpage import to_html
from conformance.report.jsonout import to_json_text

if TYPE_CHECKING:
    from conformance.report.result import CheckReport


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell that a spreadsheet would run as a formula (it begins
    with =, +, -, @, a tab or a carriage return) starts with a single quote. Numbers in numeric
    columns are left alone."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype(object)
            risky = text.str.startswith(_FORMULA_START, na=False).astype(bool)
            if risky.any():
                text = text.where(~risky, "'" + text.where(risky, ""))
            out[column] = text
    return out


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
                values.dtype):
            out[column] = pd.Series(iso_texts(values), index=values.index, dtype=object)
        elif pd.api.types.is_float_dtype(values.dtype):
            out[column] = values.round(4)
        elif pd.api.types.is_bool_dtype(values.dtype):
            out[column] = values.map(
                lambda v: "" if v is pd.NA or v is None else ("true" if v else "false")
            ).astype(object)
    return neutralise_csv_cells(out)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    _csv_ready(frame).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_outputs(out_dir: Path | str, report: CheckReport) -> tuple[Path, ...]:
    """Write deviations.csv, cases.csv, summary.json (the same object as ``--format json``)
    and report.html into ``out_dir`` (created if needed); return their paths."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = (directory / "deviations.csv", directory / "cases.csv",
             directory / "summary.json", directory / "report.html")
    write_csv(report.deviations, paths[0])
    write_csv(report.cases_table, paths[1])
    paths[2].write_text(to_json_text(report), encoding="utf-8")
    paths[3].write_text(to_html(report), encoding="utf-8")
    return paths

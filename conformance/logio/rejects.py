"""Rows that cannot be read, under ``--on-bad-rows skip``: which rows to leave out, and the
rejects file that lists every one of them with its line and reason.

The default is strict (every problem listed, exit status 2). With ``skip``, row-level
problems (an empty case id or activity, a timestamp or flag that cannot be read, a date that
contradicts its column's order, a line with the wrong number of fields) leave their row out
instead; file-level problems (a missing column, an unreadable file) still stop the check.
Nothing is dropped silently: ``rejects.csv`` holds one line per problem of a skipped row
(``line``, ``column``, ``problem``, ``value``; the value is left blank for a column that looks
like personal data), and every summary gives the count.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.text import as_text

__all__ = [
    "BAD_ROW_CHOICES",
    "REJECTS_FILE",
    "REJECT_COLUMNS",
    "Rejects",
    "RowProblem",
    "collect_rejects",
    "write_rejects",
    "write_rejects_frame",
]

BAD_ROW_CHOICES: Final = ("fail", "skip")
REJECTS_FILE: Final = "rejects.csv"
REJECT_COLUMNS: Final = ("line", "column", "problem", "value")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowProblem:
    """Rows (``mask`` over the table) with one kind of problem in one column."""

    mask: npt.NDArray[np.bool_]
    column: str
    problem: str  # plain words: "a timestamp that cannot be read (expected ...)"
    values: pd.Series | None = None  # the rows' texts, when they may be shown
    personal: bool = False


@dataclass(frozen=True)
class Rejects:
    """The rows left out (``skipped``, a mask over the table) and the rejects file's rows."""

    skipped: npt.NDArray[np.bool_]
    rows: pd.DataFrame  # REJECT_COLUMNS, by line then column

    @property
    def count(self) -> int:
        return int(self.skipped.sum())


def collect_rejects(problems: Sequence[RowProblem], positions: npt.NDArray[np.int64],
                    extra: Sequence[tuple[int, str, str]] = ()) -> Rejects:
    """Combine row problems into the rows to leave out and the rejects file's lines.

    ``positions``: the line (or row) number of each table row; ``extra``: (line, column,
    problem) of rows already left out before the table was built (lines with the wrong number
    of fields)."""
    n = len(positions)
    skipped = np.zeros(n, dtype=bool)
    lines: list[int] = [line for line, _, _ in extra]
    columns: list[str] = [column for _, column, _ in extra]
    reasons: list[str] = [problem for _, _, problem in extra]
    values: list[str] = ["" for _ in extra]
    for problem in problems:
        rows = np.flatnonzero(problem.mask)
        if not len(rows):
            continue
        skipped[rows] = True
        lines.extend(int(p) for p in positions[rows])
        columns.extend([problem.column] * len(rows))
        reasons.extend([problem.problem] * len(rows))
        if problem.values is not None and not problem.personal:
            shown = as_text(problem.values.iloc[rows]).fillna("")
            values.extend(str(v) for v in shown)
        else:
            values.extend([""] * len(rows))
    frame = pd.DataFrame({"line": np.asarray(lines, dtype=np.int64),
                          "column": as_text(columns),
                          "problem": as_text(reasons),
                          "value": as_text(values)})
    frame = frame.sort_values(["line", "column"], kind="stable").reset_index(drop=True)
    return Rejects(skipped, frame)


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_rejects(path: Path, rejects: Rejects, row_word: str = "line") -> Path:
    """Write the rejects file (UTF-8, one line per problem; cells that a spreadsheet would run
    as formulas start with ')."""
    return write_rejects_frame(path, rejects.rows, row_word)


def write_rejects_frame(path: Path, rows: pd.DataFrame | None, row_word: str = "line") -> Path:
    """Write ``rows`` (REJECT_COLUMNS; None: none) as the rejects file."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow([row_word, "column", "problem", "value"])
        if rows is not None:
            for line, column, problem, value in rows.itertuples(index=False):
                writer.writerow([int(line), _cell(str(column)), _cell(str(problem)),
                                 _cell(str(value))])
    return path

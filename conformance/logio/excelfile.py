"""Read one sheet of an Excel workbook (``.xlsx``, ``.xlsm``; ``.xls``) as columns of text.

``.xlsx`` and ``.xlsm`` are read with openpyxl (read-only), which gives each cell's number
format; ``.xls`` (the old binary format, which openpyxl does not read) with python-calamine.
Both are well-kept readers; neither runs macros or formulas (a formula cell gives the value
Excel saved with it).

What becomes of a cell:

* a cell typed as a date in Excel becomes ISO 8601 text: ``2024-12-09`` when its number
  format shows no time and the value has none (a date-only event), else
  ``2024-12-09T14:05:00`` (a date-time, even at midnight when the format shows the time). The
  ``.xls`` reader sees no formats: a date at midnight there is a date;
* text stays text, with surrounding spaces removed (``09/12/2024`` typed as text is read by
  the timestamp reader, day first);
* whole numbers lose Excel's ``.0`` (``1001``), other numbers keep their digits, TRUE/FALSE
  become ``true``/``false``, an empty cell is empty.

The first row that is not empty is the header; rows after it that are entirely empty are
skipped (as blank lines in a CSV are). Row numbers are Excel's own (the header's row is
usually 1), so a message's "row 7" is the row a user sees in Excel.

The limits on a log (``conformance.logio.limits``) hold as for a CSV, each checked before the
work it guards: the file's size and, for ``.xlsx``/``.xlsm`` (zip archives), the size of its
parts once unpacked (``--max-input-bytes``; a small workbook can unpack to gigabytes), before
the workbook is opened; the header's columns and any row's cells (``--max-columns``) and the data
rows (``--max-events``) while the sheet is read, which stops at the first row past a limit; the
text of every cell (``--max-field-bytes``, all such cells listed).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from conformance.logio.limits import DEFAULT_LIMITS, Limits, limit_problem
from conformance.logio.schema import ReadOptions
from conformance.logio.table import RawTable, lines_phrase, resolve_columns, sample_positions
from conformance.logio.text import as_text
from model.errors import InputError, Problem

__all__ = ["EXCEL_SUFFIXES", "Sheet", "is_excel", "read_excel", "read_sheet", "sheet_choice"]

EXCEL_SUFFIXES: Final = (".xlsx", ".xlsm", ".xls")
_OPENPYXL_SUFFIXES: Final = (".xlsx", ".xlsm")
_QUOTED_OR_BRACKETED: Final = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


@dataclass(frozen=True)
class Sheet:
    """The sheet read: its name, the header, each column as text, and Excel row numbers."""

    name: str
    sheet_names: tuple[str, ...]
    header: tuple[str, ...]
    header_row: int
    columns: tuple[list[str], ...]  # one list of cell texts per header column
    rows: npt.NDArray[np.int64]  # the Excel row number of each data row


def is_excel(path: Path) -> bool:
    return path.name.lower().endswith(EXCEL_SUFFIXES)


def sheet_choice(value: str | int | None) -> str | int | None:
    """``--sheet`` as given: a whole number is a position (1 = the first sheet), else a name."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if text.isdigit() else text


def read_sheet(path: Path, sheet: str | int | None = None,
               limits: Limits = DEFAULT_LIMITS) -> Sheet:
    """Read ``sheet`` (a name, a position counted from 1, or None: the first sheet) of the
    workbook at ``path`` within ``limits``; ``InputError`` names the file and what was wrong."""
    source = str(path)
    name = path.name
    lower = name.lower()
    try:
        _check_size(path, source, limits)
        if lower.endswith(_OPENPYXL_SUFFIXES):
            names, rows = _open_xlsx(path, sheet, source)
        else:
            names, rows = _open_xls(path, sheet, source)
        return _sheet(source, name, names, rows, limits)
    except InputError:
        raise
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError) as err:
        found = (
            "a file that cannot be read" if isinstance(err, OSError)
            else "a damaged workbook, or another kind of file with an Excel name "
                 "(a password-protected workbook cannot be read: save an unprotected copy)"
        )
        raise InputError(source, [Problem(name, "an Excel workbook (.xlsx, .xlsm or .xls)",
                                          found)]) from None
    except Exception as err:  # the readers raise their own exception types for damaged files
        if type(err).__module__.split(".")[0] in ("openpyxl", "python_calamine", "zipfile"):
            raise InputError(source, [Problem(
                name, "an Excel workbook (.xlsx, .xlsm or .xls)",
                "a damaged workbook, or another kind of file with an Excel name")]) from None
        raise


def _check_size(path: Path, source: str, limits: Limits) -> None:
    """The file, and an .xlsx's parts once unpacked, within ``--max-input-bytes``."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > limits.max_input_bytes:
        raise InputError(source, [limit_problem(path.name, limits, "max_input_bytes",
                                                f"a file of {size:,} bytes")])
    if path.name.lower().endswith(_OPENPYXL_SUFFIXES) and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > limits.max_input_bytes:
            raise InputError(source, [limit_problem(
                path.name, limits, "max_input_bytes",
                f"a workbook of {size:,} bytes whose parts unpack to {unpacked:,} bytes")])


def _pick(names: Sequence[str], sheet: str | int | None, source: str, name: str) -> int:
    """The index of the chosen sheet, or InputError listing the sheets there are."""
    listed = ", ".join(repr(n) for n in names)
    if not names:
        raise InputError(source, [Problem(name, "a workbook with at least one sheet",
                                          "no sheets")])
    if sheet is None:
        return 0
    if isinstance(sheet, str):
        if sheet in names:
            return names.index(sheet)
        folded = [n.casefold() for n in names]
        if sheet.casefold() in folded:
            return folded.index(sheet.casefold())
        raise InputError(source, [Problem(f"{name}, option sheet", f"one of the sheets {listed}",
                                          f"no sheet named {sheet!r}")])
    if 1 <= sheet <= len(names):
        return sheet - 1
    raise InputError(source, [Problem(
        f"{name}, option sheet",
        f"a sheet name or a position from 1 to {len(names)} (the sheets: {listed})",
        f"the position {sheet}")])


def _open_xlsx(path: Path, sheet: str | int | None, source: str
               ) -> tuple[list[str], Iterable[tuple[int, list[str]]]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    names = list(workbook.sheetnames)
    chosen = workbook[names[_pick(names, sheet, source, path.name)]]

    def rows() -> Iterable[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(chosen.iter_rows(), start=1):
                texts = [_cell_text(c.value, getattr(c, "number_format", None)) for c in row]
                yield number, texts
        finally:
            workbook.close()

    return [names[_pick(names, sheet, source, path.name)], *names], rows()


def _open_xls(path: Path, sheet: str | int | None, source: str
              ) -> tuple[list[str], Iterable[tuple[int, list[str]]]]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    names = list(workbook.sheet_names)
    index = _pick(names, sheet, source, path.name)
    chosen = workbook.get_sheet_by_index(index)
    first_row = int(chosen.start[0]) + 1 if chosen.start is not None else 1
    values = chosen.to_python(skip_empty_area=False)
    return [names[index], *names], (
        (first_row + i, [_cell_text(v, None) for v in row]) for i, row in enumerate(values)
    )


def _sheet(source: str, name: str, names: list[str],
           rows: Iterable[tuple[int, list[str]]], limits: Limits = DEFAULT_LIMITS) -> Sheet:
    chosen, all_names = names[0], tuple(names[1:])
    where = f"{name}, sheet {chosen!r}"
    header: list[str] | None = None
    header_row = 0
    columns: list[list[str]] = []
    numbers: list[int] = []
    width = 0
    wide_rows: list[int] = []
    long_cells: dict[int, list[int]] = {}  # column -> rows with a cell over the limit
    longest: dict[int, int] = {}  # column -> its longest such cell, in bytes
    # A cell's UTF-8 bytes are at most four per character: only long texts are measured.
    shortest_suspect = limits.max_field_bytes // 4
    for number, texts in rows:
        if len(texts) > limits.max_columns and any(texts[limits.max_columns:]):
            raise InputError(source, [limit_problem(
                f"{where}, row {number}", limits, "max_columns",
                f"values in {len(texts):,} columns")])
        for index, text in enumerate(texts):
            if len(text) > shortest_suspect:
                size = len(text.encode("utf-8"))
                if size > limits.max_field_bytes:
                    long_cells.setdefault(index, []).append(number)
                    longest[index] = max(longest.get(index, 0), size)
        if header is None:
            if any(texts):
                while texts and not texts[-1]:
                    texts.pop()
                header, header_row, width = texts, number, len(texts)
                columns = [[] for _ in texts]
            continue
        if not any(texts):
            continue
        if len(numbers) >= limits.max_events:
            raise InputError(source, [limit_problem(
                where, limits, "max_events",
                f"more data rows (the {limits.max_events + 1:,}th is row {number})")])
        if len(texts) > width and any(texts[width:]):
            wide_rows.append(number)
        for index in range(width):
            columns[index].append(texts[index] if index < len(texts) else "")
        numbers.append(number)
    if long_cells:
        raise InputError(source, [
            limit_problem(f"{where}, {lines_phrase('row', np.asarray(found, dtype=np.int64))}, "
                          f"column {_column_letter(index + 1)}", limits, "max_field_bytes",
                          f"a cell of {longest[index]:,} bytes")
            for index, found in sorted(long_cells.items())])
    where = f"{name}, sheet {chosen!r}"
    if header is None:
        raise InputError(source, [Problem(where, "a header row naming the columns, then one "
                                                 "row per event", "an empty sheet")])
    problems = []
    if wide_rows:
        shown = ", ".join(str(r) for r in wide_rows[:20])
        more = f", ... ({len(wide_rows):,} in total)" if len(wide_rows) > 20 else ""
        problems.append(Problem(f"{where}, row{'s' if len(wide_rows) > 1 else ''} {shown}{more}",
                                f"values only under the {width} columns of the header "
                                f"(row {header_row})", "values in columns without a heading"))
    blank_headings = [i + 1 for i, h in enumerate(header) if not h]
    if blank_headings:
        problems.append(Problem(f"{where}, row {header_row}",
                                "a heading above every column",
                                "columns without one: "
                                + ", ".join(_column_letter(i) for i in blank_headings)))
    if problems:
        raise InputError(source, problems)
    if not numbers:
        raise InputError(source, [Problem(where, f"at least one data row after the header "
                                                 f"(row {header_row})", "no data rows")])
    return Sheet(
        name=chosen, sheet_names=all_names, header=tuple(header), header_row=header_row,
        columns=tuple(columns), rows=np.asarray(numbers, dtype=np.int64),
    )


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _format_shows_time(number_format: str | None) -> bool:
    """Whether an Excel number format shows hours or seconds (text in quotes, colours and
    locale codes in brackets are not looked at)."""
    if not number_format:
        return False
    bare = _QUOTED_OR_BRACKETED.sub("", number_format).lower()
    return "h" in bare or "s" in bare or "am/pm" in bare


def _cell_text(value: Any, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.isoformat()
        midnight = value.time() == time(0, 0)
        if midnight and not _format_shows_time(number_format):
            return value.date().isoformat()
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


def read_excel(path: Path, source: str, options: ReadOptions) -> RawTable:
    """A workbook's sheet (``options.sheet``) as the table every format reader hands over:
    text columns, Excel's row numbers, the header's columns resolved as for a CSV."""
    import pandas as pd

    sheet = read_sheet(path, sheet_choice(options.sheet), options.limits)
    header = [h.strip() for h in sheet.header]
    where = f"{path.name}, sheet {sheet.name!r}, row {sheet.header_row} (the header)"
    resolved = resolve_columns(header, options, where)
    problems = list(resolved.problems)
    for column in {*resolved.fields.values(), *resolved.attributes.values()}:
        if header.count(column) > 1:
            problems.append(Problem(where, f"the column {column!r} once",
                                    f"it {header.count(column)} times"))
    if problems and len(sheet.sheet_names) > 1:
        problems.append(Problem(
            path.name, "the sheet that holds the events, chosen with --sheet NAME or N (or "
            "sheet: in the mapping file)",
            f"the sheet {sheet.name!r} read; the workbook's sheets are "
            + ", ".join(repr(n) for n in sheet.sheet_names)))
    if problems:
        raise InputError(source, problems)

    def column_of(column: str) -> pd.Series:
        return as_text(sheet.columns[header.index(column)])

    positions = sample_positions(len(sheet.rows))
    sample = {h: as_text([sheet.columns[i][p] for p in positions])
              for i, h in enumerate(header) if h}
    warnings: list[Problem] = []
    if len(sheet.sheet_names) > 1 and options.sheet is None:
        warnings.append(Problem(
            path.name, "the sheet that holds the events (--sheet NAME or N)",
            f"a workbook of {len(sheet.sheet_names)} sheets; the first, {sheet.name!r}, was "
            "read", topic="sheet"))
    return RawTable(
        source=source,
        name=path.name,
        data={f: column_of(c) for f, c in resolved.fields.items()}
        | ({"lifecycle": column_of(resolved.lifecycle)} if resolved.lifecycle else {}),
        attributes={a: column_of(c) for a, c in resolved.attributes.items()},
        columns=dict(resolved.fields) | dict(resolved.attributes)
        | ({"lifecycle": resolved.lifecycle} if resolved.lifecycle else {}),
        position=sheet.rows.copy(),
        source_row=sheet.rows.copy(),
        available=tuple(h for h in header if h),
        sample=sample,
        problems=[],
        warnings=warnings,
        row_word="row",
        sheet=sheet.name,
    )

"""Excel workbooks: typed dates read as dates (date-only when Excel shows no time), text as
text, sheets chosen by name or position, and clear errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from conformance.logio.excelfile import _open_xls, _sheet, read_sheet, sheet_choice
from model.errors import InputError


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["This extract was run on 2 January 2025"])
    notes.append(["Run by the MASH team"])
    events = book.create_sheet("Events")
    events.append(["CASE_REF", "STEP", "EVENT_DTTM", "RISK", "SEQ"])
    events.append(["R1", "Referral", datetime(2024, 12, 9, 14, 5), "Y", 1])
    events.append(["R1", "Strat disc", datetime(2024, 12, 10), "N", 2.5])
    events["C3"].number_format = "dd/mm/yyyy"
    events.append(["R1", "ICPC", datetime(2024, 12, 11, 0, 0), None, None])
    events["C4"].number_format = "dd/mm/yyyy hh:mm"
    events.append([])
    events.append(["R2", "Referral", "11/12/2024 10:00", True, 1001])
    events.append(["R2", "Case note", date(2024, 12, 12), "  N  ", None])
    book.save(path)
    return path


def test_cells_become_text_the_timestamp_reader_understands(tmp_path: Path) -> None:
    sheet = read_sheet(workbook(tmp_path / "extract.xlsx"), "Events")
    assert sheet.name == "Events"
    assert sheet.sheet_names == ("Notes", "Events")
    assert sheet.header == ("CASE_REF", "STEP", "EVENT_DTTM", "RISK", "SEQ")
    assert sheet.rows.tolist() == [2, 3, 4, 6, 7]  # Excel's own row numbers; row 5 is empty
    case, _step, when, risk, seq = sheet.columns
    assert when == ["2024-12-09T14:05:00", "2024-12-10", "2024-12-11T00:00:00",
                    "11/12/2024 10:00", "2024-12-12"]
    assert risk == ["Y", "N", "", "true", "N"]
    assert seq == ["1", "2.5", "", "1001", ""]
    assert case == ["R1", "R1", "R1", "R2", "R2"]


def test_sheets_are_chosen_by_name_or_position(tmp_path: Path) -> None:
    path = workbook(tmp_path / "extract.xlsx")
    assert read_sheet(path, sheet_choice("2")).name == "Events"
    assert read_sheet(path, "events").name == "Events"  # case does not matter
    assert read_sheet(path).name == "Notes"  # the first sheet by default
    with pytest.raises(InputError) as error:
        read_sheet(path, "Evnts")
    assert "'Notes', 'Events'" in str(error.value) and "no sheet named 'Evnts'" in str(error.value)
    with pytest.raises(InputError) as error:
        read_sheet(path, 3)
    assert "position from 1 to 2" in str(error.value)


def test_a_sheet_with_only_a_header_or_nothing_is_an_error(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.append(["case_id", "activity", "timestamp"])
    book.create_sheet("Empty")
    path = tmp_path / "thin.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="no data rows"):
        read_sheet(path)
    with pytest.raises(InputError, match="an empty sheet"):
        read_sheet(path, "Empty")


def test_values_beyond_the_header_and_blank_headings_are_errors(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["case_id", None, "timestamp"])
    sheet.append(["1", "x", "2024-01-01", "stray"])
    path = tmp_path / "ragged.xlsx"
    book.save(path)
    with pytest.raises(InputError) as error:
        read_sheet(path)
    text = str(error.value)
    assert "row 2" in text and "columns without a heading" in text
    assert "columns without one: B" in text


def test_a_file_that_is_not_a_workbook_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "extract.xlsx"
    path.write_text("case_id,activity,timestamp\n", encoding="utf-8")
    with pytest.raises(InputError, match="an Excel workbook"):
        read_sheet(path)
    with pytest.raises(InputError, match="an Excel workbook"):
        read_sheet(tmp_path / "old.xls")


def test_the_calamine_reader_used_for_xls_gives_the_same_texts(tmp_path: Path) -> None:
    # python-calamine reads .xls; it is exercised here on the .xlsx twin (no .xls writer is
    # maintained). It sees no number formats, so a midnight date-time is a date there.
    path = workbook(tmp_path / "extract.xlsx")
    names, rows = _open_xls(path, "Events", str(path))
    sheet = _sheet(str(path), path.name, names, rows)
    assert sheet.rows.tolist() == [2, 3, 4, 6, 7]
    assert sheet.columns[2] == ["2024-12-09T14:05:00", "2024-12-10", "2024-12-11",
                                "11/12/2024 10:00", "2024-12-12"]
    assert sheet.columns[4] == ["1", "2.5", "", "1001", ""]


def test_a_wrong_sheet_names_the_sheets_to_choose_from(tmp_path: Path) -> None:
    from conformance.logio import ColumnMap, ReadOptions, read_log

    path = workbook(tmp_path / "extract.xlsx")
    with pytest.raises(InputError) as error:
        read_log(path, ReadOptions())
    assert "the workbook's sheets are 'Notes', 'Events'" in str(error.value)
    columns = ColumnMap(case_id="CASE_REF", activity="STEP", timestamp="EVENT_DTTM")
    log = read_log(path, ReadOptions(sheet="Events", columns=columns))
    assert log.sheet == "Events" and len(log.events) == 5
    assert log.events["date_only"].tolist() == [False, True, False, False, True]




def test_the_limits_on_a_log_hold_for_a_workbook(tmp_path: Path) -> None:
    """As for a CSV: rows, columns, the text of a cell and the bytes to read, each refused with
    the limit, what was found and the option that raises it; nothing past a limit is read."""
    from conformance.logio import Limits

    path = workbook(tmp_path / "extract.xlsx")
    assert len(read_sheet(path, "Events", Limits(max_events=5)).rows) == 5
    with pytest.raises(InputError) as error:
        read_sheet(path, "Events", Limits(max_events=4))
    assert ("extract.xlsx, sheet 'Events': expected at most 4 events (the limit; --max-events "
            "raises it); found more data rows (the 5th is row 7)") in str(error.value)
    with pytest.raises(InputError) as error:
        read_sheet(path, "Events", Limits(max_columns=4))
    assert "row 1: expected at most 4 columns" in str(error.value)
    assert "--max-columns raises it); found values in 5 columns" in str(error.value)
    with pytest.raises(InputError) as error:
        read_sheet(path, "Events", Limits(max_field_bytes=8))
    message = str(error.value)
    # every long cell, by column, with its rows: 'Strat disc' (10 bytes) and 'Case note' (9);
    # the heading 'EVENT_DTTM' and the times (19)
    assert "rows 3, 7, column B" in message and "a cell of 10 bytes" in message
    assert "rows 1, 2, 3, 4, 6, 7, column C" in message and "a cell of 19 bytes" in message
    assert "--max-field-bytes raises it" in message
    size = path.stat().st_size
    with pytest.raises(InputError, match=f"found a file of {size:,} bytes"):
        read_sheet(path, "Events", Limits(max_input_bytes=size - 1))
    with pytest.raises(InputError) as error:
        read_sheet(path, "Events", Limits(max_input_bytes=size + 1))  # its parts unpack larger
    assert "--max-input-bytes raises it); found a workbook of" in str(error.value)
    assert "whose parts unpack to" in str(error.value)


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_opened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 20_000_000)  # 20 MB of spaces
    assert path.stat().st_size < 100_000

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    from conformance.logio import ColumnMap, Limits, ReadOptions, read_log

    with pytest.raises(InputError, match="whose parts unpack to 20,000,000 bytes"):
        read_log(path, ReadOptions(columns=ColumnMap(), limits=Limits(max_input_bytes=10 << 20)))

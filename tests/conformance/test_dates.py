"""Timestamps as councils write them: day first by default, dates and date-times mixed in one
column, the order decided from the whole column, formats tried in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conformance.logio.dates import FormatError, TimestampSpec, parse_timestamps, timestamp_spec


def local(times_ns: np.ndarray) -> list[str]:
    stamps = pd.to_datetime(times_ns).tz_localize("UTC").tz_convert("Europe/London")
    return [s.strftime("%Y-%m-%d %H:%M") for s in stamps]


def test_a_uk_column_mixing_dates_and_date_times_is_read_day_first() -> None:
    column = pd.Series(["09/12/2024", "09/12/2024 14:05", "10/12/2024 09:30:15", "1/2/2025",
                        "2024-12-11T08:00", "9 Dec 2024", "09-Dec-2024 16:45"])
    times = parse_timestamps(column)
    assert times.valid.all()
    assert local(times.ns) == ["2024-12-09 00:00", "2024-12-09 14:05", "2024-12-10 09:30",
                               "2025-02-01 00:00", "2024-12-11 08:00", "2024-12-09 00:00",
                               "2024-12-09 16:45"]
    assert times.date_only.tolist() == [True, False, False, True, False, True, False]
    assert times.order == "day-first"
    assert "no date in the column proves the order" in times.order_note


def test_the_old_mixed_value_no_longer_reads_09_12_as_12_september() -> None:
    # pandas' format="mixed" took 09/12/2024 as 12 September; 'mixed' now means the automatic
    # reader, which decides from the whole column and reads day first.
    spec = timestamp_spec("mixed")
    assert spec.formats == ()
    times = parse_timestamps(pd.Series(["09/12/2024", "25/12/2024 10:00"]), spec)
    assert local(times.ns) == ["2024-12-09 00:00", "2024-12-25 10:00"]
    assert "first number is over 12" in times.order_note


def test_a_column_that_proves_month_first_is_read_month_first() -> None:
    times = parse_timestamps(pd.Series(["12/25/2024", "01/02/2025 10:00"]))
    assert times.order == "month-first"
    assert local(times.ns) == ["2024-12-25 00:00", "2025-01-02 10:00"]
    assert times.proof_row == 0


def test_one_us_date_in_a_uk_column_is_a_contradiction_not_a_silent_swap() -> None:
    column = pd.Series(["13/11/2024", "14/11/2024", "11/15/2024", "02/12/2024"])
    times = parse_timestamps(column)
    assert times.order == "day-first"
    assert times.contradicting.tolist() == [False, False, True, False]
    assert not times.valid[2]
    assert not times.unparseable.any()
    assert "day first" in times.contradiction


def test_a_configured_order_makes_rows_that_contradict_it_errors() -> None:
    times = parse_timestamps(pd.Series(["05/06/2024", "06/13/2024"]),
                             TimestampSpec(order="day-first"))
    assert times.contradicting.tolist() == [False, True]
    assert local(times.ns)[0] == "2024-06-05 00:00"
    times = parse_timestamps(pd.Series(["05/06/2024"]), TimestampSpec(order="month-first"))
    assert local(times.ns) == ["2024-05-06 00:00"]


def test_impossible_dates_and_text_are_unreadable_and_empty_values_are_empty() -> None:
    times = parse_timestamps(pd.Series(["31/02/2024", "yesterday", "", "12/12/24", "09/12/2024 25:00"]))
    assert times.unparseable.tolist() == [True, True, False, True, True]
    assert times.empty.tolist() == [False, False, True, False, False]


def test_formats_are_tried_in_order_and_a_format_without_time_makes_date_only_events() -> None:
    spec = timestamp_spec(["%d/%m/%Y %H:%M", "%d/%m/%Y"])
    times = parse_timestamps(pd.Series(["09/12/2024 10:00", "09/12/2024", "2024-12-09"]), spec)
    assert times.valid.tolist() == [True, True, False]
    assert times.date_only.tolist() == [False, True, False]
    assert times.unparseable.tolist() == [False, False, True]


def test_unusable_formats_and_orders_are_refused() -> None:
    with pytest.raises(FormatError):
        timestamp_spec("dd/mm/yyyy")
    with pytest.raises(FormatError):
        timestamp_spec(["auto", "%d/%m/%Y"])
    with pytest.raises(FormatError):
        TimestampSpec(order="middle-endian")


def test_times_in_the_hour_clocks_skip_and_repeat_are_counted() -> None:
    times = parse_timestamps(pd.Series(["31/03/2024 01:30", "27/10/2024 01:30"]))
    assert times.nonexistent == 1 and times.ambiguous == 1
    assert times.valid.all()

"""The event-log reader: formats, encodings, timestamps, mapping, warnings and refusals."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conformance.logio import (
    LONDON,
    ColumnMap,
    EventLog,
    ReadOptions,
    load_mapping,
    read_log,
)
from model.errors import InputError

HEADER = "case_id,activity,timestamp,resource,role,alleged_is_child"
VOCABULARY = frozenset(
    {"Concern identified", "Line manager informed", "LADO contacted", "Case closed"}
)


def write(tmp_path: Path, text: str, name: str = "log.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_log(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def local(log: EventLog, row: int) -> pd.Timestamp:
    return pd.Timestamp(log.events["time_utc"].iloc[row]).tz_convert(LONDON)


def all_warnings(log: EventLog) -> str:
    return "\n".join(str(w) for w in log.warnings)


# --------------------------------------------------------------------------- the schema


def test_reads_the_contract_schema_sorted_by_case_time_and_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "B,Case closed,2024-05-02T10:00:00,r2,manager,false",
            "A,LADO contacted,2024-05-01T11:00:00,r1,manager,true",
            "A,Concern identified,2024-05-01T09:00:00,,employee,true",
            "A,Line manager informed,2024-05-01T11:00:00,r1,employee,true",
        ),
    )
    log = read_log(path)
    events = log.events
    assert list(events.columns) == [
        "case_id",
        "activity",
        "time_utc",
        "date_only",
        "source_row",
        "resource",
        "role",
    ]
    assert events["case_id"].tolist() == ["A", "A", "A", "B"]
    # a tie at 11:00 keeps file order (line 3 before line 5)
    assert events["activity"].tolist() == [
        "Concern identified",
        "LADO contacted",
        "Line manager informed",
        "Case closed",
    ]
    assert events["source_row"].tolist() == [4, 3, 5, 2]
    assert events["source_row"].dtype == np.int64
    assert str(events["time_utc"].dtype) == "datetime64[ns, UTC]"
    assert events["date_only"].dtype == bool
    assert pd.isna(events["resource"].iloc[0])
    assert events["role"].iloc[0] == "employee"
    assert log.cases.index.tolist() == ["B", "A"]  # first appearance
    assert log.cases.index.name == "case_id"
    assert str(log.cases["alleged_is_child"].dtype) == "boolean"
    assert log.cases["alleged_is_child"].tolist() == [False, True]
    assert log.cases["concern_about_line_manager"].isna().all()  # absent column = unknown
    assert log.as_of == pd.Timestamp("2024-05-02T09:00:00Z")  # latest event (BST)
    assert log.warnings == ()
    assert log.excluded_after_as_of == 0


def test_case_ids_are_text_never_missing_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "NA,Case closed,2024-05-01T10:00:00,,,",
            "null,Case closed,2024-05-01T10:00:00,,,",
            "007,Case closed,2024-05-01T10:00:00,,,",
        ),
    )
    log = read_log(path)
    assert sorted(log.cases.index) == ["007", "NA", "null"]


def test_xes_standard_column_names_are_accepted_in_csv(tmp_path: Path) -> None:
    header = (
        "case:concept:name,concept:name,time:timestamp,org:resource,org:role,case:alleged_is_child"
    )
    path = write(
        tmp_path, csv_log("A,Case closed,2024-05-01T10:00:00,r1,manager,yes", header=header)
    )
    log = read_log(path)
    assert log.events["resource"].tolist() == ["r1"]
    assert log.events["role"].tolist() == ["manager"]
    assert log.cases.loc["A", "alleged_is_child"]


def test_column_options_override_names(tmp_path: Path) -> None:
    header = "Ref;Step;When;Who;IsChild"
    path = write(tmp_path, csv_log("A;Concern identified;2024-05-01 10:00;x;Y", header=header))
    columns = ColumnMap(
        case_id="Ref",
        activity="Step",
        timestamp="When",
        resource="Who",
        attributes={"alleged_is_child": "IsChild"},
    )
    log = read_log(path, ReadOptions(columns=columns))
    assert log.events["resource"].tolist() == ["x"]
    assert log.cases.loc["A", "alleged_is_child"]
    assert log.columns_used["case_id"] == "Ref"


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(
        delimiter.join(fields)
        for fields in [
            ("case_id", "activity", "timestamp"),
            ("A", "Concern identified", "2024-05-01T10:00:00"),
            ("A", "Case closed", "2024-05-02T10:00:00"),
        ]
    )
    log = read_log(write(tmp_path, text))
    assert log.events["activity"].tolist() == ["Concern identified", "Case closed"]


def test_tsv_suffix_and_explicit_delimiter(tmp_path: Path) -> None:
    text = "case_id\tactivity\ttimestamp\nA\tCase closed, finally\t2024-05-01T10:00:00\n"
    assert read_log(write(tmp_path, text, "log.tsv")).events["activity"].tolist() == [
        "Case closed, finally"
    ]
    text = "case_id:activity:timestamp\nA:Case closed:2024-05-01\n"
    log = read_log(write(tmp_path, text), ReadOptions(delimiter=":"))
    assert log.events["date_only"].tolist() == [True]


def test_quoted_fields_spanning_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case_id,activity,timestamp,note\n"
        'A,Concern identified,2024-05-01T10:00:00,"two\nlines"\n'
        "\n"
        "A,,2024-05-01T11:00:00,\n",
    )
    with pytest.raises(InputError, match=r"line 5, column 'activity'"):
        read_log(path)


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = write(tmp_path, csv_log("", "A,Case closed,2024-05-01T10:00:00,,,", ""))
    log = read_log(path)
    assert log.events["source_row"].tolist() == [3]


# --------------------------------------------------------------------------- encodings


def test_utf8_with_and_without_bom(tmp_path: Path) -> None:
    text = csv_log("A,Référé,2024-05-01T10:00:00,,,")
    plain = read_log(write(tmp_path, text, "plain.csv"))
    bom = read_log(write(tmp_path, "\ufeff" + text, "bom.csv"))
    assert plain.events["activity"].tolist() == bom.events["activity"].tolist() == ["Référé"]
    assert plain.warnings == bom.warnings == ()


def test_cp1252_is_read_with_a_warning_and_mapped_through_a_mapping_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, csv_log("A,Désigné officer contacted,2024-05-01T10:00:00,,,"), encoding="cp1252"
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        'activities:\n  "Désigné officer contacted": LADO contacted\n', encoding="utf-8"
    )
    columns, activities = load_mapping(mapping, VOCABULARY)
    log = read_log(
        path, ReadOptions(columns=columns, activity_map=activities, vocabulary=VOCABULARY)
    )
    assert log.events["activity"].tolist() == ["LADO contacted"]
    assert log.unknown_activities == {}
    assert "cp1252" in all_warnings(log)


def test_explicit_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, csv_log("A,Référé,2024-05-01T10:00:00,,,"), encoding="utf-16")
    log = read_log(path, ReadOptions(encoding="utf-16"))
    assert log.events["activity"].tolist() == ["Référé"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_recognised(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, csv_log("A,Case closed,2024-05-01T10:00:00,,,"), encoding=encoding)
    with pytest.raises(
        InputError, match="the file looks like UTF-16; save as UTF-8 or pass --encoding"
    ):
        read_log(path)


def test_binary_junk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(HEADER.encode() + b"\nA,Case closed,2024-05-01\x00\x01\x02\xff\n")
    with pytest.raises(
        InputError, match=r"log.csv, line 2: expected a text file \(CSV\); found binary data"
    ):
        read_log(path)
    png = tmp_path / "image.csv"
    png.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match="binary data"):
        read_log(png)


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(HEADER.encode() + b"\nA,Case \x81\x8d closed,2024-05-01,,,\n")
    with pytest.raises(
        InputError, match=r"line 2: expected text encoded as UTF-8 \(or Windows-1252\)"
    ):
        read_log(path)


# --------------------------------------------------------------------------- timestamps


def test_naive_times_are_london_wall_clock(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log("A,Case closed,2024-06-01T09:00:00,,,", "B,Case closed,2024-01-15 09:00,,,"),
    )
    log = read_log(path)
    assert log.events["time_utc"].tolist() == [
        pd.Timestamp("2024-06-01T08:00:00Z"),
        pd.Timestamp("2024-01-15T09:00:00Z"),
    ]


def test_offsets_are_converted_and_2330_utc_in_summer_is_the_next_local_day(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Case closed,2024-06-01T23:30:00Z,,,",
            "B,Case closed,2024-06-01T23:30:00+02:00,,,",
            "C,Case closed,2024-01-15T09:00:00.250-05:00,,,",
        ),
    )
    log = read_log(path)
    assert log.events["time_utc"].tolist() == [
        pd.Timestamp("2024-06-01T23:30:00Z"),
        pd.Timestamp("2024-06-01T21:30:00Z"),
        pd.Timestamp("2024-01-15T14:00:00.250Z"),
    ]
    assert local(log, 0).date().isoformat() == "2024-06-02"
    assert local(log, 0).hour == 0 and local(log, 0).minute == 30
    assert not log.events["date_only"].any()


def test_date_only_is_local_midnight(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log("A,Concern identified,2024-06-01,,,", "A,Case closed,2024-06-01T10:00:00,,,"),
    )
    log = read_log(path)
    assert log.events["date_only"].tolist() == [True, False]
    assert log.events["time_utc"].iloc[0] == pd.Timestamp("2024-05-31T23:00:00Z")
    assert local(log, 0) == pd.Timestamp("2024-06-01T00:00:00", tz=LONDON)


def test_clock_changes_are_resolved_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Case closed,2024-10-27T01:30:00,,,",  # happens twice: first (BST) reading
            "B,Case closed,2024-03-31T01:30:00,,,",  # never happens: moved forward
        ),
    )
    log = read_log(path)
    assert log.events["time_utc"].tolist() == [
        pd.Timestamp("2024-10-27T00:30:00Z"),
        pd.Timestamp("2024-03-31T01:00:00Z"),
    ]
    text = all_warnings(log)
    assert "1 times without an offset in the hour repeated when clocks go back" in text
    assert "1 times without an offset in the hour skipped when clocks go forward" in text


def test_timestamp_format_option(tmp_path: Path) -> None:
    path = write(tmp_path, csv_log("A,Case closed,01/06/2024 09:15,,,"))
    log = read_log(path, ReadOptions(timestamp_format="%d/%m/%Y %H:%M"))
    assert log.events["time_utc"].tolist() == [pd.Timestamp("2024-06-01T08:15:00Z")]
    dates = read_log(
        write(tmp_path, csv_log("A,Case closed,01/06/2024,,,"), "dates.csv"),
        ReadOptions(timestamp_format="%d/%m/%Y"),
    )
    assert dates.events["date_only"].tolist() == [True]
    with pytest.raises(
        InputError, match=r"line 2, column 'timestamp': expected a timestamp in the format %d/%m/%Y"
    ):
        read_log(path, ReadOptions(timestamp_format="%d/%m/%Y"))


def test_unparseable_timestamps_list_the_first_20_lines_and_a_total(tmp_path: Path) -> None:
    rows = [f"C{i},Case closed,yesterday at noon,,," for i in range(25)]
    with pytest.raises(InputError) as caught:
        read_log(write(tmp_path, csv_log(*rows)))
    message = str(caught.value)
    assert (
        "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, ... (25 in total)"
        in message
    )
    assert "column 'timestamp': expected an ISO 8601 date-time" in message
    assert "yesterday" not in message  # the raw value is described, never quoted


def test_impossible_and_out_of_range_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log("A,Case closed,2024-02-30T10:00:00,,,", "B,Case closed,1066-10-14,,,"),
    )
    with pytest.raises(InputError) as caught:
        read_log(path)
    message = str(caught.value)
    assert "line 2, column 'timestamp': expected an ISO 8601" in message
    assert "line 3, column 'timestamp': expected a date between 1900 and 2199" in message


# --------------------------------------------------------------------------- mapping files


def test_mapping_file_maps_columns_attributes_and_activities(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n"
        "  case_id: CASE_REF\n"
        "  activity: STEP\n"
        "  timestamp: EVENT_DTTM\n"
        "  alleged_is_child: IS_CHILD\n"
        "activities:\n"
        "  LADO referral: LADO contacted\n"
        "  Closed: Case closed\n",
        encoding="utf-8",
    )
    columns, activities = load_mapping(mapping, VOCABULARY)
    assert columns == ColumnMap(
        case_id="CASE_REF",
        activity="STEP",
        timestamp="EVENT_DTTM",
        attributes={"alleged_is_child": "IS_CHILD"},
    )
    path = write(
        tmp_path,
        csv_log(
            "7,LADO referral,2024-05-01T10:00,n",
            "7,Closed,2024-05-02T10:00,N",
            header="CASE_REF,STEP,EVENT_DTTM,IS_CHILD",
        ),
    )
    log = read_log(
        path, ReadOptions(columns=columns, activity_map=activities, vocabulary=VOCABULARY)
    )
    assert log.events["activity"].tolist() == ["LADO contacted", "Case closed"]
    assert log.cases.loc["7", "alleged_is_child"] == False  # noqa: E712 (pandas boolean)


def test_mapping_file_problems_are_reported_together_with_lines(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n"
        "  case_id: 12\n"  # line 2: a number, not text
        "  colour: blue\n"  # line 3: unknown key
        "activities:\n"
        "  LADO referral: Lado contacted\n"  # line 5: not in the vocabulary
        "  Closed: Case closed\n"
        "  Closed: Case closed\n"  # line 7: repeated
        "extra: 1\n",  # line 8: unknown key
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_mapping(mapping, VOCABULARY)
    message = str(caught.value)
    assert "5 problem(s)" in message
    assert (
        "line 2, key 'columns.case_id': expected a text value; found a number (quote it to make it text)"
        in message
    )
    assert "line 3, key 'columns.colour': expected one of case_id" in message
    assert (
        "line 5, activity 'LADO referral'" in message and "did you mean 'LADO contacted'" in message
    )
    assert "line 7, key 'activities.Closed': expected each key once" in message
    assert "line 8, key 'extra'" in message


def test_mapping_file_that_is_not_yaml(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns:\n  case_id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"mapping.yaml, line 3: expected valid YAML"):
        load_mapping(mapping)


# --------------------------------------------------------------------------- warnings


def test_unknown_activities_are_listed_with_counts_and_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Concern identified,2024-05-01T10:00:00,,,",
            "A,Coffee break,2024-05-01T11:00:00,,,",
            "B,Coffee break,2024-05-01T11:00:00,,,",
            "B,Fire drill,2024-05-01T12:00:00,,,",
        ),
    )
    log = read_log(path, ReadOptions(vocabulary=VOCABULARY))
    assert log.unknown_activities == {"Coffee break": 2, "Fire drill": 1}
    assert len(log.events) == 4
    assert "3 events with other names, kept: 'Coffee break' (2), 'Fire drill' (1)" in all_warnings(
        log
    )
    assert read_log(path).unknown_activities == {}  # no vocabulary: accepted silently


def test_duplicate_rows_are_warned_about_and_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Concern identified,2024-05-01T10:00:00,r1,,",
            "A,Concern identified,2024-05-01T10:00:00,r1,,",
            "A,Concern identified,2024-05-01T10:00:00,r2,,",
            "A,Concern identified,2024-05-01T10:00:00,r1,,",
        ),
    )
    log = read_log(path)
    assert len(log.events) == 4
    assert "log.csv, lines 3, 5: expected each event once; found 2 rows repeating" in all_warnings(
        log
    )


def test_events_after_as_of_are_left_out_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Concern identified,2024-05-01T10:00:00,,,",
            "A,Case closed,2024-05-03T10:00:00,,,",
            "B,Concern identified,2024-05-04T10:00:00,,,",
        ),
    )
    log = read_log(path, ReadOptions(as_of=datetime(2024, 5, 2, 12, 0)))
    assert log.as_of == pd.Timestamp("2024-05-02T11:00:00Z")  # naive as-of = London time
    assert log.excluded_after_as_of == 2
    assert log.events["activity"].tolist() == ["Concern identified"]
    assert log.cases.index.tolist() == ["A"]
    assert "2 events after it, left out; 1 cases had no event before it" in all_warnings(log)


def test_attribute_values_and_disagreements(tmp_path: Path) -> None:
    header = "case_id,activity,timestamp,alleged_is_child,concern_about_line_manager"
    path = write(
        tmp_path,
        csv_log(
            "A,Concern identified,2024-05-01T10:00:00,Yes,",
            "A,Case closed,2024-05-02T10:00:00,no,T",
            "B,Concern identified,2024-05-01T10:00:00,1,f",
            "B,Case closed,2024-05-02T10:00:00,,FALSE",
            header=header,
        ),
    )
    log = read_log(path)
    assert log.cases["alleged_is_child"].isna()["A"]  # yes on one row, no on another
    assert log.cases.loc["A", "concern_about_line_manager"]  # empty + true = true
    assert log.cases.loc["B", "alleged_is_child"]
    assert log.cases.loc["B", "concern_about_line_manager"] == False  # noqa: E712
    conflicts = log.attribute_conflicts
    assert conflicts.to_dict("records") == [{"case_id": "A", "attribute": "alleged_is_child"}]
    assert "1 cases whose rows disagree" in all_warnings(log)
    assert "column 'alleged_is_child'" in all_warnings(log)


def test_personal_data_columns_are_named_never_quoted(tmp_path: Path) -> None:
    header = "case_id,activity,timestamp,Surname,contact,ref,area,DateOfBirth,Activity name"
    secrets = [
        "Featherstonehaugh",
        "jo.bloggs@example.org.uk",
        "943 476 5919",
        "NE61 2EF",
        "2011-04-05",
    ]
    rows = [
        f"A{i},Case closed,2024-05-01T10:00:00,{secrets[0]},{secrets[1]},{secrets[2]},{secrets[3]},{secrets[4]},x"
        for i in range(3)
    ]
    log = read_log(write(tmp_path, csv_log(*rows, header=header)))
    assert log.personal_data_columns == ("Surname", "contact", "ref", "area", "DateOfBirth")
    text = all_warnings(log)
    assert "column 'contact': expected no personal data" in text
    assert "e-mail addresses" in text and "NHS numbers" in text and "postcodes" in text
    for secret in secrets:
        assert secret not in text
        assert secret.replace(" ", "") not in text


def test_numbers_that_fail_the_nhs_check_digit_are_not_personal_data(tmp_path: Path) -> None:
    rows = [f"A{i},Case closed,2024-05-01T10:00:00,943476591{d}" for i, d in enumerate("01234678")]
    log = read_log(write(tmp_path, csv_log(*rows, header="case_id,activity,timestamp,ref")))
    assert log.personal_data_columns == ()


# --------------------------------------------------------------------------- fatal problems


def test_missing_columns_list_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path, csv_log("A,Case closed,x", header="case,step,colour"))
    with pytest.raises(InputError) as caught:
        read_log(path)
    message = str(caught.value)
    assert (
        "line 1 (the header): expected a column for the case id named 'case_id' or 'case:concept:name'"
        in message
    )
    assert "available columns: 'case', 'step', 'colour'" in message
    assert "timestamp" in message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            ",Concern identified,2024-05-01T10:00:00,,,",  # line 2: empty case id
            "A,,2024-05-01T10:00:00,,,",  # line 3: empty activity
            "A,Case closed,not a date,,,",  # line 4: bad timestamp
            "A,Case closed,2024-05-01T10:00:00,,,perhaps",  # line 5: bad attribute
            "B,Case closed,,,,",  # line 6: empty timestamp
        ),
    )
    with pytest.raises(InputError) as caught:
        read_log(path)
    assert len(caught.value.problems) == 5
    message = str(caught.value)
    assert "line 2, column 'case_id': expected a case id; found an empty value" in message
    assert "line 3, column 'activity': expected an activity; found an empty value" in message
    assert "line 4, column 'timestamp': expected an ISO 8601" in message
    assert "line 5, column 'alleged_is_child': expected true, false, yes, no" in message
    assert "line 6, column 'timestamp': expected a timestamp; found an empty value" in message
    assert "perhaps" not in message and "not a date" not in message


def test_missing_column_and_bad_values_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, csv_log(",Case closed", header="case_id,activity"))
    with pytest.raises(InputError) as caught:
        read_log(path)
    assert len(caught.value.problems) == 2


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="found an empty file"):
        read_log(write(tmp_path, ""))
    with pytest.raises(InputError, match="found an empty file"):
        read_log(write(tmp_path, "\n\n  \n"))


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match="expected at least one data line after the header; found no data lines"
    ):
        read_log(write(tmp_path, HEADER + "\n"))


def test_no_header(tmp_path: Path) -> None:
    path = write(
        tmp_path, "A,Concern identified,2024-05-01T10:00:00\nA,Case closed,2024-05-02T10:00:00\n"
    )
    with pytest.raises(
        InputError, match=r"line 1 \(the header\): expected a header line naming the columns"
    ) as caught:
        read_log(path)
    assert "Concern identified" not in str(caught.value)  # data is not listed as column names


def test_rows_with_the_wrong_number_of_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case_id,activity,timestamp\nA,Case closed,2024-05-01\nA,Case, closed,2024-05-01\nB,2024-05-01\n",
    )
    with pytest.raises(InputError, match=r"lines 3, 4: expected 3 fields separated by ','"):
        read_log(path)


def test_unclosed_quote(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'case_id,activity,timestamp\nA,"Case closed,2024-05-01\nB,x,2024-05-01\n'
    )
    with pytest.raises(
        InputError,
        match="line 2: expected every quoted field closed by a quote; found a quote that is never closed",
    ):
        read_log(path)


def test_a_field_over_the_size_limit_names_its_line(tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    path = write(
        tmp_path, csv_log("A,Case closed,2024-05-01,,,", f"A,Case closed,2024-05-01,,{big},")
    )
    with pytest.raises(
        InputError,
        match=r"log.csv, line 3, column 'role': expected fields of at most 1,000,000 bytes; found a field of 10,485,760 bytes",
    ):
        read_log(path)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_log(tmp_path / "absent.csv")
    with pytest.raises(InputError, match=r"a file name ending in \.csv"):
        read_log(write(tmp_path, csv_log("A,Case closed,2024-05-01,,,"), "log.xlsx"))


def test_all_events_excluded_by_lifecycle_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Case closed,2024-05-01,start",
            header="case_id,activity,timestamp,lifecycle:transition",
        ),
    )
    with pytest.raises(InputError, match="lifecycle transition 'complete'; found none"):
        read_log(path)


def test_lifecycle_column_in_csv_keeps_complete_events(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_log(
            "A,Concern identified,2024-05-01T09:00,start",
            "A,Concern identified,2024-05-01T10:00,COMPLETE",
            "A,Case closed,2024-05-02T10:00,",
            header="case_id,activity,timestamp,lifecycle:transition",
        ),
    )
    log = read_log(path)
    assert log.events["source_row"].tolist() == [3, 4]
    assert log.excluded_other_lifecycle == 1
    assert "1 events with another transition" in all_warnings(log)


# --------------------------------------------------------------------------- Parquet


def test_parquet_with_typed_and_text_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "case:concept:name": pa.array([12, 12, 13], pa.int64()),
            "concept:name": ["Concern identified", "Case closed", "Case closed"],
            "time:timestamp": pa.array(
                [datetime(2024, 6, 1, 23, 30), datetime(2024, 6, 2, 9, 0), datetime(2024, 1, 2)],
                pa.timestamp("us", tz="UTC"),
            ),
            "alleged_is_child": pa.array([True, None, False]),
            "org:resource": ["r1", None, "r2"],
        }
    )
    path = tmp_path / "log.parquet"
    pq.write_table(table, path)
    log = read_log(path)
    assert log.events["case_id"].tolist() == ["12", "12", "13"]
    assert log.events["time_utc"].iloc[0] == pd.Timestamp("2024-06-01T23:30:00Z")
    assert log.events["source_row"].tolist() == [1, 2, 3]
    assert log.cases["alleged_is_child"].tolist() == [True, False]
    assert pd.isna(log.events["resource"].iloc[1])


def test_parquet_naive_timestamps_and_dates_are_local(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    naive = pa.table(
        {
            "case_id": ["A"],
            "activity": ["Case closed"],
            "timestamp": pa.array([datetime(2024, 6, 1, 9, 0)], pa.timestamp("us")),
        }
    )
    pq.write_table(naive, path)
    assert read_log(path).events["time_utc"].tolist() == [pd.Timestamp("2024-06-01T08:00:00Z")]
    dates = naive.set_column(2, "timestamp", pa.array([datetime(2024, 6, 1).date()], pa.date32()))
    pq.write_table(dates, path)
    log = read_log(path)
    assert log.events["date_only"].tolist() == [True]
    assert log.events["time_utc"].tolist() == [pd.Timestamp("2024-05-31T23:00:00Z")]


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected a Parquet file"):
        read_log(write(tmp_path, "not parquet", "log.parquet"))


# --------------------------------------------------------------------------- XES


def xes(body: str, prolog: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + prolog
        + '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'
        + '  <global scope="event"><string key="concept:name" value="x"/></global>\n'
        + body
        + "</log>\n"
    )


def event(name: str, time: str, lifecycle: str | None = None, resource: str | None = None) -> str:
    parts = [
        f'<string key="concept:name" value="{name}"/>',
        f'<date key="time:timestamp" value="{time}"/>',
    ]
    if lifecycle is not None:
        parts.append(f'<string key="lifecycle:transition" value="{lifecycle}"/>')
    if resource is not None:
        parts.append(f'<string key="org:resource" value="{resource}"/>')
    return "    <event>" + "".join(parts) + "</event>\n"


XES_BODY = (
    "  <trace>\n"
    '    <string key="concept:name" value="case-1"/>\n'
    '    <boolean key="alleged_is_child" value="true"/>\n'
    '    <list key="meta"><string key="concept:name" value="not the case id"/></list>\n'
    + event("Concern identified", "2024-06-01T09:00:00.000+01:00", "start", "r1")
    + event("Concern identified", "2024-06-01T09:05:00.000+01:00", "complete", "r1")
    + event("Case closed", "2024-06-02T09:00:00.000+01:00", "COMPLETE")
    + "  </trace>\n"
    "  <trace>\n"
    '    <string key="concept:name" value="case-2"/>\n'
    + event("Case closed", "2024-06-01T23:30:00Z", "complete")
    + "  </trace>\n"
)


def test_xes_traces_events_and_lifecycle(tmp_path: Path) -> None:
    log = read_log(write(tmp_path, xes(XES_BODY), "log.xes"))
    assert log.events["case_id"].tolist() == ["case-1", "case-1", "case-2"]
    assert log.events["activity"].tolist() == ["Concern identified", "Case closed", "Case closed"]
    assert log.events["source_row"].tolist() == [2, 3, 4]
    assert log.events["resource"].iloc[0] == "r1"
    assert log.events["time_utc"].iloc[0] == pd.Timestamp("2024-06-01T08:05:00Z")
    assert log.cases.loc["case-1", "alleged_is_child"]
    assert log.cases["alleged_is_child"].isna()["case-2"]
    assert log.excluded_other_lifecycle == 1
    assert "1 events with another transition (such as start or schedule), left out" in all_warnings(
        log
    )


def test_xes_gz_is_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(xes(XES_BODY).encode("utf-8")))
    assert len(read_log(path).events) == 3


def test_xes_problems_name_lines_and_keys(tmp_path: Path) -> None:
    body = (
        "  <trace>\n"
        '    <string key="alleged_is_child" value="maybe"/>\n'
        + event("Case closed", "last Tuesday")
        + "  </trace>\n"
    )
    with pytest.raises(InputError) as caught:
        read_log(write(tmp_path, xes(body), "log.xes"))
    assert len(caught.value.problems) == 3
    message = str(caught.value)
    assert "line 4 (<trace>): expected a trace attribute 'concept:name'" in message
    assert "line 4 (<trace>), key 'alleged_is_child': expected true, false" in message
    assert "line 6, key 'time:timestamp': expected an ISO 8601" in message
    assert "maybe" not in message and "Tuesday" not in message


def test_xes_that_is_not_well_formed(tmp_path: Path) -> None:
    text = xes(XES_BODY).replace("</trace>", "</trac>", 1)
    with pytest.raises(
        InputError,
        match=r"log.xes, line 11, column \d+: expected well-formed XML \(XES\); found XML that is not well-formed \(mismatched tag\)",
    ):
        read_log(write(tmp_path, text, "log.xes"))
    with pytest.raises(InputError, match="not well-formed"):
        read_log(write(tmp_path, "", "empty.xes"))
    with pytest.raises(InputError, match="expected an XES <log> root element"):
        read_log(write(tmp_path, "<html><body/></html>", "page.xes"))


def test_xes_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    prolog = f'<!DOCTYPE log [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    body = (
        "  <trace>\n"
        + '    <string key="concept:name" value="&xxe;"/>\n'
        + event("Case closed", "2024-06-01")
        + "  </trace>\n"
    )
    with pytest.raises(
        InputError, match="found a DOCTYPE or entity declaration; it was refused without being read"
    ) as caught:
        read_log(write(tmp_path, xes(body, prolog), "log.xes"))
    assert "TOP-SECRET-CONTENT" not in str(caught.value)
    assert str(secret) not in str(caught.value)


def test_xes_billion_laughs_is_refused(tmp_path: Path) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    prolog = "<!DOCTYPE log [\n" + "\n".join(entities) + "\n]>\n"
    body = '  <trace><string key="concept:name" value="&lol9;"/></trace>\n'
    with pytest.raises(InputError, match="DOCTYPE or entity declaration"):
        read_log(write(tmp_path, xes(body, prolog), "log.xes"))


def test_damaged_gzip(tmp_path: Path) -> None:
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(xes(XES_BODY).encode("utf-8"))[:-30])
    with pytest.raises(InputError, match="damaged or truncated gzip"):
        read_log(path)


def test_xes_oddities_are_warned_about(tmp_path: Path) -> None:
    body = (
        "  <trace>\n"
        '    <string key="concept:name" value="case-1"/>\n'
        '    <string key="Surname" value="Featherstonehaugh"/>\n'
        + event("Case closed", "2024-06-01T10:00:00+01:00")
        + "  </trace>\n"
        '  <trace><string key="concept:name" value="case-2"/></trace>\n'
        + event("Case closed", "2024-06-01T10:00:00+01:00")
    )
    log = read_log(write(tmp_path, xes(body), "log.xes"))
    text = all_warnings(log)
    assert "1 traces without events (no case made)" in text
    assert "1 <event> elements outside any trace (ignored)" in text
    assert log.personal_data_columns == ("case:Surname",)
    assert "Featherstonehaugh" not in text
    assert log.cases.index.tolist() == ["case-1"]


def test_xes_keys_follow_the_column_options(tmp_path: Path) -> None:
    body = (
        "  <trace>\n"
        '    <string key="concept:name" value="case-1"/>\n'
        '    <string key="child" value="no"/>\n'
        '    <event><string key="step" value="Case closed"/>'
        '<date key="time:timestamp" value="2024-06-01T10:00:00Z"/></event>\n'
        "  </trace>\n"
    )
    columns = ColumnMap(activity="step", attributes={"alleged_is_child": "child"})
    log = read_log(write(tmp_path, xes(body), "log.xes"), ReadOptions(columns=columns))
    assert log.events["activity"].tolist() == ["Case closed"]
    assert log.cases.loc["case-1", "alleged_is_child"] == False  # noqa: E712


def test_xes_without_events(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"expected at least one <event> inside a <trace>; found no events"
    ):
        read_log(
            write(
                tmp_path,
                xes('  <trace><string key="concept:name" value="a"/></trace>\n'),
                "log.xes",
            )
        )


def test_crlf_line_ends_and_an_aware_as_of(tmp_path: Path) -> None:
    text = csv_log(
        "A,Concern identified,2024-05-01T10:00:00,,,", "A,Case closed,2024-05-03T10:00:00,,,"
    ).replace("\n", "\r\n")
    path = write(tmp_path, text)
    log = read_log(path, ReadOptions(as_of=datetime.fromisoformat("2024-05-02T11:00:00+00:00")))
    assert log.events["activity"].tolist() == ["Concern identified"]
    assert log.events["source_row"].tolist() == [2]
    assert log.as_of == pd.Timestamp("2024-05-02T11:00:00Z")


def test_an_as_of_before_every_event_leaves_an_empty_log(tmp_path: Path) -> None:
    path = write(tmp_path, csv_log("A,Concern identified,2024-05-01T10:00:00,,,true"))
    log = read_log(path, ReadOptions(as_of=datetime(2024, 1, 1)))
    assert log.events.empty and log.cases.empty
    assert log.excluded_after_as_of == 1
    assert list(log.events.columns)[:3] == ["case_id", "activity", "time_utc"]

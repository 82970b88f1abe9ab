"""Mapping files that say what they mean: ignore lists, value maps for flags, formats and
reading options, and every entry that matched nothing named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conformance.logio.flags import parse_flags, quote_values
from conformance.logio.mapping import load_mapping_file, unmatched_entries
from conformance.logio.plausibility import latest_is_outlier, steps_before_start
from conformance.logio.rejects import RowProblem, collect_rejects, write_rejects
from model.errors import InputError
from model.procedure import load_procedure

PROCEDURE = load_procedure()
VOCABULARY = frozenset(PROCEDURE.activities)
ATTRIBUTES = tuple(PROCEDURE.boolean_attributes)

MAPPING = """\
columns:
  case_id: CASE_REF
  activity: STEP
  timestamp: EVENT_DTTM
  children_at_continuing_risk: RISK
activities:
  "Strat disc": Strategy discussion held
  "ICPC": Initial child protection conference held
ignore:
  - Case note
values:
  RISK:
    "Y": true
    "N": false
    "Not recorded": unknown
timestamp_format: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
date_order: day-first
encoding: cp1252
delimiter: ";"
sheet: Events
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_new_key_is_read(tmp_path: Path) -> None:
    mapping = load_mapping_file(write(tmp_path, MAPPING), VOCABULARY, ATTRIBUTES)
    assert mapping.columns["children_at_continuing_risk"] == "RISK"
    assert mapping.ignore == ("Case note",)
    assert mapping.values == {"children_at_continuing_risk": {"Y": True, "N": False,
                                                               "Not recorded": None}}
    assert mapping.timestamp_formats == ("%d/%m/%Y %H:%M", "%d/%m/%Y")
    assert (mapping.date_order, mapping.encoding, mapping.delimiter, mapping.sheet) == (
        "day-first", "cp1252", ";", "Events")


def test_bad_entries_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    text = MAPPING.replace("date_order: day-first", "date_order: british") \
        .replace('"Not recorded": unknown', '"Not recorded": perhaps') \
        .replace("encoding: cp1252", "encoding: klingon") \
        .replace("sheet: Events", "sheets: Events") \
        .replace("  - Case note", "  - Case note\n  - ICPC")
    with pytest.raises(InputError) as error:
        load_mapping_file(write(tmp_path, text), VOCABULARY, ATTRIBUTES)
    problems = "\n".join(str(p) for p in error.value.problems)
    assert "line 15, key 'date_order'" not in problems  # lines are those of the file
    assert "'british'" in problems and "'perhaps'" in problems and "'klingon'" in problems
    assert "did you mean 'sheet'?" in problems
    assert "ignore 'ICPC'" in problems and "mapped or ignored" in problems


def test_entries_that_matched_nothing_are_named(tmp_path: Path) -> None:
    mapping = load_mapping_file(write(tmp_path, MAPPING), VOCABULARY, ATTRIBUTES)
    found = unmatched_entries(mapping, {"Strat. disc": 4, "ICPC": 2, "Referral": 3},
                              {"children_at_continuing_risk": {"Y", "N"}})
    text = [str(p) for p in found]
    assert text == [
        "mapping.yaml, line 7, activities 'Strat disc': expected a local name that events of "
        "the log carry; found no event with this name; the log has 'Strat. disc'",
        "mapping.yaml, line 10, ignore 'Case note': expected a local name that events of the "
        "log carry; found no event with this name",
        "mapping.yaml, line 15, values of children_at_continuing_risk 'Not recorded': expected "
        "a value that rows of the column hold; found no row with this value",
    ]


def test_flags_use_the_column_s_own_words_first() -> None:
    values = pd.Series(["Y", "n", "Not recorded", "not  RECORDED", "", "Maybe", "1"])
    flags, bad = parse_flags(values, {"Not recorded": None})
    assert np.isnan(flags[2]) and np.isnan(flags[3]) and np.isnan(flags[4])
    assert flags[[0, 1, 6]].tolist() == [1.0, 0.0, 1.0]
    assert bad.tolist() == [False, False, False, False, False, True, False]
    assert quote_values(values, bad) == "the text 'Maybe'"
    assert "not shown" in quote_values(values, bad, personal=True)


def test_rejects_list_every_problem_of_every_skipped_row(tmp_path: Path) -> None:
    texts = pd.Series(["01/02/2024", "soon", "=cmd()", "03/02/2024"])
    positions = np.array([2, 3, 5, 6], dtype=np.int64)
    rejects = collect_rejects(
        [RowProblem(np.array([False, True, True, False]), "EVENT_DTTM",
                    "a timestamp that cannot be read", texts),
         RowProblem(np.array([False, True, False, False]), "CHILD_NAME", "an empty value",
                    texts, personal=True)],
        positions, extra=[(4, "", "a different number of fields")])
    assert rejects.count == 2
    assert rejects.skipped.tolist() == [False, True, True, False]
    path = write_rejects(tmp_path / "rejects.csv", rejects)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "line,column,problem,value",
        "3,CHILD_NAME,an empty value,",
        "3,EVENT_DTTM,a timestamp that cannot be read,soon",
        "4,,a different number of fields,",
        "5,EVENT_DTTM,a timestamp that cannot be read,'=cmd()",
    ]


def test_a_step_weeks_before_its_case_started_is_found() -> None:
    day = 86_400 * 10**9
    codes = np.array([0, 0, 0, 1, 1], dtype=np.intp)
    activities = ["Strategy discussion held", "Concern identified", "Line manager informed",
                  "Concern identified", "Line manager informed"]
    # Case 0: the strategy discussion is 40 days before the concern (a swapped date).
    ns = np.array([0, 40 * day, 40 * day, 100 * day, 101 * day], dtype=np.int64)
    found = steps_before_start(codes, activities, ns)
    assert [(f.event, f.start, f.days) for f in found] == [(0, 1, 40)]


def test_a_latest_event_far_beyond_every_other_case_is_an_outlier() -> None:
    day = 86_400 * 10**9
    codes = np.array([0, 0, 1, 2], dtype=np.intp)
    ns = np.array([0, day, 2 * day, 36_500 * day], dtype=np.int64)
    assert latest_is_outlier(codes, ns) == (3, 36_498)
    assert latest_is_outlier(codes[:3], ns[:3]) is None


def test_the_settings_file_can_say_how_to_read_the_log_and_the_command_line_wins(
        tmp_path: Path) -> None:
    import conformance
    from conformance import LogFormat

    log = tmp_path / "us.csv"
    log.write_text("case_id,activity,timestamp\nW1,Concern identified,05/06/2024 09:00\n"
                   "W1,Line manager informed,05/06/2024 10:00\n", encoding="utf-8")
    settings = tmp_path / "check.toml"
    settings.write_text('[log]\ndate_order = "month-first"\n', encoding="utf-8")
    report = conformance.check(log, config=settings, fitness="none")
    first = report.log.events["time_utc"].iloc[0].tz_convert("Europe/London")
    assert (first.month, first.day) == (5, 6)  # 6 May, as the settings file says
    report = conformance.check(log, config=settings, fitness="none",
                               log_format=LogFormat(date_order="day-first"))
    first = report.log.events["time_utc"].iloc[0].tz_convert("Europe/London")
    assert (first.month, first.day) == (6, 5)
    settings.write_text('[log]\ndate_order = "british"\nsheets = 2\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        conformance.check(log, config=settings, fitness="none")
    text = str(error.value)
    assert "key 'log.date_order'" in text and "key 'log.sheets'" in text

"""The reader on real public logs: case and event counts match the dataset README.

The logs live in ../shared/data/public-logs relative to the clone (see its README.md for
the sources and citations). They are not copied into the project; a missing directory is
a failure, not a skip, because CI has it.

BPI Challenge 2012 records lifecycle transitions (SCHEDULE, START, COMPLETE). The reader
keeps only COMPLETE events and counts the others in ``excluded_other_lifecycle``; the
README's 262,200 events are the kept events plus that count.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conformance.logio import ColumnMap, EventLog, ReadOptions, read_log
from tests.conftest import PUBLIC_LOGS

LOGS = PUBLIC_LOGS

# file -> (cases, events) from the README's table
EXPECTED = {
    "road-traffic-fines.xes.gz": (150_370, 561_470),
    "road-traffic-fines-100.xes": (100, 390),
    "receipt.xes.gz": (1_434, 8_577),
    "sepsis.xes.gz": (1_050, 15_214),
    "sepsis.csv": (1_050, 15_214),
    "bpic2012.xes.gz": (13_087, 262_200),
}

SEPSIS_CSV = ReadOptions(
    columns=ColumnMap(case_id="Case ID", activity="Activity", timestamp="Complete Timestamp"),
    timestamp_format="%Y/%m/%d %H:%M:%S.%f",
)


def test_the_public_logs_are_there() -> None:
    missing = [name for name in EXPECTED if not (LOGS / name).is_file()]
    assert not missing, f"public logs missing from {LOGS}: {missing}"


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def loaded(request: pytest.FixtureRequest) -> tuple[str, EventLog]:
    name: str = request.param
    path = LOGS / name
    assert path.is_file(), f"{path} is missing (expected at ../shared relative to the clone)"
    return name, read_log(path, SEPSIS_CSV if name == "sepsis.csv" else ReadOptions())


def test_case_and_event_counts_match_the_readme(loaded: tuple[str, EventLog]) -> None:
    name, log = loaded
    cases, events = EXPECTED[name]
    assert len(log.cases) == cases
    assert log.events["case_id"].nunique() == cases
    assert len(log.events) + log.excluded_other_lifecycle == events
    assert log.excluded_after_as_of == 0


def test_only_bpic2012_has_non_complete_events(loaded: tuple[str, EventLog]) -> None:
    name, log = loaded
    if name == "bpic2012.xes.gz":
        assert log.excluded_other_lifecycle > 0
        assert any("with another transition" in str(w) for w in log.warnings)
    else:
        assert log.excluded_other_lifecycle == 0


def test_logs_are_sorted_and_typed(loaded: tuple[str, EventLog]) -> None:
    _, log = loaded
    events = log.events
    assert str(events["time_utc"].dtype) == "datetime64[ns, UTC]"
    assert events["case_id"].is_monotonic_increasing
    same_case = (events["case_id"] == events["case_id"].shift()).to_numpy()
    steps = events["time_utc"].diff().to_numpy()
    assert (steps[same_case] >= pd.Timedelta(0).to_timedelta64()).all()
    assert log.personal_data_columns == ()


def test_sepsis_csv_keeps_the_case_named_na(loaded: tuple[str, EventLog]) -> None:
    name, log = loaded
    if name.startswith("sepsis"):
        assert "NA" in log.cases.index
        assert (log.events["case_id"] == "NA").sum() > 0


def test_sepsis_csv_and_xes_agree(loaded: tuple[str, EventLog]) -> None:
    name, log = loaded
    if name != "sepsis.csv":
        return
    xes = read_log(LOGS / "sepsis.xes.gz")
    assert sorted(log.cases.index) == sorted(xes.cases.index)
    counts_csv = log.events["activity"].value_counts().sort_index()
    counts_xes = xes.events["activity"].value_counts().sort_index()
    assert counts_csv.to_dict() == counts_xes.to_dict()

"""The Children in Need census: read into the contract's vocabulary, personal fields never
read, and, with the DfE's clock and day counting, the ICPC judgements of rule 8675Q."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conformance import CheckConfig, judge, log_from_frame
from conformance.logio.censusfile import census_rules, is_census, read_census
from model.calendar import CalendarConfig, DayCounting
from model.errors import InputError
from model.procedure import load_procedure
from tests.conformance.census_data import (
    ENQUIRIES,
    PERSONAL_MARKERS,
    REFERENCE_DATE,
    dfe_on_time,
    rule_8675q,
    write_census,
)

ICPC = "icpc-within-15-working-days"


@pytest.fixture()
def census_file(tmp_path: Path) -> Path:
    return write_census(tmp_path / "cin_census_2025.xml")


def test_one_case_per_referral_with_dated_events(census_file: Path) -> None:
    census = read_census(census_file)
    assert census.reference_date == REFERENCE_DATE
    assert census.children == len(ENQUIRIES) and census.referrals == len(ENQUIRIES) + 1
    assert list(census.cases.index[:2]) == ["C001/2024-05-01", "C002/2024-06-03"]
    c001 = census.events[census.events["case_id"] == "C001/2024-05-01"]
    assert c001[["activity", "timestamp"]].values.tolist() == [
        ["Social care notified", "2024-05-01"],
        ["Statutory assessment started", "2024-05-01"],
        ["Strategy discussion held", "2024-05-02"],
        ["Section 47 enquiry started", "2024-05-02"],
        ["Initial child protection conference held", "2024-05-20"],
    ]
    closed = census.events[census.events["activity"] == "Case closed"]
    assert closed["case_id"].tolist() == ["C009/2024-04-15"]
    risk = census.cases["children_at_continuing_risk"]
    assert risk["C001/2024-05-01"] is True or bool(risk["C001/2024-05-01"])
    assert bool(risk["C007/2024-11-01"])  # ICPCnotRequired false, no conference: it is due
    assert not bool(risk["C009/2024-04-15"])  # not required
    assert pd.isna(risk["C012/2024-07-01"])  # not said
    assert pd.isna(risk["C009/2025-02-03"])  # no Section 47


def test_personal_fields_are_never_read(census_file: Path) -> None:
    census = read_census(census_file)
    everything = census.events.to_csv() + census.cases.to_csv() + repr(census)
    for marker in PERSONAL_MARKERS:
        assert marker in census_file.read_text(encoding="utf-8")
        assert marker not in everything


def test_a_census_is_recognised_by_its_root_element(census_file: Path, tmp_path: Path) -> None:
    assert is_census(census_file)
    other = tmp_path / "log.xml"
    other.write_text('<?xml version="1.0"?>\n<log xes.version="1.0"></log>\n', encoding="utf-8")
    assert not is_census(other)


def test_only_the_rules_a_census_can_evidence_are_judged() -> None:
    kept, skipped = census_rules(load_procedure().rules)
    assert [r.id for r in kept] == [ICPC]
    assert "Police notified" in skipped["police-and-social-care-notified"]
    assert "strategy discussion" in skipped["section-47-after-strategy-discussion"]


def _icpc(census_file: Path, as_of: str) -> pd.DataFrame:
    census = read_census(census_file)
    events = census.events.assign(time_utc=pd.to_datetime(census.events["timestamp"]),
                                  date_only=True)
    log = log_from_frame(events, census.cases, as_of=as_of)
    rules, _ = census_rules(load_procedure().rules)
    config = CheckConfig(calendar=CalendarConfig(day_counting=DayCounting.DAY1),
                         icpc_clock="section-47-start", as_of=pd.Timestamp(as_of))
    results = judge(log, rules, config).results
    results = results[results["rule_id"] == ICPC].copy()
    results["case_id"] = results["case_id"].astype(str)
    results["child"] = results["case_id"].str.split("/").str[0]
    return results


def test_icpc_judgements_are_rule_8675q_at_the_start_of_the_reference_date(
        census_file: Path) -> None:
    results = _icpc(census_file, f"{REFERENCE_DATE.isoformat()}T00:00:00")
    no_conference = results[(results["status"] == "violated")
                            & results["evidence_activity"].isna()]
    assert set(no_conference["child"]) == rule_8675q() == {"C007", "C011", "C013"}
    held = results[results["evidence_activity"].notna()]
    ours = dict(zip(held["child"], held["status"] == "satisfied", strict=True))
    assert ours == dfe_on_time()
    status = dict(zip(results["case_id"], results["status"].astype(str), strict=True))
    assert status["C008/2025-03-17"] == "pending"
    assert status["C010/2025-03-07"] == "pending"  # its 15th working day is 31 March
    assert status["C009/2024-04-15"] == "not_applicable"  # not required
    assert status["C012/2024-07-01"] == "not_assessable"  # ICPCnotRequired not given


def test_at_the_end_of_the_reference_date_the_boundary_case_is_overdue(census_file: Path) -> None:
    # The contract reads a date-only as-of as the end of that day; the validator judges at its
    # start. The one Section 47 whose 15th working day is the reference date is the difference.
    results = _icpc(census_file, f"{REFERENCE_DATE.isoformat()}T23:59:59.999999")
    overdue = set(results[(results["status"] == "violated")
                          & results["evidence_activity"].isna()]["child"])
    assert overdue == rule_8675q() | {"C010"}


def test_broken_census_files_name_line_and_element(tmp_path: Path) -> None:
    path = write_census(tmp_path / "census.xml")
    text = path.read_text(encoding="utf-8")
    text = text.replace("<S47ActualStartDate>2024-06-11</S47ActualStartDate>",
                        "<S47ActualStartDate>11th June</S47ActualStartDate>")
    text = text.replace("<ICPCnotRequired>0</ICPCnotRequired>",
                        "<ICPCnotRequired>maybe</ICPCnotRequired>")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_census(path)
    problems = [str(p) for p in error.value.problems]
    assert any("<S47ActualStartDate>" in p and "'11th June'" in p and "line " in p
               for p in problems)
    assert any("<ICPCnotRequired>" in p and "'maybe'" in p for p in problems)


def test_a_census_with_a_doctype_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "census.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY x "y">]>\n'
                    "<Message><Header/></Message>\n", encoding="utf-8")
    with pytest.raises(InputError, match="DOCTYPE"):
        read_census(path)


# ------------------------------------------------------------------ lscb check on a census


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from lscb.cli import main

    status = main(["check", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_lscb_check_gives_the_dfe_icpc_figure_when_asked(
        capsys: pytest.CaptureFixture[str], census_file: Path, tmp_path: Path) -> None:
    held = dfe_on_time()  # all the conferences of the file are in the census year
    on_time = sum(held.values())
    status, out, err = _cli(capsys, str(census_file), "--icpc-clock", "section-47-start",
                            "--day-counting", "day1", "--fitness", "none",
                            "--out", str(tmp_path / "out"))
    assert status == 1, err
    coverage = out[: out.index("\n\n")]
    assert f"{on_time} of {len(held)} conferences, {100 * on_time / len(held):.1f}%" in coverage
    assert "ReferenceDate, 31/03/2025, read as the end of that day" in coverage
    assert "Not judged from this source" in coverage and "police-and-social-care-notified" in (
        coverage)
    # Asked differently (the procedure's clock), the figure is not called the DfE's.
    status, out, _ = _cli(capsys, str(census_file), "--fitness", "none")
    assert "the DfE's way" not in out and "--icpc-clock section-47-start" in out
    # Personal fields never reach an output.
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir())
    for marker in PERSONAL_MARKERS:
        assert marker not in written and marker not in out


def test_lscb_check_json_flags_what_8675q_queries(
        capsys: pytest.CaptureFixture[str], census_file: Path) -> None:
    status, out, err = _cli(capsys, str(census_file), "--icpc-clock", "section-47-start",
                            "--day-counting", "day1", "--fitness", "none", "--format", "json",
                            "--as-of", f"{REFERENCE_DATE.isoformat()}T00:00:00")
    assert status == 1, err
    import json

    report = json.loads(out)
    no_conference = {d["case_id"].split("/")[0] for d in report["deviations"]
                     if d["rule_id"] == ICPC and not d["evidence_activity"]}
    assert no_conference == rule_8675q()
    dfe = report["coverage"]["census"]["dfe_icpc"]
    assert (dfe["on_time"], dfe["held"]) == (sum(dfe_on_time().values()), len(dfe_on_time()))
    assert [row["rule_id"] for row in report["summary"]] == [ICPC]


def test_the_limits_on_a_log_hold_for_a_census(census_file: Path, tmp_path: Path) -> None:
    """Events, bytes and the length of one value, as for XES: each refusal names the limit,
    what was found and the option that raises it."""
    from conformance.logio import Limits, ReadOptions, read_log

    events = len(read_census(census_file).events)
    assert len(read_census(census_file, Limits(max_events=events)).events) == events
    with pytest.raises(InputError) as error:
        read_census(census_file, Limits(max_events=events - 1))
    assert f"expected at most {events - 1:,} events (the limit; --max-events raises it)" in str(
        error.value)
    with pytest.raises(InputError) as error:  # stopped while streaming, at the 6th event
        read_census(census_file, Limits(max_events=5))
    assert "found more events (the 6th by line" in str(error.value)
    size = census_file.stat().st_size
    with pytest.raises(InputError) as error:  # through read_log, as lscb check reads it
        read_log(census_file, ReadOptions(limits=Limits(max_input_bytes=size - 1)))
    assert "--max-input-bytes raises it" in str(error.value)
    long_value = tmp_path / "long.xml"
    long_value.write_text(census_file.read_text(encoding="utf-8").replace(
        "<SerialNo>001</SerialNo>", f"<SerialNo>{'9' * 200_000}</SerialNo>"), encoding="utf-8")
    assert len(read_census(long_value).events) == events  # the default allows it
    with pytest.raises(InputError) as error:
        read_census(long_value, Limits(max_field_bytes=1_000))
    assert "--max-field-bytes raises it" in str(error.value)


def test_elements_the_reader_does_not_need_are_skipped_whole(census_file: Path,
                                                             tmp_path: Path) -> None:
    """A dated element inside an element the reader skips is not read (the census's structure
    puts none there), and the rest reads the same."""
    text = census_file.read_text(encoding="utf-8")
    nested = tmp_path / "nested.xml"
    assert "<CINdetails>" in text
    nested.write_text(text.replace(
        "<CINdetails>",
        "<CINdetails><Extra><CINreferralDate>2020-05-01</CINreferralDate>"
        "<CINclosureDate>2020-06-01</CINclosureDate></Extra>"), encoding="utf-8")
    pd.testing.assert_frame_equal(read_census(nested).events, read_census(census_file).events)

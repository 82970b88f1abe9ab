"""A council's extract as it is handed over (cp1252, CRLF, UK dates with and without times, Y/N
flags with blanks and "Not recorded", local step names, an ignored local step) and its .xlsx
twin: ``lscb check`` with a mapping file gives the same judgements from both, and they are the
ones worked out by hand in ``council_data.expected``. Then the three routes that used to give a
wrong answer without a word, each of which now warns or stops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lscb.cli import main
from tests.cli.council_data import AS_OF, MAPPING, ROWS, expected, write_extract, write_workbook

RULES = ("escalated-same-working-day", "lado-same-day", "icpc-within-15-working-days")
STATUSES = ("satisfied", "violated", "pending", "not_applicable", "not_assessable")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status, out, err = run(capsys, *args, "--format", "json", "--fitness", "none")
    assert status in (0, 1), err
    return status, json.loads(out)


@pytest.fixture()
def extract(tmp_path: Path) -> tuple[Path, Path, Path]:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return (write_extract(tmp_path / "extract.csv"), write_workbook(tmp_path / "extract.xlsx"),
            mapping)


def outcome(report: dict[str, Any]) -> tuple[set[tuple[str, str]], dict[str, dict[str, int]]]:
    """The three rules' deviations (case, rule) and their counts per status."""
    violated = {(d["case_id"], d["rule_id"]) for d in report["deviations"]
                if d["rule_id"] in RULES}
    counts = {row["rule_id"]: {s: row[s] for s in STATUSES}
              for row in report["summary"] if row["rule_id"] in RULES}
    return violated, counts


def hand_calculation() -> tuple[set[tuple[str, str]], dict[str, dict[str, int]]]:
    want = expected()
    cases = len({row[0] for row in ROWS})
    counts = {}
    for rule in RULES:
        per = {s: sum(1 for (_, r), v in want.items() if r == rule and v == s) for s in STATUSES}
        per["not_applicable"] = cases - sum(v for s, v in per.items() if s != "not_applicable")
        counts[rule] = per
    return {k for k, v in want.items() if v == "violated"}, counts


def test_the_extract_is_what_it_claims(extract: tuple[Path, Path, Path]) -> None:
    csv_path, _, _ = extract
    raw = csv_path.read_bytes()
    assert b"\r\n" in raw and b"\x96" in raw  # CRLF and a cp1252 en dash
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "09/12/2024 10:15" in text and ",09/12/2024," in text  # date-times and dates
    assert ",Y," in text and ",N," in text and "Not recorded" in text and "Case note" in text


def test_csv_and_xlsx_give_the_same_judgements_as_the_hand_calculation(
        capsys: pytest.CaptureFixture[str], extract: tuple[Path, Path, Path]) -> None:
    csv_path, xlsx_path, mapping = extract
    reports = []
    for path in (csv_path, xlsx_path):
        status, report = check_json(capsys, str(path), "--mapping", str(mapping),
                                    "--as-of", AS_OF)
        assert status == 1  # W2, W3, W5 and R2 break rules of severity violation
        reports.append(report)
    from_csv, from_xlsx = reports
    want = hand_calculation()
    assert want[0] == {("W2", "escalated-same-working-day"), ("W5", "escalated-same-working-day"),
                       ("W3", "lado-same-day"), ("R2", "icpc-within-15-working-days")}
    assert outcome(from_csv) == want
    assert outcome(from_xlsx) == want
    # Not just these rules: every deviation and every count agrees.
    assert from_csv["deviations"] == from_xlsx["deviations"]
    assert from_csv["summary"] == from_xlsx["summary"]
    coverage = from_csv["coverage"]
    ignored = sum(1 for row in ROWS if row[1] == "Case note")
    assert coverage["events_read"] == len(ROWS)
    assert coverage["events_ignored"] == {"Case note": ignored}
    assert coverage["events_mapped"] == len(ROWS) - ignored
    assert coverage["unmatched_mapping_entries"] == []
    assert coverage["rows_skipped"] == 0


def test_the_summary_starts_with_coverage(
        capsys: pytest.CaptureFixture[str], extract: tuple[Path, Path, Path]) -> None:
    csv_path, _, mapping = extract
    status, out, _ = run(capsys, str(csv_path), "--mapping", str(mapping), "--as-of", AS_OF,
                         "--fitness", "none")
    assert status == 1
    first = out.splitlines()[0]
    assert first.startswith("Coverage")
    head = out[: out.index("\n\n")]
    assert "Case note" in head and "left out (the mapping's ignore list)" in head
    assert "as of 28/02/2025 17:00" in head.lower() or "2025-02-28 17:00" in head
    assert "given with --as-of" in head
    assert "day first" in head


# ----------------------------------------------------------------- the three silent routes


def test_route_1_mixed_dates_are_read_day_first_not_as_september(
        capsys: pytest.CaptureFixture[str], extract: tuple[Path, Path, Path]) -> None:
    # With --timestamp-format mixed, 09/12/2024 used to be 12 September and ICPC compliance
    # came out wrong without a word. 'mixed' now means the automatic, day-first reader.
    csv_path, _, mapping = extract
    _, plain = check_json(capsys, str(csv_path), "--mapping", str(mapping), "--as-of", AS_OF)
    _, mixed = check_json(capsys, str(csv_path), "--mapping", str(mapping), "--as-of", AS_OF,
                          "--timestamp-format", "mixed")
    assert mixed["deviations"] == plain["deviations"]
    assert outcome(mixed) == hand_calculation()


def test_route_2_a_mapping_that_maps_nothing_stops_the_check(
        capsys: pytest.CaptureFixture[str], extract: tuple[Path, Path, Path],
        tmp_path: Path) -> None:
    csv_path, _, _ = extract
    # No activities section at all: most events are outside the vocabulary.
    columns_only = tmp_path / "columns_only.yaml"
    columns_only.write_text(MAPPING[: MAPPING.index("activities:")]
                            + MAPPING[MAPPING.index("values:"):], encoding="utf-8")
    status, out, err = run(capsys, str(csv_path), "--mapping", str(columns_only),
                           "--as-of", AS_OF)
    assert status == 2 and out == ""
    assert "of the log's events" in err and "'Concern raised'" in err
    assert "--mapping" in err and "--no-contract-rules" in err
    # A misspelt local name is named at the top of the output, with the name the log has.
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(MAPPING.replace('"LADO referral"', '"LADO refferal"'), encoding="utf-8")
    status, out, err = run(capsys, str(csv_path), "--mapping", str(misspelt), "--as-of", AS_OF,
                           "--fitness", "none")
    head = out[: out.index("\n\n")]
    assert "'LADO refferal'" in head and "the log has 'LADO referral'" in head


def test_route_2_a_log_of_another_process_is_not_given_a_clean_bill(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A loan process (as the public bpic2012 log is): no event is a step of the procedure.
    path = tmp_path / "loans.csv"
    path.write_text("case_id,activity,timestamp\n"
                    + "".join(f"L{i},A_SUBMITTED,2024-01-0{1 + i % 5}T10:00\n"
                              f"L{i},A_ACCEPTED,2024-01-0{1 + i % 5}T11:00\n" for i in range(20)),
                    encoding="utf-8")
    status, out, err = run(capsys, str(path))
    assert status == 2 and out == ""
    assert "0% of the log's events" in err or "none of the log's events" in err
    assert "'A_SUBMITTED'" in err


def test_route_3_one_us_date_in_a_uk_file_stops_with_the_row_named(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "uk.csv"
    path.write_text(
        "case_id,activity,timestamp\n"
        "W1,Concern identified,13/11/2024 09:00\n"
        "W1,Line manager informed,13/11/2024 10:00\n"
        "W1,LADO contacted,11/14/2024\n"
        "W2,Concern identified,02/12/2024 09:00\n", encoding="utf-8")
    status, out, err = run(capsys, str(path))
    assert status == 2 and out == ""
    assert "line 4" in err and "'11/14/2024'" in err and "day first" in err


def test_route_3_a_step_weeks_before_its_case_started_is_a_warning_naming_the_case(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # 05/12 read day first is 5 December, but the writer meant 12 May: the step then lies
    # months before the concern. Nothing in the column proves the order, so only its place
    # in the case can show it.
    path = tmp_path / "swapped.csv"
    path.write_text(
        "case_id,activity,timestamp\n"
        "W1,Concern identified,06/05/2024 09:00\n"
        "W1,Line manager informed,06/05/2024 10:00\n"
        "W2,Concern identified,10/05/2024 09:00\n"
        "W2,Line manager informed,05/02/2024 10:00\n", encoding="utf-8")
    status, out, err = run(capsys, str(path), "--fitness", "none")
    assert status in (0, 1) and err == ""
    assert "W2" in out and "before the case's 'Concern identified'" in out
    assert "day and month swapped" in out


def test_a_century_ahead_does_not_move_the_as_of_time_silently(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text(
        "case_id,activity,timestamp\n"
        "W1,Concern identified,2024-05-06T09:00\n"
        "W1,Line manager informed,2024-05-06T10:00\n"
        "W2,Concern identified,2024-05-07T09:00\n"
        "W2,Line manager informed,2124-05-07T10:00\n", encoding="utf-8")
    status, out, _ = run(capsys, str(path), "--fitness", "none")
    assert status in (0, 1)
    head = out[: out.index("\n\n")]
    assert "the latest timestamp in the log" in head
    assert "W2" in head and "--as-of" in head


def test_route_2_the_public_road_fines_log_needs_its_own_rules(
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import PUBLIC_LOGS

    log = PUBLIC_LOGS / "road-traffic-fines-100.xes"
    status, out, err = run(capsys, str(log))
    assert status == 2 and out == ""
    assert "none of the log's events (0 of 390)" in err and "'Create Fine' (100)" in err
    assert "--no-contract-rules --rules FILE.yaml" in err

"""Rows that cannot be read: strict by default (every problem, exit 2), and with
``--on-bad-rows skip`` left out, each listed in rejects.csv, the count in every summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lscb.cli import main

LOG = (
    "case_id,activity,timestamp,alleged_is_child,child_name\n"
    "A,Concern identified,2024-05-06T09:00,false,Ann\n"   # line 2
    "A,Line manager informed,2024-05-06T10:00,false,Ann\n"  # line 3
    "B,Concern identified,31/02/2024 09:00,false,Bob\n"   # line 4: no 31 February
    "B,Line manager informed,2024-05-07T10:00\n"           # line 5: too few fields
    ",Concern identified,2024-05-07T10:00,false,Cy\n"     # line 6: no case id
    "C,Concern identified,2024-05-08T09:00,perhaps,Cy\n"  # line 7: not a flag
    "C,Line manager informed,2024-05-08T10:00,false,\n"   # line 8
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_strict_by_default_every_problem_listed(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    status, out, err = run(capsys, str(path), "--fitness", "none")
    assert status == 2 and out == ""
    assert "line 5: expected 5 fields" in err  # the CSV reader stops at a ragged line first


def test_skip_leaves_rows_out_lists_them_and_counts_them(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    status, out, err = run(capsys, str(path), "--on-bad-rows", "skip", "--fitness", "none")
    assert status == 2 and "--out DIR" in err  # the rejects need somewhere to go
    out_dir = tmp_path / "out"
    status, out, err = run(capsys, str(path), "--on-bad-rows", "skip", "--fitness", "none",
                           "--out", str(out_dir))
    assert status in (0, 1), err
    assert "4 rows that could not be read left out (listed in rejects.csv)" in out
    with (out_dir / "rejects.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["line"], r["column"]) for r in rows] == [
        ("4", "timestamp"), ("5", ""), ("6", "case_id"), ("7", "alleged_is_child")]
    assert rows[0]["value"] == "31/02/2024 09:00" and rows[3]["value"] == "perhaps"
    assert "different number of fields" in rows[1]["problem"]
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["coverage"]["rows_skipped"] == 4
    assert summary["coverage"]["rows_read"] == 7
    # The kept rows keep their own line numbers after a left-out line.
    assert summary["cases"] == 2


def test_a_personal_data_column_is_never_copied_into_the_rejects(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("case_id,activity,date_of_birth\nA,Concern identified,born in May\n"
                    "A,Line manager informed,2024-05-06T10:00\n"
                    "A,Concern identified,2024-05-06T09:00\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    status, out, err = run(capsys, str(path), "--timestamp-column", "date_of_birth",
                           "--on-bad-rows", "skip", "--fitness", "none", "--out", str(out_dir))
    assert status in (0, 1), err
    text = (out_dir / "rejects.csv").read_text(encoding="utf-8")
    assert "2,date_of_birth," in text and "born" not in text and "born" not in out


def _option_strings(parser: object) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}  # type: ignore[attr-defined]


def test_report_audit_takes_every_input_option_check_takes() -> None:
    import argparse

    from lscb.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    check = _option_strings(sub.choices["check"])
    report = next(a for a in sub.choices["report"]._actions
                  if isinstance(a, argparse._SubParsersAction))
    audit = _option_strings(report.choices["audit"])
    inputs = {"--mapping", "--timestamp-format", "--date-order", "--encoding", "--delimiter",
              "--sheet", "--rules", "--no-contract-rules", "--config", "--as-of",
              "--on-bad-rows", "--case-column", "--activity-column", "--timestamp-column",
              "--resource-column", "--icpc-clock", "--day-counting"}
    assert inputs <= check
    # Every option of check but its outputs and fitness is an option of report audit too.
    own = {"--format", "--out", "--fitness", "--quiet", "--procedure", "-h", "--help"}
    assert check - own <= audit

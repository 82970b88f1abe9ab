"""``lscb report audit --on-bad-rows skip``: the rows left out are listed beside the report
(``audit.html`` -> ``audit-rejects.csv``), as ``lscb check`` lists them in rejects.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lscb.cli import main
from tests.cli.test_bad_rows import LOG


def test_report_audit_writes_the_rejects_beside_the_report(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    out = tmp_path / "reports" / "audit.html"
    status = main(["report", "audit", str(log), "--on-bad-rows", "skip", "--out", str(out)])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    rejects = tmp_path / "reports" / "audit-rejects.csv"
    assert out.is_file() and rejects.is_file()
    assert f"Wrote {rejects}: 4 row(s) that could not be read, left out" in printed.out
    with rejects.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    # the same lines, columns and values as lscb check's rejects.csv (tests/cli/test_bad_rows.py)
    assert [(r["line"], r["column"]) for r in rows] == [
        ("4", "timestamp"), ("5", ""), ("6", "case_id"), ("7", "alleged_is_child")]
    assert rows[0]["value"] == "31/02/2024 09:00" and rows[3]["value"] == "perhaps"
    check_out = tmp_path / "check"
    assert main(["check", str(log), "--on-bad-rows", "skip", "--fitness", "none",
                 "--out", str(check_out)]) in (0, 1)
    assert rejects.read_bytes() == (check_out / "rejects.csv").read_bytes()
    text = out.read_text(encoding="utf-8")
    assert "rejects file" in text  # the report's coverage block says where they went


def test_an_existing_rejects_file_is_not_replaced_without_force(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    (tmp_path / "audit-rejects.csv").write_text("mine\n", encoding="utf-8")
    status = main(["report", "audit", str(log), "--on-bad-rows", "skip",
                   "--out", str(tmp_path / "audit.html")])
    err = capsys.readouterr().err
    assert status == 2 and "audit-rejects.csv" in err and "--force" in err
    assert (tmp_path / "audit-rejects.csv").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "audit.html").exists()  # refused before any work

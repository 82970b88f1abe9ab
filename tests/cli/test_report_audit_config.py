"""``lscb report audit --config``: the configuration file's ``[log]`` table says how to read the
log, for the audit as for ``lscb check`` (and for the rows the audit leaves out)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lscb.cli import main

# timestamps written as no reader guesses: only the [log] table's format reads them
LOG = (
    "case_id,activity,timestamp\n"
    "A,Concern identified,20240506 0900\n"     # line 2
    "A,Line manager informed,20240506 1000\n"  # line 3
    "B,Concern identified,20240507 0900\n"     # line 4
    "B,Line manager informed,20240231 1000\n"  # line 5: no 31 February
)
CONFIG = '[log]\ntimestamp_format = "%Y%m%d %H%M"\n'


def test_report_audit_reads_the_log_as_the_config_file_says_as_check_does(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from lscb.reporting.audits import audit

    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    config = tmp_path / "check.toml"
    config.write_text(CONFIG, encoding="utf-8")
    # without the file, the log cannot be read: every timestamp is refused
    assert main(["check", str(log), "--fitness", "none", "--on-bad-rows", "skip",
                 "--out", str(tmp_path / "bare")]) == 2
    assert "lines 2, 3, 4, 5, column 'timestamp'" in capsys.readouterr().err

    check_out = tmp_path / "check"
    status = main(["check", str(log), "--config", str(config), "--fitness", "none",
                   "--on-bad-rows", "skip", "--out", str(check_out)])
    assert status in (0, 1), capsys.readouterr().err
    out = tmp_path / "reports" / "audit.html"
    status = main(["report", "audit", str(log), "--config", str(config),
                   "--on-bad-rows", "skip", "--out", str(out)])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    rejects = out.with_name("audit-rejects.csv")
    assert f"Wrote {rejects}: 1 row(s) that could not be read, left out" in printed.out
    # the same row left out, for the same reason, as lscb check's
    assert rejects.read_bytes() == (check_out / "rejects.csv").read_bytes()
    with rejects.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["line"], r["column"], r["value"]) for r in rows] == [
        ("5", "timestamp", "20240231 1000")]
    assert "in the format %Y%m%d %H%M" in rows[0]["problem"]

    # the audit's judgements are lscb check's
    summary = json.loads((check_out / "summary.json").read_text(encoding="utf-8"))
    report = audit(log, config_path=config, fitness_method="none",
                   log_columns={"on_bad_rows": "skip"})
    assert (int(report.judgement.cases), int(report.judgement.events)) == (2, 3)
    assert summary["coverage"]["rows_read"] == 4 and summary["coverage"]["rows_skipped"] == 1
    with (check_out / "deviations.csv").open(encoding="utf-8", newline="") as stream:
        checked = sorted((r["case_id"], r["rule_id"]) for r in csv.DictReader(stream))
    audited = sorted(zip(report.deviations["case_id"].astype(str),
                         report.deviations["rule_id"].astype(str), strict=True))
    assert audited == checked and checked
    html = out.read_text(encoding="utf-8")
    assert "2 cases and 3 events" in html

"""`lscb check` and `lscb pseudonymise` end to end (conformance/cli.py), in-process and once as a
subprocess."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lscb.cli import main
from model import contract
from tests.conftest import PUBLIC_LOGS

DATA = Path(__file__).parents[1] / "data" / "check"
EVERY_RULE = DATA / "every_rule.csv"
AS_OF = "2024-03-01T12:00:00"
ROAD_FINES = PUBLIC_LOGS / "road-traffic-fines-100.xes"

# every_rule.csv was written by hand so that each rule of CONTRACT §5 is violated at least once
# (and satisfied, pending, not applicable or not assessable elsewhere). The cases:
#   W1  a workplace case done by the book
#   W2  escalated late (Friday 16:30 -> Monday), line manager told although implicated, computer
#       secured late then used, images downloaded, police 40 minutes late (a warning), no access
#       details, employee actions agreed before the LADO was contacted
#   W3  senior manager told; police and LADO only the next day
#   W4  still open at the as-of time (its "Actions agreed with police" comes after it)
#   R1  a referral case done by the book, ICPC on working day 14
#   R2  police only; family told before the discussion; Section 47 before the strategy
#       discussion, which came before information was shared; ICPC 6 working days late; the
#       alleged child's procedure never started
#   R3  outcome 21 recorded for an adult; no national services; no allegations procedure;
#       an activity outside the vocabulary ("Coffee break")
#   R4  date-only events: the family is told on the same date as the discussion, listed first
EXPECTED = {
    ("W2", "escalated-same-working-day"),
    ("W2", "line-manager-bypassed-when-implicated"),
    ("W2", "computer-secured-same-working-day"),
    ("W2", "secured-computer-not-used"),
    ("W2", "no-image-handling"),
    ("W2", "police-immediately"),
    ("W2", "access-details-provided"),
    ("W2", "employee-actions-after-lado"),
    ("W3", "lado-same-day"),
    ("W3", "police-immediately"),
    ("W3", "police-same-working-day"),
    ("R2", "police-and-social-care-notified"),
    ("R2", "discuss-before-informing-family"),
    ("R2", "information-shared-before-strategy-discussion"),
    ("R2", "section-47-after-strategy-discussion"),
    ("R2", "icpc-within-15-working-days"),
    ("R2", "child-alleged-procedure"),
    ("R3", "outcome-21-only-for-young-people"),
    ("R3", "unidentified-child-investigation"),
    ("R3", "allegations-procedure-when-working-with-children"),
}
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["check", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = check(capsys, *argv, "--format", "json")
    return status, json.loads(out)


def subset(tmp_path: Path, cases: set[str], name: str = "subset.csv") -> Path:
    """The rows of every_rule.csv for some of its cases."""
    lines = EVERY_RULE.read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] in cases]
    path = tmp_path / name
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_every_contract_rule_gives_exactly_the_expected_deviations(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, report = check_json(capsys, str(EVERY_RULE), "--as-of", AS_OF, "--fitness", "none")
    assert status == 1
    assert list(report)[:3] == ["as_of", "cases", "deviations"]
    assert report["as_of"] == "2024-03-01T12:00:00+00:00"
    assert report["cases"] == 8
    found = {(d["case_id"], d["rule_id"]) for d in report["deviations"]}
    assert found == EXPECTED
    assert len(report["deviations"]) == len(EXPECTED)  # one per violated rule per case
    assert {rule for _, rule in found} == set(contract.RULE_IDS)
    for deviation in report["deviations"]:
        assert {"case_id", "rule_id", "clause", "severity", "message"} <= set(deviation)
        assert deviation["severity"] in ("violation", "warning")
        assert deviation["message"]
    # Ordered by case (as the cases first appear in the file), then by the rules' order.
    cases = ["W1", "W2", "W3", "W4", "R1", "R2", "R3", "R4"]
    keys = [(cases.index(d["case_id"]), contract.RULE_IDS.index(d["rule_id"]))
            for d in report["deviations"]]
    assert keys == sorted(keys)


def test_json_carries_evidence_lateness_and_what_could_not_be_judged(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, report = check_json(capsys, str(EVERY_RULE), "--as-of", AS_OF)
    by_key = {(d["case_id"], d["rule_id"]): d for d in report["deviations"]}
    minutes = by_key[("W2", "police-immediately")]
    assert minutes["lateness"] == "< 1 h"
    assert minutes["late_hours"] == pytest.approx(2 / 3, abs=1e-3)
    weeks = by_key[("R2", "icpc-within-15-working-days")]
    assert (weeks["late_working_days"], weeks["lateness"]) == (6, "6-15 working days")
    assert weeks["deadline"] == "2024-01-30T23:59:59.999999+00:00"
    assert weeks["trigger_activity"] == "Strategy discussion held"
    assert weeks["evidence_time"] == "2024-02-07T10:00:00+00:00"
    summary = {row["rule_id"]: row for row in report["summary"]}
    assert [row["rule_id"] for row in report["summary"]] == list(contract.RULE_IDS)
    assert summary["police-same-working-day"]["pending"] == 1  # W4, deadline after as-of
    assert summary["unidentified-child-investigation"]["not_assessable"] == 5
    assert summary["no-image-handling"]["compliance"] == pytest.approx(7 / 8)
    kinds = {w["kind"] for w in report["warnings"]}
    assert {"date_only", "not_assessable", "pending", "unknown_activity", "after_as_of"} <= kinds
    assert report["fitness"]["method"] == "replay"
    assert report["fitness"]["cases"] == 8


def test_exit_status_0_without_violations_even_with_warnings(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clean = subset(tmp_path, {"W1", "R1"})
    status, report = check_json(capsys, str(clean), "--fitness", "none")
    assert (status, report["deviations"]) == (0, [])
    # Only a warning-severity rule violated (police 40 minutes late): still 0.
    warned = tmp_path / "warned.csv"
    rows = clean.read_text(encoding="utf-8").replace(
        "W1,Police notified,2024-01-08T10:15:00", "W1,Police notified,2024-01-08T11:00:00")
    warned.write_text(rows, encoding="utf-8")
    status, report = check_json(capsys, str(warned), "--fitness", "none")
    assert status == 0
    assert [(d["case_id"], d["rule_id"], d["severity"]) for d in report["deviations"]] == [
        ("W1", "police-immediately", "warning")]


def test_text_summary_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = check(capsys, str(EVERY_RULE), "--as-of", AS_OF)
    assert status == 1
    assert err == ""  # no progress bar or chatter when standard error is not a terminal
    assert "Checked 8 cases" in out
    for rule_id in contract.RULE_IDS:
        assert rule_id in out
    assert "87.5%" in out  # no-image-handling: 7 of 8
    assert "Control-flow fitness against the model:" in out
    assert "'Coffee break' (1 event)" in out
    assert "rests on events known only to the day" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("extra", "shown"), [
    ((), True), (("--quiet",), False), (("--format", "json"), False)])
def test_progress_bar_only_on_a_terminal_for_large_logs(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        extra: tuple[str, ...], shown: bool) -> None:
    from lscb.commands import check as cli

    monkeypatch.setattr(cli, "LARGE_LOG_BYTES", 0)  # every log counts as large
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = main(["check", str(EVERY_RULE), "--as-of", AS_OF, *extra])
    capsys.readouterr()
    assert status == 1
    if shown:
        assert "judging the rules" in terminal.getvalue()
        assert "fitness" in terminal.getvalue()
    else:
        assert terminal.getvalue() == ""


def test_broken_file_exits_2_naming_file_line_and_column(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "case_id,activity,timestamp\n"
        "A,Concern identified,2024-01-08T09:00:00\n"
        "A,Line manager informed,yesterday afternoon\n",
        encoding="utf-8",
    )
    status, out, err = check(capsys, str(broken))
    assert status == 2
    assert out == ""
    assert "broken.csv" in err
    assert "line 3" in err and "column 'timestamp'" in err
    assert "yesterday" not in err  # raw values from a log never appear in messages
    status, _, err = check(capsys, str(tmp_path / "missing.csv"))
    assert status == 2 and "missing.csv" in err


def test_bad_options_and_rules_files_exit_2(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    status, _, err = check(capsys, str(EVERY_RULE), "--no-contract-rules")
    assert status == 2 and "--no-contract-rules" in err
    rules = tmp_path / "bad-rules.yaml"
    rules.write_text("rules:\n  - id: x\n    clause: local\n    severity: fatal\n"
                     "    template: absence\n    activity: Case closed\n", encoding="utf-8")
    status, _, err = check(capsys, str(EVERY_RULE), "--rules", str(rules))
    assert status == 2
    assert "bad-rules.yaml" in err and "line 4" in err and "severity" in err


def test_command_line_overrides_the_config_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "check.toml"
    config.write_text(f'as_of = "{AS_OF}"\n[calendar]\nclose_of_business = "16:00"\n',
                      encoding="utf-8")
    late = ("W2", "escalated-same-working-day")  # concern on a Friday at 16:30
    _, by_file = check_json(capsys, str(EVERY_RULE), "--config", str(config), "--fitness", "none")
    assert by_file["as_of"] == "2024-03-01T12:00:00+00:00"
    found = {(d["case_id"], d["rule_id"]) for d in by_file["deviations"]}
    assert found == EXPECTED - {late}  # after close of business: Monday's end is the deadline
    _, by_option = check_json(capsys, str(EVERY_RULE), "--config", str(config),
                              "--close-of-business", "17:00", "--fitness", "none")
    assert {(d["case_id"], d["rule_id"]) for d in by_option["deviations"]} == EXPECTED
    status, _, err = check(capsys, str(EVERY_RULE), "--close-of-business", "25:99")
    assert status == 2 and "--close-of-business" in err and "25:99" in err
    config.write_text('[calendar]\nclose_of_busines = "16:00"\n', encoding="utf-8")
    status, _, err = check(capsys, str(EVERY_RULE), "--config", str(config))
    assert status == 2 and "check.toml" in err and "calendar.close_of_busines" in err


def test_out_writes_four_files_and_a_self_contained_html(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    status, out, _ = check(capsys, str(EVERY_RULE), "--as-of", AS_OF, "--out", str(out_dir))
    assert status == 1
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "cases.csv", "deviations.csv", "report.html", "summary.json"]
    assert "Wrote deviations.csv, cases.csv, summary.json, report.html" in out
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert EXTERNAL.search(page) is None
    assert "http://" not in page and "https://" not in page
    assert page.count('<img src="data:image/png;base64,') == 3  # rules, months, lateness
    assert page.count('<svg class="timeline"') == 4  # W2, W3, R2, R3
    assert "Compliance per rule by month" in page
    deviations = pd.read_csv(out_dir / "deviations.csv", keep_default_na=False)
    assert set(zip(deviations["case_id"], deviations["rule_id"], strict=True)) == EXPECTED
    cases = pd.read_csv(out_dir / "cases.csv", keep_default_na=False, dtype=str)
    assert cases["case_id"].tolist() == ["W1", "W2", "W3", "W4", "R1", "R2", "R3", "R4"]
    w2 = cases.set_index("case_id").loc["W2"]
    assert (w2["route"], w2["violations"], w2["warnings"], w2["closed"]) == (
        "workplace", "6", "2", "true")
    assert cases.set_index("case_id").loc["W4", "closed"] == "false"
    assert cases.set_index("case_id").loc["R2", "route"] == "referral"
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["deviations"]) == len(EXPECTED)


def test_spreadsheet_formulas_are_neutralised_in_csv(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "formulas.csv"
    with log.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["case_id", "activity", "timestamp"])
        for case in ('=HYPERLINK("x","click")', "+1", "-2", "@SUM(A1)", "plain"):
            writer.writerow([case, "Images downloaded or distributed", "2024-01-08T09:00:00"])
            writer.writerow([case, "Case closed", "2024-01-09T09:00:00"])
    out_dir = tmp_path / "out"
    status, _, _ = check(capsys, str(log), "--out", str(out_dir), "--fitness", "none")
    assert status == 1
    with (out_dir / "deviations.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["case_id"] for r in rows] == [
        "'=HYPERLINK(\"x\",\"click\")", "'+1", "'-2", "'@SUM(A1)", "plain"]
    with (out_dir / "cases.csv").open(encoding="utf-8", newline="") as handle:
        cases = list(csv.DictReader(handle))
    assert cases[0]["case_id"].startswith("'=")
    assert cases[0]["events"] == "2"  # numbers stay numbers
    # The JSON carries the ids as they are: it is not read by spreadsheets.
    _, report = check_json(capsys, str(log), "--fitness", "none")
    assert report["deviations"][0]["case_id"] == '=HYPERLINK("x","click")'


def test_subprocess_json_and_exit_status() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lscb", "check", str(EVERY_RULE), "--as-of", AS_OF,
         "--format", "json", "--fitness", "none"],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert {(d["case_id"], d["rule_id"]) for d in report["deviations"]} == EXPECTED


def _road_fines_events() -> pd.DataFrame:
    """The XES file read with the standard library: case, activity, time (UTC)."""
    rows = []
    for trace in ET.parse(ROAD_FINES).getroot().iter("trace"):
        case = next(s.get("value") for s in trace.findall("string")
                    if s.get("key") == "concept:name")
        for event in trace.iter("event"):
            fields = {e.get("key"): e.get("value") for e in event}
            rows.append((case, fields["concept:name"], fields["time:timestamp"]))
    frame = pd.DataFrame(rows, columns=["case", "activity", "time"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    return frame


def test_user_rules_file_judged_like_the_contracts(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    events = _road_fines_events()
    activities = sorted(events["activity"].unique())
    rules = tmp_path / "fines.yaml"
    rules.write_text(
        "activities:\n" + "".join(f"  - {a}\n" for a in activities)
        + "rules:\n"
        "  - id: send-fine-within-90-days\n"
        "    clause: local\n"
        "    severity: violation\n"
        "    template: response\n"
        "    trigger: Create Fine\n"
        "    require: [Send Fine]\n"
        "    within: 90 days\n",
        encoding="utf-8",
    )
    status, report = check_json(capsys, str(ROAD_FINES), "--rules", str(rules),
                                "--no-contract-rules", "--fitness", "auto")
    # The same rule in plain pandas: 90 calendar days from the Europe/London date of the first
    # "Create Fine"; met by the first "Send Fine" at or before the end of that day.
    as_of = events["time"].max()
    first = events.groupby(["case", "activity"])["time"].min().unstack()
    created = first["Create Fine"].dropna()
    local_day = created.dt.tz_convert("Europe/London").dt.normalize().dt.tz_localize(None)
    deadline = (local_day + pd.Timedelta(days=91)).dt.tz_localize("Europe/London").dt.tz_convert(
        "UTC") - pd.Timedelta(microseconds=1)
    sent = first["Send Fine"].reindex(created.index)
    satisfied = sent.notna() & (sent <= deadline)
    pending = ~satisfied & (deadline > as_of)
    expected = {
        "satisfied": int(satisfied.sum()),
        "violated": int((~satisfied & ~pending).sum()),
        "pending": int(pending.sum()),
        "not_applicable": events["case"].nunique() - len(created),
        "not_assessable": 0,
    }
    assert expected["violated"] > 0 and expected["satisfied"] > 0
    (row,) = report["summary"]
    assert {k: row[k] for k in expected} == expected
    assert status == 1
    assert len(report["deviations"]) == expected["violated"]
    assert {d["rule_id"] for d in report["deviations"]} == {"send-fine-within-90-days"}
    # Its activities are declared in the rules file: none is reported as unknown, and the
    # model's fitness is not computed on a log that has none of its steps.
    assert not [w for w in report["warnings"] if w["kind"] == "unknown_activity"]
    assert report["fitness"] is None
    assert "no event of the log is a step of the model" in report["fitness_note"]


def test_pseudonymise_then_check_gives_the_same_judgements(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = tmp_path / "key"
    shared = tmp_path / "shared.csv"
    status = main(["pseudonymise", str(EVERY_RULE), "--key-file", str(key), "--out",
                   str(shared), "--new-key"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert "Pseudonymised 8 cases, 67 events" in out  # every event: as-of does not apply
    assert "W2" not in shared.read_text(encoding="utf-8")
    _, original = check_json(capsys, str(EVERY_RULE), "--as-of", AS_OF, "--fitness", "none")
    _, again = check_json(capsys, str(shared), "--as-of", AS_OF, "--fitness", "none")
    assert original["summary"] == again["summary"]
    # An existing key is never overwritten.
    status = main(["pseudonymise", str(EVERY_RULE), "--key-file", str(key), "--out",
                   str(tmp_path / "again.csv"), "--new-key"])
    _, err = capsys.readouterr()
    assert status == 2 and "key" in err


# ----------------------------------------------------------------------- the library function


def test_the_command_and_the_audit_report_run_the_same_check(
        capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.check import check
    from conformance.report import to_json_text
    from lscb.reporting.audits import audit

    report = check(EVERY_RULE, as_of=AS_OF)
    assert main(["check", str(EVERY_RULE), "--as-of", AS_OF, "--format", "json"]) == 1
    assert to_json_text(report) == capsys.readouterr().out
    audited = audit(EVERY_RULE, as_of=AS_OF)
    assert to_json_text(audited) == to_json_text(report)
    assert audited.options == report.options
    assert report.options["rules"] == "the procedure's"
    assert report.options["control-flow fitness"] == "auto"


class _Recorder:
    def __init__(self) -> None:
        self.stages: list[str] = []
        self.done: list[tuple[int, int]] = []

    def stage(self, name: str) -> None:
        self.stages.append(name)

    def variants(self, done: int, total: int) -> None:
        self.done.append((done, total))


def test_check_tells_its_progress_and_refuses_an_unknown_fitness_method() -> None:
    from conformance.check import check

    recorder = _Recorder()
    report = check(EVERY_RULE, as_of=AS_OF, fitness="alignments", progress=recorder)
    assert recorder.stages == ["reading the log", "judging the rules", "control-flow fitness"]
    assert recorder.done and all(0 <= d <= t for d, t in recorder.done)
    assert report.fitness is not None
    assert recorder.done[-1][0] == recorder.done[-1][1] == report.fitness.variants
    with pytest.raises(ValueError, match="fitness must be one of auto, alignments"):
        check(EVERY_RULE, fitness="fast")


def test_a_rules_file_declares_the_activities_it_knows(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from model.procedure import load_procedure
    from model.rules import load_rules, load_rules_file

    rules = tmp_path / "breaks.yaml"
    rules.write_text(
        "activities:\n  - Coffee break\n"
        "rules:\n"
        "  - id: no-coffee-break\n"
        "    clause: local\n"
        "    severity: warning\n"
        "    template: absence\n"
        "    activity: Coffee break\n",
        encoding="utf-8",
    )
    procedure = load_procedure()
    names, flags = set(procedure.activities), set(procedure.boolean_attributes)
    loaded = load_rules_file(rules, names, flags)
    assert loaded.activities == frozenset({"Coffee break"})
    assert [r.id for r in loaded.rules] == ["no-coffee-break"]
    assert load_rules(rules, names, flags) == loaded.rules
    _, plain = check_json(capsys, str(EVERY_RULE), "--as-of", AS_OF, "--fitness", "none")
    assert [w for w in plain["warnings"] if w["kind"] == "unknown_activity"]
    _, report = check_json(capsys, str(EVERY_RULE), "--as-of", AS_OF, "--fitness", "none",
                           "--rules", str(rules))
    assert not [w for w in report["warnings"] if w["kind"] == "unknown_activity"]
    assert not [w for w in report["warnings"] if "Coffee break" in w["message"]]
    found = {(d["case_id"], d["rule_id"]) for d in report["deviations"]}
    assert found == EXPECTED | {("R3", "no-coffee-break")}

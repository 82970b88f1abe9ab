"""`lscb calibrate` and `lscb validate` end to end, in-process: what they write and print, and
exit status 2 with a clear message on bad input (never overwriting an input)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance import sample_log_path
from lscb.cli import main
from model.procedure import load_procedure
from simulation.calibration.ledger import load_ledger
from simulation.scenario import load_scenario


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("calibrate")
    log = folder / "log.csv"
    shutil.copy(sample_log_path(), log)
    out = folder / "county.toml"
    status = main(["calibrate", str(log), "--out", str(out), "--refine", "0"])
    assert status == 0
    return {"folder": folder, "log": log, "out": out}


def test_calibrate_writes_a_scenario_and_its_ledger(calibrated: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = calibrated["out"]
    scenario = load_scenario(out, load_procedure())  # the simulator takes it
    assert scenario.name == "Calibrated from log.csv"
    ledger = load_ledger(out)
    assert ledger.uncovered == ()
    csv_text = (out.parent / "county.ledger.csv").read_text(encoding="utf-8")
    assert csv_text.startswith("field,kind,value,source,n,")
    assert "roles.lado.headcount,estimated," in csv_text
    text = out.read_text(encoding="utf-8")
    assert "annual_volume = " in text and "# estimated, n = " in text
    assert "# assumption" in text
    # the same log again: the same file, byte for byte (and the output printed)
    again = out.parent / "again.toml"
    assert main(["calibrate", str(calibrated["log"]), "--out", str(again), "--refine", "0"]) == 0
    assert again.read_text(encoding="utf-8") == text
    printed = capsys.readouterr().out
    assert "Arrivals (a year's volume, 95% interval):" in printed
    assert "Ledger: " in printed and "roles.lado.headcount" in printed


@pytest.mark.parametrize(("extra", "message"), [
    (["--out", "{log}"], "option --out: expected a file name ending in .toml"),
    (["--out", "{folder}/log.toml", "--base", "{folder}/log.toml"], "an input"),
    (["--out", "{folder}/x.toml", "--refine", "-1"], "option --refine: expected a whole number"),
    (["--out", "{folder}/x.toml", "--base", "{folder}/missing.toml"], "no such file"),
])
def test_calibrate_refuses_bad_input(calibrated: dict[str, Path], extra: list[str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = calibrated["folder"]
    (folder / "log.toml").write_text(calibrated["out"].read_text(encoding="utf-8"),
                                     encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    args = [a.format(log=calibrated["log"], folder=folder) for a in extra]
    assert main(["calibrate", str(calibrated["log"]), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if k in before} == before  # no input overwritten


def test_calibrate_names_a_missing_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    assert main(["calibrate", str(tmp_path / "none.csv"), "--out", str(tmp_path / "s.toml")]) == 2
    assert "none.csv" in capsys.readouterr().err
    assert not (tmp_path / "s.toml").exists()


def test_validate_prints_and_writes_the_comparison(calibrated: dict[str, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = calibrated["folder"] / "validation"
    status = main(["validate", str(calibrated["out"]), "--against", str(calibrated["log"]),
                   "--replications", "2", "--workers", "2", "--out", str(out), "--no-plots",
                   "--baseline", "default"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Compliance per rule: the log, and where 95% of simulated logs fall" in printed
    assert "Distances between the log and the simulated logs" in printed
    assert "closer:" in printed
    payload = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert payload["replications"] == 2 and "baseline" in payload and "comparison" in payload
    assert {r["measure"] for r in payload["distances"]} == {
        "ngram", "absolute", "circadian", "relative", "cycle_time", "arrivals", "wip"}
    assert not list(out.glob("*.png"))


def test_validate_holdout_in_one_command(calibrated: dict[str, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = calibrated["folder"] / "holdout"
    status = main(["validate", "default", "--against", str(calibrated["log"]),
                   "--holdout-from", "2024-12-01", "--replications", "2", "--workers", "2",
                   "--out", str(out), "--no-plots", "--format", "json"])
    assert status == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["start"] >= "2024-12-01"
    assert payload["baseline"]["scenario"] == "default (not calibrated)"
    written = load_scenario(out / "calibrated_scenario.toml", load_procedure())
    assert written.start.isoformat() < "2024-12-01"


@pytest.mark.parametrize(("args", "message"), [
    (["--holdout-from", "2031-01-01"], "option --holdout-from: expected a date after"),
    (["--holdout-from", "1st May"], "expected a date, YYYY-MM-DD"),
    (["--replications", "0"], "expected a whole number greater than 0"),
    (["--out", "{log}"], "option --out"),
    (["--out", "{folder}"], "an input"),
])
def test_validate_refuses_bad_input(calibrated: dict[str, Path], args: list[str], message: str,
                                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    log = folder / "validation.json"  # an input where an output would go
    shutil.copy(calibrated["log"], folder / "log.csv")
    shutil.copy(calibrated["log"], log)
    given = [a.format(log=folder / "log.csv", folder=folder) for a in args]
    against = str(log) if "{folder}" in " ".join(args) else str(folder / "log.csv")
    before = log.read_bytes()
    command = ["validate", "default", "--against", against, *given]
    if "YYYY" in message or "greater" in message:  # refused by the option's own type
        with pytest.raises(SystemExit) as stopped:
            main(command)
        assert stopped.value.code == 2
    else:
        assert main(command) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert log.read_bytes() == before


def test_rows_left_out_are_listed_and_counted(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--on-bad-rows skip in calibrate and validate: nothing dropped silently (issue 10 item 5):
    the count is printed and every row is listed with its line and reason beside the outputs;
    the calibration is the one made from the same log without those rows."""
    clean = tmp_path / "clean.csv"
    shutil.copy(sample_log_path(), clean)
    text = clean.read_text(encoding="utf-8")
    first = text.splitlines()[1]
    fields = first.split(",")
    bad_time = ",".join([fields[0], fields[1], "31/02/2024 09:00", *fields[3:]])
    no_case = ",".join(["", *fields[1:]])
    log = tmp_path / "log.csv"
    log.write_text(text + bad_time + "\n" + no_case + "\n", encoding="utf-8")
    lines = len(text.splitlines())
    assert main(["calibrate", str(clean), "--out", str(tmp_path / "clean.toml"),
                 "--refine", "0"]) == 0
    assert main(["calibrate", str(log), "--out", str(tmp_path / "county.toml"),
                 "--refine", "0"]) == 2  # strict by default
    capsys.readouterr()
    assert main(["calibrate", str(log), "--out", str(tmp_path / "county.toml"), "--refine", "0",
                 "--on-bad-rows", "skip"]) == 0
    printed = capsys.readouterr().out
    assert "2 lines of the log could not be read and were left out" in printed
    rejects = (tmp_path / "county.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "line,column,problem,value"
    assert [r.split(",")[:2] for r in rejects[1:]] == [[str(lines + 1), "timestamp"],
                                                       [str(lines + 2), "case_id"]]
    def body(name: str) -> list[str]:  # the scenario less its first comment, which names the log
        return (tmp_path / name).read_text(encoding="utf-8").replace("clean.csv", "log.csv") \
            .splitlines()
    assert body("county.toml") == body("clean.toml")

    assert main(["validate", str(tmp_path / "county.toml"), "--against", str(log),
                 "--replications", "2", "--on-bad-rows", "skip"]) == 2
    assert "--out DIR" in capsys.readouterr().err
    out = tmp_path / "validation"
    assert main(["validate", str(tmp_path / "county.toml"), "--against", str(log),
                 "--replications", "2", "--on-bad-rows", "skip", "--out", str(out),
                 "--no-plots"]) == 0
    assert "2 lines of the log could not be read and were left out" in capsys.readouterr().out
    assert (out / "rejects.csv").read_text(encoding="utf-8").splitlines() == rejects

"""`lscb report calibration LOG --out DIR`: the calibrated scenario and its check against the log
on one page, with the scenario written beside it.

The report is written once (a module fixture) by the real command from the sample log (a year of
simulated cases), calibrated on its cases before 2025 and checked on those from 2025, with two
replications and no refinement so that it stays quick; then run again into another folder from
another working directory, which must give the same files byte for byte.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conformance import sample_log_path
from lscb import reporting
from lscb.cli import main
from lscb.reporting import calibrations
from model.procedure import load_procedure
from simulation.scenario import load_scenario
from tests.cli.test_reports import EPOCH, PRODUCED_TEXT, _chromium, _figures, _sha256

FILES = ["calibrated_scenario.ledger.csv", "calibrated_scenario.toml", "calibration.html"]
HOLDOUT = "2025-01-01"
QUICK = ["--replications", "2", "--refine", "0", "--holdout-from", HOLDOUT]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "county_log.csv"
    shutil.copy(sample_log_path(), path)
    return path


@pytest.fixture(scope="module")
def written(log: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calibration") / "report"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert main(["report", "calibration", str(log), *QUICK, "--out", str(out)]) == 0
    return out


def _text(page: Path) -> str:
    """The page as a reader sees it: tags left out, entities read."""
    import html

    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<style.*?</style>", " ", text[text.index("<body"):], flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def test_the_folder_holds_the_page_the_scenario_and_its_ledger(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == FILES
    scenario = load_scenario(written / "calibrated_scenario.toml", load_procedure())
    assert scenario.name == "Calibrated from county_log.csv"
    assert scenario.start.isoformat() < HOLDOUT, "calibrated on the cases before the holdout"


def test_the_page_shows_the_log_the_ledger_and_the_validation(written: Path) -> None:
    text = _text(written / "calibration.html")
    for heading in ("The log", "What was estimated from it", "How cases arrive",
                    "Which way cases go", "How long before each step", "Staff",
                    "What the log could not tell",
                    "Validation: does the calibrated scenario reproduce the log?",
                    "How long cases took to reach each deadline",
                    "Cases begun and work in progress",
                    "Distances between the log and the simulated logs",
                    "Calibrated against the base scenario as written", "The ledger"):
        assert f"{heading} ¶" in text, heading
    # the log, with its coverage as lscb check gives it, and how the holdout divides it
    assert "The log county_log.csv holds 372 cases and 3,540 events" in text
    assert "Coverage, as lscb check reports it" in text
    assert "Events named as the procedure's (or the rules') activities: 3,526 of 3,540" in text
    assert "calibrated on the log as it stood before 1 January 2025" in text
    assert "which the calibration never saw" in text
    # the ledger: its counts, and every kind, with a field of each
    counts = re.search(r"ledger: (\d+) estimated , (\d+) published , (\d+) assumed", text)
    assert counts is not None and int(counts[1]) > 0 and int(counts[3]) > 0
    assert "roles.lado.headcount estimated" in text
    assert "calendar.open assumed 09:00" in text
    # estimates with sample sizes and intervals, delays with their fit
    assert re.search(r"referral \d+ \d+ \d+ to \d+", text), "arrivals with their interval"
    assert re.search(r"youth imagery: section 47 needed \d+\.\d% \d+\.\d% to \d+\.\d% \d+", text)
    assert re.search(r"Family informed \d+ working days [\d.]+ [\d.]+ to [\d.]+ \w+ "
                     r"KS distance 0\.\d{3}, p = [\d.]+", text)
    assert "LADO 2 2 2 to 2" in text, "staff: named and estimated"
    assert "the log has no start events" in text, "what the log could not tell"
    # the validation: each rule's compliance against the simulated interval
    assert re.search(r"icpc-within-15-working-days violation \d+ \d+\.\d% \d+\.\d% "
                     r"\d+\.\d% to \d+\.\d% (yes|no)", text)
    assert re.search(r"Of \d+ rules judged on some case of the log, \d+ have the log's "
                     r"compliance within the simulated 95% interval", text)
    assert re.search(r"icpc-within-15-working-days 0-10 \d+\.\d%", text), "the DfE's bands"
    assert "cases begun per week" in text
    for measure in ("ngram", "circadian", "cycle_time", "wip"):
        assert f" {measure} " in text
    assert re.search(r"the calibrated scenario is closer to the log on \d+ of 13 measures", text)


def test_the_title_page_lists_the_inputs_with_their_checksums(written: Path,
                                                              log: Path) -> None:
    from simulation.scenario import default_scenario_path

    text = (written / "calibration.html").read_text(encoding="utf-8")
    page = text[text.index('id="title-page"'):]
    page = page[: page.index("</table>", page.index("lscb-settings"))]
    assert PRODUCED_TEXT in page
    assert f"SHA-256 {_sha256(log)}" in page and "county_log.csv" in page
    assert f"SHA-256 {_sha256(default_scenario_path())}" in page
    assert "calibrated_scenario.toml" in page
    assert str(log.parent) not in page and str(written) not in page, "names, never paths"


def test_self_contained_and_no_code(written: Path) -> None:
    text = (written / "calibration.html").read_text(encoding="utf-8")
    assert not reporting.EXTERNAL_REFERENCE.search(text)
    sources = re.findall(r"""\bsrc\s*=\s*["']([^"']*)""", text)
    assert sources and all(s.startswith("data:") for s in sources)
    body = text[text.index("<body"):]
    for snippet in ("from lscb.reporting import", "calibration_study(", "Traceback",
                    "application/vnd.jupyter.stderr"):
        assert snippet not in body
    images, _svgs, tables = _figures(text)
    assert images >= 3 and tables >= 10


def test_the_scenario_beside_the_page_is_what_lscb_calibrate_writes(
    written: Path, log: Path, tmp_path: Path
) -> None:
    out = tmp_path / "county.toml"
    assert main(["calibrate", str(log), "--until", HOLDOUT, "--refine", "0",
                 "--out", str(out)]) == 0
    assert out.read_bytes() == (written / "calibrated_scenario.toml").read_bytes()
    assert (tmp_path / "county.ledger.csv").read_bytes() == (
        written / "calibrated_scenario.ledger.csv").read_bytes()


def test_run_again_the_same_files_byte_for_byte(
    written: Path, log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    again = tmp_path / "again"
    assert main(["report", "calibration", str(log), *QUICK, "--out", str(again)]) == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "again", *(f"again/{name}" for name in FILES)]
    for name in FILES:
        assert (again / name).read_bytes() == (written / name).read_bytes(), name


def test_opens_in_a_browser_with_every_figure(written: Path, tmp_path: Path) -> None:
    page = written / "calibration.html"
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    assert _figures(dom) == _figures(page.read_text(encoding="utf-8"))
    assert 'id="title-page"' in dom


# ----------------------------------------------------------------------- the helpers


def test_without_a_holdout_the_page_says_the_check_is_of_fit_only() -> None:
    study = calibrations.calibration_study(sample_log_path(), replications=1, refine=0,
                                           baseline=False)
    assert study.holdout_from is None and study.baseline is None
    assert "checked below against the same log" in calibrations.log_overview(study)
    findings = " ".join(calibrations.validation_findings(study))
    assert "a check of fit, not of prediction" in findings
    assert "Only 1 replications" in findings
    assert calibrations.comparison_table(study).empty
    assert study.validation.start == study.calibration.start  # the same period


# ----------------------------------------------------------------------- refusals


def test_an_existing_output_is_left_as_it_is(log: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "calibrated_scenario.toml").write_text("mine\n", encoding="utf-8")
    assert main(["report", "calibration", str(log), *QUICK, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "calibrated_scenario.toml" in err and "an existing file, left as it is" in err
    assert (out / "calibrated_scenario.toml").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in out.iterdir()) == ["calibrated_scenario.toml"]


def test_the_log_is_never_an_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "calibration.html"  # a log (CSV) that happens to have the page's name
    shutil.copy(sample_log_path(), log)
    before = log.read_bytes()
    assert main(["report", "calibration", str(log), "--force", "--out", str(tmp_path)]) == 2
    assert "the input file" in capsys.readouterr().err
    assert log.read_bytes() == before


def test_rows_left_out_are_listed_beside_the_page(tmp_path: Path) -> None:
    """Under --on-bad-rows skip, nothing is dropped silently: the rows left out are listed in
    rejects.csv beside the page, as lscb check lists them, and the page counts them."""
    log = tmp_path / "log.csv"
    text = sample_log_path().read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    broken = lines[5].split(",")
    broken[2] = "the fifth of never"  # the timestamp column
    log.write_text("".join([*lines[:5], ",".join(broken), *lines[6:]]), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", "calibration", str(log), "--on-bad-rows", "skip", "--replications",
                 "1", "--refine", "0", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "rejects.csv"])
    rejects = (out / "rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "line,column,problem,value" and len(rejects) == 2
    assert rejects[1].startswith("6,timestamp,")
    assert "1 row that could not be read left out (listed in rejects.csv)" in _text(
        out / "calibration.html")


@pytest.mark.parametrize(("args", "message"), [
    (["--refine", "-1"], "option --refine: expected a whole number of at least 0"),
    (["--seed", "-3"], "option --seed: expected a whole number of at least 0"),
    (["--holdout-from", "2031-01-01"], "option --holdout-from: expected a date after the day "
                                       "the log's first case began (2024-04-02)"),
])
def test_bad_settings_are_named(log: Path, tmp_path: Path, args: list[str], message: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["report", "calibration", str(log), "--replications", "1", "--refine", "0",
                 *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())


def test_a_date_that_is_not_one(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "calibration", str(log), "--holdout-from", "1st May"])
    assert stopped.value.code == 2
    assert "expected a date, YYYY-MM-DD" in capsys.readouterr().err


def test_report_help_names_the_calibration_report(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    printed = capsys.readouterr().out
    assert "calibration" in printed and "lscb report calibration LOG --out DIR" in printed

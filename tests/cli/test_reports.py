"""`lscb report procedure | scenario | audit`: self-contained HTML that a browser shows in full.

Each report is written once (module fixtures) by the real command, then checked as text (no
external URL, a title page with the inputs' checksums and the version, no code) and opened in
headless Chromium (a screenshot, and the DOM after parsing holds every figure and table).
Chromium is required when CI is set; elsewhere its tests are skipped if it is missing.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import lscb
from conformance import sample_ground_truth_path, sample_log_path
from lscb import reporting
from lscb.cli import main
from lscb.reporting.audits import audit
from model.calendar import LONDON
from model.errors import LscbError
from model.procedure import default_procedure_path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = bool(os.environ.get("CI"))
# The least each report must show: embedded images, inline SVG drawings, tables (title page's
# two not counted).
EXPECTED = {
    "procedure": {"images": 1, "svgs": 0, "tables": 5},
    "scenario": {"images": 4, "svgs": 0, "tables": 5},
    "audit": {"images": 3, "svgs": 1, "tables": 4},
}
KINDS = list(EXPECTED)
SMALL_SCENARIO = ["--replications", "2", "--days", "90", "--sweep-replications", "1",
                  "--validation-replications", "2", "--sensitivity-replications", "1",
                  "--sensitivity-field", "roles.conference_chair.headcount",
                  "--sensitivity-field", "roles.lado.headcount"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


COMMANDS = {
    "procedure": ["report", "procedure"],
    "scenario": ["report", "scenario", *SMALL_SCENARIO],
    "audit": ["report", "audit", str(sample_log_path())],
}
# The production time every report here gives (reproducible builds' SOURCE_DATE_EPOCH), so that
# a report run again is the same file byte for byte even a minute later.
EPOCH = "1733130000"
PRODUCED_TEXT = "Produced on 2 December 2024 at 09:00 (Europe/London)"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOURCE_DATE_EPOCH", EPOCH)
        for kind, command in COMMANDS.items():
            path = out / f"{kind}.html"
            assert main([*command, "--out", str(path)]) == 0
            paths[kind] = path
    return paths


@pytest.mark.parametrize("kind", KINDS)
def test_a_report_run_again_is_the_same_file_byte_for_byte(
    reports: dict[str, Path], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the same inputs and seed give the same bytes. Run again into another
    folder from another working directory, the report is the same file as the first run's
    (no random cell or table ids, no temporary paths), and it is the only file written."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    again = tmp_path / "again"
    assert main([*COMMANDS[kind], "--out", str(again / f"{kind}.html")]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == ["again", f"again/{kind}.html"]
    first, second = reports[kind].read_bytes(), (again / f"{kind}.html").read_bytes()
    if first != second:
        lines = difflib.unified_diff(
            first.decode().replace("><", ">\n<").splitlines(),
            second.decode().replace("><", ">\n<").splitlines(), lineterm="", n=0)
        pytest.fail(f"the {kind} report differs between two runs:\n" + "\n".join(
            line[:200] for line in itertools.islice(lines, 40)))


def _inputs(kind: str) -> list[tuple[str, str]]:
    """(name shown, SHA-256) of each input a report must list."""
    from simulation.scenario import default_scenario_path

    found = [("built-in procedure 1.4.9", _sha256(default_procedure_path()))]
    if kind == "scenario":
        found.append(("built-in default scenario", _sha256(default_scenario_path())))
    if kind == "audit":
        log = sample_log_path()
        found.append((log.name, _sha256(log)))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_self_contained(reports: dict[str, Path], kind: str) -> None:
    text = reports[kind].read_text(encoding="utf-8")
    assert not reporting.EXTERNAL_REFERENCE.search(text)
    assert not re.search(
        r"https?://", " ".join(re.findall(r"""(?:src|href)\s*=\s*["'][^"']*""", text))
    )
    sources = re.findall(r"""\bsrc\s*=\s*["']([^"']*)""", text)
    assert sources and all(s.startswith("data:") for s in sources)
    links = re.findall(r"""\bhref\s*=\s*["']([^"']*)""", text)
    assert all(link.startswith(("#", "data:")) for link in links)
    assert "<script src" not in text and "<link" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_title_page(reports: dict[str, Path], kind: str) -> None:
    text = reports[kind].read_text(encoding="utf-8")
    page = text[text.index('id="title-page"') :]
    page = page[: page.index("</table>", page.index("lscb-settings"))]
    assert PRODUCED_TEXT in page
    assert f'<span class="lscb-version">{lscb.__version__}</span>' in page
    for name, digest in _inputs(kind):
        assert name in page
        assert f"SHA-256 {digest}" in page
    assert str(ROOT) not in page, "the title page shows file names, not paths"


@pytest.mark.parametrize("kind", KINDS)
def test_no_code(reports: dict[str, Path], kind: str) -> None:
    text = reports[kind].read_text(encoding="utf-8")
    text = text[text.index("<body") :]
    for element in ("hl-ipython3", "cm-editor", "jp-InputPrompt", "jp-OutputPrompt"):
        assert not re.search(rf"""class=["'][^"']*\b{element}\b""", text)
    assert re.search(r"""class=["'][^"']*\bjp-OutputArea\b""", text), "no outputs at all"
    for snippet in ("import pandas", "from lscb.reporting import", "load_procedure("):
        assert snippet not in text
    assert "Traceback" not in text
    assert "application/vnd.jupyter.stderr" not in text


def _figures(html: str) -> tuple[int, int, int]:
    images = len(re.findall(r"""<img\b[^>]*\bsrc\s*=\s*["']data:image/png;base64,""", html))
    svgs = len(re.findall(r"<svg\b", html))
    tables = len(re.findall(r"<table\b", html)) - 2
    return images, svgs, tables


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("Chromium is required in CI for the report browser tests")
        pytest.skip("Chromium is not installed")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=180, check=True)


@pytest.mark.parametrize("kind", KINDS)
def test_opens_in_a_browser_with_every_figure(
    reports: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    page = reports[kind]
    shot = tmp_path / f"{kind}.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 4000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, "the screenshot is (nearly) blank"

    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    images, svgs, tables = _figures(dom)
    assert (images, svgs, tables) == _figures(page.read_text(encoding="utf-8"))
    expected = EXPECTED[kind]
    assert images >= expected["images"]
    assert svgs >= expected["svgs"]
    assert tables >= expected["tables"]
    assert 'id="title-page"' in dom


def test_report_figures_are_real_pngs(reports: dict[str, Path]) -> None:
    import base64
    import io

    from PIL import Image

    for path in reports.values():
        for encoded in re.findall(
            r"data:image/png;base64,([A-Za-z0-9+/=]+)", path.read_text(encoding="utf-8")
        ):
            with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
                image.verify()


def test_scenario_findings_are_computed(reports: dict[str, Path]) -> None:
    text = re.sub(r"<[^>]+>", "", reports["scenario"].read_text(encoding="utf-8"))
    assert "In the baseline (2 runs of 90 days" in text
    assert "With one fewer LADO," in text
    assert "With earliest deadline first," in text


def test_audit_shows_the_caveats(reports: dict[str, Path]) -> None:
    text = re.sub(r"<[^>]+>", "", reports["audit"].read_text(encoding="utf-8"))
    assert "rest on events known only to the day" in text
    assert "could not be judged" in text
    assert "Case note added" in text
    truth = pd.read_csv(sample_ground_truth_path(), dtype=str, keep_default_na=False)
    breaking = truth.loc[truth["rule_ids"] != "", "case_id"]
    assert len(breaking)
    for case_id in breaking:
        assert case_id in text, "every case with an injected slip is listed"


# ----------------------------------------------------------------------- errors


def test_missing_log_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["report", "audit", str(tmp_path / "nowhere.csv"), "--out", str(tmp_path / "a.html")]
    )
    assert status == 2
    assert "no file at this path" in capsys.readouterr().err
    assert not (tmp_path / "a.html").exists()


def test_unreadable_log_stops_the_report_with_the_readers_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text("who,what\n1,2\n", encoding="utf-8")
    status = main(["report", "audit", str(log), "--out", str(tmp_path / "a.html")])
    assert status == 2
    err = capsys.readouterr().err
    assert re.search(r"the audit report stopped: notebook 03_conformance_audit\.ipynb", err)
    assert "InputError" in err and "case_id" in err
    assert not (tmp_path / "a.html").exists()


def test_notebooks_are_found_in_the_package_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lscb.reporting import runner

    monkeypatch.chdir(tmp_path)
    assert reporting.notebooks_dir() == ROOT / "notebooks"
    monkeypatch.setattr(runner, "NOTEBOOK_PACKAGE", "lscb.no_such_notebooks")
    with pytest.raises(LscbError, match="the report notebooks are not installed"):
        reporting.notebooks_dir()


def test_a_network_reference_in_an_output_is_refused() -> None:
    from datetime import datetime

    import nbformat

    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    cell = nbformat.v4.new_code_cell("x")  # type: ignore[no-untyped-call]
    cell.outputs = [
        nbformat.v4.new_output(  # type: ignore[no-untyped-call]
            "display_data", data={"text/html": '<img src="https://example.org/x.png">'}
        )
    ]
    nb.cells.append(cell)
    with pytest.raises(LscbError, match="self-contained"):
        reporting.render_html(
            nb,
            title="t",
            generated=datetime(2025, 1, 1, tzinfo=LONDON),
            inputs=[],
            parameters={},
        )


def test_unknown_report_kind() -> None:
    with pytest.raises(LscbError, match="no report 'board'; the reports are: procedure"):
        reporting.notebook_path("board")


# ----------------------------------------------------------------------- the sample log


def test_sample_log_is_what_the_script_makes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_sample_log.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name in ("sample_log.csv", "sample_ground_truth.csv"):
        shipped = (sample_log_path().parent / name).read_bytes()
        assert (tmp_path / name).read_bytes() == shipped, f"{name} is stale: rerun the script"


def test_every_injected_slip_is_a_deviation_of_the_sample_log() -> None:
    report = audit(sample_log_path(), fitness_method="none")
    violated = set(zip(report.deviations["case_id"], report.deviations["rule_id"], strict=True))
    truth = pd.read_csv(sample_ground_truth_path(), dtype=str, keep_default_na=False)
    expected = {
        (c, r)
        for c, rules in zip(truth["case_id"], truth["rule_ids"], strict=True)
        for r in rules.split(";")
        if r
    }
    assert expected and expected <= violated
    rows = pd.read_csv(sample_log_path(), dtype=str)
    local_names = int((rows["activity"] == "Case note added").sum())
    assert local_names and report.log.unknown_activities == {"Case note added": local_names}
    assert report.judgement.results["date_only"].any()
    assert (report.judgement.results["status"] == "not_assessable").any()


def test_audit_as_of_leaves_later_events_out_and_deadlines_pending() -> None:
    report = audit(sample_log_path(), as_of="2024-12-31T12:00", fitness_method="none")
    assert report.judgement.as_of == pd.Timestamp("2024-12-31T12:00Z")
    assert report.log.excluded_after_as_of > 0
    assert (report.judgement.results["status"] == "pending").any()
    assert any(c.kind == "pending" for c in report.caveats)

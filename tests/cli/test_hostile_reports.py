"""Reports on hostile names: every HTML page the project writes shows a value that holds HTML as
text, and no script in it runs.

Scripts are put where a user's data reaches a page: the case ids and activity names of a log
(local names mapped onto the procedure's by a mapping file, so that the log still checks, and
names the procedure does not know), the log's and the mapping file's names, a scenario's name,
description and file name, and a procedure file's title, texts and file name. Each payload is one
of ``<script>...</script>``, ``"><img src=x onerror=...>`` (breaking out of an attribute) and
``</style><script>...</script>`` (breaking out of a style block), and its script would set a
``data-pwned-...`` attribute on the page's root element. Every report is rendered by the real
command (``lscb check --out``, ``lscb report audit | scenario | procedure | calibration``),
loaded in headless
Chromium, and the DOM it dumps after running the page's scripts must have no such attribute, no
script element and no event handler, and must hold each payload that reaches the page as text.

Chromium is required when CI is set; elsewhere the tests are skipped if it is missing.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from lscb.cli import main
from model.procedure import default_procedure_path
from simulation.scenario import default_scenario_path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = bool(os.environ.get("CI"))
MARKER = "data-pwned"


def _script(where: str) -> str:
    """JavaScript that marks the page: ``data-pwned-<where>="1"`` on its root element."""
    return f"document.documentElement.dataset.pwned{where}=1"


def _payloads(where: str) -> tuple[str, str, str]:
    """The three hostile values of one place: a script element, an attribute break-out, and a
    style block break-out."""
    return (
        f"<script>{_script(where)}</script>",
        f'"><img src=x onerror={_script(where)}>',
        f"</style><script>{_script(where)}</script>",
    )


def _file_payload(where: str) -> str:
    """A hostile file name part (a file name cannot hold '/', so no closing tag)."""
    return f'"><img src=x onerror={_script(where)}>'


CASES = _payloads("Case")
LOCAL_ACTIVITIES = tuple(f"Police told {p}" for p in _payloads("MappedActivity"))
UNKNOWN_ACTIVITIES = tuple(f"Tea {p}" for p in _payloads("UnknownActivity"))
LOG_NAME = f"log{_file_payload('LogName')}.csv"
MAPPING_NAME = f"mapping{_file_payload('MappingName')}.yaml"
SCENARIO = _payloads("Scenario")
SCENARIO_NAME = f"scenario{_file_payload('ScenarioName')}.toml"
PROCEDURE = _payloads("Procedure")
PROCEDURE_NAME = f"procedure{_file_payload('ProcedureName')}.yaml"

# What each page must show as text: every hostile value that reaches it.
SHOWN = {
    "check": (*CASES, *UNKNOWN_ACTIVITIES, LOG_NAME, MAPPING_NAME),
    "audit": (*CASES, *UNKNOWN_ACTIVITIES, LOG_NAME, MAPPING_NAME),
    "scenario": (f"{SCENARIO[0]} {SCENARIO[1]}", SCENARIO[2], SCENARIO_NAME),
    "procedure": (*PROCEDURE, PROCEDURE_NAME),
    "calibration": (LOG_NAME, MAPPING_NAME),
}
PAGES = list(SHOWN)


def _write_log(folder: Path) -> tuple[Path, Path]:
    """A small log: three cases, each named by a payload, each telling the police under a
    hostile local name (mapped to 'Police notified'), informing the family before the
    discussion with police and social care and handling images (two violations), and
    recording a hostile activity the procedure does not know."""
    log = folder / LOG_NAME
    with log.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "activity", "timestamp"])
        for day, (case, local, unknown) in enumerate(
            zip(CASES, LOCAL_ACTIVITIES, UNKNOWN_ACTIVITIES, strict=True), start=9
        ):
            for time, activity in (
                ("09:00", local),
                ("09:30", "Social care notified"),
                ("10:00", "Family informed"),
                ("11:00", "Concerns discussed with police and social care"),
                ("12:00", "Images downloaded or distributed"),
                ("12:30", unknown),
                ("15:00", "Case closed"),
            ):
                writer.writerow([case, activity, f"2024-01-{day:02d}T{time}:00"])
    mapping = folder / MAPPING_NAME
    mapping.write_text(
        yaml.safe_dump({"activities": dict.fromkeys(LOCAL_ACTIVITIES, "Police notified")}),
        encoding="utf-8",
    )
    return log, mapping


def _replaced(text: str, changes: dict[str, str]) -> str:
    for old, new in changes.items():
        assert old in text, f"the built-in file no longer has {old!r}"
        text = text.replace(old, new)
    return text


def _write_scenario(folder: Path) -> Path:
    """The built-in scenario with hostile text as its name and description (JSON strings are
    TOML basic strings)."""
    path = folder / SCENARIO_NAME
    text = default_scenario_path().read_text(encoding="utf-8")
    path.write_text(_replaced(text, {
        'name = "Northumberland-sized county (default)"':
            f"name = {json.dumps(f'{SCENARIO[0]} {SCENARIO[1]}')}",
        'description = "About 3,890 referrals a year, of which the images/online share follows '
        'this procedure"': f"description = {json.dumps(SCENARIO[2])}",
    }), encoding="utf-8")
    return path


def _write_procedure(folder: Path) -> Path:
    """The built-in procedure with hostile text as its title, a role's meaning and a question
    of a strategy discussion (JSON strings are YAML double-quoted scalars)."""
    path = folder / PROCEDURE_NAME
    text = default_procedure_path().read_text(encoding="utf-8")
    path.write_text(_replaced(text, {
        "title: Child Abuse and Information Communication Technology":
            f"title: {json.dumps(PROCEDURE[0])}",
        "meaning: the member of staff who has the concern about a colleague (§7)":
            f"meaning: {json.dumps(PROCEDURE[1])}",
        "- Is the child about to meet with the person inappropriately contacting them?":
            f"- {json.dumps(PROCEDURE[2])}",
    }), encoding="utf-8")
    return path


def _need_chromium() -> str:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("Chromium is required in CI for the hostile report tests")
        pytest.skip("Chromium is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every report on the hostile inputs, written by the real commands."""
    _need_chromium()
    given = tmp_path_factory.mktemp("hostile-inputs")
    out = tmp_path_factory.mktemp("hostile-reports")
    log, mapping = _write_log(given)
    status = main(["check", str(log), "--mapping", str(mapping), "--out", str(out / "check"),
                   "--quiet", "--format", "json"])
    assert status == 1, "the log is read and checked (its violations give status 1)"
    written = {"check": out / "check" / "report.html"}
    commands = {
        "audit": ["report", "audit", str(log), "--mapping", str(mapping)],
        "scenario": ["report", "scenario", "--scenario", str(_write_scenario(given)),
                     "--replications", "1", "--days", "30", "--sweep-replications", "1",
                     "--validation-replications", "1", "--sensitivity-field",
                     "roles.lado.headcount"],
        "procedure": ["report", "procedure", "--procedure", str(_write_procedure(given))],
        "calibration": ["report", "calibration", str(log), "--mapping", str(mapping),
                        "--replications", "1", "--refine", "0"],
    }
    for kind, command in commands.items():
        # the calibration report writes a folder: its page and the calibrated scenario
        target = out / kind if kind == "calibration" else out / f"{kind}.html"
        written[kind] = target / "calibration.html" if kind == "calibration" else target
        assert main([*command, "--out", str(target)]) == 0, kind
    return written


class _Page(HTMLParser):
    """A page's elements and its text as a reader sees it (outside scripts and styles)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.texts: list[str] = []
        self._raw: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        if tag in ("script", "style"):
            self._raw.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._raw and self._raw[-1] == tag:
            self._raw.pop()

    def handle_data(self, data: str) -> None:
        if not self._raw:
            self.texts.append(data)

    def scripts(self) -> list[str]:
        """Script elements and event handler attributes, as 'tag' or 'tag onevent'."""
        return [tag for tag, _ in self.elements if tag == "script"] + [
            f"{tag} {name}" for tag, attrs in self.elements for name, _ in attrs
            if name.lower().startswith("on")
        ]


def _dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after headless Chromium ran its scripts (3 s of virtual time)."""
    done = subprocess.run(
        [_need_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=3000",
         "--dump-dom", page.as_uri()],
        capture_output=True, timeout=180, check=True,
    )
    return done.stdout.decode("utf-8")


@pytest.mark.parametrize("kind", PAGES)
def test_no_script_runs_and_the_hostile_text_is_shown(
    pages: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    dom = _dom(pages[kind], tmp_path / "profile")
    assert "</html>" in dom and len(dom) > 10_000, "Chromium loaded the whole page"
    marks = sorted(set(re.findall(rf"{MARKER}[\w-]*", dom)))
    assert not marks, f"a script ran in the {kind} report: {marks}"
    parsed = _Page(dom)
    assert not parsed.scripts(), f"the {kind} report has scripts: {parsed.scripts()}"
    for value in SHOWN[kind]:
        assert any(value in text for text in parsed.texts), (
            f"the {kind} report does not show {value!r} as text")


@pytest.mark.parametrize("kind", PAGES)
def test_the_written_page_holds_no_script(pages: dict[str, Path], kind: str) -> None:
    text = pages[kind].read_text(encoding="utf-8")
    parsed = _Page(text)
    assert not parsed.scripts(), f"the {kind} report has scripts: {parsed.scripts()}"
    for value in SHOWN[kind]:
        assert value not in text, f"the {kind} report holds {value!r} unescaped"


def test_the_mapped_local_names_are_read_as_the_procedures(tmp_path: Path) -> None:
    """The hostile local names are mapped onto 'Police notified', so that the log checks (and
    they reach no page); the names the procedure does not know are kept and said."""
    from conformance import check

    log, mapping = _write_log(tmp_path)
    report = check(log, mapping=mapping, fitness="none")
    activities = report.log.events["activity"].astype(str)
    assert (activities == "Police notified").sum() == len(CASES)
    assert not activities.str.startswith("Police told").any()
    assert set(activities[activities.str.startswith("Tea ")]) == set(UNKNOWN_ACTIVITIES)
    assert set(report.deviations["case_id"].astype(str)) == set(CASES)


def test_the_calibrated_scenario_beside_the_page_keeps_the_hostile_name_as_text(
    pages: dict[str, Path]
) -> None:
    """The scenario that ``report calibration`` writes beside its page names the log it came
    from; a hostile log name is a TOML string in it, read back as written."""
    from model.procedure import load_procedure
    from simulation.scenario import load_scenario

    scenario = load_scenario(pages["calibration"].parent / "calibrated_scenario.toml",
                             load_procedure())
    assert scenario.name == f"Calibrated from {LOG_NAME}"

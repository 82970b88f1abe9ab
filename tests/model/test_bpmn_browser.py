"""The exported BPMN renders in bpmn-js (the bpmn.io viewer) in headless Chromium.

Needs the Debian package ``chromium`` and ``npm ci --prefix tests/browser``. Without them the test
is skipped, unless the environment variable CI is set: then it fails, so CI cannot pass without
rendering the diagram.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from model.bpmn import to_bpmn_xml
from model.procedure import load_procedure

BROWSER_DIR = Path(__file__).parents[1] / "browser"
VIEWER = BROWSER_DIR / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
PAGE = BROWSER_DIR / "render.html"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=10000",
)
WINDOW = (2400, 1000)


def chromium() -> str:
    """The Chromium program, or skip (fail under CI) when it or bpmn-js is missing."""
    program = next((found for name in ("chromium", "chromium-browser")
                    if (found := shutil.which(name))), None)
    missing = []
    if program is None:
        missing.append("the program chromium (apt-get install chromium)")
    if not VIEWER.exists():
        missing.append("bpmn-js in tests/browser/node_modules (npm ci --prefix tests/browser)")
    if missing:
        reason = "cannot render the BPMN in a browser: missing " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this is a failure, not a skip)")
        pytest.skip(reason)
    assert program is not None
    return program


class DrawnElements(HTMLParser):
    """Collects the ids of drawn diagram elements and the page's JSON result."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: set[str] = set()
        self.result_text = ""
        self._in_result = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "g" and "djs-element" in classes and found.get("data-element-id"):
            self.drawn.add(str(found["data-element-id"]))
        self._in_result = tag == "pre" and found.get("id") == "result"

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_result = False

    def handle_data(self, data: str) -> None:
        if self._in_result:
            self.result_text += data


def page(tmp_path: Path, xml: str) -> Path:
    """The render page, with the viewer and the diagram as scripts beside it."""
    diagram = tmp_path / "diagram.js"
    diagram.write_text("window.BPMN_XML = " + json.dumps(xml).replace("</", "<\\/") + ";\n",
                       encoding="utf-8")
    html = PAGE.read_text(encoding="utf-8")
    html = html.replace("__VIEWER_URL__", VIEWER.resolve().as_uri())
    html = html.replace("__DIAGRAM_URL__", diagram.as_uri())
    target = tmp_path / "render.html"
    target.write_text(html, encoding="utf-8")
    return target


def run(program: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=180, check=True,
    )


@pytest.fixture(scope="module")
def xml() -> str:
    return to_bpmn_xml(load_procedure())


def test_bpmn_js_draws_every_task_and_lane(xml: str, tmp_path: Path) -> None:
    program = chromium()
    url = page(tmp_path, xml).as_uri()
    dom = run(program, tmp_path, "--dump-dom", url).stdout
    parser = DrawnElements()
    parser.feed(dom)
    assert parser.result_text, "the page wrote no result (did the viewer script load?)"
    result: dict[str, Any] = json.loads(parser.result_text)
    assert result["errors"] == []
    assert result["warnings"] == []

    root = ET.fromstring(xml)
    tasks = {str(t.get("id")) for t in root.iter(f"{BPMN}task")}
    lanes = {str(lane.get("id")) for lane in root.iter(f"{BPMN}lane")}
    gateways = {str(g.get("id")) for tag in ("exclusiveGateway", "parallelGateway")
                for g in root.iter(f"{BPMN}{tag}")}
    flows = {str(f.get("id")) for f in root.iter(f"{BPMN}sequenceFlow")}
    assert len(tasks) == 29 and len(lanes) == 9
    assert tasks <= parser.drawn, sorted(tasks - parser.drawn)
    assert lanes <= parser.drawn, sorted(lanes - parser.drawn)
    assert gateways <= parser.drawn, sorted(gateways - parser.drawn)
    assert flows <= parser.drawn, sorted(flows - parser.drawn)
    assert set(result["elements"]["bpmn:Task"]) == tasks
    assert set(result["elements"]["bpmn:Lane"]) == lanes


def test_bpmn_js_screenshot_is_not_blank(xml: str, tmp_path: Path) -> None:
    program = chromium()
    from PIL import Image

    url = page(tmp_path, xml).as_uri()
    shot = tmp_path / "diagram.png"
    run(program, tmp_path, f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    with Image.open(shot) as image:
        assert image.size == WINDOW
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])
    assert dark > 0.005 * WINDOW[0] * WINDOW[1], "the diagram drew almost nothing"

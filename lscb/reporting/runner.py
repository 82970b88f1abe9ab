"""Reports: run one of the project's notebooks with parameters and write one self-contained HTML
file a board member can read without Python.

The notebooks ship inside the application package as ``lscb.notebooks`` (``pyproject.toml`` maps
the repository's ``notebooks/`` folder there), so they are found with ``importlib.resources``
from an installed package as from a checkout, never from the working directory. A report is the
executed notebook without its code cells, preceded by a title page (title, date, the inputs'
names and SHA-256 checksums, the project's version, the settings); its figures are embedded PNG
images and it links to nothing outside the file.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from lscb import __version__
from lscb.reporting.markup import render
from model.calendar import LONDON
from model.errors import InputError, LscbError, Problem

__all__ = [
    "EXTERNAL_REFERENCE",
    "KERNEL",
    "NOTEBOOKS",
    "NOTEBOOK_PACKAGE",
    "SOURCE_DATE_EPOCH",
    "NotebookError",
    "Report",
    "ReportInput",
    "count_figures",
    "count_tables",
    "execute_notebook",
    "notebook_path",
    "notebooks_dir",
    "production_time",
    "render_html",
    "sha256_of",
    "title_page",
    "write_report",
]

NOTEBOOKS: Mapping[str, str] = {
    "procedure": "01_procedure.ipynb",
    "scenario": "02_caseload_scenarios.ipynb",
    "audit": "03_conformance_audit.ipynb",
    "calibration": "04_calibration.ipynb",
}
"""The report kinds and the notebook each one runs."""

NOTEBOOK_PACKAGE: Final = "lscb.notebooks"
"""Where the notebooks are installed (``[tool.setuptools.package-dir]`` in pyproject.toml)."""

KERNEL = "python3"

# External resources in the exported HTML: an attribute or CSS url() that loads from the network.
EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|srcset|data|poster)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s+["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)


class NotebookError(LscbError):
    """A notebook stopped with an error; the message names the notebook, the cell and the error."""


def notebooks_dir() -> Path:
    """The folder of the project's notebooks: the package ``lscb.notebooks``, where it is
    installed (the repository's ``notebooks/`` in an editable install).

    >>> sorted(p.name for p in notebooks_dir().glob("*.ipynb")) == sorted(NOTEBOOKS.values())
    True
    """
    try:
        directory = Path(str(importlib.resources.files(NOTEBOOK_PACKAGE)))
    except ModuleNotFoundError:
        directory = None
    if directory is None or not directory.is_dir():
        raise LscbError(
            f"the report notebooks are not installed: expected the package {NOTEBOOK_PACKAGE} "
            "(reinstall the project with 'pip install .' from its source)"
        )
    return directory


def notebook_path(kind: str) -> Path:
    """The notebook that a report of ``kind`` (one of NOTEBOOKS) runs.

    >>> notebook_path("audit").name
    '03_conformance_audit.ipynb'
    """
    if kind not in NOTEBOOKS:
        raise LscbError(f"no report '{kind}'; the reports are: {', '.join(NOTEBOOKS)}")
    path = notebooks_dir() / NOTEBOOKS[kind]
    if not path.is_file():
        raise LscbError(f"the notebook of the {kind} report is missing: expected {path}")
    return path


def sha256_of(path: Path) -> str:
    """The SHA-256 checksum of a file, in hex, as the title page shows it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as work:
    ...     (Path(work) / "empty.csv").write_bytes(b"")
    ...     sha256_of(Path(work) / "empty.csv")[:16]
    0
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ReportInput:
    """One input of a report as the title page lists it."""

    label: str  # what it is: "event log", "scenario", "procedure"
    name: str  # the file's name (never its full path)
    sha256: str

    @classmethod
    def of_file(cls, label: str, path: Path, *, name: str | None = None) -> ReportInput:
        """The input read from ``path``; raises InputError when there is no readable file.

        >>> from model.procedure import default_procedure_path
        >>> given = ReportInput.of_file("procedure", default_procedure_path())
        >>> given.name, len(given.sha256)
        ('procedure.yaml', 64)
        >>> ReportInput.of_file("event log", Path("nowhere.csv"))
        Traceback (most recent call last):
        model.errors.InputError: nowhere.csv: 1 problem(s) found
          - nowhere.csv: expected an existing file (event log); found no file at this path
        """
        if not path.is_file():
            raise InputError(
                str(path),
                [Problem(str(path), f"an existing file ({label})", "no file at this path")],
            )
        return cls(label=label, name=name or path.name, sha256=sha256_of(path))


@dataclass(frozen=True)
class Report:
    """A written report: where it is and what it holds."""

    path: Path
    kind: str
    title: str
    generated: datetime
    inputs: tuple[ReportInput, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    figures: int = 0
    tables: int = 0


SOURCE_DATE_EPOCH: Final = "SOURCE_DATE_EPOCH"
"""The environment variable that fixes the time a report gives as its production time (whole
seconds since 1970-01-01 UTC, as reproducible builds use it: https://reproducible-builds.org)."""


def production_time(environ: Mapping[str, str] | None = None) -> datetime:
    """When a report is produced, as its title page gives it: now, or the time that the
    environment variable ``SOURCE_DATE_EPOCH`` fixes, so that a report run again from the same
    inputs and seed is the same file byte for byte (the title page gives the time to the
    minute, and it is the only part of a report that depends on when it was run).

    >>> production_time({"SOURCE_DATE_EPOCH": "1714552200"}).isoformat()
    '2024-05-01T09:30:00+01:00'
    >>> production_time({"SOURCE_DATE_EPOCH": "yesterday"})
    Traceback (most recent call last):
    model.errors.LscbError: the environment variable SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01 UTC (such as 1714552200); found 'yesterday'
    """
    given = (os.environ if environ is None else environ).get(SOURCE_DATE_EPOCH)
    if given is None or given == "":
        return datetime.now(tz=LONDON)
    if not given.isdigit():
        raise LscbError(
            f"the environment variable {SOURCE_DATE_EPOCH}: expected whole seconds since "
            f"1970-01-01 UTC (such as 1714552200); found {given[:40]!r}"
        )
    try:
        return datetime.fromtimestamp(int(given), tz=LONDON)
    except (OverflowError, OSError, ValueError):
        raise LscbError(
            f"the environment variable {SOURCE_DATE_EPOCH}: expected whole seconds since "
            f"1970-01-01 UTC within the years 1970-9999; found {given[:40]!r}"
        ) from None


def execute_notebook(
    kind: str,
    parameters: Mapping[str, Any],
    *,
    cell_timeout: int | None = 1800,
) -> Any:
    """Run the notebook of ``kind`` with papermill in a fresh ``python3`` kernel whose working
    directory is an empty temporary directory; returns the executed notebook (an nbformat
    NotebookNode). Raises NotebookError naming the cell and the error when a cell fails."""
    import papermill  # imported here: it takes a while and only reports need it

    source = notebook_path(kind)
    with tempfile.TemporaryDirectory(prefix="lscb-report-") as work:
        output = Path(work) / source.name
        try:
            return papermill.execute_notebook(
                str(source),
                str(output),
                parameters=dict(parameters),
                kernel_name=KERNEL,
                cwd=work,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=cell_timeout,
                # the kernel's own log (transport notices, shutdown) is not the report's business
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except papermill.PapermillExecutionError as exc:
            raise NotebookError(
                f"the {kind} report stopped: notebook {source.name}, cell {exc.exec_count}: "
                f"{exc.ename}: {exc.evalue}"
            ) from None


_TEMPLATE_NAME = "lscb_report.html.j2"
# The lab template without anything it would fetch from the network (require.js, MathJax,
# mermaid, widgets), and with a title page style. Code cells are excluded by the exporter.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<meta name="generator" content="lscb {{ nb.metadata.get('lscb_version', '') }}">
<style type="text/css">
body { max-width: 72rem; margin: 0 auto; }
.lscb-title-page { padding: 2rem 0 3rem 0; page-break-after: always; }
.lscb-title-page h1 { font-size: 2rem; margin-bottom: 0.5rem; }
.jp-RenderedHTMLCommon table { margin-left: 0; margin-right: auto; }
.jp-RenderedHTMLCommon.jp-OutputArea-output td, .jp-RenderedHTMLCommon.jp-OutputArea-output th,
.jp-RenderedHTMLCommon.jp-OutputArea-output tr { text-align: left; vertical-align: top; }
.lscb-title-page code { font-size: 0.8rem; word-break: break-all; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
</style>
{%- endblock html_head_css -%}
"""


def _shown(name: str, value: Any) -> str:
    """A parameter as the title page shows it: files by their names (never their paths).

    >>> _shown("rules_paths", ["/data/a.yaml", "/data/b.yaml"])
    'a.yaml, b.yaml'
    >>> _shown("check_settings", {"same_day": "working", "extra_closures": ["2024-12-27"]})
    'same_day = working; extra_closures = 2024-12-27'
    >>> _shown("check_settings", {}), _shown("seed", None)
    ('default', 'default')
    """
    if value is None:
        return "default"
    if name.endswith("_path") and isinstance(value, str | Path):
        return Path(value).name
    if isinstance(value, Mapping):
        return "; ".join(f"{k} = {_shown(str(k), v)}" for k, v in value.items()) or "default"
    if isinstance(value, list | tuple):
        texts = [Path(v).name if name.endswith("_paths") else str(v) for v in value]
        return ", ".join(texts) or "none"
    return str(value)


def title_page(
    title: str,
    generated: datetime,
    inputs: Sequence[ReportInput],
    parameters: Mapping[str, Any],
) -> str:
    """The report's first block: HTML (``templates/title_page.html.j2``, every value escaped)
    that the notebook renders as Markdown. HTML inside Markdown ends at a blank line, so no
    value may hold a line break: each is shown on one line.

    >>> from datetime import datetime, timezone
    >>> page = title_page("A <b>title</b>", datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc),
    ...                   [ReportInput("event log", "log\\n\\n<script>.csv", "ab" * 32)], {})
    >>> "<script>" in page or "<b>" in page or "\\n\\n" in page
    False
    >>> "Produced on 1 May 2024 at 10:30 (Europe/London)" in page
    True
    """
    local = generated.astimezone(LONDON)
    page = render(
        "title_page.html.j2",
        title=_one_line(title),
        date=f"{local:%-d %B %Y}",
        time=f"{local:%H:%M}",
        version=__version__,
        inputs=[ReportInput(_one_line(i.label), _one_line(i.name), _one_line(i.sha256))
                for i in inputs],
        settings=[(_one_line(k), _one_line(_shown(k, v))) for k, v in parameters.items()],
    )
    return str(page).rstrip("\n")


def _one_line(text: str) -> str:
    """``text`` with each line break (and the spaces around it) as one space."""
    return re.sub(r"\s*[\r\n]\s*", " ", text)


def render_html(
    notebook: Any,
    *,
    title: str,
    generated: datetime,
    inputs: Sequence[ReportInput],
    parameters: Mapping[str, Any],
) -> str:
    """The executed notebook as one HTML page: a title page first, no code cells, no standard
    error output, images embedded; raises LscbError if anything would load from the network."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.from_dict(notebook)  # type: ignore[no-untyped-call]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    nb.cells.insert(
        0,
        nbformat.v4.new_markdown_cell(  # type: ignore[no-untyped-call]
            title_page(title, generated, inputs, parameters)
        ),
    )
    # The same inputs give the same page: the cells that papermill and the title page add get
    # random ids (nbformat), which nbconvert writes into the page; every cell is numbered instead.
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    nb.metadata["title"] = title
    nb.metadata["lscb_version"] = __version__
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _resources = exporter.from_notebook_node(nb)
    text = str(body)
    if EXTERNAL_REFERENCE.search(text):
        raise LscbError(
            "the report would load something from the network (a link in a notebook's output); "
            "reports must be self-contained"
        )
    return text


def count_figures(text: str) -> int:
    """Embedded images in a report (PNG/JPEG data URLs and inline SVG).

    >>> count_figures('<img src="data:image/png;base64,AAAA"><svg></svg><img src="x.png">')
    2
    """
    return len(re.findall(r"<img\b[^>]*\bsrc\s*=\s*[\"']data:image/", text)) + len(
        re.findall(r"<svg\b", text)
    )


def count_tables(text: str) -> int:
    """Tables in a report, not counting the title page's two."""
    return len(re.findall(r"<table\b", text)) - 2


def write_report(
    kind: str,
    out: Path,
    *,
    title: str,
    parameters: Mapping[str, Any],
    inputs: Sequence[ReportInput],
    generated: datetime | None = None,
    cell_timeout: int | None = 1800,
) -> Report:
    """Run the notebook of ``kind`` with ``parameters`` and write the HTML report to ``out``.

    Parameters
    ----------
    kind
        One of ``NOTEBOOKS``: ``procedure``, ``scenario``, ``audit`` or ``calibration``.
    out
        The HTML file to write (its folder is created).
    title, inputs
        The title page's title and the inputs it lists with their checksums.
    parameters
        The notebook's parameters (those of its ``parameters`` cell); the title page lists
        them, files by their names.
    generated
        The time the title page gives (default: :func:`production_time`, now unless
        ``SOURCE_DATE_EPOCH`` is set).
    cell_timeout
        Seconds a cell may run before the report stops (None: no limit).

    Returns
    -------
    Report
        Where the report is and what it holds (figures and tables counted).

    Raises
    ------
    NotebookError
        When a cell fails: the message names the notebook, the cell and the error.

    Examples
    --------
    ``lscb report procedure --out procedure.html`` is::

        write_report("procedure", Path("procedure.html"), title="Procedure 1.4.9",
                     parameters={"procedure_path": None},
                     inputs=[ReportInput.of_file("procedure", default_procedure_path())])
    """
    when = generated if generated is not None else production_time()
    executed = execute_notebook(kind, parameters, cell_timeout=cell_timeout)
    text = render_html(executed, title=title, generated=when, inputs=inputs, parameters=parameters)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return Report(
        path=out,
        kind=kind,
        title=title,
        generated=when,
        inputs=tuple(inputs),
        parameters=dict(parameters),
        figures=count_figures(text),
        tables=count_tables(text),
    )


"""Reports: run one of the project's notebooks with parameters and write one self-contained HTML
file a board member can read without Python.

The notebooks live in the repository's top-level ``notebooks/`` directory, found relative to the
installed source (never the working directory). A report is the executed notebook without its
code cells, preceded by a title page (title, date, the inputs' names and SHA-256 checksums, the
project's version, the settings); its figures are embedded PNG images and it links to nothing
outside the file.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

import model
from model.errors import InputError, LscbError, Problem
from model.procedure import Procedure

if TYPE_CHECKING:
    from conformance.report import CheckReport
    from simulation.results import SimulationResult
    from simulation.scenario import Scenario
    from simulation.sweep import SweepResult

NOTEBOOKS: Mapping[str, str] = {
    "procedure": "01_procedure.ipynb",
    "scenario": "02_caseload_scenarios.ipynb",
    "audit": "03_conformance_audit.ipynb",
}
"""The report kinds and the notebook each one runs."""

KERNEL = "python3"
LONDON = ZoneInfo("Europe/London")

# External resources in the exported HTML: an attribute or CSS url() that loads from the network.
EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|srcset|data|poster)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s+["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)


class NotebookError(LscbError):
    """A notebook stopped with an error; the message names the notebook, the cell and the error."""


def notebooks_dir() -> Path:
    """The directory of the project's notebooks: ``notebooks/`` beside the installed packages."""
    directory = Path(model.__file__).resolve().parents[1] / "notebooks"
    if not directory.is_dir():
        raise LscbError(
            f"the report notebooks are not installed: expected the directory {directory} "
            "(reports need a source checkout of the project, installed with "
            "'pip install -e .')"
        )
    return directory


def notebook_path(kind: str) -> Path:
    """The notebook that a report of ``kind`` (one of NOTEBOOKS) runs."""
    if kind not in NOTEBOOKS:
        raise LscbError(f"no report '{kind}'; the reports are: {', '.join(NOTEBOOKS)}")
    path = notebooks_dir() / NOTEBOOKS[kind]
    if not path.is_file():
        raise LscbError(f"the notebook of the {kind} report is missing: expected {path}")
    return path


def sha256_of(path: Path) -> str:
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
        """The input read from ``path``; raises InputError when there is no readable file."""
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
    if value is None:
        return "default"
    if name.endswith("_path") and isinstance(value, str | Path):
        return Path(value).name
    return str(value)


def title_page(
    title: str,
    generated: datetime,
    inputs: Sequence[ReportInput],
    parameters: Mapping[str, Any],
) -> str:
    """The report's first block: HTML (escaped) that the notebook renders as markdown."""
    local = generated.astimezone(LONDON)
    rows = "\n".join(
        f"<tr><th>{html.escape(i.label)}</th><td>{html.escape(i.name)}</td>"
        f'<td><code class="lscb-sha256">SHA-256 {i.sha256}</code></td></tr>'
        for i in inputs
    )
    settings = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_shown(k, v))}</td></tr>"
        for k, v in parameters.items()
    )
    return (
        '<div class="lscb-title-page" id="title-page">\n'
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="lscb-date">Produced on {local:%-d %B %Y} at {local:%H:%M} '
        f"(Europe/London) by lscb version "
        f'<span class="lscb-version">{html.escape(model.__version__)}</span>.</p>\n'
        "<h2>Inputs</h2>\n"
        f'<table class="lscb-inputs">\n{rows}\n</table>\n'
        "<h2>Settings</h2>\n"
        f'<table class="lscb-settings">\n{settings}\n</table>\n'
        "<p>The same inputs (same checksums), settings and version give the same figures. "
        "This report was produced from a notebook of the project; its code is not shown.</p>\n"
        "</div>"
    )


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
    nb.metadata["title"] = title
    nb.metadata["lscb_version"] = model.__version__
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
    """Embedded images in a report (PNG/JPEG data URLs and inline SVG)."""
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
    """Run the notebook of ``kind`` with ``parameters`` and write the HTML report to ``out``."""
    when = generated if generated is not None else datetime.now(tz=LONDON)
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


# ------------------------------------------------------------------ notebook helpers
#
# What the notebooks call beyond the packages' own APIs: each returns something to display
# (an IPython image or HTML block, a table, sentences), so that the notebooks define nothing.
# Figures are returned as PNG images (not matplotlib figures) so that they show the same
# whatever matplotlib backend the kernel has.


def procedure_diagram(procedure: Procedure, scale: float = 1.0) -> Any:
    """The procedure's swimlane diagram (``model.picture``) to display in a notebook: an embedded
    PNG at ``scale`` of its drawn size, in a box that scrolls sideways (the diagram is wide)."""
    from IPython.display import HTML

    from model.picture import draw

    with tempfile.TemporaryDirectory(prefix="lscb-picture-") as work:
        target = Path(work) / "procedure.png"
        draw(procedure, target, "png")
        data = target.read_bytes()
    width = round(_png_width(data) * scale)
    encoded = base64.b64encode(data).decode("ascii")
    return HTML(  # type: ignore[no-untyped-call]
        '<div class="lscb-wide" style="overflow-x: auto; max-width: 100%;">'
        f'<img src="data:image/png;base64,{encoded}" width="{width}" '
        f'style="max-width: none; width: {width}px;" '
        f'alt="{html.escape(procedure.title)}: the procedure as a swimlane diagram"></div>'
    )


def _png_width(data: bytes) -> int:
    """The width in pixels that a PNG's header gives."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise LscbError("the procedure picture is not a PNG image")
    return int.from_bytes(data[16:20], "big")


def _png_image(figure: Any) -> Any:
    """A matplotlib figure as an IPython PNG image (drawn at twice the resolution it shows at,
    without the software stamp, so the same figure gives the same bytes)."""
    from IPython.display import Image
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=200, metadata={"Software": None}, bbox_inches="tight")
    return Image(  # type: ignore[no-untyped-call]
        data=buffer.getvalue(), format="png", retina=True
    )


def _png_bytes_image(data: bytes) -> Any:
    """PNG bytes as an IPython image, shown at their own size."""
    from IPython.display import Image

    return Image(  # type: ignore[no-untyped-call]
        data=data, format="png"
    )


def _percent(value: Any) -> str:
    number = _float(value)
    return "-" if math.isnan(number) else f"{100 * number:.0f}%"


# Scenarios -----------------------------------------------------------------------------------

BASELINE = "baseline"
DEMAND_FACTOR = 4 / 3


@dataclass(frozen=True)
class WhatIf:
    """A variant of the scenario: its label, the change in words, and the changed scenario (None
    when the change cannot be made to this scenario; ``note`` then says why)."""

    label: str
    change: str
    scenario: Scenario | None
    note: str = ""


def what_ifs(scenario: Scenario, procedure: Procedure) -> tuple[WhatIf, ...]:
    """The baseline and the scenario report's three what-ifs: demand up by a third, one fewer
    LADO, and the other dispatch rule (earliest deadline first, or first come first served when
    the scenario already dispatches by deadline)."""
    demand = round(scenario.demand * DEMAND_FACTOR, 6)
    out = [
        WhatIf(BASELINE, "the scenario as given", scenario),
        WhatIf(
            "demand up by a third",
            f"every route's arrivals times {DEMAND_FACTOR:.3g} (demand {scenario.demand:g} "
            f"to {demand:g})",
            scenario.with_values({"demand": demand}, procedure),
        ),
    ]
    lado = scenario.role("lado").headcount
    if lado is None:
        out.append(WhatIf("one fewer LADO", "", None, "the scenario sets no limit on LADOs"))
    elif lado <= 1:
        out.append(WhatIf("one fewer LADO", "", None, "the scenario has only one LADO"))
    else:
        out.append(
            WhatIf(
                "one fewer LADO",
                f"LADOs {lado} to {lado - 1}",
                scenario.with_values({"roles.lado.headcount": lado - 1}, procedure),
            )
        )
    if str(scenario.dispatch) == "edf":
        out.append(
            WhatIf(
                "first come, first served",
                "queues served in order of arrival instead of earliest deadline first",
                scenario.with_values({"dispatch": "fcfs"}, procedure),
            )
        )
    else:
        out.append(
            WhatIf(
                "earliest deadline first",
                "each queue serves the step with the earliest deadline first, instead of in order "
                "of arrival",
                scenario.with_values({"dispatch": "edf"}, procedure),
            )
        )
    return tuple(out)


def what_if_table(variants: Sequence[WhatIf]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "scenario": w.label,
                "change": w.change if w.scenario is not None else f"not run: {w.note}",
            }
            for w in variants
        ]
    )


@dataclass(frozen=True)
class _Rate:
    """A rule's compliance in one result: the mean over replications and its 95% interval
    (NaN when not judged, or with one replication)."""

    mean: float
    low: float
    high: float

    @property
    def judged(self) -> bool:
        return not math.isnan(self.mean)

    def apart_from(self, other: _Rate) -> bool:
        """The two 95% intervals do not overlap."""
        bounds = (self.low, self.high, other.low, other.high)
        if any(math.isnan(v) for v in bounds):
            return False
        return self.high < other.low or other.high < self.low

    def text(self) -> str:
        if not self.judged:
            return "-"
        if (
            math.isnan(self.low)
            or math.isnan(self.high)
            or _percent(self.low) == _percent(self.high)
        ):
            return _percent(self.mean)
        return f"{_percent(self.mean)} ({_percent(self.low)[:-1]}-{_percent(self.high)})"


def _rates(result: SimulationResult) -> dict[str, _Rate]:
    table = result.compliance
    return {
        str(rule): _Rate(_float(mean), _float(low), _float(high))
        for rule, mean, low, high in zip(
            table["rule_id"], table["compliance"], table["ci_low"], table["ci_high"], strict=True
        )
    }


def _float(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def _interesting_rules(results: Mapping[str, SimulationResult]) -> list[str]:
    """Rules judged in some scenario and not met in every case of every run of every one."""
    rates = [_rates(r) for r in results.values()]
    keep = []
    for rule in rates[0]:
        judged = [r[rule].mean for r in rates if rule in r and r[rule].judged]
        if judged and min(judged) < 0.995:
            keep.append(rule)
    return keep


def compliance_table(results: Mapping[str, SimulationResult]) -> pd.DataFrame:
    """Per rule: clause, severity, then for each scenario the mean compliance across its
    replications with the 95% confidence interval ('72% (65-80%)'); '-' when not judged."""
    first = next(iter(results.values()))
    table = (
        first.compliance[["rule_id", "clause", "severity"]]
        .rename(columns={"rule_id": "rule"})
        .reset_index(drop=True)
    )
    missing = _Rate(math.nan, math.nan, math.nan)
    for label, result in results.items():
        rates = _rates(result)
        table[label] = [rates.get(str(rule), missing).text() for rule in table["rule"]]
    return table


def comparison_figure(results: Mapping[str, SimulationResult]) -> Any:
    """Compliance per rule in each scenario, with 95% confidence intervals (rules met in every
    case of every run of every scenario are left out)."""
    import numpy as np
    from matplotlib.figure import Figure

    rules = _interesting_rules(results)
    labels = list(results)
    height = max(2.5, 0.22 * len(rules) * len(labels) + 1.2)
    figure = Figure(figsize=(9, height), layout="constrained")
    axes = figure.add_subplot()
    if not rules:
        axes.text(
            0.5, 0.5, "Every rule was met in every case of every run", ha="center", va="center"
        )
        axes.set_axis_off()
        return _png_image(figure)
    bar = 0.8 / len(labels)
    base = np.arange(len(rules))[::-1].astype(float)
    colours = ("#4d4d4d", "#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214")
    for index, label in enumerate(labels):
        rates = _rates(results[label])
        values = np.array([100 * rates[r].mean for r in rules])
        low = np.nan_to_num(values - np.array([100 * rates[r].low for r in rules]))
        high = np.nan_to_num(np.array([100 * rates[r].high for r in rules]) - values)
        y = base + 0.4 - bar * (index + 0.5)
        axes.barh(
            y,
            np.nan_to_num(values),
            height=bar * 0.9,
            xerr=[low, high],
            capsize=2,
            color=colours[index % len(colours)],
            label=label,
            error_kw={"elinewidth": 0.8, "ecolor": "#333333"},
        )
    axes.set_yticks(base, rules, fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel(
        "cases that met the rule (%), mean of the replications with its 95% confidence interval"
    )
    figure.legend(loc="outside upper center", ncols=min(len(labels), 4), fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png_image(figure)


def _rule_phrase(procedure: Procedure, rule_id: str) -> str:
    try:
        rule = procedure.rule(rule_id)
    except KeyError:
        return rule_id
    return f"{rule_id} ({rule.clause}: {rule.text()})"


def scenario_findings(
    results: Mapping[str, SimulationResult],
    procedure: Procedure,
    *,
    baseline: str = BASELINE,
    threshold: float = 0.02,
    per_what_if: int = 3,
) -> list[str]:
    """Sentences (Markdown) computed from the results: for each what-if, the rules whose
    compliance moves most against the baseline (by ``threshold`` or more), saying whether the
    95% intervals separate or the change is within the runs' noise."""
    base_result = results[baseline]
    base = _rates(base_result)
    out: list[str] = []
    judged = sorted(((rate.mean, rule) for rule, rate in base.items() if rate.judged))
    worst = [(mean, rule) for mean, rule in judged if mean < 0.995][:3]
    if worst:
        out.append(
            f"In the **{baseline}** ({base_result.replications} runs of "
            f"{base_result.scenario.horizon_days} days, about "
            f"{base_result.cases_per_replication:.0f} cases each), the rules met least often "
            "are "
            + "; ".join(
                f"{_rule_phrase(procedure, rule)}: {_percent(mean)}" for mean, rule in worst
            )
            + "."
        )
    else:
        out.append(f"In the **{baseline}**, every judged rule was met in (nearly) every case.")
    for label, result in results.items():
        if label == baseline:
            continue
        rates = _rates(result)
        moves = sorted(
            (not rates[rule].apart_from(before), -abs(rates[rule].mean - before.mean), rule)
            for rule, before in base.items()
            if rule in rates
            and before.judged
            and rates[rule].judged
            and abs(rates[rule].mean - before.mean) >= threshold
        )
        if not moves:
            out.append(
                f"With **{label}**, no rule's compliance moves by {100 * threshold:.0f} "
                "percentage points or more."
            )
            continue
        for noise, _, rule in moves[:per_what_if]:
            before, after = base[rule], rates[rule]
            if noise:
                out.append(
                    f"With **{label}**, {_rule_phrase(procedure, rule)} is met in "
                    f"{_percent(after.mean)} of cases against {_percent(before.mean)} in the "
                    f"{baseline}: within the noise of {result.replications} runs (the 95% "
                    "intervals overlap); more replications would tell."
                )
            else:
                verb = "falls" if after.mean < before.mean else "rises"
                out.append(
                    f"With **{label}**, {_rule_phrase(procedure, rule)} {verb} from "
                    f"{_percent(before.mean)} to {_percent(after.mean)} of cases (the 95% "
                    "intervals do not overlap)."
                )
    return out


def simulation_figure(result: SimulationResult, name: str) -> Any:
    """One of the simulator's plots of ``result`` ('compliance', 'utilisation', 'queues',
    'bottlenecks') as a PNG image, the same as ``lscb simulate --plots`` writes."""
    from simulation import plots

    if name not in plots.RESULT_FIGURES:
        raise LscbError(
            f"no plot '{name}'; the plots are: {', '.join(sorted(plots.RESULT_FIGURES))}"
        )
    return _png_bytes_image(plots.png_bytes(plots.result_figure(result, name)))


def sweep_figure(result: SweepResult, rule_id: str) -> Any:
    """The simulator's heatmap of compliance with ``rule_id`` over the sweep's grid (the first,
    when further fields are varied)."""
    from simulation import plots

    _name, figure = plots.sweep_figures(result, rule_id)[0]
    return _png_bytes_image(plots.png_bytes(figure))


def sweep_findings(result: SweepResult, rule_id: str, procedure: Procedure) -> list[str]:
    """Where on the sweep's grid compliance with ``rule_id`` is lowest and highest."""
    table = result.table[result.table["rule_id"] == rule_id].dropna(subset=["compliance"])
    if table.empty:
        return [f"No case was judged on {rule_id} at any point of the sweep."]
    ordered = table.sort_values("compliance", kind="stable")

    def point(row: pd.Series) -> str:
        return ", ".join(
            f"{f} = {row[f]:g}" if isinstance(row[f], float) else f"{f} = {row[f]}"
            for f in result.fields
        )

    low, high = ordered.iloc[0], ordered.iloc[-1]
    return [
        f"Over the sweep ({result.replications} runs per point, the same cases at every "
        f"point), {_rule_phrase(procedure, rule_id)} ranges from {_percent(low['compliance'])} "
        f"({point(low)}) to {_percent(high['compliance'])} ({point(high)})."
    ]


# Audits --------------------------------------------------------------------------------------


def audit(
    log_path: Path | str,
    *,
    procedure_path: Path | str | None = None,
    mapping_path: Path | str | None = None,
    config_path: Path | str | None = None,
    as_of: str | None = None,
    fitness_method: str = "auto",
) -> CheckReport:
    """Check an event log as ``lscb check`` does (``conformance.check.check``: the procedure's
    rules, a mapping file and a check configuration file if given) and return the conformance
    report's data."""
    from conformance.check import LogFormat, check
    from conformance.config import load_check_config

    return check(
        log_path,
        procedure=procedure_path,
        log_format=LogFormat(mapping=None if mapping_path is None else Path(mapping_path)),
        config=None if config_path is None else load_check_config(config_path),
        as_of=as_of,
        fitness=fitness_method,
    )


def audit_overview(report: CheckReport) -> str:
    """The audit in three sentences (Markdown)."""
    j = report.judgement
    dev = report.deviations
    warnings = len(dev) - report.violations
    cases_with = dev["case_id"].nunique() if len(dev) else 0
    return (
        f"The log **{Path(report.log.source).name}** holds {int(j.cases):,} cases and "
        f"{int(j.events):,} events, judged as of {_local(j.as_of)} (Europe/London) against "
        f"{len(j.rules)} rules. {len(dev):,} deviations in {cases_with:,} cases: "
        f"{report.violations:,} against rules of severity *violation*, {warnings:,} against "
        "*warnings*. Nothing here ranks cases or people: these are the steps the records show "
        "as missing, late or out of order."
    )


def _local(value: Any) -> str:
    """A UTC time as local (Europe/London) day and minute; empty when missing."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert(LONDON).strftime("%d %b %Y %H:%M")


def compliance_summary(report: CheckReport) -> pd.DataFrame:
    """Per rule: the count of cases per status and compliance = satisfied / (satisfied +
    violated), as a percentage ('-' when neither)."""
    summary = report.summary.copy()
    summary["compliance"] = [_percent(v) for v in summary["compliance"]]
    return summary.rename(
        columns={
            "rule_id": "rule",
            "description": "the rule",
            "not_applicable": "not applicable",
            "not_assessable": "not assessable",
        }
    )


def monthly_compliance(report: CheckReport) -> pd.DataFrame:
    """Compliance per rule (rows) and month of the trigger (columns, Europe/London), as
    percentages; empty where nothing was judged that month (from
    ``conformance.report.monthly_rates``)."""
    from conformance.report import monthly_rates

    rates = monthly_rates(report)
    if rates.empty:
        return pd.DataFrame()
    rates = rates.rename_axis(index="rule", columns="month")
    return rates.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}%")


def audit_chart(report: CheckReport, which: str) -> Any:
    """One of the conformance report's charts as a PNG image (as its HTML report embeds it):
    'compliance' (per rule), 'monthly' (per rule and month) or 'lateness' (missed deadlines by
    how late); a Markdown sentence when there is nothing to draw."""
    from IPython.display import Markdown

    from conformance.report import (
        compliance_figure,
        lateness_figure,
        monthly_figure,
        png_bytes,
    )

    if which == "compliance":
        figure = compliance_figure(report.summary)
        empty = "No rule could be judged."
    elif which == "monthly":
        figure, _note = monthly_figure(report)
        empty = "No judgement has a date to place it in a month."
    elif which == "lateness":
        figure = lateness_figure(report.deviations)
        empty = "No deadline was missed."
    else:
        raise LscbError(f"no chart '{which}'; the charts are: compliance, monthly, lateness")
    if figure is None:
        return Markdown(  # type: ignore[no-untyped-call]
            f"*{empty}*"
        )
    return _png_bytes_image(png_bytes(figure))


def deviations_table(report: CheckReport, limit: int = 200) -> pd.DataFrame:
    """The deviating cases with their evidence, the latest-missed first (at most ``limit``):
    case, rule, clause, severity, what happened (the trigger, the deadline and the late or
    missing step, in local time), how late, and whether the judgement rests on a date-only
    record."""
    from conformance.report import lateness_text

    dev = report.deviations
    if dev.empty:
        return pd.DataFrame(columns=["case", "rule", "what happened"])
    hours = pd.to_numeric(dev["late_hours"], errors="coerce").fillna(-1.0)
    ordered = dev.assign(_late=hours).sort_values("_late", ascending=False, kind="stable")
    ordered = ordered.iloc[:limit]
    return pd.DataFrame(
        {
            "case": ordered["case_id"].astype(str),
            "rule": ordered["rule_id"].astype(str),
            "clause": ordered["clause"].astype(str),
            "severity": ordered["severity"].astype(str),
            "what happened": ordered["message"].astype(str),
            "how late": [
                lateness_text(h, w, e is not None and not pd.isna(e))
                for h, w, e in zip(
                    ordered["late_hours"],
                    ordered["late_working_days"],
                    ordered["evidence_time"],
                    strict=True,
                )
            ],
            "date only": ["yes" if bool(d) else "" for d in ordered["date_only"]],
        }
    ).reset_index(drop=True)


def case_timelines(report: CheckReport, cases: int = 4) -> Any:
    """Timelines of the ``cases`` deviating cases (at most TIMELINE_CAP, as in the conformance
    report) that missed a deadline by most (then in log order): each event on its activity's
    row, each missed deadline a dashed line; hollow points are events known only to the day."""
    from IPython.display import HTML

    from conformance.report import TIMELINE_CAP, timeline_cases, timeline_svg

    chosen, _more = timeline_cases(report, min(cases, TIMELINE_CAP))
    if not chosen:
        return HTML(  # type: ignore[no-untyped-call]
            "<p><em>No case has a violated rule.</em></p>"
        )
    events = report.log.events
    dev = report.deviations
    blocks = []
    for case in chosen:
        case_dev = dev[dev["case_id"] == case]
        items = "".join(
            f"<li><b>{html.escape(str(r.rule_id))}</b> ({html.escape(str(r.clause))}, "
            f"{html.escape(str(r.severity))}): {html.escape(str(r.message))}</li>"
            for r in case_dev.itertuples(index=False)
        )
        svg = timeline_svg(case, events[events["case_id"] == case], case_dev)
        blocks.append(f"<h4>Case {html.escape(str(case))}</h4><ul>{items}</ul>{svg}")
    return HTML(  # type: ignore[no-untyped-call]
        '<div class="lscb-timelines">' + "".join(blocks) + "</div>"
    )


def caveats_markdown(report: CheckReport) -> str:
    """What cannot be judged from the data, and other caveats, as a Markdown list."""
    caveats = report.caveats
    if not caveats:
        return "- Nothing to add: every rule could be judged on every case."
    return "\n".join(f"- {c.message}" for c in caveats)

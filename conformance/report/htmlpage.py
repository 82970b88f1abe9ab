"""The HTML report of a check: one self-contained page (no external resources) filled into
``conformance/report_template.html``, every value from the log escaped."""

from __future__ import annotations

import importlib.resources
import string
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from conformance.engine import STATUSES
from conformance.report.charts import (
    compliance_figure,
    data_uri,
    lateness_figure,
    monthly_figure,
)
from conformance.report.formatting import (
    STATUS_LABELS,
    TABLE_CAP,
    esc,
    lateness_text,
    percent,
    shown,
)
from conformance.report.terminal import fitness_line
from conformance.report.timelines import timelines_html

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from conformance.report.result import CheckReport


def _table_html(frame: pd.DataFrame, columns: Sequence[str], headers: Sequence[str],
                numeric: Iterable[str] = ()) -> str:
    right = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    rows = []
    for record in frame.loc[:, list(columns)].itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="num">{esc(v)}</td>' if c in right else f"<td>{esc(v)}</td>"
            for c, v in zip(columns, record, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _image(figure: Figure | None, alt: str, empty: str) -> str:
    if figure is None:
        return f"<p>{esc(empty)}</p>"
    return f'<img src="{data_uri(figure)}" alt="{esc(alt)}">'


def to_html(report: CheckReport) -> str:
    """The whole report as one self-contained HTML page (no external resources)."""
    summary = report.summary.copy()
    summary["compliance_text"] = [percent(float(v)) for v in summary["compliance"]]
    summary_table = _table_html(
        summary,
        ["rule_id", "clause", "severity", "description", *STATUSES, "compliance_text"],
        ["rule", "clause", "severity", "the rule", *(STATUS_LABELS[s] for s in STATUSES),
         "compliance"],
        numeric=[*STATUSES, "compliance_text"],
    )
    dev = report.deviations
    shown_dev = dev.iloc[:TABLE_CAP].copy()
    shown_dev["when"] = [shown(t) for t in shown_dev["trigger_time"]]
    shown_dev["deadline_text"] = [shown(t) for t in shown_dev["deadline"]]
    shown_dev["lateness_text"] = [
        lateness_text(h, d, e is not None and not pd.isna(e))
        for h, d, e in zip(shown_dev["late_hours"], shown_dev["late_working_days"],
                           shown_dev["evidence_time"], strict=True)
    ]
    dev_table = _table_html(
        shown_dev,
        ["case_id", "rule_id", "clause", "severity", "message", "when", "deadline_text",
         "lateness_text"],
        ["case", "rule", "clause", "severity", "what happened", "trigger", "deadline",
         "how late"],
    ) if len(dev) else "<p>No rule was violated.</p>"
    if len(dev) > TABLE_CAP:
        dev_table += (f"<p>The first {TABLE_CAP:,} of {len(dev):,} deviations are listed; all "
                      "are in deviations.csv.</p>")
    monthly, monthly_note = monthly_figure(report)
    caveats = "".join(f"<li>{esc(c.message)}</li>" for c in report.caveats)
    fit = report.fitness
    fitness_detail = ""
    if fit is not None and len(fit.cases):
        unfit = fit.cases[~fit.cases["is_fit"].astype(bool)]
        common = unfit["deviations"].value_counts().head(15)
        if len(common):
            frame = pd.DataFrame({"deviation": common.index, "cases": common.to_numpy()})
            fitness_detail = ("<p>The most common ways cases depart from the model:</p>"
                              + _table_html(frame, ["deviation", "cases"],
                                            ["departure from the model", "cases"], ["cases"]))
    template = string.Template(
        importlib.resources.files("conformance").joinpath("report_template.html").read_text(
            encoding="utf-8")
    )
    j = report.judgement
    settings = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in report.options.items())
    return template.substitute(
        title=esc(f"Conformance report: {Path(report.log.source).name}"),
        source=esc(Path(report.log.source).name),
        as_of=esc(shown(j.as_of)),
        cases=f"{int(j.cases):,}",
        events=f"{int(j.events):,}",
        violations=f"{report.violations:,}",
        warnings=f"{len(report.deviations) - report.violations:,}",
        settings=settings or "<li>defaults</li>",
        compliance_chart=_image(compliance_figure(report.summary),
                                "compliance per rule", "No rule could be judged."),
        summary_table=summary_table,
        monthly_chart=_image(monthly, "compliance per rule by month",
                             "No judgement has a date to place it in a month."),
        monthly_note=esc(monthly_note),
        lateness_chart=_image(lateness_figure(report.deviations),
                              "missed deadlines by how late", "No deadline was missed."),
        fitness_line=esc(fitness_line(report)),
        fitness_detail=fitness_detail,
        timelines=timelines_html(report),
        caveats=caveats or "<li>Nothing to add: every rule could be judged on every case.</li>",
        deviations_table=dev_table,
    )

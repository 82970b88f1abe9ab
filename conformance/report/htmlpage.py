"""The HTML report of a check: one self-contained page (no external resources), rendered from
the Jinja2 template ``templates/check_report.html.j2`` with autoescape, so that every value
from the log, the rules and the file names is escaped (``conformance.report.templating``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    lateness_text,
    percent,
    plural,
    shown,
)
from conformance.report.templating import render
from conformance.report.terminal import fitness_line
from conformance.report.timelines import case_timelines

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from conformance.report.result import CheckReport


@dataclass(frozen=True)
class _Table:
    """A table for the template: its headers, its rows of text, and which columns are numbers
    (right-aligned)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


@dataclass(frozen=True)
class _Chart:
    """A chart for the template: a data: URI and its alternative text, or the sentence said
    instead when there is nothing to draw (``uri`` empty)."""

    uri: str
    alt: str
    empty: str


def _cell(value: Any) -> str:
    return "" if value is None or value is pd.NA else str(value)


def _table(frame: pd.DataFrame, columns: Sequence[str], headers: Sequence[str],
           numeric: Iterable[str] = ()) -> _Table:
    right = set(numeric)
    return _Table(
        headers=tuple(headers),
        rows=tuple(
            tuple(_cell(v) for v in record)
            for record in frame.loc[:, list(columns)].itertuples(index=False, name=None)
        ),
        numeric=tuple(c in right for c in columns),
    )


def _chart(figure: Figure | None, alt: str, empty: str) -> _Chart:
    return _Chart("" if figure is None else data_uri(figure), alt, empty)


def to_html(report: CheckReport) -> str:
    """The whole report as one self-contained HTML page (no external resources)."""
    summary = report.summary.copy()
    summary["compliance_text"] = [percent(float(v)) for v in summary["compliance"]]
    summary_table = _table(
        summary,
        ["rule_id", "clause", "severity", "description", *STATUSES, "compliance_text"],
        ["rule", "clause", "severity", "the rule", *(STATUS_LABELS[s] for s in STATUSES),
         "compliance"],
        numeric=[*STATUSES, "compliance_text"],
    )
    dev = report.deviations
    deviations_table = None
    if len(dev):
        shown_dev = dev.iloc[:TABLE_CAP].copy()
        shown_dev["when"] = [shown(t) for t in shown_dev["trigger_time"]]
        shown_dev["deadline_text"] = [shown(t) for t in shown_dev["deadline"]]
        shown_dev["lateness_text"] = [
            lateness_text(h, d, e is not None and not pd.isna(e))
            for h, d, e in zip(shown_dev["late_hours"], shown_dev["late_working_days"],
                               shown_dev["evidence_time"], strict=True)
        ]
        deviations_table = _table(
            shown_dev,
            ["case_id", "rule_id", "clause", "severity", "message", "when", "deadline_text",
             "lateness_text"],
            ["case", "rule", "clause", "severity", "what happened", "trigger", "deadline",
             "how late"],
        )
    monthly, monthly_note = monthly_figure(report)
    fit = report.fitness
    fitness_detail = None
    if fit is not None and len(fit.cases):
        unfit = fit.cases[~fit.cases["is_fit"].astype(bool)]
        common = unfit["deviations"].value_counts().head(15)
        if len(common):
            frame = pd.DataFrame({"deviation": common.index, "cases": common.to_numpy()})
            fitness_detail = _table(frame, ["deviation", "cases"],
                                    ["departure from the model", "cases"], ["cases"])
    timelines, more = case_timelines(report)
    j = report.judgement
    source = Path(report.log.source).name
    return str(render(
        "check_report.html.j2",
        title=f"Conformance report: {source}",
        as_of=shown(j.as_of),
        cases=f"{int(j.cases):,}",
        events=f"{int(j.events):,}",
        violations=f"{report.violations:,}",
        warnings=f"{len(report.deviations) - report.violations:,}",
        settings=[(_cell(k), _cell(v)) for k, v in report.options.items()],
        caveats=[c.message for c in report.caveats],
        compliance_chart=_chart(compliance_figure(report.summary),
                                "compliance per rule", "No rule could be judged."),
        summary_table=summary_table,
        monthly_chart=_chart(monthly, "compliance per rule by month",
                             "No judgement has a date to place it in a month."),
        monthly_note=monthly_note,
        lateness_chart=_chart(lateness_figure(report.deviations),
                              "missed deadlines by how late", "No deadline was missed."),
        fitness_line=fitness_line(report),
        fitness_detail=fitness_detail,
        timelines=timelines,
        timelines_not_drawn=plural(more, "more deviating case") if more else "",
        deviations_table=deviations_table,
        deviations_total=len(dev),
    ))

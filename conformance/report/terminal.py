"""The terminal summary of a check: per rule counts and compliance, the fitness line and the
caveats."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.engine import STATUSES
from conformance.report.formatting import LATENESS_BANDS, percent, plural, shown

if TYPE_CHECKING:
    from conformance.report.result import CheckReport


def summary_text(report: CheckReport) -> str:
    """The terminal summary: per rule counts and compliance, the fitness line, the caveats."""
    j = report.judgement
    lines = [
        f"Checked {plural(int(j.cases), 'case')} ({plural(int(j.events), 'event')}) from "
        f"{Path(report.log.source).name}, as of {shown(j.as_of)} (Europe/London).",
        "",
        "Rules: cases satisfied, violated, pending, not applicable, not assessable; "
        "compliance = satisfied / (satisfied + violated).",
    ]
    summary = report.summary
    width = max([len("rule"), *(len(r) for r in summary["rule_id"])])
    clause_width = max([len("clause"), *(len(c) for c in summary["clause"])])
    head = (f"  {'rule':<{width}}  {'clause':<{clause_width}}  {'severity':<9}"
            f"{'satisf.':>8}{'violat.':>8}{'pending':>8}{'n/a':>7}{'not ass.':>9}{'compl.':>8}")
    lines += [head, "  " + "-" * (len(head) - 2)]
    for row in summary.to_dict(orient="records"):
        counts = [int(row[status]) for status in STATUSES]
        lines.append(
            f"  {row['rule_id']:<{width}}  {row['clause']:<{clause_width}}  "
            f"{row['severity']:<9}{counts[0]:>8,}{counts[1]:>8,}{counts[2]:>8,}{counts[3]:>7,}"
            f"{counts[4]:>9,}{percent(float(row['compliance'])):>8}"
        )
    dev = report.violated
    violations = dev[dev["severity"] == "violation"]
    warnings = dev[dev["severity"] == "warning"]
    lines += [
        "",
        f"Violations: {len(violations):,} in {plural(violations['case_id'].nunique(), 'case')}; "
        f"warnings: {len(warnings):,} in {plural(warnings['case_id'].nunique(), 'case')}.",
    ]
    bands = dev["lateness"][dev["lateness"] != ""].value_counts()
    if len(bands):
        parts = [f"{band}: {int(bands[band]):,}" for band in LATENESS_BANDS if band in bands]
        lines.append("Missed deadlines by how late: " + "; ".join(parts) + ".")
    lines += ["", fitness_line(report)]
    if report.caveats:
        lines += ["", "What to bear in mind (and what could not be judged):"]
        lines += [f"  - {c.message}" for c in report.caveats]
    return "\n".join(lines) + "\n"


def fitness_line(report: CheckReport) -> str:
    """The control-flow fitness in one sentence: how many cases fit the model, the mean fitness
    and the method; or why it was not computed."""
    fit = report.fitness
    if fit is None:
        note = f" ({report.fitness_note})" if report.fitness_note else ""
        return f"Control-flow fitness: not computed{note}."
    n = len(fit.cases)
    if n == 0:
        return "Control-flow fitness: no cases."
    mean = fit.mean_fitness
    mean_text = "" if mean is None or math.isnan(mean) else f"; mean fitness {mean:.3f}"
    return (
        f"Control-flow fitness against the model: {fit.fit_cases:,} of {plural(n, 'case')} "
        f"fit the model ({100 * fit.fit_cases / n:.1f}%){mean_text}. Method: {fit.reason}."
    )

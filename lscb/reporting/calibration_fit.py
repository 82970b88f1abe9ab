"""How well a calibrated scenario reproduces its log: the validation half of the calibration
report (notebook ``04_calibration``), beside ``lscb.reporting.calibrations``, which reads the log,
calibrates and validates (``calibration_study``) and shows what was estimated. These helpers turn
the study's validation into sentences, tables and figures: each rule's compliance in the log
against the simulated 95% interval, the working days to each deadline and the DfE's bands, cases
begun and open, the log distance measures, and the calibrated scenario against the base one.

Every value from the log, a scenario or a file name is escaped before it is shown (Markdown by
``markup.markdown_text``; the notebook shows the tables through ``markup.table``).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from lscb.reporting.figures import number, png_image
from lscb.reporting.markup import markdown_text

if TYPE_CHECKING:
    from lscb.reporting.calibrations import CalibrationStudy
    from simulation.calibration.validate import Validation

__all__ = [
    "BASELINE",
    "CALIBRATED",
    "bands_figure",
    "bands_table",
    "comparison_table",
    "compliance_figure",
    "compliance_table",
    "day",
    "distances_table",
    "flow_table",
    "sig",
    "timeliness_table",
    "validation_findings",
]

CALIBRATED: Final = "calibrated"
"""How the comparison table names the calibrated scenario."""
BASELINE: Final = "base scenario, not calibrated"
"""How the comparison table names the base scenario as written."""


def day(value: date) -> str:
    """A date as the report writes it.

    >>> day(date(2025, 1, 6))
    '6 January 2025'
    """
    return f"{value:%-d %B %Y}"


def sig(value: Any) -> str:
    """A number to three significant figures, or '-' when there is none.

    >>> sig(0.123456), sig(float("nan"))
    ('0.123', '-')
    """
    x = number(value)
    return "-" if math.isnan(x) else f"{x:.3g}"


def _pct(value: Any) -> str:
    x = number(value)
    return "-" if math.isnan(x) else f"{100 * x:.1f}%"


def _judged(v: Validation) -> pd.DataFrame:
    c = v.compliance
    return c[c["log_judged"] > 0].reset_index(drop=True)


def validation_findings(study: CalibrationStudy) -> list[str]:
    """The validation in sentences (Markdown): what was simulated, how many rules fall within
    the simulated interval and which do not, and how the calibrated scenario compares with the
    base scenario as written."""
    v = study.validation
    end = v.start + timedelta(days=v.horizon_days - 1)
    scope = ("the same log it was calibrated on (a check of fit, not of prediction)"
             if study.holdout_from is None else
             f"the cases that began from {day(study.holdout_from)}, which it never saw")
    out = [f"The calibrated scenario was run {v.replications} times over the period the cases "
           f"began ({day(v.start)} to {day(end)}) and judged as the log was; it is set beside "
           f"{scope}."]
    judged = _judged(v)
    decided = judged[judged["inside"].notna()]
    inside = decided[decided["inside"] == True]  # noqa: E712 (a nullable column)
    outside = decided[decided["inside"] == False]  # noqa: E712
    out.append(f"Of {len(judged)} rules judged on some case of the log, {len(inside)} have the "
               "log's compliance within the simulated 95% interval"
               + (f"; {len(outside)} {'does' if len(outside) == 1 else 'do'} not: " + "; ".join(
                   f"{markdown_text(r.rule_id)} (log {_pct(r.log_compliance)}, simulated "
                   f"{_pct(r.sim_low)} to {_pct(r.sim_high)})" for r in outside.itertuples())
                  if len(outside) else "; none falls outside it") + ".")
    if study.baseline is not None:
        table = comparison_table(study)
        closer = int((table["closer"] == CALIBRATED).sum())
        worse = int((table["closer"] == BASELINE).sum())
        out.append(
            f"Against {markdown_text(study.base_name)} as written, run and judged the same way: "
            f"the calibrated scenario is closer to the log on {closer} of {len(table)} "
            f"measures and further on {worse or 'none'}"
            + (" (" + "; ".join(markdown_text(m) for m, c in zip(
                table["measure"], table["closer"], strict=True) if c == BASELINE) + ")"
               if worse else "") + ".")
    if v.replications < 10:
        out.append(f"Only {v.replications} replications: the intervals are rough; run more "
                   "(`--replications`) before acting on a rule that sits near an edge.")
    return out


def compliance_table(study: CalibrationStudy) -> pd.DataFrame:
    """Per rule judged on some case of the log: cases judged, the log's compliance, the
    simulated compliance (pooled) and the 95% interval where a log of as many cases would fall
    if the scenario were right, and whether the log's figure is inside it."""
    c = _judged(study.validation)
    inside = {True: "yes", False: "no"}
    return pd.DataFrame({
        "rule": c["rule_id"].astype(str),
        "severity": c["severity"].astype(str),
        "cases judged in the log": [f"{int(n):,}" for n in c["log_judged"]],
        "compliance in the log": [_pct(x) for x in c["log_compliance"]],
        "simulated": [_pct(x) for x in c["sim_mean"]],
        "simulated 95% interval": [f"{_pct(lo)} to {_pct(hi)}" for lo, hi in
                                   zip(c["sim_low"], c["sim_high"], strict=True)],
        "inside": [inside.get(x, "-") if x is not None and x is not pd.NA else "-"
                   for x in c["inside"]],
    })


def compliance_figure(study: CalibrationStudy) -> Any:
    """Compliance per rule: the log's (a red diamond) against the simulated 95% interval (a
    blue bar with the pooled mean)."""
    import numpy as np
    from matplotlib.figure import Figure

    c = _judged(study.validation)
    figure = Figure(figsize=(9, max(2.5, 0.3 * len(c) + 1.3)), layout="constrained")
    axes = figure.add_subplot()
    if c.empty:
        axes.text(0.5, 0.5, "No rule was judged on any case of the log", ha="center",
                  va="center")
        axes.set_axis_off()
        return png_image(figure)
    y = np.arange(len(c))
    mean = 100 * c["sim_mean"].astype(float).to_numpy()
    low = np.nan_to_num(mean - 100 * c["sim_low"].astype(float).to_numpy()).clip(0)
    high = np.nan_to_num(100 * c["sim_high"].astype(float).to_numpy() - mean).clip(0)
    axes.errorbar(mean, y, xerr=[low, high], fmt="o", color="#2166ac", capsize=3,
                  label="simulated: mean and 95% interval")
    axes.plot(100 * c["log_compliance"].astype(float), y, "D", color="#b2182b",
              label="the log")
    axes.set_yticks(y, [str(r) for r in c["rule_id"]], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(-2, 102)
    axes.set_xlabel("cases that met the rule (%)")
    axes.spines[["top", "right"]].set_visible(False)
    figure.legend(loc="outside upper center", ncols=2, fontsize=8, frameon=False)
    return png_image(figure)


def timeliness_table(study: CalibrationStudy) -> pd.DataFrame:
    """Per deadline rule: working days from trigger to step, the log's median against the
    simulated median, and the Wasserstein distance between the two distributions (the mean
    number of working days by which one must be moved to become the other)."""
    t = study.validation.timeliness
    return pd.DataFrame({
        "rule": t["rule_id"].astype(str),
        "deadline": t["deadline"].astype(str),
        "cases in the log": [f"{int(n):,}" for n in t["log_cases"]],
        "median in the log": [sig(x) for x in t["log_median"]],
        "simulated cases a run": [f"{number(x):,.1f}" for x in t["sim_cases"]],
        "simulated median": [sig(x) for x in t["sim_median"]],
        "distance (working days)": [sig(x) for x in t["wasserstein"]],
    })


def bands_table(study: CalibrationStudy) -> pd.DataFrame:
    """Per deadline rule and band of working days from trigger to step (for a deadline of N
    working days: up to N-5, N-4 to N, N+1 to N+5, more; the DfE's bands for the 15-day
    conference): the log's share, the simulated share and its 95% interval."""
    b = study.validation.bands
    return pd.DataFrame({
        "rule": b["rule_id"].astype(str),
        "working days": b["band"].astype(str),
        "share in the log": [_pct(x) for x in b["log_share"]],
        "simulated": [_pct(x) for x in b["sim_share"]],
        "simulated 95% interval": [f"{_pct(lo)} to {_pct(hi)}" for lo, hi in
                                   zip(b["sim_low"], b["sim_high"], strict=True)],
    })


def bands_figure(study: CalibrationStudy) -> Any:
    """The bands of working days of each deadline rule: the log's shares beside the
    simulated ones (with their 95% intervals); a sentence when no deadline rule was judged."""
    import numpy as np
    from IPython.display import Markdown
    from matplotlib.figure import Figure

    b = study.validation.bands
    rules = list(dict.fromkeys(str(r) for r in b["rule_id"]))
    if not rules:
        return Markdown(  # type: ignore[no-untyped-call]
            "*No deadline rule was judged on the log.*")
    columns = 2 if len(rules) > 1 else 1
    rows = math.ceil(len(rules) / columns)
    figure = Figure(figsize=(10, 2.4 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(rules):
            ax.set_axis_off()
            continue
        part = b[b["rule_id"].astype(str) == rules[index]].reset_index(drop=True)
        x = np.arange(len(part))
        sim = 100 * part["sim_share"].astype(float).to_numpy()
        err = [np.nan_to_num(sim - 100 * part["sim_low"].astype(float).to_numpy()).clip(0),
               np.nan_to_num(100 * part["sim_high"].astype(float).to_numpy() - sim).clip(0)]
        ax.bar(x - 0.2, np.nan_to_num(100 * part["log_share"].astype(float).to_numpy()), 0.4,
               color="#b2182b", label="the log")
        ax.bar(x + 0.2, np.nan_to_num(sim), 0.4, yerr=err, capsize=2, color="#2166ac",
               label="simulated (95% interval)", error_kw={"elinewidth": 0.8})
        ax.set_xticks(x, [str(s) for s in part["band"]], fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_ylabel("% of cases", fontsize=8)
        ax.set_title(rules[index], fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    figure.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside upper center",
                  ncols=2, fontsize=8, frameon=False)
    return png_image(figure)


def flow_table(study: CalibrationStudy) -> pd.DataFrame:
    """Cases begun, per week, and open per day (work in progress): the log's figure, the
    simulated mean and the smallest and largest of the replications."""
    f = study.validation.flow
    return pd.DataFrame({
        "measure": f["measure"].astype(str),
        "the log": [sig(x) for x in f["log"]],
        "simulated (mean)": [sig(x) for x in f["sim_mean"]],
        "simulated (range over the runs)": [f"{sig(lo)} to {sig(hi)}" for lo, hi in
                                            zip(f["sim_low"], f["sim_high"], strict=True)],
    })


def distances_table(study: CalibrationStudy) -> pd.DataFrame:
    """The log distance measures of business-process-simulation research (lower is closer),
    the mean over the replications with their range, beside the same distance between two
    runs of the scenario itself: no simulation comes closer to a log than its own noise."""
    d = study.validation.distances
    return pd.DataFrame({
        "measure": d["measure"].astype(str),
        "what it compares": d["description"].astype(str),
        "log against simulated (mean)": [sig(x) for x in d["value"]],
        "range over the runs": [f"{sig(lo)} to {sig(hi)}" for lo, hi in
                                zip(d["low"], d["high"], strict=True)],
        "two runs of the scenario": [sig(x) for x in d["reference"]],
    })


def comparison_table(study: CalibrationStudy) -> pd.DataFrame:
    """Each measure's error against the log (lower is closer) for the calibrated scenario and
    for the base scenario as written, and which is closer (``simulation.calibration.validate.
    compare``); empty when the baseline was not run."""
    from simulation.calibration.validate import compare

    if study.baseline is None:
        return pd.DataFrame(columns=["measure", CALIBRATED, BASELINE, "closer"])
    table = compare(study.validation, study.baseline, (CALIBRATED, BASELINE))
    for name in (CALIBRATED, BASELINE):
        table[name] = [sig(x) for x in table[name]]
    return table

"""The scenario report's helpers (notebook ``02_caseload_scenarios``): the what-ifs of a
scenario, compliance tables and figures across them, findings in sentences computed from the
runs, never written by hand, and where late cases' time went with the marginal value of one
more person. What the figures rest on (the ledger, the comparison with published figures, the
sensitivity to assumptions) is in :mod:`lscb.reporting.evidence`.

The runs are judged as ``lscb check`` judges a log: with the scenario's ``[checking]`` section,
or a settings file and the command line's settings (:func:`scenario_check_config`, shared with
``lscb simulate``).

A change is only called a change when the 95% confidence intervals of the two scenarios do not
overlap; otherwise the findings say it is within the noise of the runs.

The sentences are Markdown in which every value from the scenario or the procedure (names,
clauses, rules' wording) is escaped (``markup.markdown_text``); the notebook shows the tables
through ``markup.table``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from lscb.options import scenario_check_config
from lscb.reporting.figures import given, number, percent, png_bytes_image, png_image
from lscb.reporting.markup import markdown_text
from model.errors import LscbError

if TYPE_CHECKING:
    from model.procedure import Procedure
    from simulation.results import SimulationResult
    from simulation.scenario import Scenario
    from simulation.whatif import SweepResult

__all__ = [
    "BASELINE",
    "DEMAND_FACTOR",
    "WhatIf",
    "bottleneck_findings",
    "comparison_figure",
    "compliance_table",
    "delays_table",
    "marginal_table",
    "scenario_check_config",
    "scenario_findings",
    "scenario_overview",
    "simulation_figure",
    "sweep_figure",
    "sweep_findings",
    "what_if_table",
    "what_ifs",
]

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
            or percent(self.low) == percent(self.high)
        ):
            return percent(self.mean)
        return f"{percent(self.mean)} ({percent(self.low)[:-1]}-{percent(self.high)})"


def _rates(result: SimulationResult) -> dict[str, _Rate]:
    table = result.compliance
    return {
        str(rule): _Rate(number(mean), number(low), number(high))
        for rule, mean, low, high in zip(
            table["rule_id"], table["compliance"], table["ci_low"], table["ci_high"], strict=True
        )
    }


def _interesting_rules(results: Mapping[str, SimulationResult]) -> list[str]:
    """Rules judged in some scenario and not met in every case of every run of every one."""
    rates = [_rates(r) for r in results.values()]
    keep = []
    for rule in rates[0]:
        judged = [r[rule].mean for r in rates if rule in r and r[rule].judged]
        if judged and min(judged) < 0.995:
            keep.append(rule)
    return keep


def scenario_overview(scenario: Scenario, replications: int,
                      baseline: SimulationResult) -> str:
    """The scenario in two sentences (Markdown, its name and description escaped): what it is,
    how long it is simulated, how many runs, its dispatch rule and cases per run."""
    return (
        f"**{markdown_text(scenario.name)}**: {markdown_text(scenario.description)}. Simulated "
        f"from {scenario.start:%d %B %Y} for {scenario.horizon_days} days after "
        f"{scenario.warm_up_days} days of warm-up (queues fill before the first counted case), "
        f"{replications} runs per scenario, dispatch *{markdown_text(scenario.dispatch)}*; about "
        f"{baseline.cases_per_replication:.0f} cases per run."
    )


def compliance_table(results: Mapping[str, SimulationResult]) -> pd.DataFrame:
    """Per rule: its title, clause, severity and basis, then for each scenario the mean
    compliance across its replications with the 95% confidence interval ('72% (65-80%)'); '-'
    when not judged."""
    first = next(iter(results.values()))
    table = (
        first.compliance[["rule_id", "title", "clause", "severity", "basis"]]
        .rename(columns={"rule_id": "rule", "title": "in short"})
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
        return png_image(figure)
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
    return png_image(figure)


def _rule_phrase(procedure: Procedure, rule_id: str) -> str:
    """The rule as the findings name it (Markdown, escaped): its id, clause and wording."""
    try:
        rule = procedure.rule(rule_id)
    except KeyError:
        return markdown_text(rule_id)
    return markdown_text(
        f"{rule_id} - {rule.heading} ({rule.clause}, {rule.basis.value}: {rule.text()})")


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
            f"In the **{markdown_text(baseline)}** ({base_result.replications} runs of "
            f"{base_result.scenario.horizon_days} days, about "
            f"{base_result.cases_per_replication:.0f} cases each), the rules met least often "
            "are "
            + "; ".join(
                f"{_rule_phrase(procedure, rule)}: {percent(mean)}" for mean, rule in worst
            )
            + "."
        )
    else:
        out.append(
            f"In the **{markdown_text(baseline)}**, every judged rule was met in (nearly) every "
            "case."
        )
    for label, result in results.items():
        if label == baseline:
            continue
        name = markdown_text(label)
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
                f"With **{name}**, no rule's compliance moves by {100 * threshold:.0f} "
                "percentage points or more."
            )
            continue
        for noise, _, rule in moves[:per_what_if]:
            before, after = base[rule], rates[rule]
            if noise:
                out.append(
                    f"With **{name}**, {_rule_phrase(procedure, rule)} is met in "
                    f"{percent(after.mean)} of cases against {percent(before.mean)} in the "
                    f"{markdown_text(baseline)}: within the noise of {result.replications} runs (the 95% "
                    "intervals overlap); more replications would tell."
                )
            else:
                verb = "falls" if after.mean < before.mean else "rises"
                out.append(
                    f"With **{name}**, {_rule_phrase(procedure, rule)} {verb} from "
                    f"{percent(before.mean)} to {percent(after.mean)} of cases (the 95% "
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
    return png_bytes_image(plots.png_bytes(plots.result_figure(result, name)))


def sweep_figure(result: SweepResult, rule_id: str) -> Any:
    """The simulator's heatmap of compliance with ``rule_id`` over the sweep's grid (the first,
    when further fields are varied)."""
    from simulation import plots

    _name, figure = plots.sweep_figures(result, rule_id)[0]
    return png_bytes_image(plots.png_bytes(figure))


def sweep_findings(result: SweepResult, rule_id: str, procedure: Procedure) -> list[str]:
    """Where on the sweep's grid compliance with ``rule_id`` is lowest and highest."""
    table = result.table[result.table["rule_id"] == rule_id].dropna(subset=["compliance"])
    if table.empty:
        return [f"No case was judged on {markdown_text(rule_id)} at any point of the sweep."]
    ordered = table.sort_values("compliance", kind="stable")

    def point(row: pd.Series) -> str:
        return markdown_text(", ".join(
            f"{f} = {row[f]:g}" if isinstance(row[f], float) else f"{f} = {row[f]}"
            for f in result.fields
        ))

    low, high = ordered.iloc[0], ordered.iloc[-1]
    return [
        f"Over the sweep ({result.replications} runs per point, the same cases at every "
        f"point), {_rule_phrase(procedure, rule_id)} ranges from {percent(low['compliance'])} "
        f"({point(low)}) to {percent(high['compliance'])} ({point(high)})."
    ]


def delays_table(result: SimulationResult, procedure: Procedure) -> pd.DataFrame:
    """Where the late cases' time went (``SimulationResult.delays``), for a reader."""
    rows = []
    for r in result.delays.to_dict("records"):
        role = str(r["role"])
        name = procedure.roles[role].name if role in procedure.roles else role
        rows.append({
            "rule": r["rule_id"],
            "late cases a run": r["late_cases"] / result.replications,
            "where the time went": f"{r['component']} ({name})" if role else r["component"],
            "hours a late case": r["hours"] / r["late_cases"] if r["late_cases"] else math.nan,
            "share of their time": r["share"],
            "a bottleneck": "yes" if r["bottleneck"] else "no",
        })
    return pd.DataFrame(rows, columns=["rule", "late cases a run", "where the time went",
                                       "hours a late case", "share of their time",
                                       "a bottleneck"])


def marginal_table(result: SimulationResult, procedure: Procedure) -> pd.DataFrame:
    """One more person in each role: the change in each deadline rule's compliance with its
    95% interval (rules missed in the run only)."""
    missed = set(result.delays["rule_id"]) if not result.delays.empty else set()
    rows = []
    for r in result.marginal.to_dict("records"):
        if r["rule_id"] not in missed:
            continue
        role = str(r["role"])
        interval = ("" if not given(r["ci_low"]) else
                    f"{100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}")
        rows.append({"rule": r["rule_id"],
                     "one more": procedure.roles[role].name if role in procedure.roles
                     else role,
                     "people now": r["headcount"], "met now": percent(r["compliance"]),
                     "met with one more": percent(r["with_one_more"]),
                     "change (points)": f"{100 * r['change']:+.1f}",
                     "95% interval": interval})
    return pd.DataFrame(rows, columns=["rule", "one more", "people now", "met now",
                                       "met with one more", "change (points)", "95% interval"])


def bottleneck_findings(result: SimulationResult, procedure: Procedure) -> list[str]:
    """Sentences: for each missed deadline, how much of the late cases' time was a bottleneck
    (queueing, diary), and which one more person would help most, if any, beyond noise."""
    out = []
    delays = result.delays
    for rule_id, frame in delays.groupby("rule_id", sort=False):
        waiting = float(frame.loc[frame["bottleneck"], "share"].sum())
        own = float(frame.loc[frame["component"] == "step duration", "share"].sum())
        night = float(frame.loc[frame["component"] == "outside working hours", "share"].sum())
        sentence = (f"{_rule_phrase(procedure, str(rule_id))}: of the late cases' time from "
                    f"trigger to deadline, {percent(waiting)} was queueing or waiting for a "
                    f"diary slot (bottlenecks), {percent(own)} the steps' own assumed time "
                    f"and {percent(night)} outside working hours.")
        marginal = result.marginal
        if not marginal.empty:
            rows = marginal[marginal["rule_id"] == rule_id]
            best = rows.sort_values("change", ascending=False, kind="stable").head(1)
            if not best.empty and float(best["change"].iloc[0]) > 0.0005:
                r = best.iloc[0]
                role = str(r["role"])
                name = procedure.roles[role].name if role in procedure.roles else role
                sure = (given(r["ci_low"]) and float(r["ci_low"]) > 0)
                sentence += (f" One more {markdown_text(name)} would raise it by "
                             f"{100 * float(r['change']):.1f} points"
                             + (" (beyond the runs' noise)." if sure else
                                " (within the runs' noise: more replications would tell)."))
            else:
                sentence += " One more person in no role would raise it."
        out.append(sentence)
    if not out:
        out.append("No deadline was missed in the baseline runs.")
    return out

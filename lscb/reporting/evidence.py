"""The scenario report's evidence helpers (notebook ``02_caseload_scenarios``): what its
figures rest on. The scenario's ledger (where each number comes from: estimated, published,
assumed, with its plausible range or interval), its comparison with published figures
(``simulation.published``, on runs of its own), and the sensitivity of its findings to its
assumptions (``simulation.sensitivity``) with tornado charts.

Sentences are Markdown in which every value from the scenario (names, measures, notes) is escaped
(``markup.markdown_text``); the notebook shows the tables through ``markup.table``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from lscb.reporting.figures import given, png_bytes_image
from lscb.reporting.markup import markdown_text
from simulation.calibration.ledger import ledger_table
from simulation.plots import png_bytes
from simulation.published import PublishedCheck, check_published
from simulation.sensitivity import SensitivityResult, sensitivity, tornado_figure

if TYPE_CHECKING:
    from conformance import CheckConfig
    from model.procedure import Procedure
    from simulation.scenario import Scenario

__all__ = [
    "compare_with_published",
    "ledger_counts",
    "ledger_summary",
    "sensitivity_analysis",
    "sensitivity_findings",
    "tornado_images",
    "validation_findings",
    "validation_table",
]


# ------------------------------------------------------------------------- the ledger


def ledger_summary(scenario: Scenario) -> pd.DataFrame:
    """The scenario's ledger for a reader: one row per entry (field, kind, value, an
    assumption's plausible range or an estimate's 95% interval with its sample size, source);
    fields that no entry covers come last, as "unrecorded"."""
    table = ledger_table(scenario)
    spans = []
    for row in table.to_dict("records"):
        if given(row["range_low"]):
            spans.append(f"plausible range {row['range_low']:g} to {row['range_high']:g}")
        elif given(row["interval_low"]):
            n = f", n = {row['n']}" if given(row["n"]) else ""
            spans.append(f"95% interval {row['interval_low']:g} to {row['interval_high']:g}{n}")
        else:
            spans.append("")
    return pd.DataFrame({
        "field": table["field"],
        "kind": table["kind"],
        "value": table["value"],
        "range or interval": spans,
        "source": table["source"],
    })


def ledger_counts(scenario: Scenario) -> str:
    """One sentence: how many of the scenario's numbers are estimated, published, assumed (and
    how many assumptions carry a plausible range)."""
    table = ledger_summary(scenario)
    counts = table["kind"].value_counts()
    parts = [f"{int(counts[k])} {k}" for k in ("estimated", "published", "assumed",
                                                 "unrecorded") if k in counts.index]
    ranged = int(table["range or interval"].str.startswith("plausible range").sum())
    if table.empty:
        return ("The scenario has no ledger: nothing says where its numbers come from, so every "
                "one of them should be read as an assumption.")
    return (f"The scenario's ledger has {len(table)} entries ({', '.join(parts)}); "
            f"{ranged} assumptions carry a plausible range, over which the sensitivity "
            "analysis below moves them.")


# ------------------------------------------------------------------------- published figures


def compare_with_published(scenario: Scenario, procedure: Procedure, *, replications: int,
                           seed: int | None = None) -> PublishedCheck:
    """The scenario against the published figures it was and was not fitted to
    (``simulation.published.check_published``): ``replications`` runs of its own from ``seed``
    (None: the scenario's), conferences counted from the Section 47 start as the DfE counts
    them. Shown by :func:`validation_table` and :func:`validation_findings`."""
    return check_published(scenario, procedure, replications=replications, seed=seed)


def validation_table(check: PublishedCheck) -> pd.DataFrame:
    """The scenario against published figures, for a reader: measure, published figure,
    simulated figure with its 95% interval, and whether it is within the published range."""
    def pct(x: float) -> str:
        return f"{100 * x:.1f}%" if given(x) else "-"

    rows = []
    for r in check.table.to_dict("records"):
        low, high = r["published_low"], r["published_high"]
        if math.isclose(low, high):
            published = pct(r["published"])
        elif str(r["measure"]).endswith("days"):
            published = f"{pct(r['published'])} ± 5 points"
        else:
            published = f"{100 * low:.0f}-{100 * high:.0f}%"
        interval = (f"{pct(r['ci_low'])[:-1]}-{pct(r['ci_high'])}"
                    if given(r["ci_low"]) else "")
        if r["role"] == "fitted":
            verdict = "fitted to it (not a check)"
        elif not given(r["within"]):
            verdict = "cannot be compared"
        else:
            verdict = "yes" if r["within"] else "no"
        rows.append({"measure": r["measure"], "published": published,
                     "simulated": pct(r["simulated"]), "95% interval": interval,
                     "within": verdict, "note": r["note"]})
    return pd.DataFrame(rows)


def validation_findings(check: PublishedCheck) -> list[str]:
    """Sentences: what the scenario reproduces of the published figures it was not fitted
    to, and what it misses."""
    table = check.table
    out_of_sample = table[table["role"] == "out of sample"]
    hits = [str(r["measure"]) for r in out_of_sample.to_dict("records")
            if given(r["within"]) and r["within"]]
    sentences = [
        f"Against published figures ({check.replications} runs, conferences counted from the "
        "Section 47 start as the DfE counts them): "
        + (f"within range for {markdown_text(', '.join(hits))}." if hits else
           "no figure within range.")]
    if check.misses:
        sentences.append("Misses, stated as they are: "
                         + markdown_text("; ".join(check.misses)) + ".")
    sentences += [markdown_text(f"{r['measure']}: {r['note']}")
                  for r in out_of_sample.to_dict("records") if r["note"]]
    return sentences


# ------------------------------------------------------------------------- sensitivity


def sensitivity_analysis(
    scenario: Scenario,
    procedure: Procedure,
    *,
    replications: int,
    seed: int | None = None,
    budget: int = 0,
    fields: Sequence[str] | None = None,
    targets: Mapping[str, float] | None = None,
    check_config: CheckConfig | None = None,
) -> SensitivityResult:
    """How the scenario's compliance moves when each assumption of its ledger (or each of
    ``fields``) moves over its plausible range, one at a time with ``replications`` runs a
    point, and ``budget`` runs more for the variance-based global analysis
    (``simulation.sensitivity.sensitivity``); ``targets``: the levels (rule: share) a finding
    is held against. Shown by :func:`sensitivity_findings` and :func:`tornado_images`."""
    return sensitivity(scenario, procedure, replications=replications, seed=seed, budget=budget,
                       fields=fields, targets=targets, check_config=check_config)


def sensitivity_findings(result: SensitivityResult) -> list[str]:
    """The sensitivity analysis's findings as sentences: those that flip within the
    assumptions' ranges first, then those that hold (rules met in every case of every point
    left out)."""
    if not result.assumptions:
        return ["The scenario's ledger gives no assumption a plausible range: nothing was moved, "
                "so nothing can be said about how robust these findings are.",
                *(markdown_text(n) for n in result.notes)]
    findings = result.findings
    flips = [f"**Flips**: {markdown_text(t)}" for t, holds in zip(
        findings["text"], findings["holds"], strict=True) if not holds]
    steady = [f"Holds: {markdown_text(t)}" for t, holds, low in zip(
        findings["text"], findings["holds"], findings["low"], strict=True)
              if holds and low < 0.995]
    head = (f"Each of {len(result.assumptions)} assumptions moved over its plausible range, one "
            f"at a time ({result.replications} run(s) a point, the same cases at every point)."
            " A finding that flips within the ranges is not a finding.")
    return [head, *flips, *steady, *(markdown_text(n) for n in result.notes)]


def tornado_images(result: SensitivityResult, rules: Sequence[str] | None = None,
                   top: int = 10) -> list[Any]:
    """The tornado chart of each rule (default: each rule that some assumption moves) as PNG
    images."""
    oat = result.one_at_a_time
    chosen = rules if rules is not None else [
        r for r in result.rules if (oat.loc[oat["rule_id"] == r, "swing"] > 0.005).any()]
    return [png_bytes_image(png_bytes(tornado_figure(result, rule, top=top)))
            for rule in chosen]

"""A scenario checked against published national figures it was not fitted to.

The built-in scenario is fitted to one published figure only: the share of initial child
protection conferences held within 15 working days of the Section 47 start in England (DfE,
Characteristics of children in need, table C4, 2022-23: 78.5%). This module measures what the
scenario gives for the figures it was *not* fitted to, judged the DfE's way (the 15 working days
counted from the strategy discussion at which the Section 47 enquiry began, its date as day 0,
weekends and bank holidays of England not counted):

- the C4 bands of working days from the Section 47 start to the conference: 0-10 days 9.2%,
  11-15 69.2%, 16-20 9.5%, 21 or more 12.0% (each should be within 5 percentage points);
- Section 47 enquiry to conference: 74,380 conferences from 225,400 enquiries in 2022-23 (33%),
  about 72,100 from 230,590 in 2024-25 (31%);
- strategy discussion to Section 47 enquiry: 35-50% (a Welsh council's funnel: of contacts,
  17-20% reach a strategy discussion and 7-9% a Section 47).

``check_published(scenario, procedure, replications=..., seed=...)`` runs the replications (in
parallel processes) and returns a ``PublishedCheck``: a table of measure, published figure,
simulated figure with its 95% interval across replications, and whether it is within the
published range. Misses are reported as misses.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.contract import STRATEGY_DISCUSSION
from model.procedure import Procedure

__all__ = [
    "BANDS",
    "BAND_TOLERANCE",
    "FIFTEEN_DAY_SHARE",
    "ICPC",
    "S47_START",
    "S47_TO_ICPC",
    "STRATEGY_TO_S47",
    "Fit",
    "PublishedCheck",
    "band_shares",
    "check_published",
    "dfe_config",
    "fit_lag_mean",
    "measure_replication",
]

ICPC: Final = "Initial child protection conference held"
S47_START: Final = "Section 47 enquiry started"
ICPC_RULE: Final = "icpc-within-15-working-days"

SOURCE_C4: Final = ("DfE, Characteristics of children in need 2022-23, table C4 (England): "
                    "working days from the Section 47 start to the initial conference")
BANDS: Final = (
    ("0-10 working days", 0, 10, 0.092),
    ("11-15 working days", 11, 15, 0.692),
    ("16-20 working days", 16, 20, 0.095),
    ("21 or more working days", 21, None, 0.120),
)
"""The C4 bands: label, first day, last day (None: no end), England's share in 2022-23."""
BAND_TOLERANCE: Final = 0.05
FIFTEEN_DAY_SHARE: Final = 0.785  # 9.2% + 69.2%, rounded as published
S47_TO_ICPC: Final = (0.31, 0.33)
SOURCE_S47: Final = ("DfE, Characteristics of children in need: 74,380 conferences from 225,400 "
                     "Section 47 enquiries in 2022-23 (33%), about 72,100 from 230,590 in "
                     "2024-25 (31%)")
STRATEGY_TO_S47: Final = (0.35, 0.50)
SOURCE_STRATEGY: Final = ("A Welsh council's funnel: of contacts, 17-20% reach a strategy "
                          "discussion and 7-9% a Section 47 enquiry (7/20 to 9/17)")

_COLUMNS: Final = ("measure", "role", "published", "published_low", "published_high",
                   "simulated", "ci_low", "ci_high", "within", "source", "note")


def band_shares(days: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The share of conferences in each C4 band, from working days (Section 47 start = day 0).

    >>> band_shares([3, 12, 14, 15, 18, 30]).round(3).tolist()
    [0.167, 0.5, 0.167, 0.167]
    """
    d = np.asarray(days, dtype=np.int64)
    if not len(d):
        return np.full(len(BANDS), math.nan)
    out = np.empty(len(BANDS))
    for i, (_, low, high, _) in enumerate(BANDS):
        inside = d >= low if high is None else (d >= low) & (d <= high)
        out[i] = float(inside.mean())
    return out


def dfe_config(base: Any = None) -> Any:
    """The checker's settings for judging the DfE's way: ``base`` (a ``CheckConfig``; default:
    the checker's defaults, whose calendar counts the trigger's date as day 0 and skips
    England's bank holidays) with the 15 working days counted from the Section 47 start."""
    import dataclasses

    from conformance import CheckConfig

    config = base if base is not None else CheckConfig()
    return dataclasses.replace(config, icpc_clock="section-47-start")


def measure_replication(args: tuple[Any, Procedure, int, int]) -> dict[str, Any]:
    """Simulate one replication and measure it the DfE's way (runs in a worker process).

    ``args``: scenario, procedure, seed, replication. Returns the working days from the Section
    47 start to each conference held (as the checker counts a deadline: the Section 47 start's
    date is day 0), and the cases with a strategy discussion, a Section 47 enquiry and a
    conference."""
    from simulation.engine import simulate
    from simulation.results import outcome_of

    scenario, procedure, seed, replication = args
    config = dfe_config(scenario.checking)
    rep = simulate(scenario, procedure, seed, replication, check_config=config)
    events = rep.events
    acts = events.groupby("case_id", sort=False)["activity"].agg(frozenset)
    counts = {
        "strategy": int(sum(STRATEGY_DISCUSSION in a for a in acts)),
        "s47": int(sum(S47_START in a for a in acts)),
        "icpc_after_s47": int(sum(ICPC in a and S47_START in a for a in acts)),
    }
    durations = outcome_of(rep, procedure, config).durations
    days = durations.loc[durations["rule_id"] == ICPC_RULE, "working_days"].to_numpy(
        dtype=np.int64)
    return {"replication": replication, "days": days, **counts}


@dataclass(frozen=True)
class PublishedCheck:
    """A scenario measured against the published figures.

    ``table``: one row per measure (measure; role: "fitted" for the figure the scenario was
    fitted to, "out of sample" for the others; published, published_low, published_high;
    simulated (pooled over replications), ci_low, ci_high (95%, Student's t over the
    replications' figures); within: True, False, or NA when the model cannot say; source; note).
    ``durations``: replication, working_days (Section 47 start to each conference held).
    ``per_replication``: replication, conferences, each band's share, strategy, s47,
    icpc_after_s47.
    """

    scenario: str
    seed: int
    replications: int
    table: pd.DataFrame
    durations: pd.DataFrame
    per_replication: pd.DataFrame

    @property
    def misses(self) -> list[str]:
        """The out-of-sample measures outside their published range, in words."""
        return [f"{r['measure']}: simulated {_pct(r['simulated'])}, published {_range(r)}"
                for r in self._rows() if r["role"] == "out of sample" and _known(r["within"]) is False]

    def _rows(self) -> list[dict[str, Any]]:
        return [{str(k): v for k, v in row.items()} for row in self.table.to_dict("records")]

    def text(self) -> str:
        """The table for a terminal or a report."""
        rows = self._rows()
        labels = [f"{r['measure']} ({r['role']})" for r in rows]
        width = max([len("measure"), *map(len, labels)])
        lines = [f"{self.scenario}: {self.replications} replications, seed {self.seed}; "
                 "conferences counted from the Section 47 start (its date is day 0)",
                 f"  {'measure':<{width}} {'published':>11} {'simulated':>9} "
                 f"{'95% interval':>13}  within"]
        for label, r in zip(labels, rows, strict=True):
            interval = (f"{_pct(r['ci_low'])}-{_pct(r['ci_high'])}"
                        if np.isfinite(r["ci_low"]) else "")
            within = {None: "n/a", True: "yes", False: "NO"}[_known(r["within"])]
            lines.append(f"  {label:<{width}} {_range(r):>11} {_pct(r['simulated']):>9} "
                         f"{interval:>13}  {within}")
        notes = [f"  - {r['measure']}: {r['note']}" for r in rows if r["note"]]
        return "\n".join(lines + (["notes:", *notes] if notes else []))


def _known(value: Any) -> bool | None:
    """True, False, or None for a missing answer (pandas' NA, None or NaN)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _pct(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _range(row: Mapping[str, Any]) -> str:
    low, high = row["published_low"], row["published_high"]
    if np.isclose(low, high):
        return _pct(row["published"])
    if row["role"] == "out of sample" and str(row["measure"]).endswith("days"):
        return f"{_pct(row['published'])}±5"
    return f"{100 * low:.0f}-{100 * high:.0f}%"


def _interval(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    from scipy import stats

    v = values[np.isfinite(values)]
    if len(v) < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(v) - 1)) * float(v.std(ddof=1)) / math.sqrt(len(v))
    mean = float(v.mean())
    return max(0.0, mean - half), min(1.0, mean + half)


def _run(jobs: Sequence[tuple[Any, Procedure, int, int]], workers: int | None
         ) -> list[dict[str, Any]]:
    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if n == 1:
        return [measure_replication(job) for job in jobs]
    import concurrent.futures as cf

    with cf.ProcessPoolExecutor(max_workers=n) as pool:
        return list(pool.map(measure_replication, jobs))


def check_published(scenario: Any, procedure: Procedure, *, replications: int | None = None,
                    seed: int | None = None, workers: int | None = None) -> PublishedCheck:
    """Run ``scenario`` (default: its own replications and seed) and measure it against the
    published figures (see the module docstring)."""
    n = replications if replications is not None else scenario.replications
    base = scenario.seed if seed is None else seed
    measured = _run([(scenario, procedure, base, i) for i in range(n)], workers)
    return published_check(measured, scenario.name, base)


def published_check(measured: Sequence[dict[str, Any]], name: str, seed: int
                    ) -> PublishedCheck:
    """The table from replications measured by ``measure_replication``."""
    per_rows = []
    for m in measured:
        shares = band_shares(m["days"])
        per_rows.append({"replication": m["replication"], "conferences": len(m["days"]),
                         **{label: s for (label, *_), s in zip(BANDS, shares, strict=True)},
                         "within_15": float((m["days"] <= 15).mean()) if len(m["days"])
                         else math.nan,
                         "strategy": m["strategy"], "s47": m["s47"],
                         "icpc_after_s47": m["icpc_after_s47"]})
    per = pd.DataFrame(per_rows)
    all_days = (np.concatenate([m["days"] for m in measured]) if measured
                else np.zeros(0, dtype=np.int64))
    durations = pd.DataFrame({
        "replication": np.repeat([m["replication"] for m in measured],
                                 [len(m["days"]) for m in measured]).astype(np.int64),
        "working_days": all_days})
    rows: list[dict[str, Any]] = []
    pooled = float((all_days <= 15).mean()) if len(all_days) else math.nan
    low, high = _interval(per["within_15"].to_numpy(dtype=float))
    rows.append(_row("within 15 working days", "fitted", FIFTEEN_DAY_SHARE, FIFTEEN_DAY_SHARE,
                     FIFTEEN_DAY_SHARE, pooled, low, high, None, SOURCE_C4,
                     "the figure the scenario's Section 47 timing was fitted to: "
                     "not a validation"))
    shares = band_shares(all_days)
    for (label, *_, published), share in zip(BANDS, shares, strict=True):
        low, high = _interval(per[label].to_numpy(dtype=float))
        within = bool(abs(share - published) <= BAND_TOLERANCE + 1e-12) if np.isfinite(
            share) else None
        rows.append(_row(label, "out of sample", published, published - BAND_TOLERANCE,
                         published + BAND_TOLERANCE, share, low, high, within, SOURCE_C4, ""))
    s47 = float(per["s47"].sum()) if len(per) else 0.0
    icpc = float(per["icpc_after_s47"].sum()) if len(per) else 0.0
    conv = icpc / s47 if s47 else math.nan
    ratios = (per["icpc_after_s47"] / per["s47"].where(per["s47"] > 0)).to_numpy(dtype=float)
    low, high = _interval(ratios)
    rows.append(_row("Section 47 enquiry to conference", "out of sample", 0.32, *S47_TO_ICPC,
                     conv, low, high,
                     bool(S47_TO_ICPC[0] <= conv <= S47_TO_ICPC[1]) if s47 else None,
                     SOURCE_S47, ""))
    strategy = float(per["strategy"].sum()) if len(per) else 0.0
    conv = s47 / strategy if strategy else math.nan
    ratios = (per["s47"] / per["strategy"].where(per["strategy"] > 0)).to_numpy(dtype=float)
    low, high = _interval(ratios)
    gateway = bool(strategy) and bool((per["s47"] == per["strategy"]).all())
    rows.append(_row(
        "strategy discussion to Section 47 enquiry", "out of sample", 0.425, *STRATEGY_TO_S47,
        conv, low, high, None if gateway or not strategy else bool(
            STRATEGY_TO_S47[0] <= conv <= STRATEGY_TO_S47[1]),
        SOURCE_STRATEGY,
        "every strategy discussion leads to a Section 47 enquiry in this procedure model "
        "(it has no way to end one without an enquiry), so it cannot be compared"
        if gateway else ""))
    table = pd.DataFrame(rows, columns=list(_COLUMNS))
    table["within"] = table["within"].astype("boolean")
    return PublishedCheck(name, seed, len(measured), table, durations, per)


def _row(measure: str, role: str, published: float, low: float, high: float, simulated: float,
         ci_low: float, ci_high: float, within: bool | None, source: str, note: str
         ) -> dict[str, Any]:
    return {"measure": measure, "role": role, "published": published, "published_low": low,
            "published_high": high, "simulated": simulated, "ci_low": ci_low,
            "ci_high": ci_high, "within": pd.NA if within is None else within,
            "source": source, "note": note}


# ------------------------------------------------------------------------- the one fit


@dataclass(frozen=True)
class Fit:
    """The mean of one lag fitted so that the 15-working-day share matches the published one.

    ``steps``: every mean tried (mean, sd, share within 15 working days, conferences), in the
    order tried, the fitted mean last. ``interval``: the means whose fitted line is within the
    residuals' 95% error of the target."""

    field: str
    target: float
    mean: float
    sd: float
    share: float
    interval: tuple[float, float]
    replications: int
    conferences: int
    steps: pd.DataFrame


def _share(scenario: Any, procedure: Procedure, field: str, mean: float, cv: float,
           unit: str, replications: int, seed: int, workers: int | None
           ) -> tuple[float, float, int]:
    """Pooled share within 15 working days, its 95% half-width, conferences."""
    lag = {"distribution": "lognormal", "mean": round(mean, 4), "sd": round(cv * mean, 4),
           "unit": unit}
    changed = scenario.with_values({field: lag}, procedure)
    measured = _run([(changed, procedure, seed, i) for i in range(replications)], workers)
    days = np.concatenate([m["days"] for m in measured])
    per = np.asarray([float((m["days"] <= 15).mean()) if len(m["days"]) else math.nan
                      for m in measured])
    low, high = _interval(per)
    return float((days <= 15).mean()), (high - low) / 2, len(days)


def fit_lag_mean(scenario: Any, procedure: Procedure, field: str, *,
                 target: float = FIFTEEN_DAY_SHARE, replications: int = 24,
                 seed: int | None = None, workers: int | None = None,
                 bracket: tuple[float, float] = (2.0, 14.0), coarse: int = 4,
                 grid: int = 5, width: float = 1.0) -> Fit:
    """Fit the mean of a lognormal lag (``field``, such as 'tasks."Section 47 enquiry
    completed".lag'; its coefficient of variation and unit kept as the scenario has them) so
    that the pooled share of conferences within 15 working days of the Section 47 start is
    ``target``.

    Every mean is run on the same replications (common random numbers), yet the share is not
    smooth at small steps (a conference a day earlier takes another chair's slot), so a
    bisection to the last decimal would chase noise. Instead: ``coarse`` bisection steps over
    ``bracket`` find the region, then the share is measured at ``grid`` means spread over
    ``width`` working days either side and a straight line fitted to them (least squares); the
    fit is where the line meets the target, and its interval the means whose line lies within
    the residuals' 95% error of it."""
    from simulation.calibration.ledger import lookup

    raw = lookup(scenario.data, field)
    if not isinstance(raw, Mapping) or raw.get("distribution") != "lognormal":
        raise ValueError(f"{field} must be a lognormal lag to be fitted")
    cv = float(raw["sd"]) / float(raw["mean"])
    unit = str(raw.get("unit", "minutes"))
    base = scenario.seed if seed is None else seed
    steps: list[tuple[float, float, float, int]] = []

    def share(mean: float) -> float:
        value, _, n = _share(scenario, procedure, field, mean, cv, unit, replications, base,
                             workers)
        steps.append((mean, cv * mean, value, n))
        return value

    low, high = bracket
    for _ in range(coarse):
        middle = (low + high) / 2
        if share(middle) > target:
            low = middle
        else:
            high = middle
    centre = (low + high) / 2
    xs = np.linspace(max(bracket[0], centre - width), centre + width, grid)
    ys = np.asarray([share(float(x)) for x in xs])
    slope, intercept = np.polyfit(xs, ys, 1)
    if slope >= 0:
        raise ValueError(f"the share within 15 working days does not fall as {field} grows")
    mean = round(float((target - intercept) / slope), 2)
    residual = ys - (intercept + slope * xs)
    from scipy import stats

    spread = (float(stats.t.ppf(0.975, grid - 2)) * float(residual.std(ddof=2))
              / abs(float(slope))) if grid > 2 else math.inf
    value = share(mean)
    frame = pd.DataFrame(steps, columns=["mean", "sd", "within_15", "conferences"])
    return Fit(field, target, mean, round(cv * mean, 2), value,
               (round(mean - spread, 2), round(mean + spread, 2)), replications,
               int(frame["conferences"].iloc[-1]), frame)

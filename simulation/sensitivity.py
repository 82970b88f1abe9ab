"""How robust each finding is: every assumption of a scenario moved over its plausible range.

A scenario's ledger (``simulation.calibration.ledger``) marks each number as estimated,
published or assumed, and gives each assumed number a plausible range. This module asks how far
each rule's compliance moves when the assumptions move within those ranges:

- **one at a time**: each assumption at the low and at the high end of its range, the others as
  in the scenario. Every point runs the same replications with the same seed (common random
  numbers), so a difference between points is the assumption's effect, not noise; the change
  from the scenario as written is given with its 95% interval over the paired replications.
  Drawn as a tornado chart per rule.
- **all at once** (when the run budget allows): a variance-based global analysis with SALib,
  which moves every assumption together over its range and splits the variance of each rule's
  compliance between them. The default, RBD-FAST (random balance designs, Tarantola et al. 2006
  with Tissot and Prieur's bias correction), gives first-order indices from any number of runs
  of at least ``MIN_GLOBAL_POINTS`` (their 95% intervals, bootstrapped, are wide at small
  budgets: with 32 points and 95 assumptions about ±0.7, so only indices clear of 0 are
  reported as findings); Sobol' indices (first-order and total) need ``N (D + 2)``
  points for ``D`` assumptions and ``N`` a power of two, at least 8.

Findings, in plain words, say for each rule whether its level of compliance holds across the
assumptions' ranges (every one-at-a-time point within ``tolerance`` of the scenario's figure),
and, for a target level, whether "meets the target" or "misses it" holds or flips within them
(a target that the scenario's own 95% interval straddles is not established in the first
place).
A finding that flips within the ranges is not a finding.

``sensitivity(scenario, procedure, ...)`` runs the simulator; ``analyse(assumptions, evaluate,
...)`` does the same with any evaluator (what the tests use to check the analysis itself).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.errors import InputError
from model.procedure import Procedure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "METHODS",
    "MIN_GLOBAL_POINTS",
    "Assumption",
    "SensitivityResult",
    "analyse",
    "assumptions_of",
    "runs_needed",
    "sensitivity",
    "tornado_figure",
    "write_outputs",
]

METHODS: Final = ("rbd-fast", "sobol")
MIN_GLOBAL_POINTS: Final = 48  # RBD-FAST with 4 harmonics, bootstrapped on half the points
_HARMONICS: Final = 4
_MIN_SOBOL_BASE: Final = 8

Point = Mapping[str, float]
Evaluator = Callable[[Sequence[Point]], list[pd.DataFrame]]
"""Runs points (field -> value; {} is the scenario as written) and returns, for each point, a
frame of replication, rule_id, compliance (NaN when no case was judged; a point that could not
run gives an empty frame)."""


@dataclass(frozen=True)
class Assumption:
    """An assumed number of the scenario, with the plausible range the ledger gives it."""

    field: str
    value: float
    low: float
    high: float
    integer: bool
    source: str = ""

    def at(self, u: float) -> float:
        """The value at ``u`` in [0, 1] across the range (whole numbers stay whole)."""
        return self.cast(self.low + u * (self.high - self.low))

    def cast(self, x: float) -> float:
        """``x`` as the scenario file needs it: a whole number for a whole-number field."""
        return round(x) if self.integer else float(x)

    def shown(self, x: float) -> str:
        return f"{round(x)}" if self.integer else f"{x:.4g}"


def assumptions_of(scenario: Any, fields: Sequence[str] | None = None) -> tuple[Assumption, ...]:
    """The scenario's assumed numbers with a plausible range (its ledger's ``ranged()``), in
    the file's order; ``fields``: only these (an unknown one is an error naming it). Ranges of
    a single value are left out: there is nothing to move."""
    from simulation.calibration.ledger import field_key, load_ledger, split_field

    ledger = load_ledger(scenario)
    out: list[Assumption] = []
    ranged = {e.field: e for e in ledger.ranged()}
    wanted = None
    if fields is not None:
        wanted = [field_key(split_field(f)) for f in fields]
        unknown = [f for f, w in zip(fields, wanted, strict=True) if w not in ranged]
        if unknown:
            from model.errors import Problem

            raise InputError(
                "--field", [Problem(f"field '{f}'", "an assumed number with a range in the "
                                    "scenario's ledger", "none") for f in unknown],
                summary="not assumptions of the scenario: " + ", ".join(unknown))
    for entry in ranged.values():
        if wanted is not None and entry.field not in wanted:
            continue
        assert entry.range is not None  # ranged() gives only entries with a range
        low, high = entry.range
        if low == high:
            continue
        value = ledger.value(entry.field)
        integer = isinstance(value, int) and float(low).is_integer() and float(
            high).is_integer()
        out.append(Assumption(entry.field, float(value), float(low), float(high), integer,
                              entry.source))
    return tuple(out)


@dataclass(frozen=True)
class SensitivityResult:
    """What moves each rule's compliance, and whether each finding survives.

    ``base``: per rule (rule_id, compliance, ci_low, ci_high) for the scenario as written.
    ``one_at_a_time``: per assumption and rule: field, rule_id, value, low, high,
    compliance_low, compliance_high (at the ends of the range), change_low, change_high (from
    the base), their 95% intervals (change_low_ci_low, ...; paired replications), swing (the
    larger minus the smaller of base, low-end and high-end compliance). Sorted by rule and
    swing, largest first. ``global_indices``: per assumption and rule: method, field, rule_id,
    S1, S1_conf (half-width of its 95% interval), ST, ST_conf (Sobol' only; NaN otherwise).
    ``findings``: per rule and kind (level, target): rule_id, kind, base, low, high (the lowest
    and highest compliance over the one-at-a-time points), target, holds, driver (the
    assumption that moves it most), text. ``notes``: what could not be done, and why.
    """

    scenario: str
    seed: int
    replications: int
    tolerance: float
    assumptions: tuple[Assumption, ...]
    base: pd.DataFrame
    one_at_a_time: pd.DataFrame
    global_indices: pd.DataFrame
    global_method: str
    global_points: int
    findings: pd.DataFrame
    runs: int
    notes: tuple[str, ...] = field(default=())

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(self.base["rule_id"].astype(str))

    def text(self, top: int = 5) -> str:
        """The findings, and each rule's largest swings, for a terminal."""
        lines = [f"Sensitivity of {self.scenario}: {len(self.assumptions)} assumptions, "
                 f"{self.replications} replications a point, seed {self.seed}, {self.runs} "
                 "runs"]
        for row in _records(self.findings):
            mark = "holds" if row["holds"] else "FLIPS"
            lines.append(f"  [{mark}] {row['text']}")
        oat = self.one_at_a_time
        for rule in self.rules:
            sub = oat[(oat["rule_id"] == rule) & (oat["swing"] > 0)].head(top)
            if sub.empty:
                continue
            base = float(self.base.loc[self.base["rule_id"] == rule, "compliance"].iloc[0])
            lines.append(f"  {rule} ({_pct(base)} as written): largest one-at-a-time swings")
            for r in _records(sub):
                lines.append(f"    {r['field']:<60} {_pct(r['compliance_low'])} to "
                             f"{_pct(r['compliance_high'])} over {r['low_shown']}-"
                             f"{r['high_shown']} (swing {100 * r['swing']:.1f} points)")
        if not self.global_indices.empty:
            lines.append(f"  global analysis ({self.global_method}, {self.global_points} "
                         "points): first-order indices whose 95% interval is clear of 0")
            for rule in self.rules:
                sub = self.global_indices[self.global_indices["rule_id"] == rule]
                if not np.isfinite(sub["S1"].to_numpy(dtype=float)).any():
                    continue
                clear = sub[(sub["S1"] - sub["S1_conf"]) > 0].sort_values(
                    "S1", ascending=False, kind="stable").head(3)
                shown = (", ".join(f"{r['field']} {r['S1']:.2f} (±{r['S1_conf']:.2f})"
                                   for r in _records(clear)) if not clear.empty else
                         "none clear of the noise at this budget")
                lines.append(f"    {rule}: {shown}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def runs_needed(n_assumptions: int, replications: int, method: str = "rbd-fast") -> int:
    """The fewest simulation runs (replications) a global analysis of this size needs."""
    if method == "sobol":
        return _MIN_SOBOL_BASE * (n_assumptions + 2) * replications
    return MIN_GLOBAL_POINTS * replications


# ------------------------------------------------------------------------- the analysis


def _t95(n: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, n - 1)) if n > 1 else math.nan


def _mean_ci(values: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    v = values[np.isfinite(values)]
    if not len(v):
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if len(v) < 2:
        return mean, math.nan, math.nan
    half = _t95(len(v)) * float(v.std(ddof=1)) / math.sqrt(len(v))
    return mean, mean - half, mean + half


def _wide(frame: pd.DataFrame, rules: Sequence[str]) -> pd.DataFrame:
    """replication x rule table of compliance."""
    if frame.empty:
        return pd.DataFrame(columns=list(rules), dtype=float)
    table = frame.pivot_table(index="replication", columns="rule_id", values="compliance",
                              aggfunc="mean", dropna=False)
    return table.reindex(columns=list(rules))


def analyse(assumptions: Sequence[Assumption], evaluate: Evaluator, *, name: str = "",
            seed: int = 0, replications: int = 1, budget: int = 0,
            method: str = "rbd-fast", targets: Mapping[str, float] | None = None,
            tolerance: float = 0.05) -> SensitivityResult:
    """One-at-a-time and (budget allowing) global sensitivity of each rule's compliance.

    ``budget``: the simulation runs (replications) allowed for the global analysis; 0 skips
    it. ``targets``: rule_id -> level (a share) for "meets the target" findings."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    assumptions = tuple(assumptions)
    targets = dict(targets or {})
    notes: list[str] = []
    points: list[dict[str, float]] = [{}]
    for a in assumptions:
        points += [{a.field: a.cast(a.low)}, {a.field: a.cast(a.high)}]
    frames = evaluate(points)
    runs = sum(len(f["replication"].unique()) if len(f) else 0 for f in frames)
    base_frame = frames[0]
    if base_frame.empty:
        raise ValueError("the scenario as written could not be run")
    rules = [r for r in dict.fromkeys(base_frame["rule_id"].astype(str))
             if base_frame.loc[base_frame["rule_id"] == r, "compliance"].notna().any()]
    unknown = sorted(set(targets) - set(rules))
    if unknown:
        notes.append("no judged case for the target rule(s) " + ", ".join(unknown)
                     + " in the scenario as written: no target finding for them")
    base_wide = _wide(base_frame, rules)
    base_rows = []
    for rule in rules:
        mean, low, high = _mean_ci(base_wide[rule].to_numpy(dtype=float))
        base_rows.append({"rule_id": rule, "compliance": mean,  # a share: within [0, 1]
                          "ci_low": max(0.0, low) if np.isfinite(low) else low,
                          "ci_high": min(1.0, high) if np.isfinite(high) else high})
    base = pd.DataFrame(base_rows, columns=["rule_id", "compliance", "ci_low", "ci_high"])
    base_of = dict(zip(base["rule_id"], base["compliance"], strict=True))
    oat_rows = []
    for i, a in enumerate(assumptions):
        ends = [_wide(frame, rules) for frame in (frames[1 + 2 * i], frames[2 + 2 * i])]
        if any(e.empty for e in ends):
            notes.append(f"{a.field}: the scenario is not valid at an end of its range "
                         f"({a.shown(a.low)}-{a.shown(a.high)}); left out")
            continue
        for rule in rules:
            row: dict[str, Any] = {"field": a.field, "rule_id": rule, "value": a.value,
                                   "low": a.low, "high": a.high,
                                   "low_shown": a.shown(a.low), "high_shown": a.shown(a.high)}
            values = [base_of[rule]]
            for end, wide in zip(("low", "high"), ends, strict=True):
                level, _, _ = _mean_ci(wide[rule].to_numpy(dtype=float))
                paired = (wide[rule] - base_wide[rule]).to_numpy(dtype=float)
                change, c_low, c_high = _mean_ci(paired)
                row |= {f"compliance_{end}": level, f"change_{end}": change,
                        f"change_{end}_ci_low": c_low, f"change_{end}_ci_high": c_high}
                values.append(level)
            finite = [v for v in values if np.isfinite(v)]
            row["swing"] = (max(finite) - min(finite)) if finite else math.nan
            oat_rows.append(row)
    oat_columns = ["field", "rule_id", "value", "low", "high", "low_shown", "high_shown",
                   "compliance_low", "compliance_high", "change_low", "change_low_ci_low",
                   "change_low_ci_high", "change_high", "change_high_ci_low",
                   "change_high_ci_high", "swing"]
    oat = pd.DataFrame(oat_rows, columns=oat_columns)
    if not oat.empty:
        oat["_order"] = oat["rule_id"].map({r: i for i, r in enumerate(rules)})
        oat = (oat.sort_values(["_order", "swing"], ascending=[True, False], kind="stable")
               .drop(columns="_order").reset_index(drop=True))
    indices, n_points, global_runs, global_notes = _global(
        assumptions, evaluate, rules, replications, budget, method, seed)
    notes += global_notes
    findings = _findings(rules, base, oat, targets, tolerance, assumptions)
    return SensitivityResult(
        scenario=name, seed=seed, replications=replications, tolerance=tolerance,
        assumptions=assumptions, base=base, one_at_a_time=oat, global_indices=indices,
        global_method=method if n_points else "", global_points=n_points, findings=findings,
        runs=runs + global_runs, notes=tuple(notes))


def _global(assumptions: Sequence[Assumption], evaluate: Evaluator, rules: Sequence[str],
            replications: int, budget: int, method: str, seed: int
            ) -> tuple[pd.DataFrame, int, int, list[str]]:
    columns = ["method", "field", "rule_id", "S1", "S1_conf", "ST", "ST_conf"]
    empty = pd.DataFrame(columns=columns)
    if budget <= 0 or not assumptions:
        return empty, 0, 0, []
    d = len(assumptions)
    needed = runs_needed(d, replications, method)
    if budget < needed:
        return empty, 0, 0, [
            f"a global {method} analysis of {d} assumptions with {replications} "
            f"replication(s) a point needs a budget of at least {needed} runs; {budget} given: "
            "not done"]
    problem = {"num_vars": d, "names": [a.field for a in assumptions],
               "bounds": [[0.0, 1.0]] * d}
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample  # type: ignore[import-untyped]

        base_n = 2 ** int(math.log2(budget // (replications * (d + 2))))
        unit = sobol_sample.sample(problem, base_n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import latin  # type: ignore[import-untyped]

        unit = latin.sample(problem, budget // replications, seed=seed)
    points = [{a.field: a.at(float(u)) for a, u in zip(assumptions, row, strict=True)}
              for row in unit]
    frames = evaluate(points)
    ran = sum(len(f["replication"].unique()) if len(f) else 0 for f in frames)
    failed = sum(f.empty for f in frames)
    notes = []
    if failed:
        notes.append(f"{failed} of {len(points)} global points were not valid scenarios and "
                     "were left out")
    rows = []
    for rule in rules:
        y = np.asarray([_wide(f, rules)[rule].mean() if not f.empty else math.nan
                        for f in frames], dtype=float)
        ok = np.isfinite(y)
        s1 = s1c = st = stc = np.full(d, math.nan)
        if method == "sobol":
            if ok.all() and float(np.var(y)) > 0:
                from SALib.analyze import sobol  # type: ignore[import-untyped]

                with warnings.catch_warnings():  # "constant values" in a bootstrap subset
                    warnings.simplefilter("ignore", UserWarning)
                    si = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
                s1, s1c, st, stc = (np.asarray(si[k], dtype=float)
                                    for k in ("S1", "S1_conf", "ST", "ST_conf"))
        elif ok.sum() >= MIN_GLOBAL_POINTS and float(np.var(y[ok])) > 0:
            from SALib.analyze import rbd_fast  # type: ignore[import-untyped]

            with np.errstate(invalid="ignore", divide="ignore"):  # a constant bootstrap sample
                si = rbd_fast.analyze(problem, unit[ok], y[ok], M=_HARMONICS, seed=seed)
            s1, s1c = (np.asarray(si[k], dtype=float) for k in ("S1", "S1_conf"))
        for k, a in enumerate(assumptions):
            rows.append({"method": method, "field": a.field, "rule_id": rule,
                         "S1": s1[k], "S1_conf": s1c[k], "ST": st[k], "ST_conf": stc[k]})
    return pd.DataFrame(rows, columns=columns), len(points), ran, notes


def _findings(rules: Sequence[str], base: pd.DataFrame, oat: pd.DataFrame,
              targets: Mapping[str, float], tolerance: float,
              assumptions: Sequence[Assumption]) -> pd.DataFrame:
    columns = ["rule_id", "kind", "base", "low", "high", "target", "holds", "driver", "text"]
    shown = {a.field: a for a in assumptions}
    rows = []
    for b in _records(base):
        rule, level = b["rule_id"], b["compliance"]
        sub = oat[oat["rule_id"] == rule]
        values = np.concatenate([[level], sub["compliance_low"].to_numpy(dtype=float),
                                 sub["compliance_high"].to_numpy(dtype=float)])
        values = values[np.isfinite(values)]
        low, high = float(values.min()), float(values.max())
        driver = str(sub.iloc[0]["field"]) if len(sub) and sub.iloc[0]["swing"] > 0 else ""
        top = _records(sub.head(1))[0] if driver else {}
        ends = [v for v in (level, top.get("compliance_low"), top.get("compliance_high"))
                if v is not None and np.isfinite(v)]
        moved = (f"; {driver} alone moves it between {_pct(min(ends))} and {_pct(max(ends))} "
                 f"over its range {top['low_shown']}-{top['high_shown']}" if driver else "")
        holds = bool(level - low <= tolerance + 1e-12 and high - level <= tolerance + 1e-12)
        verdict = ("holds across the assumptions' ranges" if holds else
                   f"does not hold: it moves by more than {100 * tolerance:.0f} points "
                   "within them")
        rows.append({
            "rule_id": rule, "kind": "level", "base": level, "low": low, "high": high,
            "target": math.nan, "holds": holds, "driver": driver,
            "text": (f"{rule}: met in {_pct(level)} of the cases judged, with the scenario as "
                     "written" + (f" (95% interval {_pct(b['ci_low'])} to {_pct(b['ci_high'])})"
                                  if np.isfinite(b["ci_low"]) else "") + "; "
                     f"over each assumption's plausible range, one at a time, between "
                     f"{_pct(low)} and {_pct(high)}{moved}. The level {verdict}."),
        })
        if rule in targets:
            target = targets[rule]
            meets = level >= target
            flips = [r for r in _records(sub)
                     if any(np.isfinite(v) and (v >= target) != meets
                            for v in (r["compliance_low"], r["compliance_high"]))]
            word = "meets" if meets else "misses"
            ci_low, ci_high = b["ci_low"], b["ci_high"]
            unsure = not (np.isfinite(ci_low) and np.isfinite(ci_high)) or (
                ci_low <= target <= ci_high)
            if unsure:
                interval = (f" (95% interval {_pct(ci_low)} to {_pct(ci_high)})"
                            if np.isfinite(ci_low) else " (one run: no interval)")
                text = (f"whether {rule} meets {_pct(target)} is not established: the scenario "
                        f"as written gives {_pct(level)}{interval}, which does not rule out "
                        "either side; run more replications")
                rows.append({"rule_id": rule, "kind": "target", "base": level, "low": low,
                             "high": high, "target": target, "holds": False, "driver": "",
                             "text": text})
                continue
            if flips:
                names = ", ".join(
                    f"{r['field']} (at {shown[r['field']].shown(r['low'] if (r['compliance_low'] >= target) != meets else r['high'])})"
                    for r in flips[:3])
                more = f" and {len(flips) - 3} more" if len(flips) > 3 else ""
                text = (f"{rule} {word} {_pct(target)} with the scenario as written, but that "
                        f"flips within the plausible range of {names}{more}: not a finding")
            else:
                text = (f"{rule} {word} {_pct(target)} at every end of every assumption's "
                        "plausible range, one at a time: the finding holds")
            rows.append({"rule_id": rule, "kind": "target", "base": level, "low": low,
                         "high": high, "target": target, "holds": not flips,
                         "driver": flips[0]["field"] if flips else "", "text": text})
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------- the simulator


def _simulator(scenario: Any, procedure: Procedure, replications: int, seed: int,
               workers: int | None, scheduler: str | None, progress: bool,
               check_config: Any) -> Evaluator:
    from simulation.runner import Job, execute

    def evaluate(points: Sequence[Point]) -> list[pd.DataFrame]:
        jobs = []
        for k, point in enumerate(points):
            try:
                changed = scenario.with_values(dict(point), procedure) if point else scenario
            except InputError:
                continue
            jobs += [Job(changed, procedure, seed, r, key=(k,), check_config=check_config)
                     for r in range(replications)]
        outcomes = execute(jobs, workers, scheduler, progress, "sensitivity runs")
        parts: list[list[pd.DataFrame]] = [[] for _ in points]
        for outcome in outcomes:
            counts = outcome.counts[["rule_id", "compliance"]].assign(
                replication=outcome.index)
            parts[outcome.key[0]].append(counts)
        empty = pd.DataFrame({"replication": pd.Series(dtype=np.int64),
                              "rule_id": pd.Series(dtype=str),
                              "compliance": pd.Series(dtype=float)})
        return [pd.concat(p, ignore_index=True) if p else empty for p in parts]

    return evaluate


def sensitivity(scenario: Any, procedure: Procedure, *, replications: int = 3,
                seed: int | None = None, budget: int = 0, method: str = "rbd-fast",
                fields: Sequence[str] | None = None,
                targets: Mapping[str, float] | None = None, tolerance: float = 0.05,
                workers: int | None = None, scheduler: str | None = None,
                progress: bool = False, check_config: Any = None) -> SensitivityResult:
    """The sensitivity of ``scenario``'s compliance to every assumption in its ledger (or the
    ``fields`` named): ``(2 x assumptions + 1) x replications`` runs one at a time, and
    ``budget`` more for the global analysis. The runs are judged with ``check_config`` (a
    ``conformance.CheckConfig``; None: the scenario's ``[checking]`` section)."""
    assumptions = assumptions_of(scenario, fields)
    base_seed = scenario.seed if seed is None else seed
    evaluate = _simulator(scenario, procedure, replications, base_seed, workers, scheduler,
                          progress, check_config)
    return analyse(assumptions, evaluate, name=scenario.name, seed=base_seed,
                   replications=replications, budget=budget, method=method, targets=targets,
                   tolerance=tolerance)


# ------------------------------------------------------------------------- pictures and files


def tornado_figure(result: SensitivityResult, rule_id: str, top: int = 12) -> Figure:
    """The tornado chart of one rule: for the assumptions that move it most, a bar from its
    compliance at the low end of the range to the high end, around the scenario's figure."""
    from matplotlib.figure import Figure

    oat = result.one_at_a_time
    sub = oat[(oat["rule_id"] == rule_id) & (oat["swing"] > 0)].head(top)
    base = float(result.base.loc[result.base["rule_id"] == rule_id, "compliance"].iloc[0])
    n = max(len(sub), 1)
    figure = Figure(figsize=(8.5, 1.2 + 0.42 * n), layout="constrained")
    ax = figure.subplots()
    rows = _records(sub)[::-1]
    for i, r in enumerate(rows):  # two bars a row, so that ends on the same side both show
        lo, hi = 100 * r["compliance_low"], 100 * r["compliance_high"]
        ax.barh(i + 0.17, lo - 100 * base, left=100 * base, color="#4c72b0", height=0.34,
                label="low end of the range" if i == 0 else None)
        ax.barh(i - 0.17, hi - 100 * base, left=100 * base, color="#dd8452", height=0.34,
                label="high end of the range" if i == 0 else None)
    ax.axvline(100 * base, color="black", linewidth=1)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{_short(r['field'])} ({r['low_shown']}-{r['high_shown']})"
                        for r in rows], fontsize=8)
    ax.set_xlabel("compliance (%)")
    ax.set_title(f"{rule_id}\ncompliance at each end of an assumption's plausible range\n"
                 f"(as written: {100 * base:.1f}%; {result.replications} run(s) a point, "
                 "the same cases)", fontsize=9)
    if rows:
        figure.legend(fontsize=8, loc="outside lower center", ncols=2, frameon=False)
    else:
        ax.text(0.5, 0.5, "no assumption moves this rule", ha="center", va="center",
                transform=ax.transAxes)
    return figure


def _short(name: str, width: int = 55) -> str:
    return name if len(name) <= width else "..." + name[-(width - 3):]


def write_outputs(result: SensitivityResult, out: Path, *, plots: bool = True) -> list[Path]:
    """Write base.csv, one_at_a_time.csv, global.csv, findings.csv and a tornado chart per
    rule (tornado_<rule>.png) into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("base", result.base), ("one_at_a_time", result.one_at_a_time),
                        ("global", result.global_indices), ("findings", result.findings)):
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
        written.append(path)
    if plots:
        from simulation.plots import save_png

        for rule in result.rules:
            written.append(save_png(tornado_figure(result, rule), out / f"tornado_{rule}.png"))
    return written

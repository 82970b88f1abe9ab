"""A scenario's simulated logs set beside a real log of the same period.

``validate(scenario, log, procedure)`` simulates the log's period (the scenario moved to start
on the day the log's first case began, for as many days as cases began over, and run on to the
log's as-of time) ``replications`` times, judges every simulated log with the checker's rules
and settings, and compares, side by side:

- **compliance**: each rule's compliance in the log against the simulated 95% interval of
  where a log with as many judged cases would fall if the scenario were right (the binomial
  spread of that many cases at the rate pooled over the replications, widened by the
  replications' own spread beyond chance);
- **timeliness**: for every deadline rule, the working days from trigger to step in the log and
  in the simulations (median, and the Wasserstein distance between the two distributions), and
  a band table (for a deadline of N working days: 0 to N-5, N-4 to N, N+1 to N+5, more; the
  DfE's C4 bands for the 15-day conference);
- **flow**: cases begun, cases begun per week, and cases open per day (work in progress);
- **distances** of business-process-simulation research (Chapela-Campa et al. 2023, the
  ``log-distance-measures`` package's definitions, computed on whole arrays by
  ``simulation.calibration.distances``): the 3-gram distribution distance of the control flow,
  the absolute, circadian and relative event distributions, the cycle time, case arrivals and
  work in progress, each as the mean over the replications, with the same distance between two
  replications of the scenario itself as a reference (no simulation can beat its own noise).

``scores(validation)`` reduces each measure to one error (lower is better) and ``compare``
sets two validations of the same log side by side (a calibrated scenario and the default).
``holdout(log, procedure, holdout_from)`` calibrates on the cases that began before a date
and validates on those that began from it, in one call. ``write_validation`` writes the
tables (CSV), ``validation.json`` and plots.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from model.calendar import LONDON, DeadlineKind, WorkingCalendar
from model.procedure import Procedure
from model.rules import Rule, Template
from simulation.calibration.distances import distances, prepare
from simulation.scenario import Scenario

if TYPE_CHECKING:
    from conformance import CheckConfig, EventLog
    from simulation.calibration.calibrate import Calibration
    from simulation.results import ReplicationOutcome

_Z95: Final = 1.959963984540054

__all__ = [
    "DISTANCES",
    "Validation",
    "compare",
    "holdout",
    "period_of",
    "restrict",
    "scores",
    "validate",
    "write_validation",
]

DISTANCES: Final = {
    "ngram": "control flow: 3-gram distribution distance (0 = the same, 1 = nothing shared)",
    "absolute": "absolute event distribution (hours)",
    "circadian": "circadian event distribution (hours of the week's days)",
    "relative": "relative event distribution: events by time since case start (hours)",
    "cycle_time": "cycle time distribution (days)",
    "arrivals": "case arrival distribution (hours)",
    "wip": "work in progress: open cases over the days (days; the package's measure, computed "
           "here on daily counts)",
}


@dataclass(frozen=True)
class Validation:
    """A scenario against a log. Tables (pandas DataFrames):

    ``compliance``: rule_id, severity, log_judged, log_compliance, sim_mean (pooled over the
    replications), sim_low, sim_high (95% interval for a log of log_judged cases), inside. ``timeliness``: rule_id, deadline, log_cases,
    log_median, sim_cases (per replication), sim_median, wasserstein (working days).
    ``bands``: rule_id, band, log_share, sim_share, sim_low, sim_high. ``flow``: measure, log,
    sim_mean, sim_low, sim_high. ``distances``: measure, description, value (mean over the
    replications), low, high (smallest and largest), reference (between two replications).
    """

    scenario: str
    log: str
    start: date
    horizon_days: int
    replications: int
    seed: int
    compliance: pd.DataFrame
    timeliness: pd.DataFrame
    bands: pd.DataFrame
    flow: pd.DataFrame
    distances: pd.DataFrame

    def text(self) -> str:
        """The comparison as terminal tables, in plain words."""
        end = self.start + timedelta(days=self.horizon_days - 1)
        out = [f"Validation of {self.scenario}",
               f"against {self.log}: cases that began {self.start} to {end}; "
               f"{self.replications} simulated replications (seed {self.seed})", ""]
        out.append("Compliance per rule: the log, and where 95% of simulated logs fall")
        rows = []
        for r in self.compliance.itertuples():
            if not r.log_judged and not _finite(r.sim_mean):
                continue
            rows.append([r.rule_id, f"{r.log_judged:,}", _pct(r.log_compliance),
                         _pct(r.sim_mean), f"{_pct(r.sim_low)}-{_pct(r.sim_high)}",
                         "yes" if r.inside else ("no" if r.inside is False else "-")])
        out += _table(["rule", "cases", "log", "simulated", "95% interval", "inside"], rows)
        if not self.timeliness.empty:
            out += ["", "Working days from trigger to step (deadline rules)"]
            rows = [[t.rule_id, t.deadline, f"{t.log_cases:,}", _num(t.log_median),
                     _num(t.sim_median), _num(t.wasserstein)]
                    for t in self.timeliness.itertuples()]
            out += _table(["rule", "deadline", "cases", "log median", "simulated median",
                           "Wasserstein"], rows)
        if not self.bands.empty:
            out += ["", "Bands of working days (share of the cases judged)"]
            rows = [[b.rule_id, b.band, _pct(b.log_share), _pct(b.sim_share),
                     f"{_pct(b.sim_low)}-{_pct(b.sim_high)}"] for b in self.bands.itertuples()]
            out += _table(["rule", "band", "log", "simulated", "95% interval"], rows)
        out += ["", "Cases and work in progress"]
        rows = [[f.measure, _num(f.log), _num(f.sim_mean), f"{_num(f.sim_low)}-{_num(f.sim_high)}"]
                for f in self.flow.itertuples()]
        out += _table(["measure", "log", "simulated", "range"], rows)
        out += ["", "Distances between the log and the simulated logs (log-distance-measures)"]
        rows = [[d.measure, _num(d.value), f"{_num(d.low)}-{_num(d.high)}", _num(d.reference)]
                for d in self.distances.itertuples()]
        out += _table(["measure", "mean", "range", "two runs of the scenario"], rows)
        return "\n".join(out) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "log": self.log, "start": self.start.isoformat(),
            "horizon_days": self.horizon_days, "replications": self.replications,
            "seed": self.seed,
            "compliance": _records(self.compliance), "timeliness": _records(self.timeliness),
            "bands": _records(self.bands), "flow": _records(self.flow),
            "distances": _records(self.distances), "scores": scores(self),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, (np.floating, float)):
                v = float(v)
                clean[str(k)] = v if math.isfinite(v) else None
            elif isinstance(v, (np.integer,)):
                clean[str(k)] = int(v)
            elif isinstance(v, (np.bool_,)):
                clean[str(k)] = bool(v)
            elif v is pd.NA:
                clean[str(k)] = None
            else:
                clean[str(k)] = v
        out.append(clean)
    return out


def _finite(x: Any) -> bool:
    return x is not None and x is not pd.NA and math.isfinite(float(x))


def _pct(x: Any) -> str:
    return "-" if x is None or x != x else f"{100 * float(x):.1f}%"


def _num(x: Any) -> str:
    if x is None or x != x:
        return "-"
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return out


# ------------------------------------------------------------------------- the log's period


def period_of(log: EventLog) -> tuple[date, int, int]:
    """(first day a case began, days over which cases began, days from then to as-of)."""
    first = log.events.groupby("case_id", sort=False)["time_utc"].min()
    local = pd.DatetimeIndex(first).tz_convert(LONDON)
    start, last = min(local.date), max(local.date)
    horizon = (last - start).days + 1
    as_of = pd.Timestamp(log.as_of).tz_convert(LONDON).date()
    drain = max(0, (as_of - (start + timedelta(days=horizon))).days + 1)
    return start, horizon, drain


def restrict(log: EventLog, *, since: date | None = None, until: date | None = None
             ) -> EventLog:
    """The cases of the log that began on or after ``since`` (with all their events), or the
    log as it stood before ``until`` (events before it; as-of then)."""
    from conformance import log_from_frame

    events = log.events
    as_of = pd.Timestamp(log.as_of)
    if until is not None:
        cut = pd.Timestamp(datetime.combine(until, time(0)), tz=LONDON).tz_convert("UTC")
        events = events[events["time_utc"] < cut]
        as_of = min(as_of, cut)
    if since is not None:
        first = events.groupby("case_id", sort=False)["time_utc"].transform("min")
        local = pd.DatetimeIndex(first).tz_convert(LONDON).date
        events = events[np.asarray([d >= since for d in local], dtype=bool)]
    if events.empty:
        raise ValueError("no case of the log falls in the period")
    ids = list(dict.fromkeys(events["case_id"].astype(str)))
    cases = log.cases.reindex(ids)
    columns = [c for c in ("case_id", "activity", "time_utc", "date_only", "source_row",
                           "resource", "role") if c in events]
    return log_from_frame(events[columns].reset_index(drop=True), cases, as_of=as_of,
                          source=log.source)


# ------------------------------------------------------------------------- simulation


def _simulate(scenario: Scenario, procedure: Procedure, replications: int, seed: int,
              workers: int | None, config: CheckConfig) -> list[ReplicationOutcome]:
    from simulation.runner import Job, execute

    jobs = [Job(scenario, procedure, seed, i, keep=True, check_config=config)
            for i in range(replications)]
    return execute(jobs, workers)


# ------------------------------------------------------------------------- measures


def _log_interval(successes: Sequence[float], trials: Sequence[float], n_log: int
                  ) -> tuple[float, float, float]:
    """(simulated rate, and the 95% interval of the rate a log of ``n_log`` judged cases would
    show if the scenario were right): the binomial spread of ``n_log`` cases at the pooled
    simulated rate, widened by the replications' own spread beyond chance."""
    from scipy import stats

    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if not len(n):
        return math.nan, math.nan, math.nan
    p = float(k.sum() / n.sum())
    if n_log <= 0:
        return p, math.nan, math.nan
    extra = 0.0
    if len(n) > 1:
        rates = k / n
        extra = max(0.0, float(rates.var(ddof=1)) - p * (1 - p) / float(n.mean()))
    widen = _Z95 * math.sqrt(extra)
    low = float(stats.binom.ppf(0.025, n_log, p)) / n_log - widen
    high = float(stats.binom.ppf(0.975, n_log, p)) / n_log + widen
    return p, max(0.0, low), min(1.0, high)


def _deadline_rules(rules: Sequence[Rule]) -> list[Rule]:
    return [r for r in rules if r.template is Template.RESPONSE and r.within is not None]


def _bands(rule: Rule) -> list[tuple[str, int, float]]:
    """Bands of working days (label, low, high inclusive) for a rule's deadline."""
    within = rule.within
    assert within is not None
    if within.kind is DeadlineKind.WORKING_DAYS and within.n >= 10:
        n = within.n
        return [(f"0-{n - 5}", 0, n - 5), (f"{n - 4}-{n}", n - 4, n),
                (f"{n + 1}-{n + 5}", n + 1, n + 5), (f"{n + 6}+", n + 6, math.inf)]
    if within.kind is DeadlineKind.WORKING_DAYS:
        n = within.n
        return [(f"0-{n}", 0, n), (f"{n + 1}-{n + 5}", n + 1, n + 5),
                (f"{n + 6}+", n + 6, math.inf)]
    return [("0", 0, 0), ("1", 1, 1), ("2-5", 2, 5), ("6+", 6, math.inf)]


def _working_days(results: pd.DataFrame, rules: Sequence[Rule], calendar: Any
                  ) -> pd.DataFrame:
    """Working days from each judged trigger to its step, for the deadline rules: the working
    days of the checker's calendar in (trigger's date, step's date], as the simulator's
    timeliness counts them."""
    ids = {r.id for r in _deadline_rules(rules)}
    rows = results[results["rule_id"].astype(str).isin(ids)
                   & results["status"].isin(["satisfied", "violated"])
                   & results["trigger_time"].notna() & results["evidence_time"].notna()]
    if rows.empty:
        return pd.DataFrame({"rule_id": pd.Series(dtype=str),
                             "working_days": pd.Series(dtype=np.int64)})
    cal = WorkingCalendar(calendar)

    def ns(values: pd.Series) -> Any:
        return pd.DatetimeIndex(values).as_unit("ns").asi8

    days = cal.working_days_late(ns(rows["trigger_time"]), ns(rows["evidence_time"]))
    return pd.DataFrame({"rule_id": rows["rule_id"].astype(str).to_numpy(),
                         "working_days": np.asarray(days).astype(np.int64)})


def _flow(events: pd.DataFrame, start: date, days: int, as_of: pd.Timestamp
          ) -> tuple[int, float, np.ndarray[Any, np.dtype[np.float64]]]:
    """(cases begun, cases begun per week, cases open at the end of each day)."""
    span = events.groupby("case_id", sort=False)["time_utc"].agg(["min", "max"])
    first = pd.DatetimeIndex(span["min"]).tz_convert(LONDON).tz_localize(None)
    last = pd.DatetimeIndex(span["max"]).tz_convert(LONDON).tz_localize(None)
    closed = events.groupby("case_id", sort=False)["activity"].agg(
        lambda a: "Case closed" in set(a))
    end_local = pd.Timestamp(as_of).tz_convert(LONDON).tz_localize(None)
    until = np.where(closed.reindex(span.index).to_numpy(dtype=bool), last.to_numpy(),
                     np.datetime64(end_local.to_datetime64()))
    ends = np.array([np.datetime64(datetime.combine(start + timedelta(days=i + 1), time(0)))
                     for i in range(days)], dtype="datetime64[ns]")
    f = np.sort(first.to_numpy())
    u = np.sort(until.astype("datetime64[ns]"))
    opened = np.searchsorted(f, ends, side="left")
    finished = np.searchsorted(u, ends, side="left")
    wip = (opened - finished).astype(float)
    cases = len(span)
    weekly = cases / (days / 7.0) if days else math.nan
    return cases, weekly, wip


def _wip_distance(days: np.ndarray[Any, np.dtype[np.float64]],
                  a: np.ndarray[Any, np.dtype[np.float64]],
                  b: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """The Wasserstein distance (days) between two curves of open cases per day taken as
    distributions of case-days over time (``log_distance_measures.work_in_progress``'s 1-WD,
    whose own code fails on this pandas version)."""
    from scipy import stats

    if a.sum() <= 0 or b.sum() <= 0:
        return math.nan
    return float(stats.wasserstein_distance(days, days, a, b))


# ------------------------------------------------------------------------- validate




def validate(scenario: Scenario, log: EventLog, procedure: Procedure, *,
             replications: int = 20, seed: int | None = None, workers: int | None = None,
             config: CheckConfig | None = None, rules: Sequence[Rule] | None = None,
             scenario_name: str | None = None, log_name: str | None = None) -> Validation:
    """Simulate the log's period ``replications`` times and compare (module docstring).

    ``config``: the checker's settings for judging the log and the simulated logs alike
    (default: the scenario's ``[checking]`` section); its as-of time, if any, applies to the
    log only (each simulated log is judged as of its last event). ``rules``: the rules to
    judge (default: the procedure's)."""
    from dataclasses import replace

    from scipy import stats

    from conformance import judge

    settings = config or scenario.checking
    rules = tuple(rules if rules is not None else procedure.rules)
    start, horizon, drain = period_of(log)
    moved = scenario.with_values({"scenario.start": start, "scenario.horizon_days": horizon,
                                  "scenario.drain_days": drain}, procedure)
    base_seed = scenario.seed if seed is None else seed
    # the simulated logs are judged as the real one, each as of its own last event
    outcomes = _simulate(moved, procedure, replications, base_seed, workers,
                         replace(settings, as_of=None))
    judgement = judge(log, rules, settings)
    log_counts = judgement.summary().set_index("rule_id")
    log_days = _working_days(judgement.results, rules, settings.calendar)
    sims = [o.replication for o in outcomes if o.replication is not None]

    # compliance
    rows = []
    for rule in rules:
        row: Any = log_counts.loc[rule.id]
        judged = int(row["satisfied"] + row["violated"])
        satisfied, trials = [], []
        for o in outcomes:
            c = o.counts.set_index("rule_id")
            if rule.id in c.index:
                cell: Any = c.loc[rule.id]
                satisfied.append(float(cell["satisfied"]))
                trials.append(float(cell["satisfied"] + cell["violated"]))
        mean, low, high = _log_interval(satisfied, trials, judged)
        value = float(row["compliance"]) if judged else math.nan
        inside: bool | None = None
        if judged and low == low and high == high:
            inside = bool(low - 1e-9 <= value <= high + 1e-9)
        rows.append({"rule_id": rule.id, "severity": rule.severity.value,
                     "log_judged": judged, "log_compliance": value, "sim_mean": mean,
                     "sim_low": low, "sim_high": high, "inside": inside})
    compliance = pd.DataFrame(rows)

    # timeliness and bands
    sim_days = pd.concat([o.durations.assign(replication=o.index) for o in outcomes],
                         ignore_index=True)
    t_rows, b_rows = [], []
    for rule in _deadline_rules(rules):
        mine = log_days.loc[log_days["rule_id"] == rule.id, "working_days"].to_numpy()
        theirs = sim_days[sim_days["rule_id"] == rule.id]
        if not len(mine) and theirs.empty:
            continue
        pooled = theirs["working_days"].to_numpy()
        t_rows.append({
            "rule_id": rule.id, "deadline": str(rule.within), "log_cases": len(mine),
            "log_median": float(np.median(mine)) if len(mine) else math.nan,
            "sim_cases": len(pooled) / max(1, len(outcomes)),
            "sim_median": float(np.median(pooled)) if len(pooled) else math.nan,
            "wasserstein": float(stats.wasserstein_distance(mine, pooled))
            if len(mine) and len(pooled) else math.nan,
        })
        for label, lo, hi in _bands(rule):
            share = float(((mine >= lo) & (mine <= hi)).mean()) if len(mine) else math.nan
            hits, trials = [], []
            for o in outcomes:
                d = theirs.loc[theirs["replication"] == o.index, "working_days"].to_numpy()
                hits.append(float(((d >= lo) & (d <= hi)).sum()))
                trials.append(float(len(d)))
            mean, low, high = _log_interval(hits, trials, len(mine))
            b_rows.append({"rule_id": rule.id, "band": label, "log_share": share,
                           "sim_share": mean, "sim_low": low, "sim_high": high})
    timeliness = pd.DataFrame(t_rows, columns=["rule_id", "deadline", "log_cases", "log_median",
                                               "sim_cases", "sim_median", "wasserstein"])
    bands = pd.DataFrame(b_rows, columns=["rule_id", "band", "log_share", "sim_share",
                                          "sim_low", "sim_high"])

    # flow
    as_of = pd.Timestamp(log.as_of)
    log_cases, log_weekly, log_wip = _flow(log.events, start, horizon, as_of)
    sim_flows = [_flow(r.events, start, horizon, r.as_of) for r in sims]
    wip_gap = [float(np.mean(np.abs(f[2] - log_wip))) for f in sim_flows]

    def spread(values: Sequence[float]) -> tuple[float, float, float]:
        x = np.asarray(values, dtype=float)
        if not len(x):
            return math.nan, math.nan, math.nan
        return float(x.mean()), float(x.min()), float(x.max())

    flow_rows = []
    for name, log_value, sim_values in (
        ("cases begun", float(log_cases), [float(f[0]) for f in sim_flows]),
        ("cases begun per week", log_weekly, [f[1] for f in sim_flows]),
        ("cases open per day (mean)", float(log_wip.mean()), [float(f[2].mean())
                                                               for f in sim_flows]),
        ("cases open per day: mean gap to the log", 0.0, wip_gap),
    ):
        mean, low, high = spread(sim_values)
        flow_rows.append({"measure": name, "log": log_value, "sim_mean": mean,
                          "sim_low": low, "sim_high": high})
    flow = pd.DataFrame(flow_rows)

    # distances
    log_prepared = prepare(log.events)
    frames = [prepare(r.events) for r in sims]
    per_rep = [distances(log_prepared, f) for f in frames]
    days = np.arange(horizon, dtype=float)
    for measured, f in zip(per_rep, sim_flows, strict=True):
        measured["wip"] = _wip_distance(days, log_wip, f[2])
    reference = distances(frames[0], frames[1]) if len(frames) > 1 else {}
    if len(frames) > 1:
        reference["wip"] = _wip_distance(days, sim_flows[0][2], sim_flows[1][2])
    d_rows = []
    for key, description in DISTANCES.items():
        values = [d[key] for d in per_rep]
        mean, low, high = spread(values)
        d_rows.append({"measure": key, "description": description, "value": mean, "low": low,
                       "high": high, "reference": reference.get(key, math.nan)})
    distance_table = pd.DataFrame(d_rows)
    return Validation(
        scenario=scenario_name or scenario.name, log=log_name or log.source, start=start,
        horizon_days=horizon, replications=len(outcomes), seed=base_seed,
        compliance=compliance, timeliness=timeliness, bands=bands, flow=flow,
        distances=distance_table,
    )


# ------------------------------------------------------------------------- comparing


def scores(v: Validation) -> dict[str, float]:
    """One error per measure (lower is better)."""
    c = v.compliance[v.compliance["log_judged"] > 0]
    gap = (c["log_compliance"] - c["sim_mean"]).abs().dropna()
    out = {
        "compliance: mean gap (percentage points)": float(100 * gap.mean())
        if len(gap) else math.nan,
        "compliance: rules outside the simulated interval": float(
            (c["inside"] == False).sum()),  # noqa: E712 (a nullable column)
        "timeliness: mean Wasserstein (working days)": float(v.timeliness["wasserstein"].mean())
        if not v.timeliness.empty else math.nan,
        "bands: mean gap (percentage points)": float(
            100 * (v.bands["log_share"] - v.bands["sim_share"]).abs().mean())
        if not v.bands.empty else math.nan,
    }
    flow = v.flow.set_index("measure")
    begun: Any = flow.loc["cases begun"]
    out["cases begun: relative gap"] = float(abs(begun["sim_mean"] - begun["log"]) / begun["log"])
    wip: Any = flow.loc["cases open per day: mean gap to the log", "sim_mean"]
    out["cases open per day: mean gap"] = float(wip)
    for measure, value in zip(v.distances["measure"], v.distances["value"], strict=True):
        out[f"distance: {measure}"] = float(value)
    return out


def compare(candidate: Validation, baseline: Validation, names: tuple[str, str] = (
        "calibrated", "default")) -> pd.DataFrame:
    """The two validations' errors side by side: measure, the two, and which is closer."""
    a, b = scores(candidate), scores(baseline)
    rows = []
    for key in a:
        x, y = a[key], b.get(key, math.nan)
        better = "-" if x != x or y != y else (names[0] if x < y else (
            names[1] if y < x else "equal"))
        rows.append({"measure": key, names[0]: x, names[1]: y, "closer": better})
    return pd.DataFrame(rows)


def holdout(log: EventLog, procedure: Procedure, holdout_from: date, *,
            base: Scenario | None = None, replications: int = 20, seed: int | None = None,
            workers: int | None = None, config: CheckConfig | None = None,
            source: str = "the log", refine: int = 2, rules: Sequence[Rule] | None = None
            ) -> tuple[Calibration, Validation]:
    """Calibrate on the log as it stood before ``holdout_from`` and validate the result on the
    cases that began from that date."""
    from simulation.calibration.calibrate import calibrate

    calibration = calibrate(log, procedure, base=base, source=source, until=holdout_from,
                            calendar=config.calendar if config is not None else None,
                            refine=refine)
    later = restrict(log, since=holdout_from)
    validation = validate(calibration.scenario(procedure), later, procedure,
                          replications=replications, seed=seed, workers=workers, config=config,
                          rules=rules, scenario_name=f"the scenario calibrated on {source} before "
                          f"{holdout_from.isoformat()}",
                          log_name=f"{source}, cases from {holdout_from.isoformat()}")
    return calibration, validation


# ------------------------------------------------------------------------- files


def write_validation(v: Validation, out: Path | str, *, plots: bool = True,
                     baseline: Validation | None = None) -> list[Path]:
    """Write the tables as CSV, ``validation.json`` and (``plots``) PNG figures into ``out``."""
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("compliance", "timeliness", "bands", "flow", "distances"):
        path = target / f"validation_{name}.csv"
        getattr(v, name).to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
        written.append(path)
    payload = v.to_json()
    if baseline is not None:
        payload["baseline"] = baseline.to_json()
        payload["comparison"] = _records(compare(v, baseline))
    path = target / "validation.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(path)
    if plots:
        written += _plots(v, target)
    return written


def _plots(v: Validation, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    c = v.compliance[v.compliance["log_judged"] > 0].reset_index(drop=True)
    if not c.empty:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(c) + 1.5))
        y = np.arange(len(c))
        err = np.vstack([(c["sim_mean"] - c["sim_low"]).fillna(0).clip(lower=0),
                         (c["sim_high"] - c["sim_mean"]).fillna(0).clip(lower=0)])
        ax.errorbar(100 * c["sim_mean"], y, xerr=100 * err, fmt="o", color="tab:blue",
                    label="simulated (95% interval)")
        ax.plot(100 * c["log_compliance"], y, "D", color="tab:red", label="the log")
        ax.set_yticks(y, c["rule_id"])
        ax.set_xlabel("compliance (%)")
        ax.invert_yaxis()
        ax.legend(loc="lower left", fontsize=8)
        ax.set_title("Compliance: the log against the simulated logs")
        fig.tight_layout()
        path = out / "validation_compliance.png"
        fig.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    if not v.bands.empty:
        rules = list(dict.fromkeys(v.bands["rule_id"]))
        fig, axes = plt.subplots(len(rules), 1, figsize=(7, 2.2 * len(rules)), squeeze=False)
        for ax, rule in zip(axes[:, 0], rules, strict=True):
            b = v.bands[v.bands["rule_id"] == rule].reset_index(drop=True)
            x = np.arange(len(b))
            ax.bar(x - 0.2, 100 * b["log_share"], 0.4, label="the log", color="tab:red")
            ax.bar(x + 0.2, 100 * b["sim_share"], 0.4, label="simulated", color="tab:blue")
            ax.set_xticks(x, b["band"])
            ax.set_ylabel("% of cases")
            ax.set_title(f"{rule}: working days from trigger to step", fontsize=9)
        axes[0, 0].legend(fontsize=8)
        fig.tight_layout()
        path = out / "validation_bands.png"
        fig.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written


def load_json(path: Path) -> Mapping[str, Any]:
    """A validation written by ``write_validation`` (for reports)."""
    loaded: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded

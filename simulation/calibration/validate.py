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

Each replication is simulated, judged and measured against the log in a worker process
(``simulation.runner``'s ``Job.measure``): only its counts, working days and measures come
back, never its log.

``holdout(log, procedure, holdout_from)`` calibrates on the cases that began before a date
and validates on those that began from it, in one call. The result, ``Validation``, and what
presents it (``scores``, ``compare``, ``write_validation``) are in
``simulation.calibration.validation`` and re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from model.calendar import LONDON, DeadlineKind, WorkingCalendar
from model.procedure import Procedure
from model.rules import Rule, Template
from simulation.calibration.distances import Prepared, distances, prepare
from simulation.calibration.validation import (
    DISTANCES,
    Validation,
    compare,
    load_json,
    scores,
    write_validation,
)
from simulation.scenario import Scenario

if TYPE_CHECKING:
    from conformance import CheckConfig, EventLog
    from simulation.calibration.calibrate import Calibration
    from simulation.results import Replication, ReplicationOutcome

_Z95: Final = 1.959963984540054

__all__ = [
    "DISTANCES",
    "Validation",
    "compare",
    "holdout",
    "load_json",
    "period_of",
    "restrict",
    "scores",
    "validate",
    "write_validation",
]

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


@dataclass(frozen=True)
class _LogSide:
    """What each worker needs of the real log to measure a simulated one against it."""

    prepared: Prepared
    wip: np.ndarray[Any, np.dtype[np.float64]]
    start: date
    horizon: int


@dataclass(frozen=True)
class _Measured:
    """One simulated log measured in its worker: its flow, its distances to the log, and (for
    the first two replications, whose distance to each other is the reference) the log
    reduced to what the distances read."""

    cases: int
    weekly: float
    wip: np.ndarray[Any, np.dtype[np.float64]]
    distances: dict[str, float]
    prepared: Prepared | None


def _measure(side: _LogSide, rep: Replication) -> _Measured:
    cases, weekly, wip = _flow(rep.events, side.start, side.horizon, rep.as_of)
    prepared = prepare(rep.events)
    measured = distances(side.prepared, prepared)
    measured["wip"] = _wip_distance(np.arange(side.horizon, dtype=float), side.wip, wip)
    return _Measured(cases, weekly, wip, measured, prepared if rep.index < 2 else None)


def _simulate(scenario: Scenario, procedure: Procedure, replications: int, seed: int,
              workers: int | None, config: CheckConfig, side: _LogSide
              ) -> list[ReplicationOutcome]:
    """The replications, each judged and measured against the log in its worker process."""
    from simulation.runner import Job, execute

    jobs = [Job(scenario, procedure, seed, i, check_config=config,
                measure=partial(_measure, side), lean=True)
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
    closed = (events["activity"] == "Case closed").groupby(events["case_id"], sort=False).any()
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
    as_of = pd.Timestamp(log.as_of)
    log_cases, log_weekly, log_wip = _flow(log.events, start, horizon, as_of)
    side = _LogSide(prepare(log.events), log_wip, start, horizon)
    # the log judged first: where worker processes begin as copies of this one (forked, as on
    # Linux), the calendar the checker builds for it and the modules it loads are theirs too
    judgement = judge(log, rules, settings)
    log_counts = judgement.summary().set_index("rule_id")
    log_days = _working_days(judgement.results, rules, settings.calendar)
    # the simulated logs are judged as the real one, each as of its own last event, and
    # measured against it in their worker processes
    outcomes = _simulate(moved, procedure, replications, base_seed, workers,
                         replace(settings, as_of=None), side)
    sims: list[_Measured] = [o.measured for o in outcomes]

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
    sim_flows = [(m.cases, m.weekly, m.wip) for m in sims]
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

    # distances (each replication's to the log measured in its worker)
    per_rep = [m.distances for m in sims]
    days = np.arange(horizon, dtype=float)
    first_two = [m.prepared for m in sims[:2] if m.prepared is not None]
    reference: dict[str, float] = {}
    if len(first_two) > 1:
        reference = distances(first_two[0], first_two[1])
        reference["wip"] = _wip_distance(days, sims[0].wip, sims[1].wip)
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

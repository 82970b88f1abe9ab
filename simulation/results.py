"""What a simulation gives back: frozen results exposing DataFrames, its log and its summary.

``Replication`` is one simulated caseload (its event log in the contract's schema, the case
attributes, the ground truth of injected slips, waits and per-role timelines).
``ReplicationOutcome`` is what a worker sends back: the replication judged by the checker's rule
engine (``conformance.engine.judge``, with the run's ``CheckConfig``: every deadline has one
definition) and reduced to counts.
``SimulationResult`` aggregates outcomes across replications: compliance per rule with a 95%
confidence interval (Student's t over the replications' on-time rates), utilisation, queue
length and waiting time per role over time, and bottleneck attribution (the split of late
cases' time is ``simulation.delays``; its names ``BOTTLENECKS`` and ``COMPONENTS`` are
re-exported here).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance import (
    RESULT_COLUMNS,
    STATUSES,
    CheckConfig,
    Judgement,
    judge,
    log_from_frame,
)
from model.calendar import CalendarConfig, DeadlineKind, Within, WorkingCalendar
from model.contract import ATTRIBUTES
from model.procedure import Procedure
from model.rules import Template
from simulation.delays import BOTTLENECKS, COMPONENTS, aggregate_delays, delays_of
from simulation.scenario import Scenario

__all__ = [
    "BOTTLENECKS",
    "COMPONENTS",
    "LOG_COLUMNS",
    "Replication",
    "ReplicationOutcome",
    "SimulationResult",
    "aggregate",
    "outcome_of",
    "summary",
    "write_event_log",
]

LOG_COLUMNS = ("case_id", "activity", "timestamp", "resource", "role")


@dataclass(frozen=True)
class Replication:
    """One simulated caseload.

    ``events``: case_id, activity, time_utc (floored to the second, as written), resource, role,
    task_id (the place in the model's flow; not written to the log), timestamp (local ISO 8601
    with offset), sorted by case (arrival order), time and order of occurrence. ``cases``: one row per case (index case_id) with a nullable boolean column per
    true/false attribute of the procedure (``children_at_continuing_risk`` is a finding of the
    Section 47 enquiry: empty unless it completed), then offence, route and arrival_utc.
    ``ground_truth``: the injected slips (case_id, slip, activity, detail, rule_ids: the rules
    that it breaks, separated by ';'). ``waits``: for each step, each role's wait (case_id,
    activity, role, requested_utc, granted_utc, wait_hours; for a booked step, from the earliest
    slot its lead time allowed to the slot it got). ``timeline``: per role and bin of
    ``timeline_days``. ``queues``: per role over the horizon (jobs, waited_share,
    mean_wait_minutes, mean_queue, arrivals_per_minute, window_minutes). ``steps``: each step of
    a logged case in simulation minutes (case_id, task_id; start, the end of its lag, lag_own:
    the office minutes of a lag in working days or -1 for an elapsed lag; ready: the end of a
    booking's notice; work_start, end, work_own: its on-duty minutes of work; waits: its
    (kind "queue" or "diary", role, from, to) waits). ``duty``: when someone of each role is on
    duty, and the office day under "" (sorted start and end minutes). ``origin_ns``: the UTC
    nanoseconds of minute 0.
    """

    index: int
    seed: int
    events: pd.DataFrame
    cases: pd.DataFrame
    ground_truth: pd.DataFrame
    waits: pd.DataFrame
    timeline: pd.DataFrame
    queues: pd.DataFrame
    as_of: pd.Timestamp
    end: pd.Timestamp
    all_cases: int  # including the warm-up's
    sim_events: int
    steps: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    duty: Mapping[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = field(
        default_factory=dict, repr=False)
    origin_ns: int = 0


@dataclass(frozen=True)
class ReplicationOutcome:
    """One replication judged and reduced (what a worker process sends back)."""

    index: int
    key: tuple[Any, ...]
    counts: pd.DataFrame  # the judgement's summary(): per rule, cases per status, compliance
    timeline: pd.DataFrame
    queues: pd.DataFrame
    bottlenecks: pd.DataFrame  # rule_id, component, role, hours, late_cases, window_hours
    durations: pd.DataFrame  # rule_id, working_days (trigger to evidence, judged cases)
    cases: int
    events: int
    all_cases: int
    sim_events: int
    replication: Replication | None = None
    missed_slips: int = 0  # ground-truth (case, rule) pairs that the judgement did not flag
    measured: Any = None  # the job's own measure of the replication (``runner.Job.measure``)


@dataclass(frozen=True)
class SimulationResult:
    """Replications aggregated.

    ``compliance``: per rule (rule_id, title, clause, severity, basis, description, compliance =
    mean of the
    replications' satisfied / (satisfied + violated), ci_low, ci_high (95%, Student's t),
    replications (with a judged case), judged_per_replication, violated_per_replication,
    pooled). ``per_replication``: the judgement summaries with a ``replication`` column.
    ``utilisation``: per role and time bin, means across replications. ``delays``: for each
    deadline rule, its late cases' time from the trigger to the deadline split into
    ``COMPONENTS`` (rule_id, component, role, late_cases, hours, window_hours, share of the
    window, bottleneck: queueing or diary). ``bottlenecks``: the bottleneck rows alone (rule_id,
    role, component, late_cases, wait_hours, span_hours: the late cases' windows, share),
    largest share first. ``marginal``: the change in each rule's compliance with one more
    person in each role, from paired replications (``simulation.runner.marginal_values``; empty
    until computed). ``timeliness``: per deadline rule, quartiles of the working days from
    trigger to the step.
    """

    scenario: Scenario
    seed: int
    replications: int
    compliance: pd.DataFrame
    per_replication: pd.DataFrame
    utilisation: pd.DataFrame
    queues: pd.DataFrame
    bottlenecks: pd.DataFrame
    timeliness: pd.DataFrame
    cases_per_replication: float
    events_per_replication: float
    sim_events: int
    first: Replication | None = field(default=None, repr=False)
    check_config: CheckConfig = field(default_factory=CheckConfig)
    delays: pd.DataFrame = field(default_factory=pd.DataFrame)
    marginal: pd.DataFrame = field(default_factory=pd.DataFrame)

    def rule(self, rule_id: str) -> pd.Series:
        """The compliance row of one rule.

        Raises
        ------
        KeyError
            When the result has no such rule.
        """
        rows = self.compliance[self.compliance["rule_id"] == rule_id]
        if rows.empty:
            raise KeyError(f"no rule '{rule_id}' in the result")
        return rows.iloc[0]


# ------------------------------------------------------------------------- judging


@lru_cache(maxsize=4)
def _calendar(config: CalendarConfig) -> WorkingCalendar:
    return WorkingCalendar(config)


def judge_replication(rep: Replication, procedure: Procedure,
                      check_config: CheckConfig | None = None) -> Judgement:
    """The checker's judgement of a replication's log (as ``lscb check`` would read it, with
    ``check_config``: by default the checker's defaults)."""
    attributes = [a for a in (*procedure.boolean_attributes, *procedure.categories)
                  if a in rep.cases.columns]
    events = rep.events[["case_id", "activity", "time_utc", "resource", "role"]].assign(
        source_row=np.arange(len(rep.events), dtype=np.int64))
    log = log_from_frame(
        events,
        rep.cases[attributes],
        as_of=rep.as_of,
        source="simulation",
    )
    return judge(log, procedure.rules, check_config or CheckConfig())


def outcome_of(rep: Replication, procedure: Procedure, check_config: CheckConfig | None = None,
               *, keep: bool = False, key: tuple[Any, ...] = (), bottlenecks: bool = True
               ) -> ReplicationOutcome:
    """A replication judged with ``check_config`` (default: the checker's defaults) and reduced
    to what the aggregation needs (``bottlenecks=False``: without the split of the late cases'
    time, left empty, for a caller that does not read it)."""
    config = check_config or CheckConfig()
    if rep.events.empty:  # no case arrived (a scenario of background work only)
        results = pd.DataFrame(columns=list(RESULT_COLUMNS))
        counts = pd.DataFrame({"rule_id": [r.id for r in procedure.rules],
                               "clause": [r.clause for r in procedure.rules],
                               "severity": [r.severity.value for r in procedure.rules],
                               "basis": [r.basis.value for r in procedure.rules],
                               "title": [r.heading for r in procedure.rules]})
        for status in STATUSES:
            counts[status] = 0
        counts["compliance"] = math.nan
    else:
        judgement = judge_replication(rep, procedure, config)
        results = judgement.results
        counts = judgement.summary()
    response = {r.id for r in procedure.rules if r.template is Template.RESPONSE}
    return ReplicationOutcome(
        index=rep.index,
        key=key,
        counts=counts,
        timeline=rep.timeline.assign(replication=rep.index),
        queues=rep.queues.assign(replication=rep.index),
        bottlenecks=delays_of(results if bottlenecks else results.iloc[:0], rep.steps,
                              rep.events["task_id"].to_numpy(), rep.duty, rep.origin_ns,
                              procedure).assign(replication=rep.index),
        durations=_durations(results, response, config.calendar),
        cases=len(rep.cases),
        events=len(rep.events),
        all_cases=rep.all_cases,
        sim_events=rep.sim_events,
        replication=rep if keep else None,
        missed_slips=_missed(results, rep.ground_truth),
    )


def _missed(results: pd.DataFrame, truth: pd.DataFrame) -> int:
    if truth.empty:
        return 0
    violated = set(zip(results.loc[results["status"] == "violated", "case_id"].astype(str),
                       results.loc[results["status"] == "violated", "rule_id"].astype(str),
                       strict=True))
    missed = 0
    for case_id, rule_ids in zip(truth["case_id"], truth["rule_ids"], strict=True):
        for rule_id in filter(None, str(rule_ids).split(";")):
            missed += (case_id, rule_id) not in violated
    return missed


def _durations(results: pd.DataFrame, response: set[str],
               calendar: CalendarConfig) -> pd.DataFrame:
    """Working days from each judged trigger to its step (for the timeliness quartiles): the
    working days of the checker's calendar in (trigger's date, step's date], as the calendar
    counts a lateness (0 for a step on or before the trigger's date)."""
    rows = results[results["rule_id"].astype(str).isin(response)
                   & results["status"].isin(["satisfied", "violated"])
                   & results["trigger_time"].notna() & results["evidence_time"].notna()]
    if rows.empty:
        return pd.DataFrame({"rule_id": pd.Series(dtype=str),
                             "working_days": pd.Series(dtype=np.int64)})
    days = _calendar(calendar).working_days_late(_ns(rows["trigger_time"]),
                                                 _ns(rows["evidence_time"]))
    return pd.DataFrame({"rule_id": rows["rule_id"].astype(str).to_numpy(),
                         "working_days": days.astype(np.int64)})


def _ns(values: pd.Series) -> npt.NDArray[np.int64]:
    """UTC nanoseconds of a column of aware timestamps."""
    result: npt.NDArray[np.int64] = pd.DatetimeIndex(values).as_unit("ns").asi8
    return result


# ------------------------------------------------------------------------- aggregation


def _t95(n: int) -> float:
    from scipy import stats  # heavy, and only when aggregating

    return float(stats.t.ppf(0.975, n - 1)) if n > 1 else math.nan


def aggregate(outcomes: Sequence[ReplicationOutcome], scenario: Scenario, procedure: Procedure,
              seed: int, check_config: CheckConfig | None = None) -> SimulationResult:
    """The replications' outcomes as one result (``check_config``: what they were judged
    with, recorded in the result)."""
    if not outcomes:
        raise ValueError("no replications to aggregate")
    per = pd.concat([o.counts.assign(replication=o.index) for o in outcomes], ignore_index=True)
    rows = []
    for rule in procedure.rules:
        sub = per[per["rule_id"] == rule.id]
        values = sub["compliance"].dropna().to_numpy(dtype=float)
        n = len(values)
        mean = float(values.mean()) if n else math.nan
        half = _t95(n) * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        judged = sub["satisfied"] + sub["violated"]
        total = int(judged.sum())
        rows.append({
            "rule_id": rule.id,
            "title": rule.heading,
            "clause": rule.clause,
            "severity": rule.severity.value,
            "basis": rule.basis.value,
            "description": rule.text(),
            "compliance": mean,
            "ci_low": max(0.0, mean - half) if n > 1 else math.nan,
            "ci_high": min(1.0, mean + half) if n > 1 else math.nan,
            "replications": n,
            "judged_per_replication": float(judged.mean()),
            "violated_per_replication": float(sub["violated"].mean()),
            "pending_per_replication": float(sub["pending"].mean()),
            "not_assessable_per_replication": float(sub["not_assessable"].mean()),
            "pooled": float(sub["satisfied"].sum()) / total if total else math.nan,
        })
    compliance = pd.DataFrame(rows)
    timeline = pd.concat([o.timeline for o in outcomes], ignore_index=True)
    if timeline.empty:
        utilisation = timeline
    else:
        utilisation = (timeline.groupby(["role", "bin_start_utc"], as_index=False, sort=True)
                       [["on_duty_hours", "work_hours", "utilisation", "mean_queue", "jobs",
                         "mean_wait_hours", "procedure_tasks", "procedure_wait_hours"]]
                       .mean())
    queues = pd.concat([o.queues for o in outcomes], ignore_index=True)
    delays, bottlenecks = aggregate_delays([o.bottlenecks for o in outcomes])
    durations = pd.concat([o.durations for o in outcomes], ignore_index=True)
    timeliness = _timeliness(durations, procedure)
    first = next((o.replication for o in outcomes if o.replication is not None), None)
    return SimulationResult(
        scenario=scenario,
        seed=seed,
        replications=len(outcomes),
        compliance=compliance,
        per_replication=per,
        utilisation=utilisation,
        queues=queues,
        bottlenecks=bottlenecks,
        timeliness=timeliness,
        cases_per_replication=float(np.mean([o.cases for o in outcomes])),
        events_per_replication=float(np.mean([o.events for o in outcomes])),
        sim_events=int(sum(o.sim_events for o in outcomes)),
        first=first,
        check_config=check_config or CheckConfig(),
        delays=delays,
    )


def _timeliness(durations: pd.DataFrame, procedure: Procedure) -> pd.DataFrame:
    rows = []
    for rule in procedure.rules:
        days = durations.loc[durations["rule_id"] == rule.id, "working_days"].to_numpy()
        if not len(days):
            continue
        q1, median, q3 = np.percentile(days, [25, 50, 75])
        rows.append({"rule_id": rule.id, "cases": len(days), "q1": float(q1),
                     "median": float(median), "q3": float(q3),
                     "mean": float(days.mean())})
    return pd.DataFrame(rows, columns=["rule_id", "cases", "q1", "median", "q3", "mean"])


# ------------------------------------------------------------------------- files


def write_event_log(rep: Replication, path: Path, procedure: Procedure) -> None:
    """The replication's log as CSV in the contract's schema (timestamps ISO 8601 with offset,
    attributes true/false/empty, then the offence), byte for byte the same for the same scenario
    and seed."""
    booleans = [a for a in ATTRIBUTES if a in rep.cases.columns and a not in procedure.categories]
    booleans += [a for a in procedure.boolean_attributes if a not in booleans]
    flags: dict[str, dict[str, str]] = {}
    for name in booleans:
        column = rep.cases[name]
        flags[name] = {
            case_id: "" if pd.isna(v) else ("true" if v else "false")
            for case_id, v in zip(rep.cases.index, column, strict=True)
        }
    offence = dict(zip(rep.cases.index, rep.cases["offence"], strict=True))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*LOG_COLUMNS, *booleans, "offence"])
        events = rep.events
        for case_id, activity, stamp, resource, role in zip(
            events["case_id"], events["activity"], events["timestamp"], events["resource"],
            events["role"], strict=True,
        ):
            writer.writerow([case_id, activity, stamp, resource, role,
                             *(flags[name][case_id] for name in booleans), offence[case_id]])


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _clean(value.item())
    return value


def summary(result: SimulationResult) -> dict[str, Any]:
    """The run in one JSON-ready mapping (no wall-clock times: it is deterministic)."""
    sc = result.scenario
    first = result.first
    return {
        "scenario": sc.name,
        "source": sc.source,
        "start": sc.start.isoformat(),
        "horizon_days": sc.horizon_days,
        "warm_up_days": sc.warm_up_days,
        "dispatch": sc.dispatch.value,
        "demand": sc.demand,
        "background_demand": sc.background_demand,
        "seed": result.seed,
        "replications": result.replications,
        "cases_per_replication": _clean(result.cases_per_replication),
        "events_per_replication": _clean(result.events_per_replication),
        "event_log": "event_log.csv (replication 1)" if first is not None else None,
        "as_of": first.as_of.isoformat() if first is not None else None,
        "checking": _checking(result.check_config),
        "compliance": [{k: _clean(v) for k, v in row.items()}
                       for row in result.compliance.to_dict("records")],
        "timeliness": [{k: _clean(v) for k, v in row.items()}
                       for row in result.timeliness.to_dict("records")],
        "bottlenecks": [{k: _clean(v) for k, v in row.items()}
                        for row in result.bottlenecks.to_dict("records")],
        "delays": [{k: _clean(v) for k, v in row.items()}
                   for row in result.delays.to_dict("records")],
        "marginal": [{k: _clean(v) for k, v in row.items()}
                     for row in result.marginal.to_dict("records")],
    }


def _checking(config: CheckConfig) -> dict[str, Any]:
    """The settings the logs were judged with, in the words of a check configuration file."""
    cal = config.calendar
    cob = cal.close_of_business
    return {
        "icpc_clock": config.icpc_clock,
        "trigger_occurrences": {k: str(v) for k, v in sorted(config.trigger_occurrences.items())},
        "calendar": {
            "close_of_business": cob.isoformat(timespec="seconds" if cob.second else "minutes"),
            "bank_holidays": cal.bank_holidays,
            "extra_closures": [d.isoformat() for d in cal.extra_closures],
            "day_counting": cal.day_counting.value,
            "same_day": cal.same_day.value,
            "immediately": str(Within(DeadlineKind.ELAPSED, duration=cal.immediately)),
        },
    }

"""Refinement by simulation: the log's delays hold the waits for people and for diary slots,
which the simulation adds by itself, so the estimate is simulated over the log's period and
each lag, each diary's other bookings and each route's hour profile is moved by the gap between
the log and the simulation. A lag on the elapsed clock of a step that waits for office hours
(``waits_for_office_hours``) is not moved quantile by quantile: a lag that ends at night adds the
night's wait, so the delay is not the lag plus a wait that the lag leaves alone; its mean is
searched instead, as a diary's other bookings are (``refine_waiting_lags``). Both sides measure
the same thing: where the log's delays of a step run to its start events, so do the simulated
ones (to when the simulated step's work began), else both run to the complete events
(``simulated_delays``)."""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Collection, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.calendar import LONDON
from model.procedure import Procedure
from simulation.calibration.fitting import MIN_SAMPLE, Z, sig
from simulation.calibration.lags import LagEstimator
from simulation.scenario import Hours, Scenario
from simulation.scenario.values import FieldReader

if TYPE_CHECKING:
    from simulation.results import Replication

__all__ = ["LagSearch", "lag_searches", "refine", "refine_arrivals", "refine_diaries",
           "refine_lags", "refine_waiting_lags", "simulate_estimate", "simulated_delays",
           "waits_for_office_hours"]


_REFINE_CASES: Final = 3000  # simulated cases wanted for the last correction (half that for
# the ones before it, which only bring the estimate near enough for the last to finish)
_SEARCH_DELAYS: Final = 200  # simulated delays wanted of each step whose lag's mean is searched
# (for the last correction; in proportion for the ones before it)
_MOST_REPLICATIONS: Final = 12  # ... but no more replications than this for them
_LEAST_SLOPE: Final = 0.25  # hours of delay an hour of lag adds, at least, in the search (a
# flatter secant, from two noisy simulations, would throw the next mean far away)


def simulate_estimate(est: LagEstimator, pool: Executor | None = None,
                      wanted: int = _REFINE_CASES, fewest: int = 0
                      ) -> tuple[pd.DataFrame, pd.Series]:
    """The estimate simulated over the log's period (or its first part, when that holds
    ``wanted`` cases), in replications enough for as many (at most four): its events (case ids
    made unique across replications; with ``start_utc``, when each step's work began, where the
    log's delays of some step run to its start events) and each case's route. ``fewest``: the
    log's delays of the rarest step whose lag's mean is searched (``refine_waiting_lags``); the
    simulation then holds about 200 delays of that step for 3,000 cases wanted (in proportion
    for fewer), in more of the period or more replications (at most twelve). Several replications run in
    ``pool`` when given (worker processes); the result is the same."""
    from simulation.scenario import parse_scenario

    data = copy.deepcopy(est.data)
    cases = max(1, len(est.case_ids))
    need = _SEARCH_DELAYS * wanted / _REFINE_CASES  # delays of the rarest searched step
    days = est.horizon
    if cases > wanted:  # a part of the period holds enough cases
        days = max(28, math.ceil(est.horizon * wanted / cases))
        if fewest > 0:  # ... and enough delays of a step of a small route, if it can
            days = max(days, min(est.horizon, math.ceil(est.horizon * need / fewest)))
        data["scenario"]["horizon_days"] = days
    scenario = parse_scenario(data, "the estimate", est.procedure)
    n = max(1, min(4, math.ceil(wanted / cases)))
    if fewest > 0:  # else more replications
        per_replication = fewest * days / est.horizon
        n = max(n, min(_MOST_REPLICATIONS, math.ceil(need / per_replication)))
    jobs = [(scenario, est.procedure, i, bool(est.to_start)) for i in range(n)]
    parts = (list(pool.map(_replication, jobs)) if pool is not None and n > 1
             else [_replication(job) for job in jobs])
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts]))


def _replication(job: tuple[Scenario, Procedure, int, bool]) -> tuple[pd.DataFrame, pd.Series]:
    """One replication of the estimate: its events (with ``start_utc`` when asked) and each
    case's route (ids prefixed by the replication's number)."""
    from simulation.engine import simulate

    scenario, procedure, i, starts = job
    rep = simulate(scenario, procedure, scenario.seed, i)
    prefix = f"r{i}-"
    events = rep.events[["case_id", "activity", "time_utc"]].assign(
        case_id=prefix + rep.events["case_id"].astype(str))
    if starts:
        events = events.assign(start_utc=_work_starts(rep))
    routes = pd.Series(rep.cases["route"].to_numpy(), index=prefix + rep.cases.index.astype(str))
    return events, routes


def _work_starts(rep: Replication) -> pd.DatetimeIndex:
    """When each event's work began (what a log's start event records), floored to the second
    as the events are; NaT for an event that is no step of the flow (a forbidden event). The
    n-th event of a case's task is its n-th step, as the simulator logs each step at its end."""
    keys = ["case_id", "task_id"]
    ev = rep.events[keys].assign(k=rep.events.groupby(keys, sort=False).cumcount())
    steps = rep.steps[[*keys, "work_start"]]
    steps = steps.assign(k=steps.groupby(keys, sort=False).cumcount())
    began = ev.merge(steps, on=[*keys, "k"], how="left")["work_start"].to_numpy(dtype=float)
    has = ~np.isnan(began)
    ns = np.full(len(began), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    ns[has] = rep.origin_ns + np.floor(began[has] * 60.0).astype(np.int64) * 1_000_000_000
    return pd.DatetimeIndex(pd.to_datetime(ns, utc=True))


def simulated_delays(est: LagEstimator, simulated: pd.DataFrame,
                     units: Mapping[str, str]) -> dict[str, list[float]]:
    """Each step's simulated delays in ``units``, measured as the log's are: to when the step's
    work began for a step whose log delays run to its start events (``est.to_start``), else to
    its complete event (so a step's work is not taken off its lag twice)."""
    out = est.samples(simulated, units)
    chosen = [a for a in units if a in est.to_start]
    if chosen and "start_utc" in simulated:
        began = simulated["start_utc"]
        has = began.notna().to_numpy()
        w, e = est.positions(pd.DataFrame({"time_utc": began.where(has, simulated["time_utc"])}))
        to_start = est.samples(simulated, units, (np.where(has, w, np.nan),
                                                  np.where(has, e, np.nan)))
        out.update({a: to_start[a] for a in chosen if a in to_start})
    return out


def refine_lags(est: LagEstimator, simulated: pd.DataFrame,
                searched: Collection[str] = ()) -> None:
    """Correct each lag (but those ``searched``) by what a simulation of the estimate adds
    to it: the log's delays hold the waits for people too, which the simulation adds by itself.
    Each quantile of the lag moves by the gap between the log's delays and the simulated ones
    at that quantile (so the shape, not only the mean, comes closer), and the lag is refitted.
    Both run to the step's start where the log has start events (``simulated_delays``)."""
    sim = simulated_delays(est, simulated, est.unit_of)
    for activity, (raw, work, unit, basis) in est.lag_inputs.items():
        if activity in searched:
            continue
        row = est.delay_rows.get(activity)
        got = sim.get(activity)
        current = est.current.get(activity)
        if row is None or current is None or not got or len(got) < MIN_SAMPLE:
            continue
        ordered = np.sort(current)
        q = (np.arange(len(ordered)) + 0.5) / len(ordered)
        gap = np.quantile(raw, q) - np.quantile(np.asarray(got, dtype=float), q)
        moved = np.clip(ordered + gap, 0.0, None)
        wait = max(0.0, float(np.mean(raw)) - work - float(np.mean(moved)))
        new_row, candidates = est.write_lag(activity, moved, unit, basis, wait)
        if new_row is not None:
            est.delay_rows[activity] = new_row
            est.delay_fits[activity] = candidates


def waits_for_office_hours(est: LagEstimator, activity: str) -> bool:
    """Whether the step's lag is on the elapsed clock (hours: the log shows the step at night)
    while a role the step needs (its lane at some place of the flow, a participant or an
    extra role) is on duty in office hours only, with nobody out of hours: a lag that ends at
    night then waits for the morning, so the log's delay holds the night's wait, which grows
    with the lag in steps, not by a gap that the lag's quantiles could be moved by."""
    if est.unit_of.get(activity) != "hours" or activity not in est.procedure.activities:
        return False
    roles = {t.role for t in est.procedure.tasks() if t.activity == activity}
    roles |= set(est.procedure.activities[activity].participants)
    roles |= set(est.base.task(activity).extra_roles)
    specs = [est.base.roles[r] for r in sorted(roles) if r in est.base.roles]
    return any(r.hours is Hours.OFFICE and r.out_of_hours == 0 for r in specs)


@dataclass
class LagSearch:
    """The search for the mean of one step's lag (``refine_waiting_lags``): the log's delays
    of the step (from the step that enabled it to the step's complete event, as the simulation
    gives them), the lag's shape as first fitted (its table and mean), and each simulation's
    (lag mean, simulated mean delay)."""

    delays: npt.NDArray[np.float64]
    shape: dict[str, Any]
    shape_mean: float
    fitted: bool  # the shape is the family fitted to the log's delays (else an exponential)
    history: list[tuple[float, float]] = field(default_factory=list)


def lag_searches(est: LagEstimator) -> dict[str, LagSearch]:
    """The steps whose lag's mean is searched by simulation (``waits_for_office_hours``), with
    a lag fitted and enough delays in the log."""
    logged = est.samples(est.events, est.unit_of)  # to the complete events, as simulated
    out: dict[str, LagSearch] = {}
    for activity in est.lag_inputs:
        lag = est.data.get("tasks", {}).get(activity, {}).get("lag")
        delays = np.asarray(logged.get(activity, []), dtype=float)
        if (activity not in est.delay_rows or not isinstance(lag, dict)
                or len(delays) < MIN_SAMPLE or not waits_for_office_hours(est, activity)):
            continue
        shape = dict(lag)
        fitted = shape["distribution"] != "empirical"
        if not fitted:
            # the log's quantiles hold the nights' waits: no shape of the lag to keep
            shape = {"distribution": "exponential", "mean": 1.0, "unit": shape["unit"]}
        mean = _table_mean(shape)
        if mean > 0:
            out[activity] = LagSearch(delays, shape, mean, fitted)
    return out


def refine_waiting_lags(est: LagEstimator, simulated: pd.DataFrame,
                        searches: Mapping[str, LagSearch], rounds: int) -> None:
    """The mean of each lag in ``searches`` (steps that wait for office hours), moved so that
    the simulated delay of the step (its lag, the wait for office hours, queues and its work)
    comes to the log's mean delay: at first by the gap between the two (as if the waits stayed
    as they are), then by the secant through the last two simulations; the ends of the mean's
    interval the same way, for the ends of the interval of the log's mean (mean ± Z·sd/√n,
    with the simulated delays' sd when it is the larger). The lag keeps its fitted shape,
    scaled (an exponential when no family fitted)."""
    sim = est.samples(simulated, est.unit_of)
    for activity, search in searches.items():
        got = sim.get(activity)
        row = est.delay_rows.get(activity)
        if row is None or not got or len(got) < MIN_SAMPLE:
            continue
        unit = str(search.shape["unit"])
        raw = search.delays
        n = len(raw)
        mean = float(np.mean(raw))
        # the sd of the delays: the log's, or the simulation's when larger (a few delays
        # may miss the rare long waits, over a weekend, that the simulation shows)
        sd_log, sd_sim = float(np.std(raw, ddof=1)), float(np.std(got, ddof=1))
        sd = max(sd_log, sd_sim)
        whose = "the log's" if sd_log >= sd_sim else "the simulated delays'"
        half = Z * sd / math.sqrt(n)
        current = _table_mean(est.data["tasks"][activity]["lag"])  # the lag simulated
        search.history.append((current, float(np.mean(got))))
        slope = 1.0  # at first: an hour more of lag, an hour more of delay
        if len(search.history) > 1:
            (m0, d0), (m1, d1) = search.history[-2], search.history[-1]
            if m1 != m0 and (d1 - d0) / (m1 - m0) > 0:
                slope = max(_LEAST_SLOPE, (d1 - d0) / (m1 - m0))  # the secant
        m1, d1 = search.history[-1]
        values = []
        for target in (mean, mean - half, mean + half):
            value = m1 + (target - d1) / slope
            if value <= 0 < target:  # the line would give no lag: in proportion instead
                value = m1 * target / d1
            values.append(max(0.0, value))
        new, low, high = (sig(v, 3) for v in values)
        low, high = min(low, new), max(high, new)
        table = _scaled(search.shape, new / search.shape_mean)
        est.data["tasks"][activity]["lag"] = table
        family = str(table["distribution"])
        est.entry(["tasks", activity, "lag"], "estimated", est.what(
            f"the mean of the lag that brings the simulated time from the step that enabled it "
            f"to the step (the lag, the wait for office hours, queues and the step's work) to "
            f"the log's mean, {sig(mean, 3):g} {unit} (95% interval "
            f"{sig(max(0.0, mean - half), 3):g}-{sig(mean + half, 3):g}, by {whose} sd, the "
            "larger of the two); the interval's ends the same way"),
            n=n,
            note=(f"mean {new:g} {unit} (95% interval {low:g}-{high:g}); found by simulating "
                  f"the estimate {rounds} time(s) (secant through the last two), as the step "
                  "waits for office hours when its lag ends out of hours; "
                  + ("the fitted shape, scaled" if search.fitted
                     else "an exponential, as no family fitted the delays")))
        if "mean" in table:  # the interval, where the table has the mean as a number
            est.entry(["tasks", activity, "lag", "mean"], "estimated", est.what(
                "the lag's mean, found by simulating the estimate (see the lag's entry)"),
                n=n, interval=(low, high))
        est.delay_rows[activity] = {
            **row, "n": n, "family": family, "mean": new, "mean_low": low, "mean_high": high,
            "ks": math.nan, "p_value": math.nan,
            "wait_removed": max(0.0, mean - new - est.lag_inputs[activity][1]),
            "written": f"{family}, its mean found by simulation"}


def _table_mean(table: Mapping[str, Any]) -> float:
    """The mean of a distribution table (in its unit), read as the scenario's reader reads it
    (an empirical table's weights included)."""
    reader = FieldReader()
    delay = reader.distribution(dict(table), "lag", unit=True)
    if delay is None:  # the calibration writes only tables the reader takes
        raise ValueError(f"not a distribution table: {reader.problems}")
    return delay.distribution.mean()


def _scaled(table: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A distribution table with every value multiplied by ``factor`` (its shape kept)."""
    out = dict(table)
    for key in ("mean", "sd", "low", "mode", "high", "value"):
        if key in out:
            out[key] = sig(float(out[key]) * factor)
    if "values" in out:
        out["values"] = [sig(float(v) * factor) for v in out["values"]]
    return out


def refine_diaries(est: LagEstimator, simulated: pd.DataFrame) -> None:
    """The other bookings a working day in the diary of each booked step's role, moved so
    that the simulated delay of the step (its booking lead and the wait for a free slot)
    comes to the log's mean: at first with the wait beyond the lead taken to grow as
    u / (1 - u) with the diary's booked share u, then by the secant through the last two
    simulations."""
    sim = simulated_delays(est, simulated, dict.fromkeys(est.booked, "working days"))
    working_days = max(1, int(np.busday_count(
        np.datetime64(est.start), np.datetime64(est.start + timedelta(days=est.horizon)),
        busdaycal=est.calendar.busdaycalendar)))
    for activity, raw in est.booked.items():
        got = sim.get(activity)
        role = est.procedure.activities[activity].role
        spec = est.base.role(role)
        diary = est.data.get("roles", {}).get(role, {}).get("diary")
        booking = est.base.task(activity).booking
        if (not got or len(got) < MIN_SAMPLE or spec.diary is None or booking is None
                or not isinstance(diary, dict) or spec.headcount is None):
            continue
        headcount = est.data["roles"][role].get("headcount", spec.headcount)
        capacity = float(headcount) * len(spec.diary.slots)  # slots a working day
        own = len(raw) / working_days
        current = float(diary.get("background_per_working_day",
                                  spec.diary.background_per_working_day))
        lead = float(booking.lead_working_days)

        def share(wait: float, w_sim: float, u_sim: float) -> float:
            odds = u_sim / (1 - u_sim) * max(wait, 0.05) / max(w_sim, 0.05)
            return odds / (1 + odds)

        u_sim = min(0.99, (current + own) / capacity)
        w_sim = float(np.mean(got)) - lead
        n = len(raw)
        mean = float(np.mean(raw))
        half = Z * float(np.std(raw, ddof=1)) / math.sqrt(n) if n > 1 else 0.0
        history = est.diary_history.setdefault(activity, [])
        history.append((current, float(np.mean(got))))
        values = []
        for target in (mean, mean - half, mean + half):
            if len(history) > 1 and history[-1][1] != history[-2][1] and (
                    (history[-1][0] - history[-2][0]) / (history[-1][1] - history[-2][1])
                    > 0):
                (b0, d0), (b1, d1) = history[-2], history[-1]
                value = b1 + (target - d1) * (b1 - b0) / (d1 - d0)  # the secant
            else:
                value = share(target - lead, w_sim, u_sim) * capacity - own
            values.append(min(max(0.0, value), 0.99 * capacity))
        new, low, high = (sig(v, 3) for v in values)
        diary["background_per_working_day"] = new
        est.entry(["roles", role, "diary", "background_per_working_day"], "estimated",
                   est.what(
                       f"the other bookings a working day that bring the simulated time from "
                       f"the step before '{activity}' to it (a lead of {lead:g} working days, "
                       f"assumed, and the first free slot) to the log's mean, "
                       f"{sig(mean, 3):g} working days"),
                   n=n, interval=(min(low, high, new), max(low, high, new)),
                   note=f"{own:.2f} of the procedure's own a working day in {capacity:g} "
                        "slots; found by simulating the estimate")


def refine_arrivals(est: LagEstimator, simulated: pd.DataFrame, routes: pd.Series) -> None:
    """Correct each route's hour and weekday profiles by the ratio of the log's first
    events to the simulated ones (arrivals are not logged: a first event comes after the
    first step's lag and work)."""
    first = simulated.groupby("case_id", sort=False)["time_utc"].min()
    local = pd.DatetimeIndex(first).tz_convert(LONDON)
    route_of = routes.reindex(first.index).astype(str).to_numpy()
    position = {c: i for i, c in enumerate(est.case_ids)}
    for rid, members in est.members.items():
        if rid not in est.data.get("routes", {}) or not members:
            continue
        body = est.data["routes"][rid]
        if "hours" not in body or not isinstance(body.get("hours"), list):
            continue
        mine = est.first_local[[position[c] for c in members]]
        theirs = local[route_of == rid]
        if len(theirs) < MIN_SAMPLE:
            continue
        for key, size, observed, simulated_counts in (
            ("hours", 24, np.bincount(mine.hour, minlength=24),
             np.bincount(theirs.hour, minlength=24)),
        ):
            weights = np.asarray(body[key], dtype=float)
            scale = len(mine) / len(theirs)
            ratio = (observed + 0.5) / (simulated_counts * scale + 0.5)
            new = weights * ratio
            new = new / new.mean() if new.mean() > 0 else weights
            body[key] = [round(float(v), 3) for v in new[:size]]


def refine(est: LagEstimator, rounds: int, workers: int = 1) -> None:
    """Simulate the estimate ``rounds`` times and correct its lags, diaries and hour profiles
    after each (see the module docstring); the simulations run in ``workers`` processes."""
    with contextlib.ExitStack() as stack:
        pool = (stack.enter_context(ProcessPoolExecutor(max_workers=workers))
                if workers > 1 and rounds else None)
        searches = lag_searches(est) if rounds else {}
        fewest = min((len(s.delays) for s in searches.values()), default=0)
        for i in range(rounds):
            wanted = _REFINE_CASES if i == rounds - 1 else _REFINE_CASES // 2
            simulated, routes = simulate_estimate(est, pool, wanted, fewest)
            refine_lags(est, simulated, searches)
            refine_waiting_lags(est, simulated, searches, rounds)
            refine_diaries(est, simulated)
            refine_arrivals(est, simulated, routes)
    if rounds:
        est.notes.append(
            f"each lag is the log's delay less the step's work and less the wait for people that "
            f"the simulation adds by itself (found by simulating the estimate {rounds} time(s) "
            "over the log's period and moving each quantile of the lag by the gap between the "
            "log's delays and the simulated ones); the hour profiles are corrected the same way "
            "by the simulated first events")
        for activity in searches:
            est.notes.append(
                f"'{activity}': its lag is in elapsed hours but the step waits for office hours "
                "when the lag ends out of hours, so the log's delays hold the night's wait; the "
                "lag's mean was found by simulating the estimate: the mean whose simulated delay "
                "comes to the log's mean delay (its interval the same way)")

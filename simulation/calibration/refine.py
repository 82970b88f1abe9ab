"""Refinement by simulation: the log's delays hold the waits for people and for diary slots,
which the simulation adds by itself, so the estimate is simulated over the log's period and
each lag, each diary's other bookings and each route's hour profile is moved by the gap between
the log and the simulation."""

from __future__ import annotations

import contextlib
import copy
import math
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import timedelta
from typing import Final

import numpy as np
import pandas as pd

from model.calendar import LONDON
from model.procedure import Procedure
from simulation.calibration.fitting import MIN_SAMPLE, Z, sig
from simulation.calibration.lags import LagEstimator
from simulation.scenario import Scenario

__all__ = ["refine", "refine_arrivals", "refine_diaries", "refine_lags", "simulate_estimate"]


_REFINE_CASES: Final = 3000  # simulated cases wanted for the last correction (half that for
# the ones before it, which only bring the estimate near enough for the last to finish)


def simulate_estimate(est: LagEstimator, pool: Executor | None = None,
                      wanted: int = _REFINE_CASES) -> tuple[pd.DataFrame, pd.Series]:
    """The estimate simulated over the log's period (or its first part, when that holds
    ``wanted`` cases), in replications enough for as many (at most four): its events (case ids
    made unique across replications) and each case's route. Several replications run in
    ``pool`` when given (worker processes); the result is the same."""
    from simulation.scenario import parse_scenario

    data = copy.deepcopy(est.data)
    cases = max(1, len(est.case_ids))
    if cases > wanted:  # a part of the period holds enough cases
        head = data["scenario"]
        head["horizon_days"] = max(28, math.ceil(est.horizon * wanted / cases))
    scenario = parse_scenario(data, "the estimate", est.procedure)
    n = max(1, min(4, math.ceil(wanted / cases)))
    jobs = [(scenario, est.procedure, i) for i in range(n)]
    parts = (list(pool.map(_replication, jobs)) if pool is not None and n > 1
             else [_replication(job) for job in jobs])
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts]))


def _replication(job: tuple[Scenario, Procedure, int]) -> tuple[pd.DataFrame, pd.Series]:
    """One replication of the estimate: its events and each case's route (ids prefixed by the
    replication's number)."""
    from simulation.engine import simulate

    scenario, procedure, i = job
    rep = simulate(scenario, procedure, scenario.seed, i)
    prefix = f"r{i}-"
    events = rep.events[["case_id", "activity", "time_utc"]].assign(
        case_id=prefix + rep.events["case_id"].astype(str))
    routes = pd.Series(rep.cases["route"].to_numpy(), index=prefix + rep.cases.index.astype(str))
    return events, routes


def refine_lags(est: LagEstimator, simulated: pd.DataFrame) -> None:
    """Correct each lag by what a simulation of the estimate adds to it: the log's delays
    hold the waits for people too, which the simulation adds by itself. Each quantile of
    the lag moves by the gap between the log's delays and the simulated ones at that
    quantile (so the shape, not only the mean, comes closer), and the lag is refitted."""
    sim = est.samples(simulated, est.unit_of)
    for activity, (raw, work, unit, basis) in est.lag_inputs.items():
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


def refine_diaries(est: LagEstimator, simulated: pd.DataFrame) -> None:
    """The other bookings a working day in the diary of each booked step's role, moved so
    that the simulated delay of the step (its booking lead and the wait for a free slot)
    comes to the log's mean: at first with the wait beyond the lead taken to grow as
    u / (1 - u) with the diary's booked share u, then by the secant through the last two
    simulations."""
    sim = est.samples(simulated, dict.fromkeys(est.booked, "working days"))
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
        for i in range(rounds):
            wanted = _REFINE_CASES if i == rounds - 1 else _REFINE_CASES // 2
            simulated, routes = simulate_estimate(est, pool, wanted)
            refine_lags(est, simulated)
            refine_diaries(est, simulated)
            refine_arrivals(est, simulated, routes)
    if rounds:
        est.notes.append(
            f"each lag is the log's delay less the step's work and less the wait for people that "
            f"the simulation adds by itself (found by simulating the estimate {rounds} time(s) "
            "over the log's period and moving each quantile of the lag by the gap between the "
            "log's delays and the simulated ones); the hour profiles are corrected the same way "
            "by the simulated first events")

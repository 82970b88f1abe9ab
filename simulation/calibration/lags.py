"""Each step's delay after the step that enabled it, from the log: its clock (working days, or
elapsed hours for a step done at night), the samples, the work taken off (the base scenario's, or
start-to-complete when start events give it), and the fit written into the scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.lifecycle import NO_START, pair_starts
from model.procedure import Procedure
from simulation.calibration.estimate import Estimator
from simulation.calibration.fitting import (
    DelayFit,
    fit_delay,
    local_naive,
    minutes_of,
    sig,
    working_minutes,
)
from simulation.calibration.flow import enablers_of
from simulation.calibration.ledger import field_key

if TYPE_CHECKING:
    from datetime import date

    from conformance import EventLog
    from model.calendar import CalendarConfig
    from simulation.scenario import Scenario

__all__ = ["LagEstimator", "Positions", "work_by_role"]

Positions = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]  # working, elapsed minutes


_NO_LAG: Final = 0.02  # working days (about ten minutes): below it a step has no lag (what is
# left once the work is taken off is then a wait for a person, which the simulation adds itself)
_OUT_OF_HOURS: Final = 0.1  # a step with more of its events outside office hours: elapsed time


class LagEstimator(Estimator):
    """The estimator with each step's delays (``delays``) and their corrections (``refine``)."""

    def __init__(self, log: EventLog, procedure: Procedure, base: Scenario, source: str,
                 until: date | None, calendar: CalendarConfig | None) -> None:
        super().__init__(log, procedure, base, source, until, calendar)
        self.enablers: dict[str, set[str]] = {}
        self.unit_of: dict[str, str] = {}
        self.lag_inputs: dict[str, tuple[npt.NDArray[np.float64], float, str, str]] = {}
        self.delay_rows: dict[str, dict[str, Any]] = {}
        self.delay_fits: dict[str, pd.DataFrame] = {}
        self.current: dict[str, npt.NDArray[np.float64]] = {}  # the lag samples written
        self.to_start: set[str] = set()  # steps whose delays run to their start events
        self.booked: dict[str, npt.NDArray[np.float64]] = {}  # delays of booked steps
        self.diary_history: dict[str, list[tuple[float, float]]] = {}

    def units(self) -> dict[str, str]:
        """Each step's clock: elapsed hours when the log shows more than a tenth of its events
        outside office hours (someone on duty at night does it) and its delays are short (a
        median under a day), else working days."""
        ev = self.events
        local = local_naive(ev["time_utc"])
        days = local.astype("datetime64[D]")
        minute = (local - days).astype("timedelta64[s]").astype(float) / 60.0
        inside = (np.is_busday(days, busdaycal=self.calendar.busdaycalendar)
                  & (minute >= minutes_of(self.office_open))
                  & (minute < minutes_of(self.office_close)))
        if "date_only" in ev:
            inside |= ev["date_only"].to_numpy(dtype=bool)
        share = pd.Series(~inside).groupby(ev["activity"].astype(str).to_numpy()).mean()
        elapsed = self.samples(ev, {str(a): "hours" for a in share.index})
        return {str(a): ("hours" if v > _OUT_OF_HOURS and elapsed.get(str(a))
                         and float(np.median(elapsed[str(a)])) < 24 else "working days")
                for a, v in share.items()}

    def enabling(self, events: pd.DataFrame) -> npt.NDArray[np.intp]:
        """For each event, the row of the event that enabled it (the latest earlier event of a
        step the flow puts just before it, in the same case), or -1 (events sorted by case and
        time)."""
        cases = events["case_id"].astype(str).to_numpy()
        codes, names = pd.factorize(events["activity"].astype(str).to_numpy())
        n = len(events)
        index = np.arange(n)
        out = np.full(n, -1, dtype=np.intp)
        # the first event of each case's run of events
        begins = np.ones(n, dtype=bool)
        begins[1:] = cases[1:] != cases[:-1]
        run_start = np.maximum.accumulate(np.where(begins, index, 0)) if n else index
        code_of = {str(a): k for k, a in enumerate(names)}
        for k, activity in enumerate(names):
            preds = [code_of[p] for p in self.enablers.get(str(activity), ()) if p in code_of]
            if not preds:
                continue
            latest = np.maximum.accumulate(np.where(np.isin(codes, preds), index, -1))
            at = np.flatnonzero(codes == k)
            j = np.concatenate(([-1], latest[:-1]))[at]
            out[at] = np.where(j >= run_start[at], j, -1)
        return out

    def samples(self, events: pd.DataFrame, units: Mapping[str, str],
                start_positions: Positions | None = None) -> dict[str, list[float]]:
        """Each step's delays after the step that enabled it, in its unit (events sorted by
        case and time); with start positions, to the step's start."""
        w, e = self.positions(events)
        if start_positions is not None:
            started = ~np.isnan(start_positions[0])
            w_to = np.where(started, start_positions[0], w)
            e_to = np.where(started, start_positions[1], e)
        else:
            w_to, e_to = w, e
        j = self.enabling(events)
        acts = events["activity"].astype(str).to_numpy()
        hours = np.isin(acts, [a for a, u in units.items() if u == "hours"])
        value = np.where(hours, (e_to - e[j]) / 60.0, (w_to - w[j]) / self.day)
        found = np.flatnonzero(j >= 0)
        out: dict[str, list[float]] = {}
        for activity, group in pd.Series(found).groupby(acts[found], sort=False):
            out[str(activity)] = value[group.to_numpy()].tolist()
        return out

    def delays(self, starts_at: Positions | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Each step's lag (to its start event where ``starts_at`` gives one, less the base
        scenario's work otherwise) and, with start events, its work, written into the
        scenario; the time each role's steps took and waited (``role_times``)."""
        ev = self.events
        self.enablers = enablers_of(self.procedure.flow)
        self.unit_of = self.units()
        works: dict[str, list[float]] = {}
        if starts_at is not None:
            w, _ = self.positions(ev)
            for a, ws, wc in zip(ev["activity"].astype(str), starts_at[0], w, strict=True):
                if not math.isnan(ws):
                    works.setdefault(a, []).append(float(wc - ws))
            self.role_times = self.times_by_role(starts_at)
        samples = self.samples(ev, self.unit_of, starts_at)
        rows: dict[str, dict[str, Any]] = {}
        fits: dict[str, pd.DataFrame] = {}
        tasks_raw = self.data.setdefault("tasks", {})
        done: set[str] = set()
        for task in self.procedure.tasks():
            activity = task.activity
            if activity in done:
                continue
            done.add(activity)
            spec = self.base.task(activity)
            path = ["tasks", activity]
            unit = self.unit_of.get(activity, "working days")
            per_unit = self.day if unit == "working days" else 60.0
            work_fit = fit_delay(works[activity], unit="minutes") if works.get(activity) else None
            if work_fit is not None:
                self.to_start.add(activity)
                work_table = dict(work_fit.table)
                work_table.pop("unit", None)
                tasks_raw.setdefault(activity, {})["work"] = (
                    work_table if work_table["distribution"] != "fixed" else work_table["value"])
                self.entry([*path, "work"], "estimated", self.what(
                    "working minutes from each start event to its complete event"),
                    n=work_fit.n, note=self.fit_note(work_fit, "minutes"))
                work = 0.0  # the delays run to the start events
                subtract = ""
            else:
                work = spec.work.mean() / per_unit
                subtract = f", less the base scenario's work ({spec.work.mean():g} minutes)"
            raw = np.asarray(samples.get(activity, []), dtype=float)
            if spec.booking is not None:
                if len(raw) and unit == "working days":
                    self.booked[activity] = raw
                    q = np.percentile(raw, [25, 50, 75])
                    self.notes.append(
                        f"'{activity}' is booked into a diary: its {len(raw)} delays (median "
                        f"{q[1]:.1f} {unit}, quartiles {q[0]:.1f} and {q[2]:.1f}) are a "
                        "booking lead and a wait for a free slot together; the lead stays as in "
                        "the base scenario" + (", and the diary's other bookings are estimated "
                                               "by simulation" if self.refining else ""))
                continue
            clock = ("elapsed hours (more than a tenth of its events are outside office hours)"
                     if unit == "hours" else "working time")
            basis = (f"{clock} from the step that enabled it to the step"
                     + ("'s start event" if starts_at is not None and work_fit is not None
                        else subtract))
            self.lag_inputs[activity] = (raw, work, unit, basis)
            row, candidates = self.write_lag(activity, raw - work, unit, basis, 0.0)
            if row is not None:
                rows[activity] = row
                fits[activity] = candidates
        self.delay_rows, self.delay_fits = rows, fits
        return self.delay_tables()

    def write_lag(self, activity: str, values: npt.NDArray[np.float64], unit: str, basis: str,
                  wait: float) -> tuple[dict[str, Any] | None, pd.DataFrame]:
        """Fit the lag of one step and write it (or no lag) into the scenario."""
        tasks_raw = self.data.setdefault("tasks", {})
        path = ["tasks", activity]
        fit = fit_delay(values, unit=unit)
        if fit is not None:
            self.current[activity] = np.clip(np.asarray(values, dtype=float), 0.0, None)
        if fit is None:
            if len(values):
                self.notes.append(f"'{activity}': {len(values)} delay(s) in the log, too few to "
                                  "fit; its lag stays as in the base scenario")
            return None, pd.DataFrame()
        threshold = _NO_LAG if unit == "working days" else _NO_LAG * self.day / 60.0
        key = field_key([*path, "lag"])
        if fit.mean < threshold:
            self.current[activity] = np.zeros(len(values))
            if isinstance(tasks_raw.get(activity), dict):
                tasks_raw[activity].pop("lag", None)
            self.entries.pop(key, None)
            written = "no lag"
        else:
            tasks_raw.setdefault(activity, {})["lag"] = dict(fit.table)
            note = self.fit_note(fit, unit)
            if wait > 0:
                note += (f"; less {sig(wait, 3):g} {unit} (on average) of waiting for people, "
                         "which the simulation adds by itself")
            self.entry([*path, "lag"], "estimated", self.what(basis), n=fit.n, note=note)
            written = fit.family
        row = {"activity": activity, "unit": unit, "n": fit.n, "family": fit.family,
               "mean": fit.mean, "mean_low": fit.mean_low, "mean_high": fit.mean_high,
               "ks": fit.ks, "p_value": fit.p_value, "wait_removed": wait, "written": written}
        return row, fit.candidates.assign(activity=activity)

    def delay_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        columns = ["activity", "unit", "n", "family", "mean", "mean_low", "mean_high", "ks",
                   "p_value", "wait_removed", "written"]
        delays = pd.DataFrame(list(self.delay_rows.values()), columns=columns)
        parts = [f for f in self.delay_fits.values() if not f.empty]
        fit_columns = ["activity", "family", "usable", "ks", "p_value", "parameters"]
        all_fits = (pd.concat(parts, ignore_index=True)[fit_columns] if parts
                    else pd.DataFrame(columns=fit_columns))
        return delays, all_fits


    def fit_note(self, fit: DelayFit, unit: str) -> str:
        mean = (f"mean {sig(fit.mean, 3):g} {unit} (95% interval {sig(fit.mean_low, 3):g}-"
                f"{sig(fit.mean_high, 3):g})")
        if fit.family == "empirical":
            best = fit.candidates[fit.candidates["usable"]].sort_values("ks", kind="stable")
            top = best.iloc[0]
            return (f"{mean}; no family fits (best {top['family']}: KS {top['ks']:.3f}, p "
                    f"{top['p_value']:.3g}): kept as {len(fit.table['values'])} quantiles")
        if fit.family == "fixed":
            return f"{mean}; every value the same"
        text = f"{mean}; {fit.family} fitted, KS {fit.ks:.3f} (p {fit.p_value:.3g})"
        others = fit.candidates[~fit.candidates["usable"]]
        better = others[others["ks"] < fit.ks]
        if not better.empty:
            b = better.sort_values("ks", kind="stable").iloc[0]
            text += (f"; {b['family']} fits closer (KS {b['ks']:.3f}) but a scenario file "
                     "cannot hold it")
        return text

    def start_positions(self, starts: pd.DataFrame | None) -> Positions | None:
        """For each complete event, the (working, elapsed) position of its start event (nan
        when none), or None when no event has one: from ``starts`` (case_id, activity,
        time_utc) when given, else from the log's own ``start_utc`` (the reader pairs them when
        asked to keep start events). A start pairs with a complete as the reader pairs them
        (``conformance.logio.lifecycle.pair_starts``)."""
        ev = self.events
        if starts is not None and not starts.empty:
            paired = pair_starts(
                ev["case_id"].astype(str).to_numpy(), ev["activity"].astype(str).to_numpy(),
                pd.DatetimeIndex(ev["time_utc"]).as_unit("ns").asi8,
                starts["case_id"].astype(str).to_numpy(),
                starts["activity"].astype(str).to_numpy(),
                pd.DatetimeIndex(starts["time_utc"]).as_unit("ns").asi8)
        elif "start_utc" in ev:
            paired = pd.DatetimeIndex(ev["start_utc"]).as_unit("ns").asi8
        else:
            return None
        has = paired != NO_START
        if not has.any():
            return None
        complete = pd.DatetimeIndex(ev["time_utc"]).as_unit("ns").asi8
        at = pd.DataFrame({"time_utc": pd.to_datetime(np.where(has, paired, complete),
                                                      utc=True)})
        w, e = self.positions(at)
        return np.where(has, w, np.nan), np.where(has, e, np.nan)

    def times_by_role(self, starts_at: Positions) -> dict[str, tuple[int, float, int, float]]:
        """Per role (the events' role column), of its steps with a start event: how many, their
        mean working minutes from start to complete (working), how many had an enabling step
        before them, and the mean working days from it to the start (waiting)."""
        ev = self.events
        w, _ = self.positions(ev)
        j = self.enabling(ev)
        has = ~np.isnan(starts_at[0])
        work = w - starts_at[0]
        wait = (starts_at[0] - w[j]) / self.day
        waited = has & (j >= 0)
        frame = pd.DataFrame({"role": ev["role"].astype(str).to_numpy(), "has": has,
                              "work": np.where(has, work, np.nan), "waited": waited,
                              "wait": np.where(waited, wait, np.nan)})
        out: dict[str, tuple[int, float, int, float]] = {}
        for role, g in frame[frame["has"]].groupby("role", sort=True):
            n_wait = int(g["waited"].sum())
            out[str(role)] = (len(g), float(g["work"].mean()), n_wait,
                              float(g["wait"].mean()) if n_wait else math.nan)
        return out


def work_by_role(est: LagEstimator, starts_at: Positions) -> dict[str, float]:
    """Per role, the working minutes from start to complete of its steps, summed."""
    w_start = starts_at[0]
    w = working_minutes(est.events["time_utc"], est.calendar, est.office_open, est.office_close)
    spent = np.where(np.isnan(w_start), 0.0, w - np.nan_to_num(w_start))
    frame = pd.DataFrame({"role": est.events["role"].astype(str), "spent": spent})
    return {str(k): float(v) for k, v in frame.groupby("role")["spent"].sum().items()}


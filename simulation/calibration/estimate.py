"""The numbers a log tells directly: its period, each case's route, arrivals per route, branch,
loop and slip chances, and the people named in each role. ``Estimator`` holds the scenario being
estimated (its data, ledger entries and notes); ``simulation.calibration.lags`` adds the delays,
``simulation.calibration.refine`` the corrections found by simulating the estimate."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.calendar import LONDON, CalendarConfig, WorkingCalendar
from model.contract import CASE_CLOSED
from model.procedure import Choice, Procedure, Task
from simulation.calibration.fitting import (
    MIN_SAMPLE,
    Z,
    minutes_of,
    poisson_interval,
    sig,
    wilson,
    working_minutes,
)
from simulation.calibration.flow import Cases, first_activity, parents_of, reach, telling_steps
from simulation.calibration.ledger import Entry, field_key, load_ledger
from simulation.scenario import Scenario

if TYPE_CHECKING:
    from conformance import EventLog

__all__ = ["Estimator", "inline", "leaf_keys"]


class Estimator:
    """The scenario being estimated from a log: ``data`` (the base scenario's tables, changed
    where the log tells), ``entries`` (the ledger) and ``notes`` (what the log could not tell)."""

    def __init__(self, log: EventLog, procedure: Procedure, base: Scenario, source: str,
                 until: date | None, calendar: CalendarConfig | None) -> None:
        self.procedure = procedure
        self.base = base
        self.source = source
        self.notes: list[str] = []
        self.entries: dict[str, Entry] = {}
        self.data: dict[str, Any] = copy.deepcopy({k: v for k, v in base.data.items()
                                                   if k != "ledger"})
        events = log.events.copy()
        as_of = pd.Timestamp(log.as_of)
        if until is not None:
            cut = pd.Timestamp(datetime.combine(until, time(0)), tz=LONDON).tz_convert("UTC")
            events = events[events["time_utc"] < cut]
            as_of = min(as_of, cut)
        if events.empty:
            raise ValueError("no event of the log falls in the period to calibrate on")
        self.as_of = as_of
        self.events = events.reset_index(drop=True)
        ids = list(dict.fromkeys(self.events["case_id"].astype(str)))
        self.case_ids = ids
        self.cases_frame = log.cases.reindex(ids)
        self.cases = Cases(self.events, ids)
        self.calendar = WorkingCalendar(calendar) if calendar is not None else WorkingCalendar()
        self.office_open, self.office_close = base.office_open, base.office_close
        self.day = minutes_of(self.office_close) - minutes_of(self.office_open)
        first = self.events.groupby("case_id", sort=False)["time_utc"].min()
        self.first_local = pd.DatetimeIndex(first.reindex(ids)).tz_convert(LONDON)
        self.closed = {c for c in ids if CASE_CLOSED in self.cases.acts[c]}
        self.parents = parents_of(procedure.flow)
        self.work_minutes_by_role: dict[str, float] = {}
        # per role, with start events: steps started, mean working minutes, steps with an
        # enabling step, mean working days waited before the start
        self.role_times: dict[str, tuple[int, float, int, float]] = {}
        self.refining = False

    # -- helpers

    def entry(self, keys: Sequence[str], kind: str, source: str, *, n: int | None = None,
              interval: tuple[float, float] | None = None, note: str = "") -> None:
        key = field_key(keys)
        self.entries[key] = Entry(key, kind, source, n, interval, None, note)

    def set(self, keys: Sequence[str], value: Any) -> None:
        node = self.data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value

    def what(self, text: str) -> str:
        return f"{self.source}: {text}"

    # -- the period

    def period(self) -> None:
        dates = self.first_local.date
        self.start: date = min(dates)
        last: date = max(dates)
        self.horizon = (last - self.start).days + 1
        as_of_date = self.as_of.tz_convert(LONDON).date()
        drain = max(0, (as_of_date - (self.start + timedelta(days=self.horizon))).days + 1)
        n = len(self.case_ids)
        period = f"{self.start.isoformat()} to {last.isoformat()}"
        self.set(["scenario", "start"], self.start)
        self.set(["scenario", "horizon_days"], self.horizon)
        self.set(["scenario", "drain_days"], drain)
        self.entry(["scenario", "start"], "estimated", self.what(
            "the date of the first event of the earliest case"), n=n)
        self.entry(["scenario", "horizon_days"], "estimated", self.what(
            f"the days over which cases began ({period})"), n=n,
            interval=(self.horizon, self.horizon))
        self.entry(["scenario", "drain_days"], "estimated", self.what(
            f"the days from the last case's start to the log's as-of time "
            f"({as_of_date.isoformat()}): cases still open then are pending, as in the log"),
            n=n, interval=(drain, drain))
        name = self.data.setdefault("scenario", {})
        name["name"] = f"Calibrated from {self.source}"
        name["description"] = (f"Estimated from {n:,} cases that began {period}; "
                               "the numbers the log could not give are the base scenario's")

    # -- routes

    def case_facts(self) -> dict[str, dict[str, bool | None]]:
        """Each case's attributes: the log's, else what its steps show."""
        gateways = self.procedure.gateways()
        facts: dict[str, dict[str, bool | None]] = {}
        columns = [a for a in self.procedure.boolean_attributes if a in self.cases_frame]
        values = {a: _booleans(self.cases_frame[a]) for a in columns}
        for i, c in enumerate(self.case_ids):
            facts[c] = {a: values[a][i] for a in columns}
        # The attributes that decide how a case begins (the first gateway), where the log
        # leaves them empty: from the steps, given what else is known of the case.
        cache: dict[tuple[str, frozenset[tuple[str, bool]]], tuple[set[str], bool] | None] = {}
        for gateway in gateways[:1]:
            for _ in range(len(gateway.decided_by)):  # one attribute may tell another
                for c in self.case_ids:
                    for attribute in gateway.decided_by:
                        if facts[c].get(attribute) is not None:
                            continue
                        known = frozenset((a, v) for a in gateway.decided_by
                                          if a != attribute
                                          and (v := facts[c].get(a)) is not None)
                        key = (attribute, known)
                        if key not in cache:
                            cache[key] = telling_steps(self.procedure.flow, gateway, attribute,
                                                        dict(known), gateway.decided_by)
                        told = cache[key]
                        if told is not None:
                            steps, means = told
                            present = bool(self.cases.acts[c] & steps)
                            facts[c][attribute] = means if present else not means
        return facts

    def routes(self) -> dict[str, list[str]]:
        facts = self.case_facts()
        fixed = {rid: {a: p >= 1.0 for a, p in route.attributes.items() if p in (0.0, 1.0)}
                 for rid, route in self.base.routes.items()}
        # A route can hold only the offences its mix gives a weight (the youth imagery route:
        # indecent images only); with version 2 of the model its fixed attribute shows in the
        # steps only when Outcome 21 was used, so the offence is what tells many cases apart.
        offences = {rid: {o for o, w in route.offence.items() if w > 0}
                    for rid, route in self.base.routes.items()}
        offence_of: dict[str, str] = {}
        if "offence" in self.cases_frame:
            for c, value in zip(self.case_ids, self.cases_frame["offence"].tolist(),
                                strict=True):
                if isinstance(value, str) and value:
                    offence_of[c] = value
        members: dict[str, list[str]] = {rid: [] for rid in self.base.routes}
        none = several = 0
        for c in self.case_ids:
            matches = [rid for rid, fx in fixed.items()
                       if all(facts[c].get(a) in (None, v) for a, v in fx.items())
                       and (c not in offence_of or offence_of[c] in offences[rid])]
            if len(matches) == 1:
                members[matches[0]].append(c)
            elif matches:
                several += 1
            else:
                none += 1
        if none:
            self.notes.append(
                f"{none:,} case(s) matched no route of the base scenario and were left out of "
                "the arrival estimates")
        if several:
            self.notes.append(
                f"{several:,} case(s) matched more than one route of the base scenario (the log "
                "and the steps do not tell which) and were left out of the arrival estimates")
        self.members = members
        self.facts = facts
        return members

    def day_weight(self, d: date, weekday: Sequence[float], months: Sequence[float]) -> float:
        holiday = d.weekday() < 5 and not self.calendar.is_working_day(d)
        return weekday[6 if holiday else d.weekday()] * months[d.month - 1]

    def arrivals(self) -> pd.DataFrame:
        rows = []
        days = [self.start + timedelta(days=i) for i in range(self.horizon)]
        classes = np.array([6 if (d.weekday() < 5 and not self.calendar.is_working_day(d))
                            else d.weekday() for d in days])
        month_of = np.array([d.month - 1 for d in days])
        position = {c: i for i, c in enumerate(self.case_ids)}
        months_seen = sorted(set(month_of.tolist()))
        for rid, members in sorted(self.members.items()):
            path = ["routes", rid]
            k = len(members)
            if k == 0:
                self.notes.append(f"route {rid}: no case of the log is of this route; its "
                                  "volume and profiles stay as in the base scenario")
                continue
            local = self.first_local[[position[c] for c in members]]
            day_index = np.array([(d - self.start).days for d in local.date])
            per_day = np.bincount(day_index, minlength=self.horizon).astype(float)
            # Weekday and month weights by iterative proportional fitting (a Poisson model of
            # the daily counts with a weekday and a month effect).
            wd = np.ones(7)
            mo = np.ones(12)
            for _ in range(50):
                for w in range(7):
                    mask = classes == w
                    denom = float(mo[month_of[mask]].sum())
                    wd[w] = per_day[mask].sum() / denom if denom > 0 else 1.0
                for m in months_seen:
                    mask = month_of == m
                    denom = float(wd[classes[mask]].sum())
                    mo[m] = per_day[mask].sum() / denom if denom > 0 else 1.0
            seen_mean = float(np.mean([mo[m] for m in months_seen])) or 1.0
            mo = np.array([mo[m] / seen_mean if m in months_seen else 1.0 for m in range(12)])
            wd = wd / (float(wd.mean()) or 1.0)
            hours = np.bincount(local.hour, minlength=24).astype(float) + 0.5
            hours = hours / hours.mean()
            weekday = [round(float(v), 3) for v in wd]
            months = [round(float(v), 3) for v in mo]
            hour_w = [round(float(v), 3) for v in hours]
            norm = sum(self.day_weight(self.start + timedelta(days=i), weekday, months)
                       for i in range(365))
            covered = sum(self.day_weight(d, weekday, months) for d in days)
            factor = norm / covered if covered > 0 else math.nan
            low, high = poisson_interval(k)
            volume = sig(k * factor, 5)
            interval = (sig(low * factor, 5), sig(high * factor, 5))
            interval = (min(interval[0], volume), max(interval[1], volume))
            self.set([*path, "annual_volume"], volume)
            self.set([*path, "weekday"], weekday)
            self.set([*path, "months"], months)
            self.set([*path, "hours"], hour_w)
            route = self.data["routes"][rid]
            route.pop("surges", None)  # the months profile carries the log's ups and downs
            self.entry([*path, "annual_volume"], "estimated", self.what(
                f"{k:,} cases of this route in {self.horizon} days, as a year's volume under the "
                "weekday and month profiles"), n=k, interval=interval,
                note="exact Poisson interval of the count")
            self.entry([*path, "weekday"], "estimated", self.what(
                "cases per weekday (a bank holiday counts as a Sunday), by iterative "
                "proportional fitting with the months"), n=k)
            unseen = 12 - len(months_seen)
            self.entry([*path, "months"], "estimated", self.what(
                "cases per month" + (f"; {unseen} month(s) not in the log are given the average "
                                     "weight 1 (assumed)" if unseen else "")), n=k)
            self.entry([*path, "hours"], "estimated", self.what(
                "the hour of each case's first event (the log records no arrival time), with "
                "half a case added to each hour"), n=k)
            rows.append({"route": rid, "cases": k, "annual_volume": volume,
                         "low": interval[0], "high": interval[1]})
        return pd.DataFrame(rows, columns=["route", "cases", "annual_volume", "low", "high"])

    # -- branches

    def branches(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        gateways = self.procedure.gateways()
        for rid, members in sorted(self.members.items()):
            route = self.base.routes[rid]
            fixed = {a: p >= 1.0 for a, p in route.attributes.items() if p in (0.0, 1.0)}
            for attribute in self.procedure.boolean_attributes:
                if attribute in fixed:
                    continue
                path = ["routes", rid, "attributes", attribute]
                known = [self.facts[c].get(attribute) for c in members]
                known_values = [v for v in known if v is not None]
                if len(known_values) >= MIN_SAMPLE:
                    k, n = sum(known_values), len(known_values)
                    method = "the attribute's column"
                else:
                    counted = self.from_steps(attribute, members, fixed, gateways)
                    if counted is None:
                        continue
                    k, n, method = counted
                if n < MIN_SAMPLE:
                    self.notes.append(f"route {rid}, {attribute}: only {n} case(s) to tell it; "
                                      "kept as assumed")
                    continue
                p = k / n
                low, high = wilson(k, n)
                self.set(path, sig(p))
                self.entry(path, "estimated", self.what(f"{k:,} of {n:,} cases ({method})"),
                           n=n, interval=(min(sig(low), sig(p)), max(sig(high), sig(p))),
                           note="Wilson interval")
                rows.append({"what": f"routes.{rid}.attributes.{attribute}", "probability": p,
                             "n": n, "low": low, "high": high, "method": method})
        return rows

    def from_steps(self, attribute: str, members: list[str], fixed: Mapping[str, bool],
                   gateways: Sequence[Choice]) -> tuple[int, int, str] | None:
        for gateway in gateways:
            if attribute not in gateway.decided_by:
                continue
            told = telling_steps(self.procedure.flow, gateway, attribute, fixed,
                                  gateway.decided_by)
            if told is None:
                continue
            steps, means = told
            reached = reach(gateway, self.procedure.flow, self.parents, self.cases, members)
            # a case still open may not have reached the branch's steps yet
            decided = [c for c in reached if c in self.closed or self.cases.acts[c] & steps]
            took = len(self.cases.having(steps, decided))
            k = took if means else len(decided) - took
            return k, len(decided), f"the steps at the gateway '{gateway.id}'"
        return None

    def loops(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        counts = self.events.groupby(["case_id", "activity"], sort=False).size()
        for loop in self.procedure.loops():
            if loop.id not in self.data.get("loops", {}):
                continue
            first = first_activity(loop.body)
            if first is None:
                continue
            per_case = counts.xs(first, level="activity") if first in counts.index.get_level_values(
                "activity") else pd.Series(dtype=int)
            done = per_case[per_case.index.isin(list(self.closed))]
            trials = int(done.sum())
            repeats = int((done - 1).clip(lower=0).sum())
            if trials < MIN_SAMPLE:
                continue
            p = repeats / trials
            low, high = wilson(repeats, trials)
            self.set(["loops", loop.id], sig(p))
            self.entry(["loops", loop.id], "estimated", self.what(
                f"{repeats:,} repeats of '{first}' in {trials:,} occurrences (closed cases)"),
                n=trials, interval=(min(sig(low), sig(p)), max(sig(high), sig(p))),
                note="geometric repeats; Wilson interval")
            rows.append({"what": f"loops.{loop.id}", "probability": p, "n": trials,
                         "low": low, "high": high, "method": "repeats of the loop's first step"})
        return rows

    def slips(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        raw = self.data.get("slips", {})
        tasks = {t.activity: t for t in self.procedure.tasks()}
        closed = [c for c in self.case_ids if c in self.closed]
        skip = raw.get("skip", {})
        for activity in list(skip):
            task = tasks.get(activity)
            if task is None:
                continue
            due = self.due_cases(task, closed)
            k = sum(1 for c in due if activity not in self.cases.acts[c])
            n = len(due)
            if n < MIN_SAMPLE:
                continue
            low, high = wilson(k, n)
            skip[activity] = sig(k / n)
            self.entry(["slips", "skip", activity], "estimated", self.what(
                f"{k:,} of {n:,} closed cases that went the step's way lack it"), n=n,
                interval=(min(sig(low), sig(k / n)), max(sig(high), sig(k / n))),
                note="Wilson interval")
            rows.append({"what": f"slips.skip.{activity}", "probability": k / n, "n": n,
                         "low": low, "high": high, "method": "closed cases without the step"})
        first = self.events.assign(
            ns=pd.DatetimeIndex(self.events["time_utc"]).as_unit("ns").asi8,
            case_id=self.events["case_id"].astype(str),
            activity=self.events["activity"].astype(str),
        ).groupby(["case_id", "activity"], sort=False)["ns"].min()
        lookup = dict(zip(first.index.tolist(), first.tolist(), strict=True))
        for kind in ("order", "forbidden"):
            slips = raw.get(kind, [])
            parts: list[str] = []
            total = 0
            for slip in slips:
                activity = slip.get("activity")
                if kind == "order":
                    other = slip.get("before")
                    both = [c for c in closed if (c, activity) in lookup and (c, other) in lookup]
                    k = sum(1 for c in both if lookup[(c, activity)] < lookup[(c, other)])
                    n = len(both)
                else:
                    after = slip.get("after")
                    pool = [c for c in closed if after is None or (c, after) in lookup]
                    k = sum(1 for c in pool if (c, activity) in lookup
                            and (after is None or lookup[(c, activity)] > lookup[(c, after)]))
                    n = len(pool)
                if n < MIN_SAMPLE:
                    parts = []
                    break
                low, high = wilson(k, n)
                slip["probability"] = sig(k / n)
                total += n
                parts.append(f"{activity}: {k} of {n} ({sig(low):g}-{sig(high):g})")
                rows.append({"what": f"slips.{kind}: {activity}", "probability": k / n, "n": n,
                             "low": low, "high": high, "method": "closed cases"})
            if parts:
                self.entry(["slips", kind], "estimated", self.what(
                    "closed cases: " + ("the step done before the one the model puts first"
                                        if kind == "order" else "the forbidden event")),
                    n=total, note="; ".join(parts) + " (Wilson intervals)")
        return rows

    def due_cases(self, task: Task, among: list[str]) -> list[str]:
        """Cases that went the way of this step (reached it): those with a step the flow puts
        before it, or after it in the same branch."""
        return reach(task, self.procedure.flow, self.parents, self.cases, among)

    # -- delays


    def positions(self, events: pd.DataFrame) -> tuple[npt.NDArray[np.float64],
                                                        npt.NDArray[np.float64]]:
        """(working minutes, elapsed minutes) of each event from fixed origins."""
        w = working_minutes(events["time_utc"], self.calendar, self.office_open,
                            self.office_close,
                            events["date_only"].to_numpy() if "date_only" in events else None)
        e = pd.DatetimeIndex(events["time_utc"]).as_unit("ns").asi8.astype(float) / 6e10
        return w, e


    def resources(self, has_starts: bool) -> pd.DataFrame:
        """Per role with a limited headcount: the people the log names (a Chao1 estimate of
        those never seen) and, with start events (``has_starts``), how busy the steps kept
        them and how long the role's steps took and waited."""
        rows = []
        ev = self.events
        working_days = int(np.busday_count(
            np.datetime64(self.start), np.datetime64(self.as_of.tz_convert(LONDON).date())
            + np.timedelta64(1, "D"), busdaycal=self.calendar.busdaycalendar))
        for rid, spec in self.base.roles.items():
            if not spec.limited:
                continue
            mine = ev[(ev["role"].astype(str) == rid) & ev["resource"].notna()
                      & (ev["resource"].astype(str) != rid) & (ev["resource"].astype(str) != "")]
            if mine.empty:
                self.notes.append(f"role {rid}: the log names no person in this role; its "
                                  "headcount stays as in the base scenario")
                continue
            per_person = mine["resource"].astype(str).value_counts()
            seen = len(per_person)
            f1 = int((per_person == 1).sum())
            f2 = int((per_person == 2).sum())
            if f2 > 0:
                chao = seen + f1 * f1 / (2 * f2)
                ratio = f1 / f2
                var = f2 * (ratio ** 4 / 4 + ratio ** 3 + ratio ** 2 / 2)
            else:
                chao = seen + f1 * (f1 - 1) / 2
                var = f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) ** 2 / 4 - f1 ** 4 / (4 * chao)
                var = max(var, 0.0)
            estimate = max(1, round(chao))
            high = max(estimate, math.ceil(chao + Z * math.sqrt(var)))
            events_per_day = len(mine) / seen / max(working_days, 1)
            self.set(["roles", rid, "headcount"], estimate)
            note = (f"{seen} named in the log ({f1} seen once, {f2} twice; Chao1 estimate of "
                    f"those never seen); {events_per_day:.2f} events of this procedure per person "
                    "per working day")
            busy = math.nan
            started, work, waited, wait = self.role_times.get(rid, (0, math.nan, 0, math.nan))
            if has_starts:
                busy = self.busy_share(rid, seen, working_days)
                if math.isfinite(busy):
                    note += f"; the steps took {busy:.1%} of their office time"
                if started:
                    note += (f"; {started:,} steps with a start event: {work:.3g} working "
                             "minutes from start to complete on average")
                if waited:
                    note += (f", after {wait:.3g} working days on average from the step that "
                             "enabled them to their start")
            self.entry(["roles", rid, "headcount"], "estimated", self.what(
                f"the people named in the role {rid}"), n=len(mine),
                interval=(min(seen, estimate), high), note=note)
            rows.append({"role": rid, "people_seen": seen, "headcount": estimate,
                         "low": min(seen, estimate), "high": high, "events": len(mine),
                         "events_per_person_per_working_day": events_per_day,
                         "busy_share": busy, "started": started, "work_minutes": work,
                         "waited": waited, "wait_working_days": wait})
        if not has_starts:
            self.notes.append("the log has no start events: the time people spent working "
                              "cannot be told from the time cases waited for them, so the "
                              "steps' work and the roles' other work stay as in the base "
                              "scenario")
        return pd.DataFrame(rows, columns=["role", "people_seen", "headcount", "low", "high",
                                           "events", "events_per_person_per_working_day",
                                           "busy_share", "started", "work_minutes", "waited",
                                           "wait_working_days"])

    def busy_share(self, role: str, people: int, working_days: int) -> float:
        fit_rows = self.work_minutes_by_role.get(role)
        if fit_rows is None or people == 0 or working_days == 0:
            return math.nan
        return float(fit_rows / (people * working_days * self.day))

    # -- the rest

    def assumptions(self) -> None:
        base_ledger = load_ledger(self.base) if "ledger" in self.base.data else None
        for keys in leaf_keys(self.data):
            key = field_key(keys)
            if key in ("scenario.name", "scenario.description", "scenario.replications",
                       "scenario.seed", "scenario.timeline_days"):
                continue
            if any(e.covers(key) for e in self.entries.values()):
                continue
            if (len(keys) == 4 and keys[0] == "routes" and keys[2] == "attributes"
                    and isinstance(self.data["routes"][keys[1]]["attributes"][keys[3]], bool)
                    and any(keys[3] in g.decided_by for g in self.procedure.gateways()[:1])):
                self.entries[key] = Entry(key, "assumed", "defines the route: the log's cases are "
                                          "sorted into routes by it", None, None, None, "")
                continue
            known = base_ledger.entry_for(key) if base_ledger is not None else None
            if known is not None and known.field == key:
                self.entries[key] = known
                continue
            if known is not None and key.startswith(known.field):
                # the base ledger covers a table that calibration changed in part: this
                # field keeps the base entry's word
                self.entries[key] = Entry(key, known.kind, known.source, known.n, None,
                                          None, known.note)
                continue
            self.entries[key] = Entry(key, "assumed", "as in the base scenario: the log "
                                      "cannot tell it", None, None, None, "")


def _booleans(column: pd.Series) -> list[bool | None]:
    """A column's values as True, False or None (empty)."""
    return [None if v is pd.NA or v is None or v != v else bool(v) for v in column.tolist()]


def leaf_keys(data: Mapping[str, Any], prefix: tuple[str, ...] = ()
               ) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for k, v in data.items():
        here = (*prefix, k)
        if isinstance(v, Mapping) and v and not inline(here, v):
            out.extend(leaf_keys(v, here))
        else:
            out.append(here)
    return out


def inline(keys: tuple[str, ...], value: Mapping[str, Any]) -> bool:
    """A table written on one line (a distribution, a background, a booking)."""
    return "distribution" in value or keys[-1] in ("background", "booking")


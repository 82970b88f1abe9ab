"""The caseload simulator: an interpreter that walks the procedure's blocks with SimPy.

The control flow is never written a second time: ``_Sim._block`` interprets the model's
``Task``, ``Sequence``, ``Parallel`` (a sub-process per branch, and a ``cases.Join`` of them:
SimPy's ``AllOf``, lighter), ``Choice`` (``select`` on the case's attributes, drawn from the
scenario's probabilities) and ``Loop`` (the body, then again with the scenario's probability for
that loop id).

Work is measured in on-duty minutes of the people who do it (``simulation.staff``), so a job
begun at 16:30 that needs an hour ends at 09:30 on the next working day. The calendar of working
days is the checker's (``CheckConfig.calendar``: bank holidays and closures), so staff do not
work on a day the checker does not count, and a deadline (for earliest-deadline-first dispatch
and for the ground truth of injected slips) means what it means to the checker. A step that
needs several roles at once takes one person of each, in a fixed order of roles (so that no two
steps can wait for each other).

Cases arrive at the times ``simulation.arrivals`` draws; the people, their queues and
diaries are ``simulation.staff``'s. ``simulate(scenario, procedure, seed, replication)`` runs
one replication; the runner
(``simulation.runner``) runs many and aggregates them.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_right
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from conformance import CheckConfig
from model.calendar import Within
from model.procedure import Block, Choice, Loop, Parallel, Procedure, SubProcess, Task, matches
from model.procedure import Sequence as Seq
from model.rules import AttributeValue, Rule, Template, TriggerOccurrence
from simulation.arrivals import arrival_times
from simulation.cases import Case, Join, Walk, run_until, scheduled
from simulation.clock import Clock, Duty, Schedule, clock_for
from simulation.diary import Diary
from simulation.results import Replication
from simulation.scenario import (
    Booking,
    Delay,
    Dispatch,
    Distribution,
    LagUnit,
    Scenario,
    cumulative,
)
from simulation.staff import Grid, Pool, build_staff
from simulation.staff import timeline as timeline_of
from simulation.streams import Purpose, Streams
from simulation.truth import clock_start, expected_breaks

__all__ = ["simulate"]

_INF = math.inf
_MARGIN_DAYS = 45  # calendar beyond the drain, so that late work still has on-duty time
_S47_COMPLETED = "Section 47 enquiry completed"
Gen = Generator[simpy.Event, Any, Any]
# ``env._now``, not ``env.now``, throughout: the property is an interpreted call, made a million
# times a run from the compiled walk (setup.py)


# ---------------------------------------------------------------------------------- plans


@dataclass
class _Plan:
    """How one task of the flow is carried out in this scenario."""

    task: Task
    code: int  # index of the activity in the log's activity list
    pools: list[Pool]  # limited roles needed, in rank order
    lane_pool: Pool | None
    lane_schedule: Schedule  # the lane's hours when its role is unlimited
    work: Distribution
    lag: Delay | None
    booking: Booking | None
    diary: Diary | None
    deadline_rules: list[tuple[Rule, TriggerOccurrence]]
    timing_at: int = 0  # which of ``pools`` times the work (the lane's pool, else the first)
    lane_at: int = -1  # where the lane's pool is in ``pools`` (-1: not there)

    def __post_init__(self) -> None:
        if self.lane_pool is not None and self.lane_pool in self.pools:
            self.lane_at = self.timing_at = self.pools.index(self.lane_pool)


# ---------------------------------------------------------------------------------- the run


class _Sim:
    """One replication: the clock, the staff, a plan per step of the flow, and the cases."""

    def __init__(self, scenario: Scenario, procedure: Procedure, seed: int, index: int,
                 checking: CheckConfig, lean: bool = False) -> None:
        self.lean = lean
        self.scenario = scenario
        self.procedure = procedure
        self.index = index
        self.seed = seed
        self.checking = checking
        days = scenario.warm_up_days + scenario.horizon_days + scenario.drain_days
        first = scenario.start - timedelta(days=scenario.warm_up_days)
        self.clock: Clock = clock_for(first, days + _MARGIN_DAYS, checking.calendar)
        clock = self.clock
        self.log_start = clock.midnight[scenario.warm_up_days]
        self.log_end = clock.midnight[scenario.warm_up_days + scenario.horizon_days]
        self.stop_at = clock.midnight[days]
        width = scenario.timeline_days * 1440.0
        n_warm = math.ceil(self.log_start / width - 1e-9)
        base = self.log_start - n_warm * width
        self.grid = Grid(base=base, width=width, n=math.ceil((clock.end - base) / width) + 1,
                         first=n_warm, window=self.log_end - self.log_start)
        self.env = simpy.Environment()
        self.streams = Streams(seed, index)
        # the office day (working-day lags): asked in roughly increasing time, as a person is
        self.office = Duty(*clock.office_intervals(scenario.office_open, scenario.office_close))
        self.office_day = _minutes(scenario.office_close) - _minutes(scenario.office_open)
        self.activities = list(procedure.activities)
        self.codes = {name: i for i, name in enumerate(self.activities)}
        self.events: list[tuple[int, float, int, int, str, str, str]] = []
        self.waits: list[tuple[int, int, str, float, float, str]] = []
        # each step of a logged case, for where late cases' time went (delays.delays_of)
        self.steps: list[tuple[int, str, float, float, float, float, float, float, float,
                               tuple[tuple[str, str, float, float], ...]]] = []
        self.truth: list[tuple[int, str, str, str, float]] = []
        self.seq = 0
        self.staff = build_staff(self.env, scenario, procedure, clock, self.streams, self.grid,
                                 self.stop_at)
        self.plans = self._build_plans()
        self.first_task: dict[str, Task] = {}
        for task in procedure.tasks():
            self.first_task.setdefault(task.activity, task)
        self.loop_p = dict(scenario.loops)
        self._offences = {route_id: (list(route.offence), cumulative(list(route.offence.values())))
                          for route_id, route in scenario.routes.items()}
        self._deadline_cache: dict[tuple[Within, float], float] = {}
        self.edf = scenario.dispatch is Dispatch.EDF
        # a case's attributes never change: gateways' branches and rules' conditions by its key
        self._selected: dict[tuple[str, tuple[Any, ...]], int] = {}
        self._applies: dict[tuple[str, tuple[Any, ...]], bool] = {}

    # -- plans

    def _build_plans(self) -> dict[str, _Plan]:
        deadline_rules: dict[str, list[tuple[Rule, TriggerOccurrence]]] = {}
        for rule in self.procedure.rules:
            if rule.template is not Template.RESPONSE or rule.within is None:
                continue
            occurrence = self.checking.trigger_occurrence(rule)  # the checker's reading
            for entry in rule.require:
                for name in entry:
                    deadline_rules.setdefault(name, []).append((rule, occurrence))
        plans: dict[str, _Plan] = {}
        for task in self.procedure.tasks():
            act = self.procedure.activities[task.activity]
            spec = self.scenario.task(task.activity)
            roles = [task.role, *act.participants, *spec.extra_roles]
            staff = self.staff
            pools = sorted({staff.pools[r].role: staff.pools[r] for r in roles
                            if r in staff.pools}.values(), key=lambda p: p.rank)
            lane_pool = staff.pools.get(task.role)
            diary = staff.diaries.get(task.role) if spec.booking is not None else None
            if diary is not None:
                pools = [p for p in pools if p.role != task.role]
            plans[task.id] = _Plan(
                task=task,
                code=self.codes[task.activity],
                pools=pools,
                lane_pool=lane_pool,
                lane_schedule=self.staff.schedules[task.role],
                work=spec.work,
                lag=spec.lag,
                booking=spec.booking,
                diary=diary,
                deadline_rules=deadline_rules.get(task.activity, []),
            )
        return plans

    def _new_case(self, no: int, t: float, route_id: str, rng: np.random.Generator) -> Case:
        """Case ``no``, with its own random stream (``Purpose.CASES``, ``no``)."""
        scenario = self.scenario
        logged = self.log_start <= t < self.log_end
        case = Case(no, route_id, t, logged, rng)
        case.record = logged and not self.lean
        route = scenario.routes[route_id]
        draws = rng.random(len(route.attributes))
        case.attrs = {name: bool(u < p) for (name, p), u in
                      zip(route.attributes.items(), draws.tolist(), strict=True)}
        names, cdf = self._offences[route_id]
        case.offence = names[bisect_right(cdf, rng.random())]  # as rng.choice picks
        case.attrs["offence"] = case.offence  # decides a gateway of the outcomes (§6 ¶2)
        case.key = (route_id, *case.attrs.values())
        slips = scenario.slips
        if slips.any:
            case.skip = frozenset(a for a, p in slips.skip.items() if rng.random() < p)
            for slip in slips.order:
                if rng.random() < slip.probability:
                    case.order_before.setdefault(slip.before, slip.activity)
            case.forbidden = [s for s in slips.forbidden if rng.random() < s.probability]
        return case

    # -- the walk

    def _block(self, block: Block, case: Case) -> Gen:
        if isinstance(block, Task):
            yield from self._task(block, case)
        elif isinstance(block, Seq):
            for child in block.children:
                yield from self._block(child, case)
        elif isinstance(block, Parallel):
            env = self.env
            yield Join(env, [Walk(env, self._block(child, case))
                              for child in block.children])
        elif isinstance(block, Choice):
            key = (block.id, case.key)
            index = self._selected.get(key)
            if index is None:
                index = self._selected[key] = block.select(case.attrs)
            body = block.branches[index].body
            if body is not None:
                yield from self._block(body, case)
        elif isinstance(block, SubProcess):  # a named part of the flow: walked through
            yield from self._block(block.body, case)
        elif isinstance(block, Loop):
            yield from self._block(block.body, case)
            repeat = self.loop_p.get(block.id, 0.0)
            while repeat > 0 and case.rng.random() < repeat:
                yield from self._block(block.body, case)

    def _task(self, task: Task, case: Case) -> Gen:
        activity = task.activity
        if activity == _S47_COMPLETED:
            case.s47_done = True
        if activity in case.skip:
            if activity not in case.skipped:
                case.skipped.add(activity)
                self._truth(case, "skip", activity, "")
            return
        if activity in case.early:
            case.early.discard(activity)
            return
        early = case.order_before.pop(activity, None)
        if early is not None and early not in case.skip:  # a skipped step is not done early
            case.early.add(early)
            self._truth(case, "order", early, activity)
            yield from self._perform(self.plans[self.first_task[early].id], case)
        yield from self._perform(self.plans[task.id], case)

    def _perform(self, plan: _Plan, case: Case) -> Gen:
        env = self.env
        rng = case.rng
        start = env._now
        lag_own = -1.0  # an elapsed lag: all of it the step's own time
        if plan.lag is not None:
            target, lag_own = self._after_lag(env._now, plan.lag, rng)
            if target > env._now:
                yield env.timeout(target - env._now)
        lag_end = env._now
        work = plan.work.sample(rng)
        deadline = self._deadline(plan, case)
        waited: list[tuple[str, str, float, float]] = []
        if plan.diary is not None and plan.booking is not None:
            end, resource, ready, now = yield from self._booked(plan, case, deadline, waited)
            work = plan.diary.spec.slot_minutes
        else:
            people: list[int] = []
            for pool in plan.pools:
                requested = env._now
                index = yield pool.request(deadline)
                people.append(index)
                if case.record:
                    self.waits.append((case.no, plan.code, pool.role, requested, env._now,
                                       plan.task.id))
                    waited.append(("queue", pool.role, requested, env._now))
            ready = lag_end
            now = env._now
            schedule: Schedule
            if plan.pools:
                at = plan.timing_at
                schedule = plan.pools[at].people[people[at]].schedule
            else:
                schedule = plan.lane_schedule
            end = schedule.advance(now, work)
            for pool in plan.pools:
                pool.add_work(now, work)
            if end > now:
                yield env.timeout(end - now)
            for pool, index in zip(plan.pools, people, strict=True):
                pool.release(index)
            if plan.lane_at >= 0:
                resource = plan.pools[plan.lane_at].people[people[plan.lane_at]].name
            else:
                resource = plan.task.role
        if case.record:
            self.steps.append((case.no, plan.task.id, start, lag_end, lag_own, ready, now,
                               env._now, work, tuple(waited)))
        self._log(case, plan.code, env._now, resource, plan.task.role, plan.task.id)

    def _booked(self, plan: _Plan, case: Case, deadline: float,
                waited: list[tuple[str, str, float, float]]) -> Gen:
        """Book the step into the lane role's diary and hold it: returns its end, the chair's
        name, the earliest slot its notice allowed and when the meeting began (``waited``
        gets the diary's wait and the participants' waits)."""
        env = self.env
        assert plan.diary is not None and plan.booking is not None
        diary = plan.diary
        booked = diary.book(env._now, plan.booking.lead_working_days)
        if booked is None:  # the diaries are full to the end of the calendar
            yield env.timeout(_INF)
        assert booked is not None
        person, earliest, slot = booked
        if case.record:
            self.waits.append((case.no, plan.code, diary.pool.role, earliest, slot, plan.task.id))
            waited.append(("diary", diary.pool.role, earliest, slot))
        diary.pool.bins.proc_jobs[diary.pool.bins.index(slot)] += 1
        diary.pool.bins.proc_wait_sum[diary.pool.bins.index(slot)] += slot - earliest
        if slot > env._now:
            yield env.timeout(slot - env._now)
        people: list[int] = []
        for pool in plan.pools:
            requested = env._now
            index = yield pool.request(deadline, booked=True)
            people.append(index)
            if case.record and env._now > requested:
                waited.append(("queue", pool.role, requested, env._now))
        began = env._now
        length = diary.spec.slot_minutes
        for pool in plan.pools:
            pool.add_work(env._now, length)
        yield env.timeout(length)
        for pool, index in zip(plan.pools, people, strict=True):
            pool.release(index)
        return env._now, diary.pool.people[person].name, earliest, began

    def _after_lag(self, now: float, lag: Delay, rng: np.random.Generator
                   ) -> tuple[float, float]:
        """When the lag ends, and its office minutes for a lag in working days (-1 for an
        elapsed lag)."""
        amount = lag.distribution.sample(rng)
        unit = lag.unit
        if unit is LagUnit.MINUTES:
            return now + amount, -1.0
        if unit is LagUnit.HOURS:
            return now + amount * 60.0, -1.0
        if unit is LagUnit.DAYS:
            return now + amount * 1440.0, -1.0
        own = amount * self.office_day
        return self.office.advance(now, own), own

    def _deadline(self, plan: _Plan, case: Case) -> float:
        """The earliest deadline of the rules that require this step (EDF's priority)."""
        if not self.edf or not plan.deadline_rules:
            return _INF
        best = _INF
        applies = self._applies
        for rule, occurrence in plan.deadline_rules:
            which = (rule.id, case.key)
            holds = applies.get(which)
            if holds is None:
                holds = applies[which] = all(matches(case.attrs.get(k), v)
                                           for k, v in rule.when.items())
            if not holds:
                continue
            trigger = clock_start(rule, occurrence, case.occ)
            if trigger is None:
                continue
            assert rule.within is not None
            key = (rule.within, trigger)
            due = self._deadline_cache.get(key)
            if due is None:
                due = self.clock.deadline(rule.within, trigger)
                self._deadline_cache[key] = due
            best = min(best, due)
        return best

    def _log(self, case: Case, code: int, t: float, resource: str, role: str,
             task_id: str) -> None:
        case.occ.setdefault(self.activities[code], []).append(t)
        if case.logged:
            self.seq += 1
            self.events.append((case.no, t, self.seq, code, resource, role, task_id))

    def _truth(self, case: Case, kind: str, activity: str, other: str) -> None:
        if case.record:
            self.truth.append((case.no, kind, activity, other, self.env._now))

    def _case(self, case: Case) -> Gen:
        yield self.env.timeout(case.arrival)
        yield from self._block(self.procedure.flow, case)
        case.closed_at = self.env._now
        for slip in case.forbidden:
            anchor = case.arrival
            if slip.after is not None:
                times = case.occ.get(slip.after)
                if not times:
                    continue
                anchor = times[0]
            at = anchor + case.rng.uniform(0.05, 0.95) * (case.closed_at - anchor)
            self._truth(case, "forbidden", slip.activity, slip.after or "")
            self._log(case, self.codes[slip.activity], at, "", "case_record", "")

    # -- running

    def run(self) -> Replication:
        arrivals = arrival_times(self.scenario, self.clock, self.streams)
        cases: list[Case] = []
        processes = []
        logged_no = 0
        rngs = self.streams.many(Purpose.CASES, range(len(arrivals)))
        for no, (t, route) in enumerate(arrivals):
            case = self._new_case(no, t, route, rngs[no])
            if case.logged:
                logged_no += 1
                case.id = f"SIM-{logged_no:05d}"
            cases.append(case)
            process = Walk(self.env, self._case(case))
            if case.logged:
                processes.append(process)
        stop = self.env.timeout(self.stop_at)
        until = self.env.any_of([stop, self.env.all_of(processes)]) if processes else stop
        run_until(self.env, until)
        end = self.env._now
        for diary in self.staff.diaries.values():
            diary.catch_up(end)
        return self._result(cases, end)

    # -- results

    def _result(self, cases: list[Case], end: float) -> Replication:
        clock = self.clock
        logged = [c for c in cases if c.logged]
        by_no = {c.no: c for c in logged}
        self.events.sort(key=lambda e: (e[0], e[1], e[2]))
        ev = self.events
        times = np.fromiter((e[1] for e in ev), dtype=np.float64, count=len(ev))
        events = pd.DataFrame({
            "case_id": [by_no[e[0]].id for e in ev],
            "activity": [self.activities[e[3]] for e in ev],
            "time_utc": pd.to_datetime(clock.utc_ns(times), utc=True),
            "resource": [e[4] for e in ev],
            "role": [e[5] for e in ev],
            "task_id": [e[6] for e in ev],
        })
        if not self.lean:
            events["timestamp"] = clock.iso_local(times)
        booleans = list(self.procedure.boolean_attributes)
        rows = []
        for case in logged:
            values: dict[str, Any] = {}
            for name in booleans:
                value: AttributeValue | None = case.attrs.get(name, False)
                if name == "children_at_continuing_risk" and not case.s47_done:
                    value = None
                values[name] = value
            rows.append(values)
        cases_frame = pd.DataFrame(rows, index=pd.Index([c.id for c in logged], name="case_id"),
                                   columns=booleans).astype("boolean")
        cases_frame["offence"] = [c.offence for c in logged]
        cases_frame["route"] = [c.route for c in logged]
        cases_frame["arrival_utc"] = pd.to_datetime(
            clock.utc_ns([c.arrival for c in logged]), utc=True)
        as_of_ns = int(events["time_utc"].max().value) if len(events) else clock.origin_ns
        if self.lean:
            return Replication(
                index=self.index, seed=self.seed, events=events, cases=cases_frame,
                ground_truth=pd.DataFrame(), waits=pd.DataFrame(), timeline=pd.DataFrame(),
                queues=pd.DataFrame(), as_of=pd.Timestamp(as_of_ns, tz="UTC"),
                end=pd.Timestamp(int(clock.utc_ns([end])[0]), tz="UTC"), all_cases=len(cases),
                sim_events=scheduled(self.env), origin_ns=clock.origin_ns)
        truth = expected_breaks(self.truth, by_no, cases_frame, events, self.procedure,
                                clock, as_of_ns, self.checking)
        waits = pd.DataFrame(self.waits, columns=["case", "code", "role", "requested",
                                                  "granted", "task_id"])
        waits_frame = pd.DataFrame({
            "case_id": [by_no[n].id for n in waits["case"].tolist()],
            "activity": [self.activities[c] for c in waits["code"].tolist()],
            "task_id": waits["task_id"].astype(str),
            "role": waits["role"].astype(str),
            "requested_utc": pd.to_datetime(clock.utc_ns(waits["requested"].to_numpy()),
                                            utc=True),
            "granted_utc": pd.to_datetime(clock.utc_ns(waits["granted"].to_numpy()), utc=True),
            "wait_hours": (waits["granted"] - waits["requested"]).to_numpy() / 60.0,
        })
        timeline, queues = timeline_of(self.staff, self.clock, self.grid, end)
        steps = pd.DataFrame(self.steps, columns=["case", "task_id", "start", "lag_end",
                                                  "lag_own", "ready", "work_start", "end",
                                                  "work_own", "waits"])
        steps.insert(0, "case_id", [by_no[n].id for n in steps.pop("case").tolist()])
        return Replication(
            index=self.index,
            seed=self.seed,
            events=events,
            cases=cases_frame,
            ground_truth=truth,
            waits=waits_frame,
            timeline=timeline,
            queues=queues,
            as_of=pd.Timestamp(as_of_ns, tz="UTC"),
            end=pd.Timestamp(int(clock.utc_ns([end])[0]), tz="UTC"),
            all_cases=len(cases),
            sim_events=scheduled(self.env),
            steps=steps,
            duty=self._duty(),
            origin_ns=clock.origin_ns,
        )

    def _duty(self) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
        """When someone of each role is on duty (its hours, or every hour when some of it
        cover nights; leave aside), and the office day under "" (what working-day lags and
        booking notice count)."""
        clock = self.clock
        out = {"": (np.asarray(self.office.starts), np.asarray(self.office.ends))}
        for role, schedule in self.staff.schedules.items():
            if self.scenario.role(role).out_of_hours > 0:
                starts, ends = clock.day_intervals()
                out[role] = (np.asarray(starts, dtype=float), np.asarray(ends, dtype=float))
            else:
                out[role] = (np.asarray(schedule.starts), np.asarray(schedule.ends))
        return out


def _minutes(at: Any) -> float:
    return float(at.hour * 60 + at.minute)


def simulate(scenario: Scenario, procedure: Procedure, seed: int | None = None,
             replication: int = 0, *, check_config: CheckConfig | None = None,
             lean: bool = False) -> Replication:
    """One replication of a scenario: its event log, case attributes, ground truth and queues.

    Parameters
    ----------
    scenario, procedure
        What to simulate.
    seed, replication
        Fix every random stream (``seed`` defaults to the scenario's): the same pair gives the
        same log, whatever else runs at the same time.
    check_config
        The checker's settings, whose calendar the staff work to and whose deadlines the
        dispatch and the ground truth use (default: the scenario's ``checking``).
    lean
        Build only what judging the log needs: the events (without the ``timestamp`` text
        column), the cases, the as-of and end times; the ground truth, waits, timeline, queues
        and steps are left empty (the run itself is the same).

    Examples
    --------
    >>> from model.procedure import load_procedure
    >>> from simulation.scenario import load_scenario
    >>> procedure = load_procedure()
    >>> scenario = load_scenario(None, procedure).with_values(
    ...     {"horizon_days": 10, "warm_up_days": 0, "drain_days": 60}, procedure)
    >>> rep = simulate(scenario, procedure, seed=1)
    >>> list(rep.events.columns[:5])
    ['case_id', 'activity', 'time_utc', 'resource', 'role']
    >>> rep.events["case_id"].iloc[0]
    'SIM-00001'
    """
    checking = check_config if check_config is not None else scenario.checking
    with _no_cycle_collection():
        return _Sim(scenario, procedure, scenario.seed if seed is None else seed, replication,
                    checking, lean).run()


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a run builds its millions of short-lived tuples
    and events, hardly any of which form cycles: otherwise it walks every live object
    again and again, a tenth or more of a large run's time (``bench/bench_simulate.py``). Its
    state is restored after, and objects are still freed as soon as nothing refers to them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()

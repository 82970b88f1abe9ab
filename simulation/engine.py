"""The caseload simulator: an interpreter that walks the procedure's blocks with SimPy.

The control flow is never written a second time: ``_Sim._block`` interprets the model's
``Task``, ``Sequence``, ``Parallel`` (an ``AllOf`` of sub-processes), ``Choice`` (``select`` on
the case's attributes, drawn from the scenario's probabilities) and ``Loop`` (the body, then again
with the scenario's probability for that loop id).

People are individuals with their own on-duty time (``clock.Schedule``: office hours on working
days of the project's calendar, or every hour for out-of-hours cover, less leave and sickness).
Work is measured in on-duty minutes, so a job begun at 16:30 that needs an hour ends at 09:30
on the next working day. Each limited role has one queue served first come first served or
earliest deadline first (deadlines from the procedure's rules and the project's calendar).
Background work (the larger part of everyone's job) arrives as a coarse stream of jobs into the
same queues; conferences are booked into slots of the chairs' diaries, which other bookings
fill too. A step that needs several roles at once takes one person of each, in a fixed order of
roles (so that no two steps can wait for each other).

``simulate(scenario, procedure, seed, replication)`` runs one replication;
``run(...)`` runs many, in parallel processes or on a Dask cluster, and aggregates them.
"""

from __future__ import annotations

import heapq
import math
import os
import sys
import zlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from model.calendar import Within
from model.errors import InputError, Problem
from model.procedure import Block, Choice, Loop, Parallel, Procedure, Task
from model.procedure import Sequence as Seq
from model.rules import Occurrence, Rule, Template
from simulation.clock import Clock, Schedule, clock_for
from simulation.results import (
    Replication,
    ReplicationOutcome,
    SimulationResult,
    aggregate,
    outcome_of,
)
from simulation.scenario import (
    Booking,
    Delay,
    Dispatch,
    Distribution,
    ForbiddenSlip,
    Hours,
    LagUnit,
    RoleSpec,
    Route,
    Scenario,
)

__all__ = ["Job", "execute", "replicate", "run", "simulate"]

_INF = math.inf
_MARGIN_DAYS = 45  # calendar beyond the drain, so that late work still has on-duty time
_CONNECT_SECONDS = 10  # how long to try to reach a Dask scheduler before giving up
_S47_COMPLETED = "Section 47 enquiry completed"
_ARRIVALS, _BACKGROUND, _LEAVE, _DIARY, _CASES = range(5)  # purposes of random streams
_STRATEGY = "Strategy discussion held"
Gen = Generator[simpy.Event, Any, Any]
T = TypeVar("T")


# ---------------------------------------------------------------------------------- people


class _Person:
    __slots__ = ("busy", "index", "name", "schedule")

    def __init__(self, index: int, name: str, schedule: Schedule) -> None:
        self.index = index
        self.name = name
        self.schedule = schedule
        self.busy = False


class _Bins:
    """Per-bin accumulators of one role's queue (bins of ``width`` minutes from ``base``)."""

    def __init__(self, base: float, width: float, n: int) -> None:
        self.base = base
        self.width = width
        self.n = n
        self.queue_area = [0.0] * n
        self.jobs = [0] * n
        self.waited = [0] * n
        self.wait_sum = [0.0] * n
        self.work = [0.0] * n
        self.proc_jobs = [0] * n
        self.proc_wait_sum = [0.0] * n

    def index(self, t: float) -> int:
        b = int((t - self.base) // self.width)
        return b if b < self.n else self.n - 1


class _Pool:
    """A role with a headcount: its people, its queue and its statistics."""

    def __init__(self, sim: _Sim, spec: RoleSpec, people: list[_Person], rank: int) -> None:
        self.sim = sim
        self.env = sim.env
        self.role = spec.id
        self.spec = spec
        self.rank = rank  # the order in which a multi-role step takes people
        self.people = people
        self.queue: list[tuple[float, float, int, simpy.Event | None, float]] = []
        self.free: list[int] = []  # heap of indices of people free and on duty
        self.seq = 0
        self.edf = sim.scenario.dispatch is Dispatch.EDF
        self.bins = _Bins(sim.bin_base, sim.bin_width, sim.n_bins)
        self.last_t = 0.0
        self._release = [partial(self._finished, p.index) for p in people]
        self._bg_times: list[float] = []
        self._bg_works: list[float] = []
        self._bg_next = 0

    # -- statistics

    def _accrue(self, now: float) -> None:
        last = self.last_t
        if now <= last:
            return
        n = len(self.queue)
        if n:
            bins = self.bins
            b0, b1 = bins.index(last), bins.index(now)
            if b0 == b1:
                bins.queue_area[b0] += n * (now - last)
            else:
                edge = bins.base + (b0 + 1) * bins.width
                bins.queue_area[b0] += n * (edge - last)
                for b in range(b0 + 1, b1):
                    bins.queue_area[b] += n * bins.width
                bins.queue_area[b1] += n * (now - (bins.base + b1 * bins.width))
        self.last_t = now

    # -- requests

    def add_background(self, work: float) -> None:
        now = self.env.now
        self._accrue(now)
        self.seq += 1
        primary = _INF if self.edf else 0.0
        heapq.heappush(self.queue, (primary, now, self.seq, None, work))
        self._dispatch()

    def request(self, deadline: float, *, booked: bool = False) -> simpy.Event:
        """An event that succeeds with a person's index when one is assigned."""
        now = self.env.now
        self._accrue(now)
        self.seq += 1
        event = self.env.event()
        primary = -_INF if booked else (deadline if self.edf else 0.0)
        heapq.heappush(self.queue, (primary, now, self.seq, event, 0.0))
        self._dispatch()
        return event

    def release(self, index: int) -> None:
        person = self.people[index]
        person.busy = False
        if person.schedule.on_duty(self.env.now):
            heapq.heappush(self.free, index)
        self._dispatch()

    def add_work(self, now: float, work: float) -> None:
        self.bins.work[self.bins.index(now)] += work

    def _finished(self, index: int, _event: simpy.Event) -> None:
        self.release(index)

    def _dispatch(self) -> None:
        queue = self.queue
        free = self.free
        if not queue or not free:
            return
        now = self.env.now
        self._accrue(now)
        bins = self.bins
        b = bins.index(now)
        while queue and free:
            _, requested, _, event, work = heapq.heappop(queue)
            index = heapq.heappop(free)
            person = self.people[index]
            person.busy = True
            wait = now - requested
            bins.jobs[b] += 1
            bins.wait_sum[b] += wait
            if wait > 1e-9:
                bins.waited[b] += 1
            if event is None:
                end = person.schedule.advance(now, work)
                bins.work[b] += work
                done = self.env.timeout(end - now)
                done.callbacks.append(self._release[index])
            else:
                bins.proc_jobs[b] += 1
                bins.proc_wait_sum[b] += wait
                event.succeed(index)

    # -- shifts

    def boundaries(self) -> list[float]:
        times: set[float] = set()
        for person in self.people:
            times.update(person.schedule.starts)
            times.update(person.schedule.ends)
        return sorted(times)

    def shifts(self, times: list[float]) -> Gen:
        """Who is on duty changes at these times: rebuild the free list, serve the queue."""
        env = self.env
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            self.free = [p.index for p in self.people
                         if not p.busy and p.schedule.on_duty(t)]
            heapq.heapify(self.free)
            self._dispatch()

    def background(self, times: list[float], works: list[float]) -> None:
        """Feed background jobs in at their times (a chain of timeouts: cheaper than a
        process)."""
        self._bg_times = times
        self._bg_works = works
        self._bg_next = 0
        self._next_background()

    def _next_background(self) -> None:
        i = self._bg_next
        if i < len(self._bg_times):
            event = self.env.timeout(max(0.0, self._bg_times[i] - self.env.now))
            event.callbacks.append(self._background_due)

    def _background_due(self, _event: simpy.Event) -> None:
        i = self._bg_next
        self._bg_next = i + 1
        self.add_background(self._bg_works[i])
        self._next_background()


class _Diary:
    """Slots in the diaries of a role's people, booked by cases and by background bookings."""

    def __init__(self, sim: _Sim, pool: _Pool, absent: list[set[int]],
                 rng: np.random.Generator) -> None:
        spec = pool.spec.diary
        assert spec is not None  # only built for roles with a diary
        self.sim = sim
        self.pool = pool
        self.spec = spec
        clock = sim.clock
        self.slot_starts: list[list[float]] = [
            [clock.local(d, s) for s in spec.slots] if clock.working[d] else []
            for d in range(clock.n_days)
        ]
        self.free: list[list[list[int]]] = [
            [[p for p in range(len(pool.people)) if d not in absent[p]] for _ in starts]
            for d, starts in enumerate(self.slot_starts)
        ]
        self.available = [sum(len(f) for f in day) for day in self.free]
        self.taken_at: list[float] = []
        # Other bookings: a Poisson number each working day, at office times, with their lead.
        days = [d for d in range(clock.n_days) if clock.working[d]]
        counts = rng.poisson(spec.background_per_working_day * sim.scenario.background_demand,
                             len(days))
        request: list[float] = []
        for d, k in zip(days, counts.tolist(), strict=True):
            opening = clock.local(d, sim.scenario.office_open)
            closing = clock.local(d, sim.scenario.office_close)
            request.extend(np.sort(rng.uniform(opening, closing, k)).tolist())
        leads = np.rint(spec.background_lead.sample_many(rng, len(request))).astype(int)
        self.bg_times = request
        self.bg_leads = leads.tolist()
        self.bg_next = 0

    def catch_up(self, now: float) -> None:
        times, leads = self.bg_times, self.bg_leads
        i = self.bg_next
        while i < len(times) and times[i] <= now:
            self.take(times[i], leads[i])
            i += 1
        self.bg_next = i

    def take(self, now: float, lead: int) -> tuple[int, float, float] | None:
        """Book the earliest free slot on or after the lead's working day: (person, earliest
        allowed, slot start), or None when the diaries are full to the clock's end."""
        clock = self.sim.clock
        day = clock.add_working_days(clock.day_of(now), lead)
        earliest = _INF
        for d in range(day, clock.n_days):
            starts = self.slot_starts[d]
            for j, start in enumerate(starts):
                if start < now:
                    continue
                earliest = min(earliest, start)
                free = self.free[d][j]
                if free:
                    person = free.pop(0)
                    self.taken_at.append(start)
                    return person, earliest, start
        return None

    def book(self, now: float, lead: int) -> tuple[int, float, float] | None:
        self.catch_up(now)
        return self.take(now, lead)


# ---------------------------------------------------------------------------------- plans


@dataclass
class _Plan:
    """How one task of the flow is carried out in this scenario."""

    task: Task
    code: int  # index of the activity in the log's activity list
    pools: list[_Pool]  # limited roles needed, in rank order
    lane_pool: _Pool | None
    lane_schedule: Schedule  # the lane's hours when its role is unlimited
    work: Distribution
    lag: Delay | None
    booking: Booking | None
    diary: _Diary | None
    deadline_rules: list[tuple[Rule, frozenset[str], bool]]


class _Case:
    __slots__ = (
        "arrival", "attrs", "closed_at", "early", "forbidden", "id", "logged", "no", "occ",
        "offence", "order_before", "rng", "route", "s47_done", "skip", "skipped",
    )

    def __init__(self, no: int, route: str, arrival: float, logged: bool,
                 rng: np.random.Generator) -> None:
        self.no = no
        self.id = ""
        self.route = route
        self.arrival = arrival
        self.logged = logged
        self.rng = rng
        self.attrs: dict[str, bool] = {}
        self.offence = ""
        self.occ: dict[str, list[float]] = {}
        self.skip: frozenset[str] = frozenset()
        self.skipped: set[str] = set()
        self.early: set[str] = set()
        self.order_before: dict[str, str] = {}
        self.forbidden: list[ForbiddenSlip] = []
        self.s47_done = False
        self.closed_at = _INF


# ---------------------------------------------------------------------------------- the run


class _Sim:
    def __init__(self, scenario: Scenario, procedure: Procedure, seed: int, index: int) -> None:
        self.scenario = scenario
        self.procedure = procedure
        self.index = index
        self.seed = seed
        days = scenario.warm_up_days + scenario.horizon_days + scenario.drain_days
        first = scenario.start - timedelta(days=scenario.warm_up_days)
        self.clock: Clock = clock_for(first, days + _MARGIN_DAYS)
        clock = self.clock
        self.log_start = clock.midnight[scenario.warm_up_days]
        self.log_end = clock.midnight[scenario.warm_up_days + scenario.horizon_days]
        self.stop_at = clock.midnight[days]
        self.bin_width = scenario.timeline_days * 1440.0
        n_warm = math.ceil(self.log_start / self.bin_width - 1e-9)
        self.n_warm_bins = n_warm
        self.bin_base = self.log_start - n_warm * self.bin_width
        self.n_bins = math.ceil((clock.end - self.bin_base) / self.bin_width) + 1
        self.env = simpy.Environment()
        self.office = Schedule(*clock.office_intervals(scenario.office_open,
                                                       scenario.office_close))
        self.office_day = _minutes(scenario.office_close) - _minutes(scenario.office_open)
        self.activities = list(procedure.activities)
        self.codes = {name: i for i, name in enumerate(self.activities)}
        self.events: list[tuple[int, float, int, int, str, str, str]] = []
        self.waits: list[tuple[int, int, str, float, float, str]] = []
        self.truth: list[tuple[int, str, str, str, float]] = []
        self.seq = 0
        self.pools: dict[str, _Pool] = {}
        self.diaries: dict[str, _Diary] = {}
        self.role_schedules: dict[str, Schedule] = {}
        self._build_roles()
        self.plans = self._build_plans()
        self.first_task: dict[str, Task] = {}
        for task in procedure.tasks():
            self.first_task.setdefault(task.activity, task)
        self.loop_p = dict(scenario.loops)
        self._deadline_cache: dict[tuple[Within, float], float] = {}

    def _rng(self, purpose: int, *key: int | str) -> np.random.Generator:
        """The random stream for one purpose (and route, role, person or case): each has its
        own, so that changing one part of a scenario leaves the others' draws as they were
        (common random numbers) and results do not depend on the order of the run."""
        ints = tuple(zlib.crc32(k.encode()) if isinstance(k, str) else k for k in key)
        return np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(self.seed, spawn_key=(self.index, purpose, *ints))))

    # -- roles

    def _needed_roles(self) -> list[str]:
        names: list[str] = []
        for task in self.procedure.tasks():
            act = self.procedure.activities[task.activity]
            extra = self.scenario.task(task.activity).extra_roles
            for role in (task.role, *act.participants, *extra):
                if role not in names:
                    names.append(role)
        for role in self.scenario.roles:
            if role not in names:
                names.append(role)
        return names

    def _build_roles(self) -> None:
        clock = self.clock
        order = list(self.procedure.roles)
        for role_id in self._needed_roles():
            spec = self.scenario.role(role_id)
            office = Schedule(*clock.office_intervals(spec.open, spec.close))
            always = Schedule(*clock.day_intervals())
            self.role_schedules[role_id] = always if spec.hours is Hours.ALWAYS else office
            if spec.headcount is None:
                continue
            people: list[_Person] = []
            absent_days: list[set[int]] = []
            for k in range(spec.headcount):
                is_always = spec.hours is Hours.ALWAYS or k < spec.out_of_hours
                absent = self._absences(spec, self._rng(_LEAVE, role_id, k))
                absent_days.append(absent)
                days: Sequence[int]
                if is_always:
                    starts, ends = clock.day_intervals()
                    days = range(clock.n_days)
                else:
                    starts, ends = clock.office_intervals(spec.open, spec.close)
                    days = clock.working_index
                if absent:
                    keep = [i for i, d in enumerate(days) if d not in absent]
                    starts = [starts[i] for i in keep]
                    ends = [ends[i] for i in keep]
                name = f"{role_id}-{k + 1:02d}"
                people.append(_Person(k, name, Schedule(starts, ends)))
            rank = order.index(role_id) if role_id in order else len(order)
            pool = _Pool(self, spec, people, rank)
            self.pools[role_id] = pool
            if spec.diary is not None:
                self.diaries[role_id] = _Diary(self, pool, absent_days,
                                               self._rng(_DIARY, role_id))
            else:
                self.env.process(pool.shifts(pool.boundaries()))
            if spec.background is not None and spec.background.share > 0:
                times, works = self._background_stream(spec, office)
                pool.background(times, works)

    def _absences(self, spec: RoleSpec, rng: np.random.Generator) -> set[int]:
        """Days off for one person: leave in blocks of working days, and sickness days."""
        clock = self.clock
        absent: set[int] = set()
        n_working = len(clock.working_index)
        if spec.leave_days_per_year > 0 and n_working > spec.leave_block_days:
            expected = spec.leave_days_per_year * clock.n_days / 365.25 / spec.leave_block_days
            blocks = int(rng.poisson(expected))
            starts = rng.integers(0, n_working - spec.leave_block_days, blocks)
            for s in starts.tolist():
                first = clock.working_index[s]
                last = clock.working_index[s + spec.leave_block_days - 1]
                absent.update(range(first, last + 1))
        if spec.absence_rate > 0:
            sick = np.flatnonzero(rng.random(clock.n_days) < spec.absence_rate)
            absent.update(sick.tolist())
        return absent

    def _background_stream(self, spec: RoleSpec,
                           office: Schedule) -> tuple[list[float], list[float]]:
        """Arrival times (a Poisson stream in proportion to the role's nominal headcount on
        duty) and lengths of background jobs, up to the end of the run."""
        assert spec.background is not None and spec.headcount is not None
        rng = self._rng(_BACKGROUND, spec.id)
        n_always = spec.headcount if spec.hours is Hours.ALWAYS else spec.out_of_hours
        n_office = spec.headcount - n_always
        edges = sorted({0.0, self.stop_at, *(s for s in office.starts if s < self.stop_at),
                        *(e for e in office.ends if e < self.stop_at)})
        xs = np.asarray(edges)
        capacity = n_always * xs + n_office * office.worked_until(xs)
        total = float(capacity[-1])
        rate = (spec.background.share * self.scenario.background_demand
                / spec.background.job.mean())
        n = int(rng.poisson(rate * total))
        u = np.sort(rng.uniform(0.0, total, n))
        times = np.interp(u, capacity, xs)
        works = spec.background.job.sample_many(rng, n)
        return times.tolist(), works.tolist()

    def _build_plans(self) -> dict[str, _Plan]:
        deadline_rules: dict[str, list[tuple[Rule, frozenset[str], bool]]] = {}
        for rule in self.procedure.rules:
            if rule.template is not Template.RESPONSE or rule.within is None:
                continue
            last = rule.trigger_occurrence.kind is not Occurrence.FIRST
            for entry in rule.require:
                for name in entry:
                    deadline_rules.setdefault(name, []).append(
                        (rule, frozenset(rule.trigger), last))
        plans: dict[str, _Plan] = {}
        for task in self.procedure.tasks():
            act = self.procedure.activities[task.activity]
            spec = self.scenario.task(task.activity)
            roles = [task.role, *act.participants, *spec.extra_roles]
            pools = sorted({self.pools[r].role: self.pools[r] for r in roles
                            if r in self.pools}.values(), key=lambda p: p.rank)
            lane_pool = self.pools.get(task.role)
            diary = self.diaries.get(task.role) if spec.booking is not None else None
            if diary is not None:
                pools = [p for p in pools if p.role != task.role]
            plans[task.id] = _Plan(
                task=task,
                code=self.codes[task.activity],
                pools=pools,
                lane_pool=lane_pool,
                lane_schedule=self.role_schedules[task.role],
                work=spec.work,
                lag=spec.lag,
                booking=spec.booking,
                diary=diary,
                deadline_rules=deadline_rules.get(task.activity, []),
            )
        return plans

    # -- arrivals

    def _arrivals(self) -> list[tuple[float, str]]:
        clock = self.clock
        scenario = self.scenario
        first_day = 0
        last_day = scenario.warm_up_days + scenario.horizon_days
        out: list[tuple[float, str]] = []
        for route in scenario.routes.values():
            rng = self._rng(_ARRIVALS, route.id)
            expected = self._expected_per_day(route, first_day, last_day)
            counts = rng.poisson(expected)
            hours = np.asarray(route.hours) / sum(route.hours)
            for offset, k in enumerate(counts.tolist()):
                if not k:
                    continue
                day = first_day + offset
                hour = rng.choice(24, size=k, p=hours)
                minute = rng.uniform(0.0, 60.0, k)
                for h, m in zip(hour.tolist(), minute.tolist(), strict=True):
                    out.append((clock.local_minutes(day, h * 60 + m), route.id))
        out.sort()
        return out

    def _expected_per_day(self, route: Route, first: int, last: int) -> npt.NDArray[np.float64]:
        clock = self.clock
        scenario = self.scenario

        calendar = clock.calendar

        def weight(day: date) -> float:
            holiday = day.weekday() < 5 and not calendar.is_working_day(day)
            return route.weekday[6 if holiday else day.weekday()] * route.months[day.month - 1]

        # Normalise over the 365 days from the scenario's start, so the annual volume holds.
        norm = sum(weight(scenario.start + timedelta(days=i)) for i in range(365))
        out = np.empty(last - first)
        for i, d in enumerate(range(first, last)):
            day = clock.dates[d]
            w = weight(day)
            for surge in route.surges:
                if surge.start <= day <= surge.end:
                    w *= surge.multiplier
            out[i] = route.annual_volume * scenario.demand * w / norm
        return out

    def _new_case(self, no: int, t: float, route_id: str) -> _Case:
        scenario = self.scenario
        logged = self.log_start <= t < self.log_end
        rng = self._rng(_CASES, no)
        case = _Case(no, route_id, t, logged, rng)
        route = scenario.routes[route_id]
        draws = rng.random(len(route.attributes))
        case.attrs = {name: bool(u < p) for (name, p), u in
                      zip(route.attributes.items(), draws.tolist(), strict=True)}
        names = list(route.offence)
        weights = np.asarray([route.offence[n] for n in names])
        case.offence = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        slips = scenario.slips
        if slips.any:
            case.skip = frozenset(a for a, p in slips.skip.items() if rng.random() < p)
            for slip in slips.order:
                if rng.random() < slip.probability:
                    case.order_before.setdefault(slip.before, slip.activity)
            case.forbidden = [s for s in slips.forbidden if rng.random() < s.probability]
        return case

    # -- the walk

    def _block(self, block: Block, case: _Case) -> Gen:
        if isinstance(block, Task):
            yield from self._task(block, case)
        elif isinstance(block, Seq):
            for child in block.children:
                yield from self._block(child, case)
        elif isinstance(block, Parallel):
            yield self.env.all_of([self.env.process(self._block(child, case))
                                   for child in block.children])
        elif isinstance(block, Choice):
            body = block.branches[block.select(case.attrs)].body
            if body is not None:
                yield from self._block(body, case)
        elif isinstance(block, Loop):
            yield from self._block(block.body, case)
            repeat = self.loop_p.get(block.id, 0.0)
            while repeat > 0 and case.rng.random() < repeat:
                yield from self._block(block.body, case)

    def _task(self, task: Task, case: _Case) -> Gen:
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

    def _perform(self, plan: _Plan, case: _Case) -> Gen:
        env = self.env
        rng = case.rng
        if plan.lag is not None:
            target = self._after_lag(env.now, plan.lag, rng)
            if target > env.now:
                yield env.timeout(target - env.now)
        work = plan.work.sample(rng)
        deadline = self._deadline(plan, case)
        if plan.diary is not None and plan.booking is not None:
            end, resource = yield from self._booked(plan, case, deadline)
        else:
            people: list[int] = []
            for pool in plan.pools:
                requested = env.now
                index = yield pool.request(deadline)
                people.append(index)
                if case.logged:
                    self.waits.append((case.no, plan.code, pool.role, requested, env.now,
                                       plan.task.id))
            now = env.now
            if plan.pools:
                timing = plan.lane_pool if plan.lane_pool in plan.pools else plan.pools[0]
                schedule = timing.people[people[plan.pools.index(timing)]].schedule
            else:
                schedule = plan.lane_schedule
            end = schedule.advance(now, work)
            for pool in plan.pools:
                pool.add_work(now, work)
            if end > now:
                yield env.timeout(end - now)
            for pool, index in zip(plan.pools, people, strict=True):
                pool.release(index)
            if plan.lane_pool is not None and plan.lane_pool in plan.pools:
                resource = plan.lane_pool.people[people[plan.pools.index(plan.lane_pool)]].name
            else:
                resource = plan.task.role
        self._log(case, plan.code, env.now, resource, plan.task.role, plan.task.id)

    def _booked(self, plan: _Plan, case: _Case, deadline: float) -> Gen:
        env = self.env
        assert plan.diary is not None and plan.booking is not None
        diary = plan.diary
        booked = diary.book(env.now, plan.booking.lead_working_days)
        if booked is None:  # the diaries are full to the end of the calendar
            yield env.timeout(_INF)
        assert booked is not None
        person, earliest, slot = booked
        if case.logged:
            self.waits.append((case.no, plan.code, diary.pool.role, earliest, slot, plan.task.id))
        diary.pool.bins.proc_jobs[diary.pool.bins.index(slot)] += 1
        diary.pool.bins.proc_wait_sum[diary.pool.bins.index(slot)] += slot - earliest
        if slot > env.now:
            yield env.timeout(slot - env.now)
        people: list[int] = []
        for pool in plan.pools:
            index = yield pool.request(deadline, booked=True)
            people.append(index)
        length = diary.spec.slot_minutes
        for pool in plan.pools:
            pool.add_work(env.now, length)
        yield env.timeout(length)
        for pool, index in zip(plan.pools, people, strict=True):
            pool.release(index)
        return env.now, diary.pool.people[person].name

    def _after_lag(self, now: float, lag: Delay, rng: np.random.Generator) -> float:
        amount = lag.distribution.sample(rng)
        unit = lag.unit
        if unit is LagUnit.MINUTES:
            return now + amount
        if unit is LagUnit.HOURS:
            return now + amount * 60.0
        if unit is LagUnit.DAYS:
            return now + amount * 1440.0
        return self.office.advance(now, amount * self.office_day)

    def _deadline(self, plan: _Plan, case: _Case) -> float:
        """The earliest deadline of the rules that require this step (EDF's priority)."""
        if self.scenario.dispatch is not Dispatch.EDF or not plan.deadline_rules:
            return _INF
        best = _INF
        for rule, triggers, last in plan.deadline_rules:
            if any(case.attrs.get(k) is not v for k, v in rule.when.items()):
                continue
            times = [t for name in triggers for t in case.occ.get(name, ())]
            if not times:
                continue
            trigger = max(times) if last else min(times)
            assert rule.within is not None
            key = (rule.within, trigger)
            due = self._deadline_cache.get(key)
            if due is None:
                due = self.clock.deadline(rule.within, trigger)
                self._deadline_cache[key] = due
            best = min(best, due)
        return best

    def _log(self, case: _Case, code: int, t: float, resource: str, role: str,
             task_id: str) -> None:
        case.occ.setdefault(self.activities[code], []).append(t)
        if case.logged:
            self.seq += 1
            self.events.append((case.no, t, self.seq, code, resource, role, task_id))

    def _truth(self, case: _Case, kind: str, activity: str, other: str) -> None:
        if case.logged:
            self.truth.append((case.no, kind, activity, other, self.env.now))

    def _case(self, case: _Case) -> Gen:
        yield self.env.timeout(case.arrival)
        yield from self._block(self.procedure.flow, case)
        case.closed_at = self.env.now
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
        arrivals = self._arrivals()
        cases: list[_Case] = []
        processes = []
        logged_no = 0
        for no, (t, route) in enumerate(arrivals):
            case = self._new_case(no, t, route)
            if case.logged:
                logged_no += 1
                case.id = f"SIM-{logged_no:05d}"
            cases.append(case)
            process = self.env.process(self._case(case))
            if case.logged:
                processes.append(process)
        stop = self.env.timeout(self.stop_at)
        until = self.env.any_of([stop, self.env.all_of(processes)]) if processes else stop
        self.env.run(until=until)
        end = self.env.now
        for diary in self.diaries.values():
            diary.catch_up(end)
        return self._result(cases, end)

    # -- results

    def _result(self, cases: list[_Case], end: float) -> Replication:
        from simulation.results import expected_breaks

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
        events["timestamp"] = clock.iso_local(times)
        booleans = list(self.procedure.boolean_attributes)
        rows = []
        for case in logged:
            values: dict[str, Any] = {}
            for name in booleans:
                value: bool | None = case.attrs.get(name, False)
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
        truth = expected_breaks(self.truth, by_no, cases_frame, events, self.procedure,
                                clock, as_of_ns)
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
        timeline, queues = self._timeline(end)
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
            sim_events=_scheduled(self.env),
        )

    def _timeline(self, end: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        clock = self.clock
        first = self.n_warm_bins
        last = min(self.n_bins, math.ceil((end - self.bin_base) / self.bin_width))
        edges = self.bin_base + self.bin_width * np.arange(first, last + 1, dtype=np.float64)
        edges[-1] = min(edges[-1], end)
        spans = np.diff(edges)
        frames = []
        queue_rows = []
        for role, pool in self.pools.items():
            bins = pool.bins
            on_duty = np.zeros(len(edges))
            for person in pool.people:
                on_duty += person.schedule.worked_until(edges)
            duty = np.diff(on_duty)
            sl = slice(first, last)
            jobs = np.asarray(bins.jobs[sl], dtype=float)
            proc = np.asarray(bins.proc_jobs[sl], dtype=float)
            diary = self.diaries.get(role)
            if diary is not None:
                slot = diary.spec.slot_minutes
                taken = np.histogram(diary.taken_at, bins=edges)[0].astype(float)
                avail = np.zeros(len(spans))
                day_starts = [diary.slot_starts[d][0] if diary.slot_starts[d] else -1.0
                              for d in range(clock.n_days)]
                idx = np.searchsorted(edges, day_starts, side="right") - 1
                for d, b in enumerate(idx.tolist()):
                    if 0 <= b < len(avail) and day_starts[d] >= 0:
                        avail[b] += diary.available[d]
                work = taken * slot
                duty = avail * slot
                mean_queue = np.full(len(spans), np.nan)
                wait_all = np.full(len(spans), np.nan)
            else:
                work = np.asarray(bins.work[sl])
                mean_queue = np.asarray(bins.queue_area[sl]) / spans
                wait_all = np.divide(np.asarray(bins.wait_sum[sl]), jobs,
                                     out=np.full(len(spans), np.nan), where=jobs > 0)
            proc_wait = np.divide(np.asarray(bins.proc_wait_sum[sl]), proc,
                                  out=np.full(len(spans), np.nan), where=proc > 0)
            frames.append(pd.DataFrame({
                "role": role,
                "bin_start_utc": pd.to_datetime(clock.utc_ns(edges[:-1]), utc=True),
                "on_duty_hours": duty / 60.0,
                "work_hours": work / 60.0,
                "utilisation": np.divide(work, duty, out=np.full(len(spans), np.nan),
                                         where=duty > 0),
                "mean_queue": mean_queue,
                "jobs": jobs,
                "mean_wait_hours": wait_all / 60.0,
                "procedure_tasks": proc,
                "procedure_wait_hours": proc_wait / 60.0,
            }))
            window = slice(first, min(last, first + int(
                (self.log_end - self.log_start) // self.bin_width)))
            n_jobs = sum(bins.jobs[window])
            span = (window.stop - window.start) * self.bin_width
            if diary is None and span > 0:
                queue_rows.append({
                    "role": role,
                    "jobs": n_jobs,
                    "waited_share": sum(bins.waited[window]) / n_jobs if n_jobs else math.nan,
                    "mean_wait_minutes": sum(bins.wait_sum[window]) / n_jobs
                    if n_jobs else math.nan,
                    "mean_queue": sum(bins.queue_area[window]) / span,
                    "arrivals_per_minute": n_jobs / span,
                    "window_minutes": span,
                })
        timeline = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return timeline, pd.DataFrame(queue_rows)


def _minutes(at: Any) -> float:
    return float(at.hour * 60 + at.minute)


def _scheduled(env: simpy.Environment) -> int:
    """How many SimPy events the run scheduled (SimPy numbers them as it goes)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else 0


def simulate(scenario: Scenario, procedure: Procedure, seed: int | None = None,
             replication: int = 0) -> Replication:
    """One replication. ``seed`` (default: the scenario's) and ``replication`` fix every random
    stream: the same pair gives the same log, whatever else runs at the same time."""
    return _Sim(scenario, procedure, scenario.seed if seed is None else seed, replication).run()


# ---------------------------------------------------------------------------------- many runs


@dataclass(frozen=True)
class Job:
    """One replication to run: what to simulate, and whether to keep its full log."""

    scenario: Scenario
    procedure: Procedure
    seed: int
    replication: int
    keep: bool = False
    key: tuple[Any, ...] = ()


def replicate(job: Job) -> ReplicationOutcome:
    """Simulate, judge and summarise one replication (runs in a worker process)."""
    rep = simulate(job.scenario, job.procedure, job.seed, job.replication)
    return outcome_of(rep, job.procedure, keep=job.keep, key=job.key)


def execute(jobs: Sequence[Job], workers: int | None = None, scheduler: str | None = None,
            progress: bool = False, description: str = "replications"
            ) -> list[ReplicationOutcome]:
    """Run jobs in parallel processes (``workers``, default: every core), on a Dask cluster
    (``scheduler``: its address), or in this process (``workers=1``). Results come back in the
    order of ``jobs``, whatever order they finish in."""
    bar = _progress(len(jobs), progress, description)
    results: list[ReplicationOutcome | None] = [None] * len(jobs)
    try:
        if scheduler is not None:
            _on_dask(jobs, scheduler, results, bar.update)
        else:
            n = workers if workers is not None else (os.cpu_count() or 1)
            n = max(1, min(n, len(jobs)))
            if n == 1:
                for i, job in enumerate(jobs):
                    results[i] = replicate(job)
                    bar.update(1)
            else:
                _in_processes(jobs, n, results, bar.update)
    finally:
        bar.close()
    return [r for r in results if r is not None]


def _in_processes(jobs: Sequence[Job], workers: int, results: list[ReplicationOutcome | None],
                  tick: Callable[[int], object]) -> None:
    import concurrent.futures as cf

    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(replicate, job): i for i, job in enumerate(jobs)}
        for future in cf.as_completed(futures):
            results[futures[future]] = future.result()
            tick(1)


def _on_dask(jobs: Sequence[Job], address: str, results: list[ReplicationOutcome | None],
             tick: Callable[[int], object]) -> None:
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout=_CONNECT_SECONDS)  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as exc:  # nothing answers there, or not an address
        raise InputError(
            f"the Dask scheduler at {address}",
            [Problem("--scheduler",
                     "the address of a running Dask scheduler, such as tcp://10.0.0.5:8786 "
                     "(start one with `dask scheduler`, which prints its address, and workers "
                     "with `dask worker ADDRESS`)",
                     _sentence(str(exc)) or type(exc).__name__)],
            summary=f"the Dask scheduler at {address} could not be reached",
        ) from exc
    with client:
        futures = client.map(replicate, list(jobs), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        completed = as_completed(futures, with_results=True)  # type: ignore[no-untyped-call]
        for future, outcome in completed:
            results[index[future.key]] = outcome
            tick(1)


def _sentence(text: str) -> str:
    """An exception's message as the middle of a sentence."""
    return text[:1].lower() + text[1:]


class _NoBar:
    def update(self, n: int = 1) -> None:
        del n

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool, description: str) -> Any:
    if not enabled or total < 2 or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="run", file=sys.stderr, leave=False)


def run(scenario: Scenario, procedure: Procedure, *, replications: int | None = None,
        seed: int | None = None, workers: int | None = None, scheduler: str | None = None,
        progress: bool = False, keep_first: bool = True) -> SimulationResult:
    """Independent replications of ``scenario`` (default: its own count and seed), judged by
    the rule engine and aggregated with 95% confidence intervals across replications."""
    n = replications if replications is not None else scenario.replications
    base = scenario.seed if seed is None else seed
    jobs = [Job(scenario, procedure, base, i, keep=keep_first and i == 0) for i in range(n)]
    outcomes = execute(jobs, workers, scheduler, progress)
    return aggregate(outcomes, scenario, procedure, base)


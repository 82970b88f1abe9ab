"""The people of a simulated run: who is on duty, the queue of each role, diaries, statistics.

People are individuals with their own on-duty time (``clock.Schedule``: office hours on working
days of the run's calendar, or every hour for out-of-hours cover, less leave and sickness). Each
role with a headcount has one ``Pool``: its people and one queue, served first come first served
or earliest deadline first. Background work (the larger part of everyone's job) arrives as a
coarse stream of jobs into the same queues. A role with a diary (a conference chair) is booked
into slots of its people's diaries instead, which other bookings fill too (``Diary``).

``build_staff`` builds them all for a run; ``timeline`` sums up their queues and utilisation per
bin of the run's ``Grid``. The engine (``simulation.engine``) walks cases through them.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import simpy

from model.procedure import Procedure
from simulation.clock import Clock, Duty, Schedule
from simulation.diary import Diary
from simulation.heaps import End, pop_end, pop_int, push_end, push_int
from simulation.scenario import Dispatch, Hours, RoleSpec, Scenario
from simulation.streams import Purpose, Streams

__all__ = ["Bins", "Diary", "Grid", "Person", "Pool", "Staff", "build_staff", "timeline"]

Gen = Generator[simpy.Event, Any, Any]
# ``env._now``, not ``env.now``, throughout: the property is an interpreted call, made a million
# times a run from the compiled walk (setup.py)


@dataclass(frozen=True)
class Grid:
    """The time bins of a run's statistics: ``n`` bins of ``width`` minutes from ``base``.

    Bins ``first`` onwards start after the warm-up; ``window`` minutes from the first of them
    are the logged horizon (the queues' summary covers whole bins within it).
    """

    base: float
    width: float
    n: int
    first: int
    window: float


class Person:
    """One member of a role: their on-duty schedule, and whether they are busy now."""

    __slots__ = ("busy", "index", "name", "schedule")

    def __init__(self, index: int, name: str, schedule: Duty) -> None:
        self.index = index
        self.name = name
        self.schedule = schedule
        self.busy = False


class Bins:
    """Per-bin accumulators of one role's queue (the bins of a ``Grid``)."""

    def __init__(self, grid: Grid) -> None:
        self.base = grid.base
        self.width = grid.width
        self.n = n = grid.n
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


class Pool:
    """A role with a headcount: its people, its queue and its statistics.

    Background jobs are kept off SimPy's event queue: their arrivals and ends are this pool's
    own timetable (``_bg_at``, ``_done``), played up to the present whenever the pool is
    touched (a request, a release, a change of shift, the end of the run) by the same code, at
    the same times and in the same order as events would run them, so the statistics and every
    case's path are as they would be. Only when a case waits in the queue does the earliest end
    of a background job become a SimPy event (``_arm``), since then it may hand that case a
    person. In a county ten times the default's size this halves the events SimPy handles.
    """

    def __init__(self, env: simpy.Environment, spec: RoleSpec, people: list[Person], rank: int,
                 *, edf: bool, grid: Grid) -> None:
        self.env = env
        self.role = spec.id
        self.spec = spec
        self.rank = rank  # the order in which a multi-role step takes people
        self.people = people
        self.queue: list[tuple[float, float, int, simpy.Event | None, float]] = []
        self.free: list[int] = []  # heap of indices of people free and on duty
        self.seq = 0
        self.edf = edf  # earliest deadline first, else first come first served
        self.bins = Bins(grid)
        self.last_t = 0.0
        self._bg_times: list[float] = []
        self._bg_works: list[float] = []
        self._bg_next = 0
        self._bg_at = math.inf  # when the next background job arrives
        self._bg_order = 0  # its place among the timetable's entries (SimPy's order of events)
        self._done: list[End] = []  # the ends of background jobs under way (a heap)
        self._order = 0
        self._cases_waiting = 0  # requests of cases in the queue
        self._wake: simpy.Event | None = None
        self._wake_at = math.nan

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

    # -- the background's timetable

    def catch_up(self, now: float) -> None:
        """Play the background jobs' arrivals and ends up to ``now``, in time order (ends and
        arrivals at the same time in the order their events would have been set)."""
        done = self._done
        arrival = self._bg_at
        if arrival > now and (not done or done[0].at > now):
            return
        queue = self.queue
        people = self.people
        free = self.free  # the same list throughout (only ``shifts`` replaces it)
        bins = self.bins
        base, width, last_bin = bins.base, bins.width, bins.n - 1
        jobs, bin_work = bins.jobs, bins.work
        times = self._bg_times
        works = self._bg_works
        n_times = len(times)
        bg_order = self._bg_order
        while True:
            if done:
                first = done[0]
                t = first.at
                if t < arrival or (t == arrival and first.order < bg_order):
                    if t > now:
                        return
                    pop_end(done)
                    index = first.index  # a background job ends: what ``_release`` does
                    people[index].busy = False
                    if first.on:  # on duty then
                        push_int(free, index)
                    if queue:
                        self._dispatch(t)
                    continue
            if arrival > now:
                return
            i = self._bg_next
            self._bg_next = i + 1
            work = works[i]
            if queue or not free:
                self._add_background(arrival, work)
            else:  # served at once: what ``_add_background`` does then (it waits 0 minutes)
                if arrival > self.last_t:
                    self.last_t = arrival  # the queue was empty: nothing to accrue
                self.seq += 1
                index = pop_int(free)
                person = people[index]
                person.busy = True
                b = int((arrival - base) // width)
                if b > last_bin:
                    b = last_bin
                jobs[b] += 1
                at, on = person.schedule.finish(arrival, work)
                bin_work[b] += work
                self._order += 1
                push_end(done, End(at, self._order, index, on))
            # the next arrival, at the time a SimPy timeout set now would fire
            if i + 1 < n_times:
                arrival = arrival + max(0.0, times[i + 1] - arrival)
                self._order += 1
                bg_order = self._bg_order = self._order
            else:
                arrival = math.inf
            self._bg_at = arrival

    def _schedule_arrival(self, now: float) -> None:
        i = self._bg_next
        if i < len(self._bg_times):
            # the time a SimPy timeout of this delay, set now, would fire at
            self._bg_at = now + max(0.0, self._bg_times[i] - now)
            self._order += 1
            self._bg_order = self._order
        else:
            self._bg_at = math.inf

    def _arm(self) -> None:
        """While a case waits, the earliest end of a background job is a SimPy event."""
        if not self._cases_waiting or not self._done:
            return
        t = self._done[0].at
        if self._wake is not None and self._wake_at == t:
            return
        env = self.env
        # An event that has happened (as SimPy's own timeout), put on SimPy's queue at exactly
        # the job's end, where the timeout set when the job began would have fired
        # (``Environment.schedule`` takes a delay, and now + (end - now) can miss end by a
        # rounding; SimPy 4's queue holds (time, priority, sequence number, event)).
        event = simpy.Event(env)
        event._ok = True
        event._value = None
        event.callbacks.append(self._woken)  # type: ignore[union-attr]
        heapq.heappush(env._queue, (t, simpy.events.NORMAL, next(env._eid), event))
        self._wake = event
        self._wake_at = t

    def _woken(self, event: simpy.Event) -> None:
        if event is not self._wake:
            return
        self._wake = None
        self._wake_at = math.nan
        self.catch_up(self.env._now)
        self._arm()

    def _add_background(self, now: float, work: float) -> None:
        self._accrue(now)
        self.seq += 1
        primary = math.inf if self.edf else 0.0
        heapq.heappush(self.queue, (primary, now, self.seq, None, work))
        self._dispatch(now)

    # -- requests

    def request(self, deadline: float, *, booked: bool = False) -> simpy.Event:
        """An event that succeeds with a person's index when one is assigned."""
        now = self.env._now
        self.catch_up(now)
        self._accrue(now)
        self.seq += 1
        event = self.env.event()
        primary = -math.inf if booked else (deadline if self.edf else 0.0)
        heapq.heappush(self.queue, (primary, now, self.seq, event, 0.0))
        self._cases_waiting += 1
        self._dispatch(now)
        self._arm()
        return event

    def release(self, index: int) -> None:
        now = self.env._now
        self.catch_up(now)
        self._release(index, now)
        self._arm()

    def _release(self, index: int, now: float) -> None:
        person = self.people[index]
        person.busy = False
        if person.schedule.on_duty(now):
            push_int(self.free, index)
        self._dispatch(now)

    def add_work(self, now: float, work: float) -> None:
        self.catch_up(now)
        self.bins.work[self.bins.index(now)] += work
        self._arm()

    def _dispatch(self, now: float) -> None:
        queue = self.queue
        free = self.free
        if not queue or not free:
            return
        self._accrue(now)
        bins = self.bins
        b = bins.index(now)
        while queue and free:
            _, requested, _, event, work = heapq.heappop(queue)
            index = pop_int(free)
            person = self.people[index]
            person.busy = True
            wait = now - requested
            bins.jobs[b] += 1
            bins.wait_sum[b] += wait
            if wait > 1e-9:
                bins.waited[b] += 1
            if event is None:
                at, on = person.schedule.finish(now, work)
                bins.work[b] += work
                self._order += 1
                # the time a SimPy timeout of this delay, set now, would fire at
                push_end(self._done, End(at, self._order, index, on))
            else:
                self._cases_waiting -= 1
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

    def on_duty_at(self, times: list[float]) -> list[list[int]]:
        """For each of ``times``, the indices of the people on duty then, in order (what each
        person's ``on_duty`` says, asked of all of them at once)."""
        at = np.asarray(times, dtype=np.float64)
        on = np.zeros((len(self.people), len(at)), dtype=bool)
        for k, person in enumerate(self.people):
            schedule = person.schedule
            if not schedule.starts:
                continue
            i = np.searchsorted(np.asarray(schedule.starts), at, side="right") - 1
            ends = np.asarray(schedule.ends)
            on[k] = (i >= 0) & (at < ends[np.maximum(i, 0)])
        return [np.flatnonzero(column).tolist() for column in on.T]

    def shifts(self, times: list[float]) -> Gen:
        """Who is on duty changes at these times: rebuild the free list, serve the queue."""
        env = self.env
        people = self.people
        for t, on in zip(times, self.on_duty_at(times), strict=True):
            if t > env._now:
                yield env.timeout(t - env._now)
            now = env._now
            self.catch_up(now)
            self.free = [i for i in on if not people[i].busy]
            heapq.heapify(self.free)
            self._dispatch(now)
            self._arm()

    def background(self, times: list[float], works: list[float]) -> None:
        """The background jobs' arrival times and lengths (played by ``catch_up``)."""
        self._bg_times = times
        self._bg_works = works
        self._bg_next = 0
        self._schedule_arrival(self.env._now)


@dataclass(frozen=True)
class Staff:
    """Every role's people: pools of the roles with a headcount, diaries of the roles that have
    one, and each role's hours (which time a step of an unlimited role counts)."""

    pools: dict[str, Pool]
    diaries: dict[str, Diary]
    schedules: dict[str, Schedule]


def build_staff(env: simpy.Environment, scenario: Scenario, procedure: Procedure, clock: Clock,
                streams: Streams, grid: Grid, stop_at: float) -> Staff:
    """The people of every role the procedure's steps need, with their leave, sickness,
    background work and diaries, and the processes that change who is on duty."""
    order = list(procedure.roles)
    edf = scenario.dispatch is Dispatch.EDF
    staff = Staff({}, {}, {})
    for role_id in _needed_roles(scenario, procedure):
        spec = scenario.role(role_id)
        office = Duty(*clock.office_intervals(spec.open, spec.close))
        always = Duty(*clock.day_intervals())
        staff.schedules[role_id] = always if spec.hours is Hours.ALWAYS else office
        if spec.headcount is None:
            continue
        people: list[Person] = []
        absent_days: list[set[int]] = []
        for k in range(spec.headcount):
            is_always = spec.hours is Hours.ALWAYS or k < spec.out_of_hours
            absent = _absences(spec, clock, streams(Purpose.LEAVE, role_id, k))
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
            people.append(Person(k, name, Duty(starts, ends)))
        rank = order.index(role_id) if role_id in order else len(order)
        pool = Pool(env, spec, people, rank, edf=edf, grid=grid)
        staff.pools[role_id] = pool
        if spec.diary is not None:
            staff.diaries[role_id] = Diary(clock, pool, absent_days,
                                           streams(Purpose.DIARY, role_id), scenario)
        else:
            env.process(pool.shifts(pool.boundaries()))
        if spec.background is not None and spec.background.share > 0:
            times, works = _background_stream(spec, office, stop_at, scenario.background_demand,
                                              streams(Purpose.BACKGROUND, spec.id))
            pool.background(times, works)
    return staff


def _needed_roles(scenario: Scenario, procedure: Procedure) -> list[str]:
    """The roles of the procedure's steps (lanes, participants, extra roles), in the order of
    the steps, then any other role the scenario lists."""
    names: list[str] = []
    for task in procedure.tasks():
        act = procedure.activities[task.activity]
        extra = scenario.task(task.activity).extra_roles
        for role in (task.role, *act.participants, *extra):
            if role not in names:
                names.append(role)
    for role in scenario.roles:
        if role not in names:
            names.append(role)
    return names


def _absences(spec: RoleSpec, clock: Clock, rng: np.random.Generator) -> set[int]:
    """Days off for one person: leave in blocks of working days, and sickness days."""
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


def _background_stream(spec: RoleSpec, office: Schedule, stop_at: float, demand: float,
                       rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """Arrival times (a Poisson stream in proportion to the role's nominal headcount on
    duty) and lengths of background jobs, up to the end of the run."""
    assert spec.background is not None and spec.headcount is not None
    n_always = spec.headcount if spec.hours is Hours.ALWAYS else spec.out_of_hours
    n_office = spec.headcount - n_always
    edges = sorted({0.0, stop_at, *(s for s in office.starts if s < stop_at),
                    *(e for e in office.ends if e < stop_at)})
    xs = np.asarray(edges)
    capacity = n_always * xs + n_office * office.worked_until(xs)
    total = float(capacity[-1])
    rate = spec.background.share * demand / spec.background.job.mean()
    n = int(rng.poisson(rate * total))
    u = np.sort(rng.uniform(0.0, total, n))
    times = np.interp(u, capacity, xs)
    works = spec.background.job.sample_many(rng, n)
    return times.tolist(), works.tolist()


def timeline(staff: Staff, clock: Clock, grid: Grid, end: float
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per role and bin after the warm-up (up to ``end``): on-duty and work hours, utilisation,
    mean queue, jobs and waits; and per role over the logged horizon: jobs, the share that
    waited, mean wait and queue, arrivals per minute (roles with a diary have no queue)."""
    first = grid.first
    last = min(grid.n, math.ceil((end - grid.base) / grid.width))
    edges = grid.base + grid.width * np.arange(first, last + 1, dtype=np.float64)
    edges[-1] = min(edges[-1], end)
    spans = np.diff(edges)
    frames = []
    queue_rows = []
    for role, pool in staff.pools.items():
        pool.catch_up(end)  # the background up to the end of the run
        bins = pool.bins
        on_duty = np.zeros(len(edges))
        for person in pool.people:
            on_duty += person.schedule.worked_until(edges)
        duty = np.diff(on_duty)
        sl = slice(first, last)
        jobs = np.asarray(bins.jobs[sl], dtype=float)
        proc = np.asarray(bins.proc_jobs[sl], dtype=float)
        diary = staff.diaries.get(role)
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
        window = slice(first, min(last, first + int(grid.window // grid.width)))
        n_jobs = sum(bins.jobs[window])
        span = (window.stop - window.start) * grid.width
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


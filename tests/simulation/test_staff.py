"""A role's queue with background work kept off SimPy's event queue (``simulation.staff.Pool``):
cases are served exactly when the background job ahead of them ends, and the statistics are
those of the jobs as they happened. A person's on-duty time searched from where the last answer
was, and picks by cumulative weights, give exactly the plain answers."""

from __future__ import annotations

from bisect import bisect_right
from datetime import time

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.clock import Duty, Schedule
from simulation.scenario import Distribution, Hours, RoleSpec, cumulative
from simulation.staff import Grid, Person, Pool

DAY = 1440.0


def _pool(env: simpy.Environment, people: int, *, edf: bool = False) -> Pool:
    spec = RoleSpec("police", people, Hours.OFFICE, time(9), time(17), 0, 0.0, 5, 0.0, None,
                    None)
    # on duty 09:00-17:00 on two days
    staff = [Person(k, f"police-{k + 1:02d}", Duty([540.0, DAY + 540.0],
                                                  [1020.0, DAY + 1020.0]))
             for k in range(people)]
    pool = Pool(env, spec, staff, 0, edf=edf, grid=Grid(0.0, DAY, 3, 0, 2 * DAY))
    env.process(pool.shifts(pool.boundaries()))
    return pool


def _case(env: simpy.Environment, pool: Pool, at: float, work: float,
          log: list[tuple[str, float]], name: str, deadline: float = float("inf")
          ) -> simpy.events.ProcessGenerator:
    yield env.timeout(at)
    index = yield pool.request(deadline)
    log.append((f"{name} starts", env.now))
    yield env.timeout(work)
    pool.release(index)
    log.append((f"{name} ends", env.now))


def test_a_case_behind_background_work_starts_when_that_job_ends() -> None:
    env = simpy.Environment()
    pool = _pool(env, 1)
    # background jobs at 10:00 (90 minutes) and 10:30 (30 minutes); a case asks at 10:10
    pool.background([600.0, 630.0], [90.0, 30.0])
    log: list[tuple[str, float]] = []
    env.process(_case(env, pool, 610.0, 20.0, log, "case"))
    env.run(until=2 * DAY)
    pool.catch_up(env.now)
    # first come first served: the 10:00 job until 11:30, then the case (asked before the
    # 10:30 job), then the 10:30 job from 11:50 to 12:20
    assert log == [("case starts", 690.0), ("case ends", 710.0)]
    bins = pool.bins
    assert bins.jobs[0] == 3
    assert bins.proc_jobs[0] == 1 and bins.proc_wait_sum[0] == pytest.approx(80.0)
    assert bins.wait_sum[0] == pytest.approx(0.0 + 80.0 + 80.0)  # the 10:30 job waits to 11:50
    assert bins.work[0] == pytest.approx(120.0)
    # the queue held one job 10:10-10:30, two 10:30-11:30, one 11:30-11:50
    assert bins.queue_area[0] == pytest.approx(20.0 + 2 * 60.0 + 20.0)
    assert not pool._done and pool._cases_waiting == 0


def test_background_work_past_the_office_day_ends_the_next_morning() -> None:
    env = simpy.Environment()
    pool = _pool(env, 1)
    pool.background([960.0], [120.0])  # 16:00, two hours: one today, one tomorrow
    log: list[tuple[str, float]] = []
    env.process(_case(env, pool, 1000.0, 10.0, log, "case"))
    env.run(until=2 * DAY)
    assert log == [("case starts", DAY + 600.0), ("case ends", DAY + 610.0)]


def test_earliest_deadline_first_serves_cases_before_background_work() -> None:
    env = simpy.Environment()
    pool = _pool(env, 2, edf=True)
    pool.background([600.0, 601.0, 602.0], [60.0, 120.0, 30.0])
    log: list[tuple[str, float]] = []
    env.process(_case(env, pool, 610.0, 10.0, log, "case", deadline=2000.0))
    env.run(until=2 * DAY)
    pool.catch_up(env.now)
    # two people busy until 11:00 and 12:01; the 10:02 job waits behind the case
    assert log == [("case starts", 660.0), ("case ends", 670.0)]
    assert pool.bins.wait_sum[0] == pytest.approx(50.0 + (670.0 - 602.0))


def test_who_is_on_duty_at_each_change_of_shift_is_each_persons_own_answer() -> None:
    """``Pool.on_duty_at`` (all people at once) says what each person's ``on_duty`` says, at
    the shift boundaries and between them, with leave, nights and an empty diary of hours."""
    env = simpy.Environment()
    spec = RoleSpec("police", 4, Hours.OFFICE, time(9), time(17), 0, 0.0, 5, 0.0, None, None)
    schedules = [
        Duty([540.0, DAY + 540.0, 3 * DAY + 540.0], [1020.0, DAY + 1020.0, 3 * DAY + 1020.0]),
        Duty([0.0, DAY, 2 * DAY], [DAY, 2 * DAY, 3 * DAY]),  # nights too, days back to back
        Duty([], []),  # on leave throughout
        Duty([2 * DAY + 540.0], [2 * DAY + 1020.0]),
    ]
    pool = Pool(env, spec, [Person(k, f"p{k}", s) for k, s in enumerate(schedules)], 0,
                edf=False, grid=Grid(0.0, DAY, 5, 0, 4 * DAY))
    times = sorted({*pool.boundaries(), 100.0, 600.0, DAY + 1019.9, 5 * DAY})
    expected = [[k for k, s in enumerate(schedules) if s.on_duty(t)] for t in times]
    assert pool.on_duty_at(times) == expected
    assert any(len(on) == 2 for on in expected) and any(on == [1] for on in expected)


@given(
    gaps=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=12),
    steps=st.lists(st.tuples(st.integers(-10, 40), st.integers(0, 60)), max_size=40),
)
@settings(max_examples=400, deadline=None)
def test_a_persons_remembered_place_gives_the_plain_schedules_answers(
        gaps: list[tuple[int, int]], steps: list[tuple[int, int]]) -> None:
    """``Duty`` starts its searches where the last answer was (and the interval after it):
    whatever order the questions come in, on duty or not and when work ends are exactly the
    plain ``Schedule``'s answers (intervals back to back or of no length included)."""
    starts, ends, t = [], [], 0.0
    for gap, length in gaps:
        t += gap
        starts.append(t)
        t += length
        ends.append(t)
    plain, duty = Schedule(starts, ends), Duty(starts, ends)
    now = 0.0
    for move, work in steps:
        now = max(-5.0, now + move * 0.5)
        assert duty.on_duty(now) == plain.on_duty(now)
        assert duty.advance(now, work * 0.5) == plain.advance(now, work * 0.5)
        at, on = duty.finish(now, work * 0.5)
        assert at == now + (plain.advance(now, work * 0.5) - now)
        assert on == plain.on_duty(at)


@given(weights=st.lists(st.floats(0.0, 50.0), min_size=1, max_size=8)
       .filter(lambda w: sum(w) > 0), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_a_pick_by_cumulative_weights_is_what_numpys_choice_picks(weights: list[float],
                                                                 seed: int) -> None:
    """The simulator picks an offence and an empirical value with one ``random()`` found in
    ``cumulative(weights)``: the same pick as ``Generator.choice(p=...)`` from the same draw,
    leaving the stream where ``choice`` leaves it (so runs are as they were before)."""
    cdf = cumulative(weights)
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    p = np.asarray(weights) / sum(weights)
    for _ in range(50):
        assert bisect_right(cdf, ours.random()) == int(numpys.choice(len(weights), p=p))
    assert ours.random() == numpys.random()
    values = tuple(float(v) for v in range(len(weights)))
    empirical = Distribution("empirical", values=values, weights=tuple(weights))
    ours, numpys = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    assert [empirical.sample(ours) for _ in range(20)] == [
        values[int(numpys.choice(len(values), p=p))] for _ in range(20)]

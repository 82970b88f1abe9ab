"""Benchmark: a year of the default scenario, against a bare SimPy model of the same work.

Run:  python bench/bench_simulate.py [--replications 100] [--workers 2] [--repeat 3]

Prints, for one county-year:
- the full simulator (calendars, leave, diaries, the model's walk, the log; then the checker's
  judgement): cases, log events and SimPy events per second;
- a bare SimPy model written here with the same arrivals and durations (the same cases and the
  same background jobs, no calendars, no leave, no deadlines, no diaries, a fixed chain of steps
  per case, no log): the same figures, and the full simulator's share of its throughput;
- the wall-clock time of ``--replications`` county-years run in parallel, and peak memory
  (the largest resident set of this process and of any worker process).

With ``--baseline-tree DIR`` (a checkout of another version, e.g. made with ``git worktree add
/tmp/base HEAD~3``), it also times a county-year of that version and of this one, interleaved
in fresh processes, best of ``--rounds`` x 7 seeds each, and prints the difference: what a change
to the simulator costs (the timing recorded for the bottleneck split was measured this way).

Targets on a 2-core machine: at least 40% of the bare model's throughput, 100 replications in
under 60 seconds, peak memory under 1 GiB. Single runs are timed in CPU time (steadier when the
machine is shared); the parallel run reports wall-clock time, the workers' CPU time and the
load average, since other load on the machine slows it.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.procedure import load_procedure
from simulation.engine import simulate
from simulation.results import outcome_of
from simulation.runner import run
from simulation.scenario import LagUnit, Scenario, load_scenario

# The steps of a case in the bare model: the referral route with a Section 47 enquiry.
CHAIN = (
    "Police notified", "Social care notified", "Concerns discussed with police and social care",
    "Information shared", "Family informed", "Strategy discussion held",
    "Section 47 enquiry started", "Access to children assessed", "Section 47 enquiry completed",
    "Initial child protection conference held", "Case closed",
)


def bare_year(scenario: Scenario, seed: int) -> tuple[float, int, int]:
    """A plain SimPy model of the same volume of work; returns (seconds, cases, SimPy events)."""
    procedure = load_procedure()
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    year = 365.0 * 1440.0
    resources: dict[str, simpy.Resource] = {}
    for role, spec in scenario.roles.items():
        if spec.headcount is not None:
            resources[role] = simpy.Resource(env, capacity=spec.headcount)

    def job(res: simpy.Resource, work: float) -> Any:
        with res.request() as req:
            yield req
            yield env.timeout(work)

    def background(role: str, share: float, mean: float, works: np.ndarray) -> Any:
        headcount = scenario.roles[role].headcount or 1
        gaps = rng.exponential(mean / (share * headcount), len(works))
        for gap, work in zip(gaps.tolist(), works.tolist(), strict=True):
            yield env.timeout(gap)
            env.process(job(resources[role], work))

    for role, spec in scenario.roles.items():
        if spec.background is not None and spec.headcount is not None:
            # the same number of jobs a year as the full model's nominal capacity gives
            n = int(spec.background.share * spec.headcount * 250 * 480 / spec.background.job.mean()
                    + spec.background.share * spec.out_of_hours * (year - 250 * 480)
                    / spec.background.job.mean())
            works = spec.background.job.sample_many(rng, n)
            env.process(background(role, spec.background.share, spec.background.job.mean(),
                                   works))

    def roles_of(activity: str) -> list[str]:
        act = procedure.activities[activity]
        extra = scenario.task(activity).extra_roles
        return [r for r in dict.fromkeys((act.role, *act.participants, *extra))
                if r in resources]

    steps = []
    for activity in CHAIN:
        step = scenario.task(activity)
        lag = 0.0
        if step.lag is not None:
            lag = step.lag.distribution.mean()
            if step.lag.unit is LagUnit.WORKING_DAYS:
                lag *= 480.0
            elif step.lag.unit is LagUnit.HOURS:
                lag *= 60.0
            elif step.lag.unit is LagUnit.DAYS:
                lag *= 1440.0
        steps.append((lag, step.work, roles_of(activity)))

    def case() -> Any:
        for lag, work, roles in steps:
            if lag:
                yield env.timeout(rng.exponential(lag))
            requests = [resources[r].request() for r in roles]
            for req in requests:
                yield req
            yield env.timeout(work.sample(rng))
            for r, req in zip(roles, requests, strict=True):
                resources[r].release(req)

    volume = sum(r.annual_volume for r in scenario.routes.values()) * scenario.demand

    def arrivals() -> Any:
        while env.now < year:
            yield env.timeout(rng.exponential(year / volume))
            env.process(case())

    env.process(arrivals())
    started = time.process_time()
    env.run(until=year + 150 * 1440.0)
    seconds = time.process_time() - started
    return seconds, int(volume), int(next(env._eid))


def full_year(scenario: Scenario, seed: int) -> dict[str, float]:
    procedure = load_procedure()
    started = time.process_time()
    rep = simulate(scenario, procedure, seed=seed)
    simulated = time.process_time() - started
    outcome_of(rep, procedure)
    judged = time.process_time() - started - simulated
    return {"seconds": simulated, "judge_seconds": judged, "cases": len(rep.cases),
            "all_cases": rep.all_cases, "events": len(rep.events),
            "sim_events": rep.sim_events}


_TIMED = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from model.procedure import load_procedure
from simulation.engine import simulate
from simulation.results import outcome_of
from simulation.scenario import load_scenario
import simulation.engine
assert simulation.engine.__file__.startswith(sys.argv[1]), simulation.engine.__file__
procedure = load_procedure()
scenario = load_scenario(None, procedure)
simulate(scenario, procedure, seed=0)
best_sim = best_all = float("inf")
for seed in range(1, 8):
    started = time.process_time()
    rep = simulate(scenario, procedure, seed=seed)
    simulated = time.process_time() - started
    outcome_of(rep, procedure)
    best_sim = min(best_sim, simulated)
    best_all = min(best_all, time.process_time() - started)
print(best_sim, best_all)
"""


def against(baseline: Path, rounds: int) -> None:
    """Time a county-year (simulate, then simulate and judge) of ``baseline`` and of this
    tree, interleaved in fresh processes; print the best of each and the difference."""
    import subprocess

    here = Path(__file__).resolve().parents[1]
    best: dict[str, list[float]] = {"baseline": [math.inf, math.inf],
                                    "this tree": [math.inf, math.inf]}
    for _ in range(rounds):
        for name, tree in (("baseline", baseline.resolve()), ("this tree", here)):
            done = subprocess.run([sys.executable, "-c", _TIMED, str(tree)], cwd="/",
                                  capture_output=True, text=True, check=True)
            sim, both = map(float, done.stdout.split())
            best[name] = [min(best[name][0], sim), min(best[name][1], both)]
    (b_sim, b_all), (t_sim, t_all) = best["baseline"], best["this tree"]
    print(f"Against {baseline} (best of {rounds} x 7 county-years each, CPU time, "
          f"interleaved; load average {os.getloadavg()[0]:.1f}):")
    print(f"  simulate: {b_sim:.3f} s there, {t_sim:.3f} s here ({100 * (t_sim / b_sim - 1):+.1f}%)")
    print(f"  simulate and judge: {b_all:.3f} s there, {t_all:.3f} s here "
          f"({100 * (t_all / b_all - 1):+.1f}%)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-tree", type=Path, metavar="DIR",
                        help="also time a county-year of the checkout in DIR against this one")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds for --baseline-tree (default 5)")
    args = parser.parse_args()
    if args.baseline_tree is not None:
        against(args.baseline_tree, args.rounds)
    procedure = load_procedure()
    scenario = load_scenario(None, procedure)
    simulate(scenario, procedure, seed=0)  # warm the caches (calendar tables, imports)

    full = min((full_year(scenario, seed) for seed in range(1, args.repeat + 1)),
               key=lambda r: r["seconds"])
    bare = min((bare_year(scenario, seed) for seed in range(1, args.repeat + 1)),
               key=lambda r: r[0])
    bare_seconds, bare_cases, bare_events = bare
    print("One county-year of the default scenario (CPU time of this process, best of "
          f"{args.repeat}; the full run includes {scenario.warm_up_days} days of warm-up)")
    print(f"  full simulator: {full['seconds']:.2f} s; {full['cases']:.0f} logged cases "
          f"({full['all_cases']:.0f} with the warm-up), {full['events']:.0f} log events, "
          f"{full['sim_events']:.0f} SimPy events")
    print(f"    {full['all_cases'] / full['seconds']:,.0f} cases/s, "
          f"{full['events'] / full['seconds']:,.0f} log events/s, "
          f"{full['sim_events'] / full['seconds']:,.0f} SimPy events/s; judging the log "
          f"{full['judge_seconds']:.2f} s more")
    print("    (background jobs are played off SimPy's queue (simulation.staff.Pool), so the "
          "full simulator hands SimPy fewer events than the bare model does for the same work: "
          "compare the times, not the events per second)")
    print(f"  bare SimPy model: {bare_seconds:.2f} s; {bare_cases} cases, {bare_events} SimPy "
          f"events; {bare_cases / bare_seconds:,.0f} cases/s, "
          f"{bare_events / bare_seconds:,.0f} SimPy events/s")
    share = bare_seconds / full["seconds"]
    print(f"  the full simulator runs a county-year in {share:.0%} of the bare model's "
          f"throughput (target: at least 40%)")

    load_before = os.getloadavg()[0]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = run(scenario, procedure, replications=args.replications, workers=args.workers,
                 keep_first=False)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    print(f"{args.replications} replications on {args.workers} processes: {wall:.1f} s wall "
          f"clock (target: under 60 s); {cpu:.1f} s of CPU in the workers "
          f"({cpu / args.replications:.2f} s a replication, simulating and judging); "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"({os.cpu_count()} cores)")
    print(f"  ICPC within 15 working days: "
          f"{result.rule('icpc-within-15-working-days')['compliance']:.1%}")
    print(f"Peak memory (largest process): {peak_mib():.0f} MiB (target: under 1024 MiB)")


if __name__ == "__main__":
    main()

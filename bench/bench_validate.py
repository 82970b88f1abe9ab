"""Benchmark: validating 20 replications against a log of 10,000 cases.

Run:  python bench/bench_validate.py [--cases 10000] [--replications 20] [--workers 2]
                                     [--calibrated]

Builds the county of ``bench/bench_calibrate.py`` (ten times the default's demand and staff),
simulates the truth (fewer LADOs and slower police than its default) until about ``--cases``
cases have begun, writes its log and reads it back as ``lscb validate`` does, then times
``simulation.calibration.validate.validate``: ``--replications`` replications of the scenario
over the log's period on ``--workers`` processes, each judged by the checker and measured
against the log (compliance, timeliness bands, flow, the log distance measures).

The scenario validated is the uncalibrated default of the same size (``--calibrated``: the
scenario calibrated from the log, which adds the calibration's time before the timing starts).
The unit is one simulated replication of that scenario over the same period, as validation
runs it (lean, judged with the same settings), timed in this process just before: the validation's wall-clock time is printed beside it and as a ratio, since
other load on a shared machine slows both alike. With ``w`` workers the ratio cannot fall below
about ``replications / w`` (each replication has to be simulated); what it holds above that is
the judging, the measuring and the processes' cost. The CPU time of this process and of the
workers is printed too, and from it the wall-clock time the run would take on an idle machine
(this process's CPU time + the workers' divided by ``w``): on a machine shared with other work
the wall-clock time mostly measures the others.

Target on a 2-core machine: under two minutes for 20 replications of a 10,000-case log.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_calibrate import large

from model.procedure import load_procedure
from simulation.calibration.calibrate import calibrate_file, read_event_log
from simulation.calibration.validate import period_of, validate
from simulation.engine import simulate
from simulation.results import write_event_log
from simulation.scenario import load_scenario


def _children_cpu() -> float:
    """CPU seconds of this process's finished child processes (the worker pool's)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--calibrated", action="store_true",
                        help="validate the scenario calibrated from the log, not the default")
    args = parser.parse_args()
    procedure = load_procedure()
    default = load_scenario(None, procedure)
    truth = large(default, procedure, args.cases, truth=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "truth_log.csv"
        rep = simulate(truth, procedure)
        write_event_log(rep, path, procedure)
        log = read_event_log(path, procedure)
        print(f"the log: {len(rep.cases):,} cases, {len(rep.events):,} events over "
              f"{truth.horizon_days} days")
        if args.calibrated:
            t0 = time.perf_counter()
            scenario = calibrate_file(path, procedure).scenario(procedure)
            print(f"calibrated from it in {time.perf_counter() - t0:.1f} s")
            name = "the calibrated scenario"
        else:
            scenario = large(default, procedure, args.cases, truth=False)
            name = "the default of the same size"

    # the unit: one replication of the scenario over the log's period, as validate runs it
    start, horizon, drain = period_of(log)
    moved = scenario.with_values({"scenario.start": start, "scenario.horizon_days": horizon,
                                  "scenario.drain_days": drain}, procedure)
    t0, c0 = time.perf_counter(), time.process_time()
    one = simulate(moved, procedure, scenario.seed, 0, lean=True,
                   check_config=replace(moved.checking, as_of=None))
    unit, unit_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"one replication of {name} over that period: {unit:.1f} s "
          f"({unit_cpu:.1f} s CPU; {len(one.events):,} events; the unit below)")

    load = os.getloadavg()[0]
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    validation = validate(scenario, log, procedure, replications=args.replications,
                          workers=args.workers)
    took = time.perf_counter() - t0
    parent, workers = time.process_time() - c0, _children_cpu() - k0
    floor = args.replications / max(1, args.workers)
    print(f"validate, {args.replications} replications on {args.workers} worker(s): "
          f"{took:.1f} s wall-clock = {took / unit:.1f} replications' time (at least "
          f"{floor:.0f} with {args.workers} worker(s)); target under 120 s: "
          f"{'met' if took < 120 else 'not met'}")
    idle = parent + workers / max(1, args.workers)
    print(f"CPU: {parent + workers:.1f} s ({parent:.1f} s here, {workers:.1f} s in the workers) "
          f"= {(parent + workers) / unit_cpu:.1f} replications' CPU time; on an idle machine "
          f"about {idle:.0f} s wall-clock (this process's CPU time + the workers' / "
          f"{args.workers})")
    print(f"load average (1 min) before and after: {load:.1f}, {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} core(s)")
    print()
    print(validation.distances[["measure", "value", "low", "high", "reference"]].to_string(
        index=False))


if __name__ == "__main__":
    main()

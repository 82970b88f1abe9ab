"""Benchmark: calibrating from a log of 10,000 cases, and validating 20 replications against it.

Run:  python bench/bench_calibrate.py [--cases 10000] [--replications 20] [--workers 2]
                                      [--parts calibrate,validate] [--no-baseline]
                                      [--simod-python PATH]

Builds a county ten times the default's size (ten times the demand and the staff), simulates
years of it until about ``--cases`` cases have begun (the truth, with fewer LADOs and slower
police than its default), writes the log, then times:

- ``calibrate``: reading the log as ``lscb check`` does and estimating a scenario from it
  (including the two simulations of its estimate that separate waiting from lags);
- ``validate``: ``--replications`` replications of the calibrated scenario over the log's
  period, judged and compared with the log (compliance, timeliness bands, flow, the log
  distance measures);
- the same validation of the uncalibrated default (of the same size) as the baseline that the
  calibrated scenario must beat on every measure.

Targets on a 2-core machine: calibration under a minute, validation of 20 replications under two
minutes. Wall-clock times are printed with one simulated replication of the period as the unit
(the baseline in the same run), since other load on a shared machine slows everything alike.

``--parts calibrate`` times the calibration alone (the validation takes much longer);
``large()`` and ``truth_log()`` build the same county and truth log for other benchmarks.

``--simod-python PATH`` runs Simod (installed in a separate virtual environment at PATH, never a
dependency of this project) on the same log and prints its log distance measures beside ours.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.procedure import load_procedure
from simulation.calibration.calibrate import calibrate, read_event_log
from simulation.calibration.validate import compare, validate
from simulation.engine import simulate
from simulation.results import write_event_log
from simulation.scenario import Scenario, load_scenario

SCALE = 10  # the county: ten times the default's demand and staff


def large(default: Scenario, procedure: Any, cases: int, truth: bool) -> Scenario:
    values: dict[str, Any] = {"demand": float(SCALE)}
    for role, spec in default.roles.items():
        if spec.headcount is not None:
            values[f"roles.{role}.headcount"] = spec.headcount * SCALE
            if spec.out_of_hours:
                values[f"roles.{role}.out_of_hours"] = spec.out_of_hours * SCALE
        if spec.diary is not None:
            values[f"roles.{role}.diary.background_per_working_day"] = (
                spec.diary.background_per_working_day * SCALE)
    per_year = sum(r.annual_volume for r in default.routes.values()) * SCALE
    values["horizon_days"] = max(30, round(365 * cases / per_year))
    if truth:
        values["roles.lado.headcount"] = default.role("lado").headcount * SCALE // 2  # type: ignore[operator]
        values['tasks."Police notified".lag'] = {"distribution": "exponential", "mean": 240}
        values['tasks."Access to children assessed".lag'] = {
            "distribution": "triangular", "low": 2, "mode": 4, "high": 8,
            "unit": "working days"}
    return default.with_values(values, procedure)


def truth_log(procedure: Any, cases: int, path: Path) -> tuple[Scenario, float]:
    """Simulate the truth (``large(..., truth=True)``) and write its log to ``path``; the truth
    scenario and the seconds its one replication took (the benchmarks' unit)."""
    truth = large(load_scenario(None, procedure), procedure, cases, truth=True)
    t0 = time.perf_counter()
    rep = simulate(truth, procedure)
    one_run = time.perf_counter() - t0
    write_event_log(rep, path, procedure)
    print(f"truth: {len(rep.cases):,} cases, {len(rep.events):,} events over "
          f"{truth.horizon_days} days; one simulated replication took {one_run:.1f} s "
          "(the unit below)")
    return truth, one_run


PARTS = ("calibrate", "validate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--simod-python", type=Path, default=None)
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip validating the uncalibrated default (halves the run)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="what to time, comma-separated: calibrate, validate (default both; "
                             "validate needs the calibration, which it then runs untimed)")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or parts - set(PARTS):
        parser.error(f"--parts: expected some of {', '.join(PARTS)}, found '{args.parts}'")
    procedure = load_procedure()
    default = load_scenario(None, procedure)
    baseline_scenario = large(default, procedure, args.cases, truth=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "truth_log.csv"
        _, one_run = truth_log(procedure, args.cases, path)

        t0 = time.perf_counter()
        # what `lscb calibrate` does: read the log (start events kept when it has them), then
        # estimate; the log read is used again below
        read = read_event_log(path, procedure, starts=True)
        calibration = calibrate(read, procedure, source=path.name)
        t_cal = time.perf_counter() - t0
        if "calibrate" in parts:
            print(f"calibrate: {t_cal:.1f} s ({t_cal / one_run:.1f} replications' time; "
                  "target under 60 s)")
        if "validate" not in parts:
            return

        log = dataclasses.replace(read, events=read.events.drop(columns="start_utc"))
        t0 = time.perf_counter()
        ours = validate(calibration.scenario(procedure), log, procedure,
                        replications=args.replications, workers=args.workers)
        t_val = time.perf_counter() - t0
        print(f"validate, {args.replications} replications on {args.workers} worker(s): "
              f"{t_val:.1f} s ({t_val / one_run:.1f} replications' time; target under 120 s)")
        if not args.no_baseline:
            baseline = validate(baseline_scenario, log, procedure,
                                replications=args.replications, workers=args.workers)
            print()
            print(compare(ours, baseline, ("calibrated", "default")).to_string(index=False))
        print()
        print(ours.distances[["measure", "value", "low", "high", "reference"]].to_string(
            index=False))
        if args.simod_python is not None:
            simod(args.simod_python, path, log, ours)


def simod(python: Path, path: Path, log: Any, ours: Any) -> None:
    """Simod on the same log (in its own environment), and its log distances beside ours."""
    import subprocess

    script = Path(__file__).with_name("simod_run.py")
    out = path.with_name("simod_log.csv")
    t0 = time.perf_counter()
    done = subprocess.run([str(python), str(script), str(path), str(out)], capture_output=True,
                          text=True, check=False)
    took = time.perf_counter() - t0
    if done.returncode != 0 or not out.exists():
        print(f"\nSimod did not run ({took:.0f} s): {done.stderr.strip()[-800:]}")
        return
    import pandas as pd

    from simulation.calibration.distances import distances, prepare

    simulated = pd.read_csv(out)
    simulated["time_utc"] = pd.to_datetime(simulated["time_utc"], utc=True)
    measured = distances(prepare(log.events), prepare(simulated))
    print(f"\nSimod ({took:.0f} s, one discovery and one simulation) against the same log, "
          "beside ours (mean over the replications):")
    mine = dict(zip(ours.distances["measure"], ours.distances["value"], strict=True))
    for key, value in measured.items():
        print(f"  {key:<11} Simod {value:10.4g}   lscb calibrated {mine[key]:10.4g}")


if __name__ == "__main__":
    main()

"""`lscb validate`: a scenario's simulated logs set beside a real log of the same period.

``lscb validate SCENARIO --against LOG`` simulates the log's period (``--replications`` times)
and compares, side by side: each rule's compliance in the log with where a log of this scenario
would fall; the working days from trigger to step of every deadline rule (and their bands);
cases begun and work in progress; and the log distance measures of business-process-simulation
research (``simulation.calibration.validate``). With ``--holdout-from DATE`` it first
calibrates SCENARIO on the log as it stood before DATE (``lscb calibrate --until``) and
validates that calibrated scenario on the cases that began from DATE, with SCENARIO itself,
uncalibrated, as the baseline.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lscb.options import (
    Subparsers,
    add_check_settings,
    add_force_option,
    add_input_options,
    check_config,
    log_format,
    positive,
)

__all__ = ["register"]

_FILES = ("validation_compliance.csv", "validation_timeliness.csv", "validation_bands.csv",
          "validation_flow.csv", "validation_distances.csv", "validation.json",
          "validation_compliance.png", "validation_bands.png", "calibrated_scenario.toml",
          "calibrated_scenario.ledger.csv")


def register(sub: Subparsers) -> None:
    """Add ``validate`` to the ``lscb`` subcommands."""
    val = sub.add_parser(
        "validate",
        help="compare a scenario's simulated logs with a real log of the same period",
        description=(
            "Simulate the period of an event log with a scenario and compare, side by side: "
            "each rule's compliance in the log with where a simulated log would fall (95%), "
            "the working days from trigger to step of every deadline rule, cases begun and "
            "work in progress, and the log distance measures of process-simulation research. "
            "With --holdout-from, calibrate the scenario on the log's cases before that date "
            "and validate it on the cases from it."
        ),
    )
    val.add_argument("scenario", type=Path, metavar="SCENARIO",
                     help="the scenario file (TOML); 'default' for the built-in one")
    val.add_argument("--against", type=Path, required=True, metavar="LOG",
                     help="the event log (CSV, Parquet or XES), as for 'lscb check'")
    val.add_argument("--holdout-from", type=_date, metavar="DATE",
                     help="calibrate on the cases before DATE (YYYY-MM-DD), validate on those "
                          "from it")
    val.add_argument("--baseline", type=Path, metavar="SCENARIO",
                     help="another scenario validated the same way, to compare with "
                          "('default': the built-in one); with --holdout-from, SCENARIO itself")
    val.add_argument("--replications", type=positive, default=20, metavar="N",
                     help="simulated replications (default 20)")
    val.add_argument("--seed", type=int, metavar="N", help="random seed (default: the "
                     "scenario's)")
    val.add_argument("--workers", type=positive, metavar="N",
                     help="parallel processes (default: one per core)")
    val.add_argument("--out", type=Path, metavar="DIR",
                     help="write the tables (CSV), validation.json and plots into DIR")
    val.add_argument("--no-plots", action="store_true", help="with --out, write no PNG files")
    val.add_argument("--format", choices=["text", "json"], default="text",
                     help="terminal output (default: text)")
    add_input_options(val)
    add_check_settings(val)
    add_force_option(val)
    val.set_defaults(handler=_validate)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date, YYYY-MM-DD") from None


def _scenario(path: Path, procedure: Any) -> Any:
    from simulation.scenario import load_scenario

    return load_scenario(None if str(path) == "default" else path, procedure)


def _validate(args: argparse.Namespace) -> int:
    import json
    from dataclasses import replace

    from conformance import read_log, read_options, rules_to_judge
    from conformance.logio.rejects import REJECTS_FILE, write_rejects_frame
    from lscb.commands.calibrate import inputs_overwritten, skipped_note, skipped_rows
    from lscb.options import output_guard
    from lscb.safeoutput import plan_folder
    from model import load_procedure
    from model.errors import InputError, Problem
    from simulation.calibration.calibrate import write_calibration
    from simulation.calibration.validate import (
        Validation,
        compare,
        holdout,
        period_of,
        restrict,
        validate,
        write_validation,
    )

    problems: list[Problem] = []
    if args.seed is not None and args.seed < 0:
        problems.append(Problem("option --seed", "a whole number of at least 0", str(args.seed)))
    plan = None
    skip = args.on_bad_rows == "skip"
    if skip and args.out is None:
        problems.append(Problem(
            "--on-bad-rows skip", "--out DIR, where the rows left out are listed (rejects.csv)",
            "no --out"))
    files = (*_FILES, REJECTS_FILE) if skip else _FILES
    if args.out is not None:
        problems += inputs_overwritten(
            [args.out / name for name in files],
            [args.against, args.mapping, args.config, args.scenario, args.baseline,
             *args.rules])
    if problems:
        raise InputError("the command line", problems)
    if args.out is not None:  # checked before any work; written as a set, or not at all
        guard = output_guard(args, [args.against, args.mapping, args.config, args.scenario,
                                    args.baseline, *args.rules])
        plan = plan_folder(args.out, (*files, "*.png"), guard)
    procedure = load_procedure()
    rules, vocabulary = rules_to_judge(procedure, args.rules,
                                       contract_rules=not args.no_contract_rules)
    scenario = _scenario(args.scenario, procedure)
    config = check_config(args, scenario.checking)
    baseline_scenario = (_scenario(args.baseline, procedure) if args.baseline is not None
                         else None)
    options = read_options(procedure, log_format(args), vocabulary=vocabulary,
                           as_of=config.as_of)
    log = read_log(args.against, options)
    judge_config = replace(config, as_of=None)  # the log's as-of time is in the log read
    calibration = None
    baseline: Validation | None = None
    common: dict[str, Any] = {"replications": args.replications, "seed": args.seed,
                              "workers": args.workers, "config": judge_config}
    if args.holdout_from is not None:
        start, horizon, _ = period_of(log)
        last = start + timedelta(days=horizon - 1)
        if not start < args.holdout_from <= last:
            raise InputError("the command line", [Problem(
                "option --holdout-from", f"a date after the day the log's first case began "
                f"({start}) and no later than the day its last began ({last}), so that there "
                "are cases to calibrate on and cases to validate on",
                args.holdout_from.isoformat())])
        calibration, result = holdout(log, procedure, args.holdout_from, base=scenario,
                                      source=args.against.name, rules=rules, **common)
        baseline_scenario = scenario
        later = restrict(log, since=args.holdout_from)
        baseline = validate(baseline_scenario, later, procedure, rules=rules,
                            scenario_name=f"{args.scenario} (not calibrated)",
                            log_name=result.log, **common)
    else:
        result = validate(scenario, log, procedure, rules=rules,
                          scenario_name=str(args.scenario), log_name=args.against.name,
                          **common)
        baseline = (validate(baseline_scenario, log, procedure, rules=rules,
                             scenario_name=str(args.baseline), log_name=args.against.name,
                             **common) if baseline_scenario is not None else None)
    written: list[Path] = []
    if plan is not None:
        with plan.staging() as staging:
            write_validation(result, staging, plots=not args.no_plots, baseline=baseline)
            if calibration is not None:
                write_calibration(calibration, staging / "calibrated_scenario.toml")
            if skip:
                write_rejects_frame(staging / REJECTS_FILE, log.rejects, log.row_word)
        written = list(plan.written)
    if args.format == "json":
        payload = result.to_json()
        if baseline is not None:
            payload["baseline"] = baseline.to_json()
        payload["rows_left_out"] = skipped_rows(log)
        print(json.dumps(payload, indent=2, sort_keys=True))
        return 0
    print(result.text())
    if skip:
        print(skipped_note(log, str(args.out / REJECTS_FILE)))
    if baseline is not None:
        table = compare(result, baseline, ("this scenario", "baseline"))
        print(f"Errors against the log (lower is closer): this scenario and the baseline "
              f"({baseline.scenario})")
        for row in table.itertuples():
            print(f"  {row.measure:<52} {row[2]:10.4g} {row[3]:10.4g}  closer: {row.closer}")
    if written:
        print()
        print(f"Wrote {len(written)} files into {args.out}: " + ", ".join(p.name for p in written))
    return 0

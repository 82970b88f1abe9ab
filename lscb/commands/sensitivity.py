"""`lscb sensitivity`: how far each rule's compliance moves over the assumptions' ranges.

For every assumed number with a plausible range in the scenario's ledger: the rule's compliance
at each end of the range, one at a time, with common random numbers; with ``--budget``, a
variance-based global analysis with SALib; findings that say whether they hold across the
ranges or flip within them (``simulation.sensitivity``).
"""

from __future__ import annotations

import argparse
from typing import Any

from lscb.options import (
    Subparsers,
    add_check_settings,
    add_run_options,
    positive,
    scenario_of,
    simulation_check_config,
)
from model.errors import InputError, Problem

__all__ = ["register"]

_METHODS = ("rbd-fast", "sobol")  # simulation.sensitivity.METHODS (a test checks)


def register(sub: Subparsers) -> None:
    """Add ``sensitivity`` to the ``lscb`` subcommands."""
    sens = sub.add_parser(
        "sensitivity",
        help="how robust each finding is: compliance over the assumptions' plausible ranges",
        description=(
            "Move every assumption of the scenario's ledger over its plausible range, one at a "
            "time (and, with --budget, all together in a variance-based analysis), and print "
            "how far each rule's compliance moves, and whether each finding holds across the "
            "ranges or flips within them. With --out, CSV files and a tornado chart per rule."
        ),
    )
    add_run_options(sens)
    sens.set_defaults(replications=None)
    sens.add_argument("--budget", type=int, default=0, metavar="RUNS",
                      help="runs allowed for the variance-based global analysis (default 0: "
                           "one at a time only)")
    sens.add_argument("--method", choices=_METHODS, default="rbd-fast",
                      help="the global analysis: RBD-FAST (first-order indices, from 48 points) "
                           "or Sobol' (first-order and total; needs 8 x (assumptions + 2) "
                           "points)")
    sens.add_argument("--field", action="append", default=[], metavar="FIELD",
                      help="only this assumption (repeatable), e.g. roles.lado.headcount")
    sens.add_argument("--target", action="append", default=[], metavar="RULE=LEVEL",
                      help="also say whether RULE meets LEVEL (0.85 or 85%%) across the ranges "
                           "(repeatable)")
    sens.add_argument("--tolerance", type=float, default=0.05, metavar="SHARE",
                      help="a rule's level holds when every point is within this of the "
                           "scenario's figure (default 0.05: five percentage points)")
    sens.add_argument("--top", type=positive, default=5, metavar="N",
                      help="assumptions shown per rule (default 5)")
    sens.add_argument("--ledger", action="store_true",
                      help="print the scenario's ledger (where each number comes from) and stop")
    sens.add_argument("--no-plots", action="store_true", help="with --out, write no PNG files")
    add_check_settings(sens, for_a_log=False)
    sens.set_defaults(handler=_sensitivity)


def _targets(texts: list[str], problems: list[Problem]) -> dict[str, float]:
    from lscb.commands.sweep import _target
    from model import load_procedure

    procedure = load_procedure()
    out: dict[str, float] = {}
    for text in texts:
        rule, level, more = _target(text, procedure)
        problems += more
        if not more:
            out[rule] = level
    return out


def _ledger_text(scenario: Any) -> str:
    from simulation.calibration.ledger import ledger_table

    table = ledger_table(scenario)
    counts = table["kind"].value_counts()
    lines = [f"The ledger of {scenario.name}: "
             + ", ".join(f"{counts[k]} {k}" for k in counts.index)]
    for row in table.to_dict("records"):
        extra = ""
        if row["kind"] == "assumed" and row["range_low"] is not None and row[
                "range_low"] == row["range_low"]:
            extra = f"  (range {row['range_low']:g}-{row['range_high']:g})"
        elif row["interval_low"] is not None and row["interval_low"] == row["interval_low"]:
            extra = f"  (95% interval {row['interval_low']:g}-{row['interval_high']:g}, n {row['n']})"
        lines.append(f"  {row['field']} = {row['value']}  [{row['kind']}]{extra}")
        lines.append(f"      {row['source']}")
    return "\n".join(lines)


def _sensitivity(args: argparse.Namespace) -> int:
    from model import load_procedure
    from simulation.sensitivity import sensitivity, write_outputs

    procedure = load_procedure()
    problems: list[Problem] = []
    if args.budget < 0:
        problems.append(Problem("--budget", "a whole number of runs, 0 or more",
                                str(args.budget)))
    if not 0 < args.tolerance < 1:
        problems.append(Problem("--tolerance", "a share between 0 and 1, such as 0.05",
                                f"{args.tolerance:g}"))
    targets = _targets(args.target, problems)
    scenario = scenario_of(args, procedure, problems)
    if args.ledger:
        print(_ledger_text(scenario))
        return 0
    check_config = simulation_check_config(args, scenario)
    plan = None
    if args.out is not None:  # checked before any work; written as a set, or not at all
        from lscb.options import output_guard
        from lscb.safeoutput import plan_folder

        plan = plan_folder(args.out, ("base.csv", "one_at_a_time.csv", "global.csv",
                                      "findings.csv", "tornado_*.png"),
                           output_guard(args, [args.scenario, getattr(args, "config", None)]))
    from simulation.sensitivity import assumptions_of

    if not assumptions_of(scenario, args.field or None):
        raise InputError(str(args.scenario or "the scenario"), [Problem(
            "ledger", "assumed numbers with a plausible range ([ledger.\"<field>\"] tables with "
            "kind = \"assumed\" and range = [low, high]; docs/scenario.md)", "none")])
    result = sensitivity(scenario, procedure, replications=args.replications or 3,
                         seed=args.seed, budget=args.budget, method=args.method,
                         fields=args.field or None, targets=targets,
                         tolerance=args.tolerance, workers=args.workers,
                         scheduler=args.scheduler, progress=not args.quiet,
                         check_config=check_config)
    print(result.text(top=args.top))
    if plan is not None:
        with plan.staging() as staging:
            write_outputs(result, staging, plots=not args.no_plots)
        written = list(plan.written)
        print(f"Wrote {len(written)} files into {args.out}: "
              + ", ".join(p.name for p in written))
    return 0

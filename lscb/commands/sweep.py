"""`lscb sweep`: what-if, compliance over a grid of scenario fields, or the smallest value of
one field that meets a target."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from lscb.commands.simulate import percent
from lscb.options import (
    Subparsers,
    add_check_settings,
    add_run_options,
    scenario_of,
    simulation_check_config,
)
from lscb.outputs import output_directory
from model.errors import Problem

if TYPE_CHECKING:
    import pandas as pd

    from model.procedure import Procedure

__all__ = ["register"]


def register(sub: Subparsers) -> None:
    """Add ``sweep`` to the ``lscb`` subcommands."""
    sw = sub.add_parser(
        "sweep",
        help="what-if: compliance over a grid of scenario fields",
        description=(
            "Run the scenario at every combination of the --vary values and print a table of "
            "compliance (with --out, a CSV and heatmaps). With --target RULE=LEVEL and one "
            "--vary, find the smallest value that meets the level."
        ),
    )
    add_run_options(sw)
    sw.add_argument("--vary", action="append", default=[], metavar="FIELD=VALUES",
                    help="a scenario field and its values, e.g. demand=1,1.33 or "
                         "roles.lado.headcount=1..3 or dispatch=fcfs,edf (repeatable, once "
                         "for each field: giving a field twice is an error)")
    sw.add_argument("--rule", action="append", default=[], metavar="RULE_ID",
                    help="rules to show (default: every rule with a deadline)")
    sw.add_argument("--target", metavar="RULE=LEVEL",
                    help="find the smallest value of the single --vary field whose compliance "
                         "with RULE reaches LEVEL (0.85 or 85%%)")
    add_check_settings(sw, for_a_log=False)
    sw.set_defaults(handler=_sweep)


def _grid(args: argparse.Namespace) -> tuple[dict[str, list[Any]], list[Problem]]:
    from simulation.scenario import describe, field_keys
    from simulation.whatif import parse_values

    grid: dict[str, list[Any]] = {}
    seen: dict[tuple[str, ...], str] = {}
    problems = []
    for item in args.vary:
        field, sep, values = item.partition("=")
        field = field.strip()
        if not sep or not field:
            problems.append(Problem("--vary", "FIELD=VALUES, e.g. roles.lado.headcount=1,2,3",
                                    describe(item)))
            continue
        keys = field_keys(field)
        if keys in seen:
            problems.append(Problem(
                f"--vary {field}", f"each field once (give all its values in one --vary, "
                f"e.g. {field}=1,2)", f"the field again (first as {seen[keys]})"))
            continue
        seen[keys] = field
        try:
            grid[field] = parse_values(values)
        except ValueError as exc:
            problems.append(Problem(f"--vary {field}", str(exc), describe(values)))
    if not args.vary:
        problems.append(Problem("--vary", "at least one FIELD=VALUES", "none"))
    return grid, problems


def _target(text: str, procedure: Procedure) -> tuple[str, float, list[Problem]]:
    from simulation.scenario import describe
    from simulation.whatif import rule_problem

    rule, sep, level = text.partition("=")
    rule, level = rule.strip(), level.strip()
    if not sep:
        return rule, math.nan, [Problem("--target", "RULE=LEVEL, e.g. lado-same-day=85%",
                                        describe(text))]
    problems = []
    unknown = rule_problem("--target", rule, procedure)
    if unknown is not None:
        problems.append(unknown)
    try:
        value, found = float(level.removesuffix("%")), level
    except ValueError:
        value, found = math.nan, describe(level)
    if level.endswith("%") or value > 1:
        value /= 100
    if not 0 < value <= 1:  # also a level that is not a number (NaN)
        problems.append(Problem("--target", "a LEVEL that is a share between 0 and 1 or a "
                                "percentage like 85%", found))
    return rule, value, problems


def _sweep(args: argparse.Namespace) -> int:
    from model import load_procedure
    from simulation import find_target, sweep
    from simulation.plots import plot_sweep
    from simulation.whatif import rule_problem

    procedure = load_procedure()
    grid, problems = _grid(args)
    for rule in args.rule:
        unknown = rule_problem("--rule", rule, procedure)
        if unknown is not None:
            problems.append(unknown)
    rule_id, level = "", math.nan
    if args.target is not None:
        fields = {item.partition("=")[0].strip() for item in args.vary}
        if len(fields) > 1:
            problems.append(Problem("--target", "exactly one --vary field to search",
                                    f"{len(fields)} fields"))
        rule_id, level, more = _target(args.target, procedure)
        problems += more
    scenario = scenario_of(args, procedure, problems)
    check_config = simulation_check_config(args, scenario)
    if args.out is not None:
        output_directory(args.out)
    options = {"replications": args.replications, "seed": args.seed, "workers": args.workers,
               "scheduler": args.scheduler, "progress": not args.quiet,
               "check_config": check_config}
    if args.target is not None:
        field, values = next(iter(grid.items()))
        found = find_target(scenario, procedure, field, values, rule_id, level, **options)
        tried = found.tried[[field, "compliance", "ci_low", "ci_high"]]
        print(f"{rule_id}: compliance for each value of {field} tried (target "
              f"{level * 100:.1f}%):")
        print(_table_text(tried, ["compliance", "ci_low", "ci_high"]))
        if found.value is None:
            print(f"None of the values tried reaches {level * 100:.1f}%.")
        else:
            print(f"The smallest {field} that meets the target is {found.value}: "
                  f"{found.compliance * 100:.1f}% (95% CI {found.ci_low * 100:.1f}-"
                  f"{found.ci_high * 100:.1f}%).")
        if args.out is not None:
            found.tried.to_csv(args.out / "target.csv", index=False, lineterminator="\n")
        return 0
    result = sweep(scenario, procedure, grid, **options)
    rules = args.rule or [r.id for r in procedure.rules if r.within is not None]
    shown = result.table[result.table["rule_id"].isin(rules)]
    print(f"Compliance over {len(shown) // max(len(rules), 1)} scenario(s), "
          f"{result.replications} replications each (seed {result.seed}):")
    pivot = shown.pivot_table(index=list(result.fields), columns="rule_id",
                              values="compliance", sort=False)
    print(_table_text(pivot.reset_index(), [c for c in pivot.columns if c in rules]))
    if args.out is not None:
        result.table.to_csv(args.out / "sweep.csv", index=False, lineterminator="\n",
                            float_format="%.6g")
        paths = [args.out / "sweep.csv"]
        for rule_id in rules:
            paths += plot_sweep(result, rule_id, args.out)
        print(f"Wrote {len(paths)} files into {args.out}: " + ", ".join(p.name for p in paths))
    return 0


def _table_text(frame: pd.DataFrame, shares: list[str]) -> str:
    shown = frame.copy()
    for column in shares:
        shown[column] = [percent(float(v)) for v in shown[column]]
    return shown.to_string(index=False)

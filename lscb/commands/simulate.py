"""`lscb simulate` and `lscb sweep`: caseload simulation for board analysts."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, Problem
from model.outputs import output_directory, output_directory_problems
from model.procedure import Procedure, load_procedure

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``simulate`` and ``sweep`` subcommands to the ``lscb`` parser."""
    sim = sub.add_parser(
        "simulate",
        help="simulate the caseload: how often each rule is met, and where cases wait",
        description=(
            "Run a caseload simulation (the built-in scenario for a county the size of "
            "Northumberland when no file is given) and print, for each rule, how often it was "
            "met with a 95% confidence interval across replications, and the roles in whose "
            "queues the late cases waited."
        ),
    )
    _common(sim)
    sim.add_argument("--dispatch", choices=["fcfs", "edf"],
                     help="first come first served, or earliest deadline first (overrides the "
                          "scenario)")
    sim.add_argument("--demand", type=float, metavar="X",
                     help="multiply every route's annual volume by X (overrides the scenario)")
    sim.add_argument("--no-plots", action="store_true", help="with --out, write no PNG files")
    sim.add_argument("--format", choices=["text", "json"], default="text",
                     help="terminal output (default: text)")
    sim.add_argument("--show-default-scenario", action="store_true",
                     help="print the built-in scenario file (a template to edit) and stop")
    sim.set_defaults(handler=_simulate)

    sw = sub.add_parser(
        "sweep",
        help="what-if: compliance over a grid of scenario fields",
        description=(
            "Run the scenario at every combination of the --vary values and print a table of "
            "compliance (with --out, a CSV and heatmaps). With --target RULE=LEVEL and one "
            "--vary, find the smallest value that meets the level."
        ),
    )
    _common(sw)
    sw.add_argument("--vary", action="append", default=[], metavar="FIELD=VALUES",
                    help="a scenario field and its values, e.g. demand=1,1.33 or "
                         "roles.lado.headcount=1..3 or dispatch=fcfs,edf (repeatable, once "
                         "for each field: giving a field twice is an error)")
    sw.add_argument("--rule", action="append", default=[], metavar="RULE_ID",
                    help="rules to show (default: every rule with a deadline)")
    sw.add_argument("--target", metavar="RULE=LEVEL",
                    help="find the smallest value of the single --vary field whose compliance "
                         "with RULE reaches LEVEL (0.85 or 85%%)")
    sw.set_defaults(handler=_sweep)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", type=Path, metavar="FILE",
                        help="scenario file (TOML; see docs/scenario.md); default: built in")
    parser.add_argument("--seed", type=int, metavar="N", help="random seed (default: the "
                        "scenario's); the same scenario and seed give the same log")
    parser.add_argument("--replications", type=int, metavar="N",
                        help="independent replications (default: the scenario's)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="parallel processes (default: one per core; 1 = this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the replications on a Dask distributed cluster at ADDRESS")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write files into DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _load(args: argparse.Namespace, procedure: Procedure, problems: list[Problem]) -> Any:
    """The scenario, after checking the command line: ``problems`` already found in it and
    those of the options every command shares are raised together."""
    from simulation.scenario import load_scenario

    problems = list(problems)
    if args.replications is not None and args.replications < 1:
        problems.append(Problem("--replications", "a whole number of at least 1",
                                str(args.replications)))
    if args.workers is not None and args.workers < 1:
        problems.append(Problem("--workers", "a whole number of at least 1", str(args.workers)))
    if args.seed is not None and args.seed < 0:
        problems.append(Problem("--seed", "a whole number of at least 0", str(args.seed)))
    if args.out is not None:
        problems += output_directory_problems(args.out)
    if problems:
        raise InputError("the command line", problems)
    return load_scenario(args.scenario, procedure)


# ---------------------------------------------------------------------------- simulate


def _simulate(args: argparse.Namespace) -> int:
    from simulation.engine import run
    from simulation.results import summary, write_outputs
    from simulation.scenario import default_scenario_path

    if args.show_default_scenario:
        sys.stdout.write(default_scenario_path().read_text(encoding="utf-8"))
        return 0
    procedure = load_procedure()
    scenario = _load(args, procedure, [])
    overrides: dict[str, Any] = {}
    if args.dispatch is not None:
        overrides["dispatch"] = args.dispatch
    if args.demand is not None:
        overrides["demand"] = args.demand
    if overrides:
        scenario = scenario.with_values(overrides, procedure)
    if args.out is not None:
        output_directory(args.out)
    result = run(scenario, procedure, replications=args.replications, seed=args.seed,
                 workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                 keep_first=args.out is not None)
    written = []
    if args.out is not None:
        written = write_outputs(result, args.out, procedure, plots=not args.no_plots)
    if args.format == "json":
        print(json.dumps(summary(result), indent=2, sort_keys=True))
        return 0
    print(report(result, procedure))
    if written:
        print()
        print(f"Wrote {len(written)} files into {args.out}:")
        print("  " + ", ".join(p.name for p in written))
        if result.first is not None:
            print(f"The event log is replication 1. Judge it with: "
                  f"lscb check {args.out / 'event_log.csv'}")
    return 0


def _pct(value: float) -> str:
    return "  n/a" if value is None or math.isnan(value) else f"{value * 100:5.1f}%"


def _role_name(procedure: Procedure, role: str) -> str:
    spec = procedure.roles.get(role)
    return spec.name if spec is not None else role


def report(result: Any, procedure: Procedure) -> str:
    """The plain-language terminal report of a simulation."""
    sc = result.scenario
    lines = [
        f"Caseload simulation: {sc.name}",
        f"{result.replications} replication(s) of {sc.horizon_days} days from "
        f"{sc.start.day} {sc.start:%B %Y} (after {sc.warm_up_days} days of warm-up), seed {result.seed}, "
        f"{'earliest deadline first' if sc.dispatch.value == 'edf' else 'first come, first served'}"
        f", demand x{sc.demand:g} (other work x{sc.background_demand:g}).",
        f"About {result.cases_per_replication:,.0f} cases and "
        f"{result.events_per_replication:,.0f} recorded steps per replication."
        + (" No case arrived: the scenario has no route with cases, so only the roles' other "
           "work was simulated." if not any(r.annual_volume > 0 for r in sc.routes.values())
           else ""),
        "",
        "How often each rule was met (mean over replications, with its 95% confidence interval):",
        f"  {'rule':<58} {'met':>6}  {'95% CI':<13} {'cases judged':>12}",
    ]
    for row in result.compliance.itertuples():
        ci = ("" if math.isnan(row.ci_low) else
              f"{row.ci_low * 100:4.1f}-{row.ci_high * 100:4.1f}%")
        flag = "" if row.severity == "violation" else " (warning)"
        lines.append(f"  {row.rule_id + flag:<58} {_pct(row.compliance):>6}  {ci:<13} "
                     f"{row.judged_per_replication:12.1f}")
    timely = result.timeliness
    if not timely.empty:
        lines += ["", "Working days from the trigger to the step (median, quartiles):"]
        for row in timely.itertuples():
            lines.append(f"  {row.rule_id:<58} {row.median:4.0f}  ({row.q1:.0f}-{row.q3:.0f})")
    lines += ["", "Where the late cases waited (share of their time from trigger to the late "
              "step spent waiting for each role; parallel steps can wait at once):"]
    table = result.bottlenecks
    if table.empty:
        lines.append("  no deadline was missed")
    else:
        for rule_id, frame in table.groupby("rule_id", sort=False):
            late = int(frame["late_cases"].iloc[0])
            parts = [f"{_role_name(procedure, r.role)} {r.share * 100:.0f}%"
                     for r in frame.itertuples() if r.share >= 0.005]
            waited = float(frame["share"].sum())
            own = max(0.0, 1.0 - waited)
            parts.append(f"the steps' own time {own * 100:.0f}%")
            lines.append(f"  {rule_id} ({late / result.replications:.1f} late a replication): "
                         + "; ".join(parts))
        top = (table.assign(hours=table["wait_hours"]).groupby("role")["hours"].sum()
               .sort_values(ascending=False))
        names = [_role_name(procedure, r) for r in top.index[:3]]
        lines.append("  Bottleneck roles (most waiting by late cases): " + ", ".join(names))
    util = result.utilisation
    if not util.empty:
        lines += ["", "Utilisation (busy share of on-duty time; a diary: slots taken), mean:"]
        means = util.groupby("role")[["utilisation", "mean_queue"]].mean()
        for role, row in means.iterrows():
            queue = "" if math.isnan(row["mean_queue"]) else \
                f", on average {row['mean_queue']:.1f} jobs waiting"
            lines.append(f"  {_role_name(procedure, str(role)):<24} "
                         f"{_pct(float(row['utilisation']))}{queue}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- sweep


def _grid(args: argparse.Namespace) -> tuple[dict[str, list[Any]], list[Problem]]:
    from simulation.scenario import describe, field_keys
    from simulation.sweep import parse_values

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
    from simulation.sweep import rule_problem

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
    from simulation.plots import plot_sweep
    from simulation.sweep import find_target, rule_problem, sweep

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
    scenario = _load(args, procedure, problems)
    if args.out is not None:
        output_directory(args.out)
    options = {"replications": args.replications, "seed": args.seed, "workers": args.workers,
               "scheduler": args.scheduler, "progress": not args.quiet}
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


def _table_text(frame: pd.DataFrame, percent: list[str]) -> str:
    shown = frame.copy()
    for column in percent:
        shown[column] = [_pct(float(v)) for v in shown[column]]
    return shown.to_string(index=False)

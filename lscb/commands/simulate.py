"""`lscb simulate`: a caseload simulation for board analysts, and its terminal report.

The options every simulation command shares (the scenario, the seed, the replications, where
they run, the judging settings) are ``lscb.options.add_run_options`` and
``lscb.options.add_check_settings``: the simulated logs are judged as ``lscb check`` judges a
log, with the scenario's ``[checking]`` section, a ``--config`` file in its place, and the
command line's settings on top.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from lscb.options import (
    Subparsers,
    add_check_settings,
    add_run_options,
    bounds_of,
    output_guard,
    scenario_of,
    simulation_check_config,
)

if TYPE_CHECKING:
    from model.procedure import Procedure

__all__ = ["percent", "register", "report"]


def register(sub: Subparsers) -> None:
    """Add ``simulate`` to the ``lscb`` subcommands."""
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
    add_run_options(sim)
    sim.add_argument("--dispatch", choices=["fcfs", "edf"],
                     help="first come first served, or earliest deadline first (overrides the "
                          "scenario)")
    sim.add_argument("--demand", type=float, metavar="X",
                     help="multiply every route's annual volume by X (overrides the scenario)")
    sim.add_argument("--no-marginal", action="store_true",
                     help="skip the runs with one more person in each role (the marginal "
                          "value of capacity: as many more runs for each role with a "
                          "headcount)")
    sim.add_argument("--no-plots", action="store_true", help="with --out, write no PNG files")
    sim.add_argument("--format", choices=["text", "json"], default="text",
                     help="terminal output (default: text)")
    sim.add_argument("--show-default-scenario", action="store_true",
                     help="print the built-in scenario file (a template to edit) and stop")
    add_check_settings(sim, for_a_log=False)
    sim.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from lscb.safeoutput import plan_folder
    from model import load_procedure
    from simulation import default_scenario_path, output_names, run, write_outputs
    from simulation.results import summary

    if args.show_default_scenario:
        sys.stdout.write(default_scenario_path().read_text(encoding="utf-8"))
        return 0
    procedure = load_procedure()
    scenario = scenario_of(args, procedure, [])
    overrides: dict[str, Any] = {}
    if args.dispatch is not None:
        overrides["dispatch"] = args.dispatch
    if args.demand is not None:
        overrides["demand"] = args.demand
    if overrides:
        scenario = scenario.with_values(overrides, procedure)
    check_config = simulation_check_config(args, scenario)
    plan = None
    if args.out is not None:  # checked before the run; written as a set, or not at all
        plan = plan_folder(args.out, output_names(plots=not args.no_plots),
                           output_guard(args, [args.scenario, args.config]))
    result = run(scenario, procedure, replications=args.replications, seed=args.seed,
                 check_config=check_config, workers=args.workers, scheduler=args.scheduler,
                 progress=not args.quiet, keep_first=args.out is not None,
                 bounds=bounds_of(args), marginal=not args.no_marginal)
    written: list[Any] = []
    if plan is not None:
        with plan.staging() as staging:
            write_outputs(result, staging, procedure, plots=not args.no_plots)
        written = list(plan.written)
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


def percent(value: float) -> str:
    """A share as a percentage, five characters wide; '  n/a' when there is none.

    >>> percent(0.8532), percent(float("nan"))
    (' 85.3%', '  n/a')
    """
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
        lines.append(f"  {row.rule_id + flag:<58} {percent(row.compliance):>6}  {ci:<13} "
                     f"{row.judged_per_replication:12.1f}")
    timely = result.timeliness
    if not timely.empty:
        lines += ["", "Working days from the trigger to the step (median, quartiles):"]
        for row in timely.itertuples():
            lines.append(f"  {row.rule_id:<58} {row.median:4.0f}  ({row.q1:.0f}-{row.q3:.0f})")
    lines += _delays_text(result, procedure)
    util = result.utilisation
    if not util.empty:
        lines += ["", "Utilisation (busy share of on-duty time; a diary: slots taken), mean:"]
        means = util.groupby("role")[["utilisation", "mean_queue"]].mean()
        for role, row in means.iterrows():
            queue = "" if math.isnan(row["mean_queue"]) else \
                f", on average {row['mean_queue']:.1f} jobs waiting"
            lines.append(f"  {_role_name(procedure, str(role)):<24} "
                         f"{percent(float(row['utilisation']))}{queue}")
    return "\n".join(lines)


def _delays_text(result: Any, procedure: Procedure) -> list[str]:
    """Where the late cases' time went, the bottlenecks (queueing and diary waits only) and
    what one more person in each role would do."""
    lines = ["", "Where the late cases' time went, from the trigger to the deadline (share of "
             "their time; only queueing for people and waiting for a diary slot are "
             "bottlenecks):"]
    delays = result.delays
    if delays.empty:
        return [*lines, "  no deadline was missed"]
    for rule_id, frame in delays.groupby("rule_id", sort=False):
        late = int(frame["late_cases"].iloc[0])
        parts = []
        for row in frame.itertuples():
            if row.share < 0.0005:
                continue
            if row.component == "queueing":
                what = f"queueing for {_role_name(procedure, str(row.role))}"
            elif row.component == "diary":
                what = f"waiting for a slot in the {_role_name(procedure, str(row.role))}'s diary"
            elif row.component == "step duration":
                what = "the steps' own time"
            elif row.component == "other":
                what = "waiting for other steps"
            else:
                what = str(row.component)
            parts.append(f"{what} {row.share * 100:.1f}%")
        lines.append(f"  {rule_id} ({late / result.replications:.1f} late a replication): "
                     + "; ".join(parts))
    table = result.bottlenecks
    if table.empty:
        lines.append("  Bottlenecks: none. No late case waited for a person or a diary slot: "
                     "the lateness is the steps' own time and time outside working hours.")
    else:
        top = (table.groupby("role")["wait_hours"].sum().sort_values(ascending=False))
        names = [f"{_role_name(procedure, str(r))} ({h / result.replications:,.0f} hours a "
                 "replication)" for r, h in top.items()][:3]
        lines.append("  Bottlenecks (late cases' time queueing for a person or waiting for a "
                     "diary slot): " + ", ".join(names))
    marginal = result.marginal
    if not marginal.empty:
        lines += ["", "One more person in a role (paired runs, the same cases): the change in "
                  "each missed deadline's compliance, with its 95% interval:"]
        missed = set(delays["rule_id"])
        for rule_id, frame in marginal.groupby("rule_id", sort=False):
            if rule_id not in missed:
                continue
            parts = []
            for row in frame.itertuples():
                if abs(row.change) < 0.0005:
                    continue
                interval = ("" if math.isnan(row.ci_low) else
                            f" ({row.ci_low * 100:+.1f} to {row.ci_high * 100:+.1f})")
                parts.append(f"{_role_name(procedure, str(row.role))} "
                             f"{row.change * 100:+.1f} points{interval}")
            lines.append(f"  {rule_id}: " + ("; ".join(parts) if parts else
                                              "no change with one more person in any role"))
    return lines

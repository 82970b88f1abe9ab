"""`lscb report procedure | scenario | audit`: run a notebook and write a self-contained HTML report.

Each action runs the matching notebook of ``notebooks/`` with papermill (the options become the
notebook's parameters) and writes one HTML file without code cells: a title page with the date,
the inputs' names and SHA-256 checksums and the project's version, then the figures and tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from model import reporting
from model.procedure import default_procedure_path


def register(sub: Any) -> None:
    report = sub.add_parser(
        "report",
        help="write a report (HTML, no code) from a notebook: procedure, scenario or audit",
        description=(
            "Run one of the project's notebooks and write one self-contained HTML file that opens "
            "in any browser: the procedure, a caseload scenario against what-ifs, or an audit of "
            "an event log."
        ),
    )
    rsub = report.add_subparsers(dest="report_command", metavar="ACTION")
    report.set_defaults(handler=lambda _args: _usage(report))

    procedure = rsub.add_parser(
        "procedure",
        help="the procedure: swimlane diagram, deadlines and rules with their clauses",
    )
    _common(procedure, "procedure.html")
    procedure.set_defaults(handler=run_procedure)

    scenario = rsub.add_parser(
        "scenario",
        help="a caseload scenario against what-ifs: compliance, bottlenecks, a sweep, findings",
    )
    scenario.add_argument(
        "--scenario", type=Path, help="a scenario file (TOML; default: the built-in scenario)"
    )
    scenario.add_argument(
        "--replications",
        type=_positive,
        default=SCENARIO_DEFAULTS["replications"],
        help="independent runs per scenario (default: %(default)s)",
    )
    scenario.add_argument(
        "--days",
        type=_positive,
        default=SCENARIO_DEFAULTS["days"],
        help="simulated calendar days per run, after the warm-up (default: %(default)s)",
    )
    scenario.add_argument(
        "--sweep-replications",
        type=_positive,
        default=SCENARIO_DEFAULTS["sweep_replications"],
        help="runs per point of the sweep heatmap (default: %(default)s)",
    )
    scenario.add_argument("--seed", type=int, default=SCENARIO_DEFAULTS["seed"],
                          help="the first seed (default: %(default)s)")
    _common(scenario, "report.html")
    scenario.set_defaults(handler=run_scenario)

    audit = rsub.add_parser(
        "audit",
        help="an audit of an event log: compliance per rule and month, deviations, caveats",
    )
    audit.add_argument("log", type=Path, help="the event log (CSV, Parquet or XES)")
    audit.add_argument(
        "--as-of",
        help="when the log was extracted (ISO 8601; default: its latest timestamp)",
    )
    audit.add_argument(
        "--mapping", type=Path, help="a mapping file: local activity and column names"
    )
    audit.add_argument("--config", type=Path, help="a check configuration file (TOML)")
    audit.add_argument(
        "--timelines",
        type=_positive,
        default=AUDIT_DEFAULTS["timelines"],
        help="deviating cases drawn as timelines (default: %(default)s)",
    )
    _common(audit, "audit.html")
    audit.set_defaults(handler=run_audit)


SCENARIO_DEFAULTS: dict[str, int] = {
    "replications": 10,
    "days": 365,
    "sweep_replications": 3,
    "seed": 1,
}
AUDIT_DEFAULTS: dict[str, int] = {"timelines": 4}


def _common(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(default_out),
        help="the HTML file to write (default: %(default)s)",
    )
    parser.add_argument(
        "--procedure", type=Path, help="a procedure file (default: the built-in one)"
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number greater than 0") from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number greater than 0")
    return value


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _procedure_input(args: argparse.Namespace) -> reporting.ReportInput:
    if args.procedure is None:
        return reporting.ReportInput.of_file(
            "procedure", default_procedure_path(), name="built-in procedure 1.4.9"
        )
    return reporting.ReportInput.of_file("procedure", args.procedure)


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value.resolve())


def _done(report: reporting.Report) -> int:
    print(
        f"Wrote {report.path} ({report.figures} figure(s), {report.tables} table(s)). "
        "Open it in a browser."
    )
    return 0


def run_procedure(args: argparse.Namespace) -> int:
    inputs = [_procedure_input(args)]
    report = reporting.write_report(
        "procedure",
        args.out,
        title="Procedure 1.4.9: child abuse and ICT, as modelled",
        parameters={"procedure_path": _path(args.procedure)},
        inputs=inputs,
    )
    return _done(report)


def run_scenario(args: argparse.Namespace) -> int:
    from simulation.scenario import default_scenario_path

    inputs = [_procedure_input(args)]
    if args.scenario is None:
        inputs.append(
            reporting.ReportInput.of_file(
                "scenario", default_scenario_path(), name="built-in default scenario"
            )
        )
    else:
        inputs.append(reporting.ReportInput.of_file("scenario", args.scenario))
    report = reporting.write_report(
        "scenario",
        args.out,
        title="Caseload scenarios: can the procedure's deadlines be met?",
        parameters={
            "scenario_path": _path(args.scenario),
            "procedure_path": _path(args.procedure),
            "replications": args.replications,
            "days": args.days,
            "sweep_replications": args.sweep_replications,
            "seed": args.seed,
        },
        inputs=inputs,
    )
    return _done(report)


def run_audit(args: argparse.Namespace) -> int:
    inputs = [reporting.ReportInput.of_file("event log", args.log), _procedure_input(args)]
    if args.mapping is not None:
        inputs.append(reporting.ReportInput.of_file("mapping", args.mapping))
    if args.config is not None:
        inputs.append(reporting.ReportInput.of_file("check configuration", args.config))
    report = reporting.write_report(
        "audit",
        args.out,
        title="Conformance audit: the event log against procedure 1.4.9",
        parameters={
            "log_path": _path(args.log),
            "procedure_path": _path(args.procedure),
            "mapping_path": _path(args.mapping),
            "config_path": _path(args.config),
            "as_of": args.as_of,
            "timelines": args.timelines,
        },
        inputs=inputs,
    )
    return _done(report)

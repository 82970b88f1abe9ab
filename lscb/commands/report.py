"""`lscb report procedure | scenario | audit | calibration`: run a notebook and write a
self-contained HTML report.

Each action runs the matching notebook (``lscb.reporting``) with papermill (the options become
the notebook's parameters) and writes one HTML file without code cells: a title page with the
date, the inputs' names and SHA-256 checksums and the project's version, then the figures and
tables. ``report scenario`` takes the judging settings of ``lscb simulate``, and ``report audit``
the input options and settings of ``lscb check`` (``lscb.options``); under ``--on-bad-rows skip``
it lists the rows it left out beside the report (``audit.html`` -> ``audit-rejects.csv``), in the
same form as ``lscb check``'s rejects.csv. ``report calibration`` takes those of ``lscb check``
too, and writes a folder: the page and, beside it, the scenario it calibrated from the log with
its ledger (``lscb.reporting.calibrations``).
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lscb.options import (
    Subparsers,
    add_check_settings,
    add_force_option,
    add_input_options,
    check_settings,
    output_guard,
    positive,
)

if TYPE_CHECKING:
    from lscb.reporting import ReportInput

__all__ = [
    "AUDIT_DEFAULTS",
    "CALIBRATION_DEFAULTS",
    "CALIBRATION_PAGE",
    "PARAMETERS",
    "SCENARIO_DEFAULTS",
    "TITLES",
    "inputs_for",
    "parameters_for",
    "register",
    "rejects_path",
    "run_calibration_report",
    "run_report",
]


def register(sub: Subparsers) -> None:
    """Add ``report`` and its actions ``procedure``, ``scenario``, ``audit`` and
    ``calibration``."""
    report = sub.add_parser(
        "report",
        help="write a report (HTML, no code) from a notebook: procedure, scenario, audit or "
        "calibration",
        description=(
            "Run one of the project's notebooks and write one self-contained HTML file that opens "
            "in any browser: the procedure, a caseload scenario against what-ifs, an audit of "
            "an event log, or a scenario calibrated from an event log and checked against it "
            "('lscb report calibration LOG --out DIR', which also writes the calibrated "
            "scenario)."
        ),
    )
    rsub = report.add_subparsers(dest="report_command", metavar="ACTION")
    report.set_defaults(handler=lambda _args: _usage(report))

    procedure = rsub.add_parser(
        "procedure",
        help="the procedure: swimlane diagram, deadlines and rules with their clauses",
    )
    _common(procedure, "procedure.html")
    procedure.set_defaults(handler=run_report, report_kind="procedure")

    scenario = rsub.add_parser(
        "scenario",
        help="a caseload scenario against what-ifs: compliance, bottlenecks, a sweep, findings",
    )
    scenario.add_argument(
        "--scenario", type=Path, help="a scenario file (TOML; default: the built-in scenario)"
    )
    scenario.add_argument(
        "--replications",
        type=positive,
        default=SCENARIO_DEFAULTS["replications"],
        help="independent runs per scenario (default: %(default)s)",
    )
    scenario.add_argument(
        "--days",
        type=positive,
        default=SCENARIO_DEFAULTS["days"],
        help="simulated calendar days per run, after the warm-up (default: %(default)s)",
    )
    scenario.add_argument(
        "--sweep-replications",
        type=positive,
        default=SCENARIO_DEFAULTS["sweep_replications"],
        help="runs per point of the sweep heatmap (default: %(default)s)",
    )
    scenario.add_argument(
        "--seed", type=int, help="the seed of the first run (default: the scenario's own)"
    )
    scenario.add_argument(
        "--validation-replications",
        type=positive,
        default=SCENARIO_DEFAULTS["validation_replications"],
        help="runs for the comparison with published figures (default: %(default)s)",
    )
    scenario.add_argument(
        "--sensitivity-replications",
        type=positive,
        default=SCENARIO_DEFAULTS["sensitivity_replications"],
        help="runs per point of the sensitivity analysis (default: %(default)s)",
    )
    scenario.add_argument(
        "--sensitivity-field",
        action="append",
        metavar="FIELD",
        help="move only this assumption in the sensitivity analysis (repeatable; default: every "
        "assumption with a range in the scenario's ledger)",
    )
    scenario.add_argument(
        "--sensitivity-budget",
        type=int,
        default=0,
        metavar="RUNS",
        help="runs for the variance-based global analysis (default: 0, none)",
    )
    scenario.add_argument(
        "--no-marginal",
        action="store_true",
        help="skip the runs with one more person in each role",
    )
    _common(scenario, "report.html")
    add_check_settings(scenario, for_a_log=False)
    scenario.set_defaults(handler=run_report, report_kind="scenario")

    audit = rsub.add_parser(
        "audit",
        help="an audit of an event log: compliance per rule and month, deviations, caveats",
    )
    audit.add_argument("log", type=Path, help="the event log (CSV, Parquet or XES)")
    audit.add_argument(
        "--timelines",
        type=positive,
        default=AUDIT_DEFAULTS["timelines"],
        help="deviating cases drawn as timelines (default: %(default)s)",
    )
    _common(audit, "audit.html")
    add_input_options(audit)
    add_check_settings(audit)
    audit.set_defaults(handler=run_report, report_kind="audit")

    _register_calibration(rsub)


SCENARIO_DEFAULTS: dict[str, int] = {
    "replications": 10,
    "days": 365,
    "sweep_replications": 3,
    "validation_replications": 10,
    "sensitivity_replications": 2,
}
AUDIT_DEFAULTS: dict[str, int] = {"timelines": 4}
CALIBRATION_DEFAULTS: dict[str, int] = {"replications": 10, "refine": 2}
CALIBRATION_PAGE = "calibration.html"
"""The page that ``report calibration`` writes into its folder (beside the calibrated scenario,
``lscb.reporting.calibrations.SCENARIO_FILE``, and its ledger)."""


def _register_calibration(rsub: Any) -> None:
    """Add ``report calibration``: ``lscb calibrate`` and ``lscb validate`` as one page."""
    from datetime import date

    def day(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError("expected a date, YYYY-MM-DD") from None

    cal = rsub.add_parser(
        "calibration",
        help="a scenario calibrated from an event log, and checked against the log: what was "
        "estimated, what stays assumed, how well it reproduces the log",
        description=(
            "Calibrate a scenario from an event log (as 'lscb calibrate') and check it against "
            "the log (as 'lscb validate'): one page for a board analyst, written into --out "
            f"as {CALIBRATION_PAGE}, with the calibrated scenario beside it "
            "(calibrated_scenario.toml, and its ledger as calibrated_scenario.ledger.csv)."
        ),
    )
    cal.add_argument("log", type=Path, help="the event log (CSV, Parquet or XES)")
    cal.add_argument(
        "--out",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help=f"the folder to write {CALIBRATION_PAGE} and the calibrated scenario into "
        "(default: %(default)s)",
    )
    cal.add_argument(
        "--holdout-from",
        type=day,
        metavar="DATE",
        help="calibrate on the log as it stood before DATE (YYYY-MM-DD) and check on the cases "
        "that began from it (default: calibrate and check on the whole log)",
    )
    cal.add_argument(
        "--replications",
        type=positive,
        default=CALIBRATION_DEFAULTS["replications"],
        help="simulated runs of the log's period for each check (default: %(default)s)",
    )
    cal.add_argument(
        "--seed", type=int, help="the seed of the first run (default: the scenario's own)"
    )
    cal.add_argument(
        "--base",
        type=Path,
        metavar="SCENARIO",
        help="the scenario whose routes, roles and assumptions are kept, and checked beside "
        "the calibrated one (default: the built-in one)",
    )
    cal.add_argument(
        "--refine",
        type=int,
        default=CALIBRATION_DEFAULTS["refine"],
        metavar="N",
        help="times to simulate the estimate to separate waiting for people from the steps' "
        "lags (default: %(default)s; 0 for none)",
    )
    cal.add_argument(
        "--procedure", type=Path, help="a procedure file (default: the built-in one)"
    )
    add_force_option(cal)
    add_input_options(cal)
    add_check_settings(cal)
    cal.set_defaults(handler=run_calibration_report, report_kind="calibration")


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
    add_force_option(parser)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


PARAMETERS: dict[str, tuple[str, ...]] = {
    "procedure": ("procedure_path",),
    "scenario": (
        "scenario_path",
        "procedure_path",
        "replications",
        "days",
        "sweep_replications",
        "seed",
        "config_path",
        "check_settings",
        "marginal",
        "validation_replications",
        "sensitivity_replications",
        "sensitivity_fields",
        "sensitivity_budget",
    ),
    "audit": (
        "log_path",
        "procedure_path",
        "mapping_path",
        "config_path",
        "as_of",
        "timelines",
        "rules_paths",
        "contract_rules",
        "log_columns",
        "check_settings",
    ),
    "calibration": (
        "log_path",
        "procedure_path",
        "mapping_path",
        "config_path",
        "as_of",
        "rules_paths",
        "contract_rules",
        "log_columns",
        "check_settings",
        "base_path",
        "holdout_from",
        "replications",
        "seed",
        "refine",
        "scenario_out_path",
    ),
}
"""The notebook parameters each report command sets (the rest keep the notebook's defaults)."""

TITLES: dict[str, str] = {
    "procedure": "Procedure 1.4.9: child abuse and ICT, as modelled",
    "scenario": "Caseload scenarios: can the procedure's deadlines be met?",
    "audit": "Conformance audit: an event log against procedure 1.4.9",
    "calibration": "Calibration: a scenario learnt from an event log, and checked against it",
}

# The options of ``lscb.options.add_log_options`` other than --mapping, as LogFormat names them.
_LOG_COLUMNS = (
    "case_column",
    "activity_column",
    "timestamp_column",
    "resource_column",
    "timestamp_format",
    "delimiter",
    "encoding",
    "date_order",
    "sheet",
    "on_bad_rows",
    # the limits on the log (lscb.options.add_limit_options), by their Limits names
    "max_events",
    "max_columns",
    "max_field_bytes",
    "max_input_bytes",
)


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value.resolve())


def parameters_for(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The notebook parameters of a report command's options (paths made absolute)."""
    values: dict[str, Any] = {"procedure_path": _path(args.procedure)}
    if kind in ("scenario", "audit", "calibration"):
        settings = check_settings(args)
        values.update(
            config_path=_path(args.config),
            as_of=settings.pop("as_of", None),
            check_settings=settings,
        )
    if kind == "scenario":
        values.update(
            scenario_path=_path(args.scenario),
            replications=args.replications,
            days=args.days,
            sweep_replications=args.sweep_replications,
            seed=args.seed,
            marginal=not args.no_marginal,
            validation_replications=args.validation_replications,
            sensitivity_replications=args.sensitivity_replications,
            sensitivity_fields=args.sensitivity_field,
            sensitivity_budget=args.sensitivity_budget,
        )
    if kind in ("audit", "calibration"):
        values.update(
            log_path=_path(args.log),
            mapping_path=_path(args.mapping),
            timelines=getattr(args, "timelines", None),
            rules_paths=[_path(p) for p in args.rules],
            contract_rules=not args.no_contract_rules,
            log_columns={
                name: getattr(args, name)
                for name in _LOG_COLUMNS
                if getattr(args, name) is not None
            },
        )
    if kind == "calibration":
        values.update(
            base_path=_path(args.base),
            holdout_from=None if args.holdout_from is None else args.holdout_from.isoformat(),
            replications=args.replications,
            seed=args.seed,
            refine=args.refine,
            scenario_out_path=None,  # set by run_calibration_report: the folder it writes
        )
    return {name: values[name] for name in PARAMETERS[kind]}


def inputs_for(kind: str, args: argparse.Namespace) -> list[ReportInput]:
    """The files a report reads, with their checksums (InputError when one is missing)."""
    from lscb.reporting import ReportInput
    from model.procedure import default_procedure_path

    found: list[ReportInput] = []
    if kind in ("audit", "calibration"):
        found.append(ReportInput.of_file("event log", args.log))
    if args.procedure is None:
        found.append(
            ReportInput.of_file(
                "procedure", default_procedure_path(), name="built-in procedure 1.4.9"
            )
        )
    else:
        found.append(ReportInput.of_file("procedure", args.procedure))
    if kind == "scenario":
        if args.scenario is None:
            from simulation.scenario import default_scenario_path

            found.append(
                ReportInput.of_file(
                    "scenario", default_scenario_path(), name="built-in default scenario"
                )
            )
        else:
            found.append(ReportInput.of_file("scenario", args.scenario))
    if kind == "calibration":
        if args.base is None:
            from simulation.scenario import default_scenario_path

            found.append(ReportInput.of_file(
                "base scenario", default_scenario_path(), name="built-in default scenario"))
        else:
            found.append(ReportInput.of_file("base scenario", args.base))
    if kind in ("audit", "calibration"):
        if args.mapping is not None:
            found.append(ReportInput.of_file("mapping", args.mapping))
        found.extend(ReportInput.of_file("rules", path) for path in args.rules)
    if kind in ("scenario", "audit", "calibration") and args.config is not None:
        found.append(ReportInput.of_file("check configuration", args.config))
    return found


def run_report(args: argparse.Namespace) -> int:
    """Check the inputs and the output file, run the notebook, write the report."""
    from lscb.reporting import write_report
    from lscb.safeoutput import plan_file

    kind: str = args.report_kind
    inputs = inputs_for(kind, args)
    given = [getattr(args, name, None) for name in ("log", "procedure", "scenario", "mapping",
                                                    "config")]
    guard = output_guard(args, [*given, *getattr(args, "rules", [])])
    plan = plan_file(args.out, guard)
    parameters = parameters_for(kind, args)
    rejects = None  # under --on-bad-rows skip, the rows left out go beside the report
    if kind == "audit" and getattr(args, "on_bad_rows", None) == "skip":
        rejects = plan_file(rejects_path(args.out), guard)
    with plan.staging() as temporary, contextlib.ExitStack() as stack:
        report = write_report(
            kind,
            temporary,
            title=TITLES[kind],
            parameters=parameters,
            inputs=inputs,
        )
        if rejects is not None:
            skipped = _write_rejects(stack.enter_context(rejects.staging()), args, parameters)
    print(
        f"Wrote {args.out} ({report.figures} figure(s), {report.tables} table(s)). "
        "Open it in a browser."
    )
    if rejects is not None:
        print(f"Wrote {rejects.path}: {skipped:,} row(s) that could not be read, left out, "
              "each with its line and reason.")
    return 0


def run_calibration_report(args: argparse.Namespace) -> int:
    """Check the inputs and the output folder, run the calibration notebook, and write the
    page with the calibrated scenario and its ledger beside it, as one set (nothing is written
    if the run fails, and no existing file is replaced without --force)."""
    from lscb.reporting import write_report
    from lscb.reporting.calibrations import SCENARIO_FILE
    from lscb.safeoutput import plan_folder
    from model.errors import InputError, Problem

    if args.refine < 0:
        raise InputError("the command line", [Problem(
            "option --refine", "a whole number of at least 0", str(args.refine))])
    if args.seed is not None and args.seed < 0:
        raise InputError("the command line", [Problem(
            "option --seed", "a whole number of at least 0", str(args.seed))])
    inputs = inputs_for("calibration", args)
    ledger = Path(SCENARIO_FILE).stem + ".ledger.csv"
    guard = output_guard(args, [args.log, args.procedure, args.base, args.mapping, args.config,
                                *args.rules])
    names = [CALIBRATION_PAGE, SCENARIO_FILE, ledger]
    if args.on_bad_rows == "skip":  # the rows left out, listed as lscb check lists them
        from conformance.logio.rejects import REJECTS_FILE

        names.append(REJECTS_FILE)
    plan = plan_folder(args.out, names, guard)
    parameters = parameters_for("calibration", args)
    with plan.staging() as staging:
        report = write_report(
            "calibration",
            staging / CALIBRATION_PAGE,
            title=TITLES["calibration"],
            parameters={**parameters, "scenario_out_path": str(staging / SCENARIO_FILE)},
            inputs=inputs,
        )
    print(
        f"Wrote {args.out / CALIBRATION_PAGE} ({report.figures} figure(s), {report.tables} "
        f"table(s)); open it in a browser. The calibrated scenario is {args.out / SCENARIO_FILE} "
        f"(lscb simulate --scenario {args.out / SCENARIO_FILE}), its ledger {ledger}."
        + (" The rows that could not be read are listed in rejects.csv beside them."
           if args.on_bad_rows == "skip" else "")
    )
    return 0


def rejects_path(out: Path) -> Path:
    """Where ``report audit --on-bad-rows skip`` lists the rows it left out: beside the report,
    ``audit.html`` -> ``audit-rejects.csv``."""
    from conformance.logio.rejects import REJECTS_FILE

    return out.with_name(f"{out.stem}-{REJECTS_FILE}")


def _write_rejects(path: Path, args: argparse.Namespace, parameters: dict[str, Any]) -> int:
    """Read the log as the audit notebook did (the same procedure, vocabulary and layout) and
    write its rejects file to ``path`` as ``lscb check`` does; the number of rows left out."""
    from conformance.check import read_options, rules_to_judge
    from conformance.logio import read_log
    from conformance.logio.rejects import write_rejects_frame
    from lscb.reporting.audits import audit_log_format
    from model.procedure import load_procedure

    procedure = load_procedure(args.procedure)
    _, vocabulary = rules_to_judge(procedure, args.rules,
                                   contract_rules=not args.no_contract_rules)
    layout = audit_log_format(parameters["mapping_path"], parameters["log_columns"],
                              parameters["config_path"])
    log = read_log(args.log, read_options(procedure, layout, vocabulary=vocabulary))
    write_rejects_frame(path, log.rejects, log.row_word)
    return 0 if log.coverage is None else int(log.coverage.skipped)

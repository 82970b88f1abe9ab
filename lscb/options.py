"""The option groups that several commands share, defined once.

- :func:`add_log_options`: how a log's file is laid out (a mapping file, column names, the
  timestamp format, the CSV separator, the encoding): ``check``, ``pseudonymise``,
  ``report audit``.
- :func:`add_input_options`: what a check of a log judges (``--as-of``, ``--rules``,
  ``--no-contract-rules``) and how the log is read: ``check``, ``report audit``.
- :func:`add_run_options`: what a simulation runs (the scenario, the seed, the replications,
  where they run): ``simulate``, ``sweep``.
- :func:`add_check_settings`: how rules are judged (``--config`` and the calendar and deadline
  settings: ``--icpc-clock``, ``--day-counting``, ``--same-day``, ``--closure`` ...):
  ``check``, ``report audit``, ``simulate``, ``sweep``, ``report scenario``, so that the
  simulator judges its caseload exactly as the checker judges a log.

The functions that turn the parsed options into the libraries' settings (:func:`log_format`,
:func:`check_settings`, :func:`check_config`, :func:`scenario_of`,
:func:`simulation_check_config`) import the libraries when called, never when the
parser is built: ``lscb --help`` stays free of pandas and numpy. For the same reason the choices
below are written here; a test checks that they are the libraries' own.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from lscb.safeoutput import OutputGuard, folder_problems
from model.errors import InputError, Problem

if TYPE_CHECKING:
    from conformance import CheckConfig, FitnessBudget, Limits, LogFormat
    from model.procedure import Procedure
    from simulation import Bounds
    from simulation.scenario import Scenario

__all__ = [
    "BAD_ROW_CHOICES",
    "DATE_ORDER_CHOICES",
    "DAY_COUNTING_CHOICES",
    "FITNESS_CHOICES",
    "ICPC_CLOCK_CHOICES",
    "SAME_DAY_CHOICES",
    "Subparsers",
    "add_check_settings",
    "add_fitness_budget_options",
    "add_force_option",
    "add_input_options",
    "add_limit_options",
    "add_log_options",
    "add_run_options",
    "bounds_of",
    "check_config",
    "check_config_of",
    "check_settings",
    "fitness_budget_of",
    "limits_of",
    "log_format",
    "output_guard",
    "positive",
    "scenario_check_config",
    "scenario_of",
    "simulation_check_config",
]

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What each command module's ``register`` receives (the object ``add_subparsers`` returns)."""

ICPC_CLOCK_CHOICES: Final = ("last-strategy-discussion", "section-47-start")
"""``--icpc-clock``: ``conformance.config.ICPC_CLOCKS``."""
DAY_COUNTING_CHOICES: Final = ("day0", "day1")
"""``--day-counting``: the values of ``model.calendar.DayCounting``."""
SAME_DAY_CHOICES: Final = ("calendar", "working")
"""``--same-day``: the values of ``model.calendar.SameDay``."""
FITNESS_CHOICES: Final = ("auto", "alignments", "token-replay", "none")
"""``--fitness``: ``conformance.check.FITNESS_METHODS``."""

# The settings of ``add_check_settings`` as ``conformance.config.config_with_overrides`` names
# them (``--ignore-bank-holidays`` sets bank_holidays=False; ``--closure`` extra_closures).
_SETTINGS: Final = (
    "as_of",
    "close_of_business",
    "same_day",
    "day_counting",
    "bank_holidays",
    "extra_closures",
    "immediately",
    "icpc_clock",
)


def positive(text: str) -> int:
    """An argparse type: a whole number greater than 0.

    >>> positive("3")
    3
    >>> positive("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected a whole number greater than 0
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number greater than 0") from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number greater than 0")
    return value


DATE_ORDER_CHOICES: Final = ("auto", "day-first", "month-first")
"""``--date-order``: ``conformance.logio.dates.DATE_ORDERS``."""
BAD_ROW_CHOICES: Final = ("fail", "skip")
"""``--on-bad-rows``: ``conformance.logio.schema.BAD_ROWS``."""
def add_force_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--force``: replace outputs that exist already (never an input or key file)."""
    parser.add_argument("--force", action="store_true",
                        help="replace outputs that exist already (an input or key file is "
                             "never replaced, and nothing is written through a symbolic link)")


def output_guard(args: argparse.Namespace, inputs: Iterable[Path | str | None],
                 keys: Iterable[Path | str | None] = (), option: str = "--out") -> OutputGuard:
    """What the outputs of a command must not overwrite (its ``inputs`` and ``keys``; None is
    skipped), and whether existing outputs may be replaced (``--force``)."""
    return OutputGuard(inputs=[Path(p) for p in inputs if p is not None],
                       keys=[Path(p) for p in keys if p is not None],
                       force=bool(getattr(args, "force", False)), option=option)


def _count(text: str) -> int:
    """An argparse type: a whole number of at least 1, written with or without separators
    (1000000, 1,000,000, 1_000_000 or 1e6)."""
    cleaned = text.replace(",", "").replace("_", "").strip()
    try:
        value = float(cleaned) if "e" in cleaned.lower() else int(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1") from None
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return int(value)


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds greater than 0") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("expected a number of seconds greater than 0")
    return value


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """Add the group "limits on the log" (``--max-events``, ``--max-columns``,
    ``--max-field-bytes``, ``--max-input-bytes``): what a log may make the reader do; past a
    limit the log is refused (exit status 2) with a message naming the option that raises it.
    """
    from_defaults = _LIMIT_DEFAULTS
    group = parser.add_argument_group("limits on the log (docs/privacy.md)")
    group.add_argument("--max-events", type=_count, metavar="N",
                       help=f"rows or events (default {from_defaults['max_events']:,})")
    group.add_argument("--max-columns", type=_count, metavar="N",
                       help=f"columns in a header, a Parquet file or XES keys (default "
                            f"{from_defaults['max_columns']:,})")
    group.add_argument("--max-field-bytes", type=_count, metavar="N",
                       help=f"bytes in one field or value (default "
                            f"{from_defaults['max_field_bytes']:,})")
    group.add_argument("--max-input-bytes", type=_count, metavar="N",
                       help=f"bytes of content: a CSV file, an XES file once gunzipped, the "
                            f"Parquet columns read (default {from_defaults['max_input_bytes']:,})")


_LIMIT_DEFAULTS: Final = {
    "max_events": 5_000_000,
    "max_columns": 1_000,
    "max_field_bytes": 1_000_000,
    "max_input_bytes": 1 << 30,
}
"""The defaults of ``conformance.logio.Limits`` (a test checks they agree), written here so that
the parser is built without importing the libraries."""


def limits_of(args: argparse.Namespace) -> Limits:
    """The reader's limits: the defaults, with the options of :func:`add_limit_options` given."""
    from conformance.logio import Limits

    given = {name: getattr(args, name, None) for name in _LIMIT_DEFAULTS}
    return Limits(**{k: v for k, v in given.items() if v is not None})


def add_fitness_budget_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-aligned-variants`` and ``--alignment-seconds``: how much control-flow
    fitness may cost."""
    parser.add_argument("--max-aligned-variants", type=_count, metavar="N",
                        help="distinct variants that do not fit the model aligned, the most "
                             "frequent first; the rest by token replay (default 100,000)")
    parser.add_argument("--alignment-seconds", type=_seconds, metavar="S",
                        help="seconds for aligning; past them token replay judges the rest "
                             "(for half as long), then exact replay; the report says so "
                             "(default 20)")


def fitness_budget_of(args: argparse.Namespace) -> FitnessBudget:
    """The fitness budget of the options of :func:`add_fitness_budget_options`."""
    from conformance import FitnessBudget

    budget = FitnessBudget()
    if getattr(args, "max_aligned_variants", None) is not None:
        budget = replace(budget, max_aligned_variants=args.max_aligned_variants)
    if getattr(args, "alignment_seconds", None) is not None:
        budget = replace(budget, alignment_seconds=args.alignment_seconds)
    return budget


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """Add the group "reading the log": ``--mapping``, ``--case-column``, ``--activity-column``,
    ``--timestamp-column``, ``--resource-column``, ``--timestamp-format`` (repeatable),
    ``--date-order``, ``--delimiter``, ``--encoding``, ``--sheet``, ``--on-bad-rows``, and the
    limits of :func:`add_limit_options`."""
    group = parser.add_argument_group("reading the log (also settable in the mapping file)")
    group = parser.add_argument_group("reading the log")
    group.add_argument("--mapping", type=Path, metavar="FILE",
                       help="a YAML file: column names, local activity names, steps to "
                            "ignore, flag words, date formats (docs/logs.md)")
    group.add_argument("--case-column", metavar="NAME", help="the column of case ids")
    group.add_argument("--activity-column", metavar="NAME", help="the column of activities")
    group.add_argument("--timestamp-column", metavar="NAME", help="the column of timestamps")
    group.add_argument("--resource-column", metavar="NAME", help="the column of resources")
    group.add_argument("--timestamp-format", metavar="FMT", action="append",
                       help="a strptime format such as '%%d/%%m/%%Y %%H:%%M' (repeat the "
                            "option for several, tried in order); default 'auto': ISO 8601 "
                            "and UK dates, with or without a time, day first unless the "
                            "column proves otherwise")
    group.add_argument("--date-order", choices=DATE_ORDER_CHOICES,
                       help="the order of day and month in dates like 09/12/2024: auto "
                            "(default: day first unless the whole column proves month first), "
                            "day-first or month-first (rows that contradict it are errors)")
    group.add_argument("--delimiter", metavar="C", help="the CSV separator (default: guessed)")
    group.add_argument("--encoding", metavar="E",
                       help="the file's encoding (default: UTF-8, or cp1252 with a warning)")
    group.add_argument("--sheet", metavar="NAME|N",
                       help="the sheet of an Excel workbook: its name, or its position "
                            "(1 = the first; default)")
    group.add_argument("--on-bad-rows", choices=BAD_ROW_CHOICES, default=None,
                       help="fail (default): list every row that cannot be read and stop; "
                            "skip: leave such rows out, list each in a rejects file (check, "
                            "validate, report calibration: rejects.csv in --out; report audit: "
                            "<report name>-rejects.csv beside the report, e.g. "
                            "audit-rejects.csv; calibrate: <scenario name>.rejects.csv beside "
                            "the scenario), and count them in the summary")
    add_limit_options(parser)


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Add what a check of a log reads and judges: ``--as-of``, ``--rules``,
    ``--no-contract-rules`` and the options of :func:`add_log_options`."""
    parser.add_argument("--as-of", metavar="TIMESTAMP",
                        help="when the log was extracted (ISO 8601; without an offset, "
                             "Europe/London; a date alone: the end of that day); default: the "
                             "latest timestamp in the log")
    parser.add_argument("--rules", type=Path, action="append", default=[], metavar="FILE.yaml",
                        help="a local rules file, judged like the procedure's rules "
                             "(repeat the option for several files)")
    parser.add_argument("--no-contract-rules", action="store_true",
                        help="judge only the rules of --rules files, not the procedure's")
    add_log_options(parser)


def add_check_settings(parser: argparse.ArgumentParser, *, for_a_log: bool = True) -> None:
    """Add ``--config`` and the group "calendar and deadlines" (``--close-of-business``,
    ``--same-day``, ``--day-counting``, ``--ignore-bank-holidays``, ``--closure``,
    ``--immediately``, ``--icpc-clock``). ``for_a_log``: they judge a log (whose settings file
    may also give its as_of), not the simulator's cases."""
    what = ("settings of the check: as_of, icpc_clock" if for_a_log else
            "how the simulated cases are judged, as 'lscb check' judges a log: icpc_clock")
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help=f"{what} and the [calendar] options below (docs/logs.md); the "
                             "command line overrides it")
    calendar = parser.add_argument_group("calendar and deadlines (also settable in --config)")
    calendar.add_argument("--close-of-business", metavar="HH:MM",
                          help="local close of business (default 17:00)")
    calendar.add_argument("--same-day", choices=SAME_DAY_CHOICES,
                          help="'the same day' means the calendar date (default) or the same "
                               "working day")
    calendar.add_argument("--day-counting", choices=DAY_COUNTING_CHOICES,
                          help="'within N working days': the trigger's date is day 0 (default) "
                               "or day 1 (as the CIN census validator counts)")
    calendar.add_argument("--ignore-bank-holidays", action="store_true", default=None,
                          help="count bank holidays as working days")
    calendar.add_argument("--closure", action="append", metavar="DATE",
                          help="an extra closure date, YYYY-MM-DD (repeat the option for "
                               "several; they replace the config file's)")
    calendar.add_argument("--immediately", metavar="DURATION",
                          help="what 'immediately' allows, such as '1 hour' (default) or "
                               "'30 minutes'")
    calendar.add_argument("--icpc-clock", choices=ICPC_CLOCK_CHOICES,
                          help="which strategy discussion starts the ICPC's 15 working days "
                               "(default: the last one, as the procedure says)")


def log_format(args: argparse.Namespace) -> LogFormat:
    """The layout of the log that the options of :func:`add_log_options` describe.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_log_options(parser)
    >>> layout = log_format(parser.parse_args(["--case-column", "Ref", "--delimiter", ";"]))
    >>> layout.case_column, layout.delimiter, layout.mapping
    ('Ref', ';', None)
    """
    from conformance import LogFormat

    formats = args.timestamp_format
    return LogFormat(
        mapping=args.mapping,
        case_column=args.case_column,
        activity_column=args.activity_column,
        timestamp_column=args.timestamp_column,
        resource_column=args.resource_column,
        timestamp_format=None if not formats else tuple(formats),
        delimiter=args.delimiter,
        encoding=args.encoding,
        date_order=getattr(args, "date_order", None),
        sheet=getattr(args, "sheet", None),
        on_bad_rows=getattr(args, "on_bad_rows", None) or "fail",
        settings_file=getattr(args, "config", None),
        limits=limits_of(args),
    )


def check_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (not those of ``--config``), named as
    ``conformance.config.config_with_overrides`` names them; plain values (text, lists of
    text, False), so that a report can pass them to its notebook.

    >>> parser = argparse.ArgumentParser()
    >>> add_check_settings(parser)
    >>> check_settings(parser.parse_args(["--closure", "2024-12-27", "--same-day", "working"]))
    {'same_day': 'working', 'extra_closures': ['2024-12-27']}
    """
    values: dict[str, Any] = {
        "as_of": getattr(args, "as_of", None),
        "close_of_business": args.close_of_business,
        "same_day": args.same_day,
        "day_counting": args.day_counting,
        "bank_holidays": False if args.ignore_bank_holidays else None,
        "extra_closures": list(args.closure) if args.closure else None,
        "immediately": args.immediately,
        "icpc_clock": args.icpc_clock,
    }
    return {name: values[name] for name in _SETTINGS if values[name] is not None}


def check_config_of(
    config_path: Path | str | None,
    settings: Mapping[str, Any] | None = None,
    base: CheckConfig | None = None,
) -> CheckConfig:
    """The judging settings of a settings file with command-line settings on top.

    Parameters
    ----------
    config_path
        A settings file (TOML, ``conformance.config.load_check_config``); None: ``base``, or
        else the checker's defaults.
    settings
        Settings as :func:`check_settings` gives them (``same_day``, ``extra_closures`` ...).
    base
        What stands in for a missing file (a scenario's ``[checking]`` section).

    Raises
    ------
    InputError
        Naming every bad key of the file or every bad option, what was expected and what was
        found.

    Examples
    --------
    >>> config = check_config_of(None, {"same_day": "working", "extra_closures": ["2024-12-27"]})
    >>> config.calendar.same_day.value, config.calendar.extra_closures
    ('working', (datetime.date(2024, 12, 27),))
    >>> check_config_of(None, {"day_counting": "day2"})
    Traceback (most recent call last):
    model.errors.InputError: command line: 1 problem(s) found
      - option --day-counting: expected ...; found ...
    """
    from conformance import CheckConfig, config_with_overrides, load_check_config

    if config_path is not None:
        config = load_check_config(config_path)
    else:
        config = base if base is not None else CheckConfig()
    return config_with_overrides(config, **settings) if settings else config


def check_config(args: argparse.Namespace, base: CheckConfig | None = None) -> CheckConfig:
    """The judging settings that ``--config`` and the options of :func:`add_check_settings`
    (and ``--as-of`` where the command has it) give, on top of ``base`` when there is no
    ``--config``."""
    return check_config_of(args.config, check_settings(args), base)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add what every simulation command takes: ``--scenario``, ``--seed``, ``--replications``,
    ``--workers``, ``--scheduler``, ``--out``, ``--quiet``."""
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
    add_force_option(parser)
    bounds = parser.add_argument_group(
        "bounds on one replication (a scenario past them is refused before it runs)")
    bounds.add_argument("--max-cases", type=_count, metavar="N",
                        help="cases arriving in one replication (default 500,000)")
    bounds.add_argument("--max-headcount", type=_count, metavar="N",
                        help="people in one role (default 10,000)")
    bounds.add_argument("--max-other-work", type=_count, metavar="N",
                        help="jobs of other work in one replication (default 5,000,000)")
    bounds.add_argument("--max-days", type=_count, metavar="N",
                        help="days of warm-up, horizon and drain (default 7,320)")


def bounds_of(args: argparse.Namespace) -> Bounds:
    """The bounds on one replication: the defaults, with the options given."""
    from simulation import Bounds

    names = ("max_cases", "max_headcount", "max_other_work", "max_days")
    given = {name: getattr(args, name, None) for name in names}
    return Bounds(**{k: v for k, v in given.items() if v is not None})


def scenario_of(
    args: argparse.Namespace, procedure: Procedure, problems: list[Problem]
) -> Scenario:
    """The scenario of the options of :func:`add_run_options`, after checking the command
    line: ``problems`` already found in it and those of the shared options are raised
    together, before the scenario file is read."""
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
        problems += folder_problems(args.out)
    if problems:
        raise InputError("the command line", problems)
    return load_scenario(args.scenario, procedure)


def scenario_check_config(
    scenario: Scenario, config_path: Path | str | None, settings: Mapping[str, Any] | None
) -> CheckConfig | None:
    """The settings to judge a simulation of ``scenario`` with: a settings file
    (``config_path``, in place of the scenario's ``[checking]`` section) and ``settings`` on
    top (on top of the scenario's section when there is no file); None when neither is given,
    so that the simulator uses the scenario's own.

    >>> from simulation import load_scenario
    >>> from model import load_procedure
    >>> scenario = load_scenario(None, load_procedure())
    >>> scenario_check_config(scenario, None, {}) is None
    True
    >>> scenario_check_config(scenario, None, {"icpc_clock": "section-47-start"}).icpc_clock
    'section-47-start'
    """
    if config_path is None and not settings:
        return None
    return check_config_of(config_path, settings, scenario.checking)


def simulation_check_config(args: argparse.Namespace, scenario: Scenario) -> CheckConfig | None:
    """:func:`scenario_check_config` of the options of :func:`add_check_settings`."""
    return scenario_check_config(scenario, args.config, check_settings(args))

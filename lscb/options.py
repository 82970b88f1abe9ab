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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from lscb.outputs import output_directory_problems
from model.errors import InputError, Problem

if TYPE_CHECKING:
    from conformance import CheckConfig, LogFormat
    from model.procedure import Procedure
    from simulation.scenario import Scenario

__all__ = [
    "DAY_COUNTING_CHOICES",
    "FITNESS_CHOICES",
    "ICPC_CLOCK_CHOICES",
    "SAME_DAY_CHOICES",
    "Subparsers",
    "add_check_settings",
    "add_input_options",
    "add_log_options",
    "add_run_options",
    "check_config",
    "check_config_of",
    "check_settings",
    "log_format",
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


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """Add the group "reading the log": ``--mapping``, ``--case-column``, ``--activity-column``,
    ``--timestamp-column``, ``--resource-column``, ``--timestamp-format``, ``--delimiter``,
    ``--encoding``."""
    group = parser.add_argument_group("reading the log")
    group.add_argument("--mapping", type=Path, metavar="FILE",
                       help="a YAML file mapping column names and local activity names")
    group.add_argument("--case-column", metavar="NAME", help="the column of case ids")
    group.add_argument("--activity-column", metavar="NAME", help="the column of activities")
    group.add_argument("--timestamp-column", metavar="NAME", help="the column of timestamps")
    group.add_argument("--resource-column", metavar="NAME", help="the column of resources")
    group.add_argument("--timestamp-format", metavar="FMT",
                       help="a strptime format for timestamps that are not ISO 8601")
    group.add_argument("--delimiter", metavar="C", help="the CSV separator (default: guessed)")
    group.add_argument("--encoding", metavar="E", help="the file's encoding (default: UTF-8)")


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

    return LogFormat(
        mapping=args.mapping,
        case_column=args.case_column,
        activity_column=args.activity_column,
        timestamp_column=args.timestamp_column,
        resource_column=args.resource_column,
        timestamp_format=args.timestamp_format,
        delimiter=args.delimiter,
        encoding=args.encoding,
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
        problems += output_directory_problems(args.out)
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

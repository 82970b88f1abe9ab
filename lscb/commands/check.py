"""`lscb check` and `lscb pseudonymise`: judge an event log against the procedure, and replace the
identifiers in a log before it is shared.

``lscb check LOG`` prints a summary for people (or, with ``--format json``, the JSON object of
CONTRACT §6) and, with ``--out DIR``, writes deviations.csv, cases.csv, summary.json and
report.html. Exit status: 0 when no rule of severity ``violation`` is violated, 1 when one is,
2 when an input cannot be read or is invalid (``InputError``, printed by ``model.cli.main``).

Every setting of a check can be given in a TOML file (``--config``) and on the command line; the
command line wins.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from conformance.check import FITNESS_METHODS
from model.outputs import output_directory, output_file

if TYPE_CHECKING:
    from conformance.check import LogFormat
    from conformance.engine import CheckConfig

__all__ = ["register", "run_check", "run_pseudonymise"]

LARGE_LOG_BYTES: Final = 20_000_000  # a progress bar is shown for logs at least this big


def register(sub: Any) -> None:
    """Add ``check`` and ``pseudonymise`` to the ``lscb`` subcommands."""
    check = sub.add_parser(
        "check",
        help="judge an event log against the procedure's rules and model",
        description=(
            "Judge every case of an event log (CSV, Parquet or XES) against the rules of "
            "procedure 1.4.9 and any local rules, and measure how well its steps fit the "
            "model. Exit status: 0 when no rule of severity 'violation' is violated, 1 when "
            "one is, 2 when an input cannot be read or is invalid."
        ),
    )
    check.add_argument("log", type=Path, metavar="LOG", help="the event log")
    check.add_argument("--as-of", metavar="TIMESTAMP",
                       help="when the log was extracted (ISO 8601; without an offset, "
                            "Europe/London; a date alone: the end of that day); default: the "
                            "latest timestamp in the log")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: a summary for people (default); json: one JSON object")
    check.add_argument("--out", type=Path, metavar="DIR",
                       help="also write deviations.csv, cases.csv, summary.json and report.html")
    check.add_argument("--config", type=Path, metavar="FILE.toml",
                       help="settings of the check: as_of, icpc_clock and the [calendar] "
                            "options below (docs/logs.md); the command line overrides it")
    check.add_argument("--rules", type=Path, action="append", default=[],
                       metavar="FILE.yaml",
                       help="a local rules file, judged like the procedure's rules "
                            "(repeat the option for several files)")
    check.add_argument("--procedure", type=Path, metavar="FILE",
                       help="a procedure file (default: the built-in procedure 1.4.9)")
    check.add_argument("--no-contract-rules", action="store_true",
                       help="judge only the rules of --rules files, not the procedure's")
    check.add_argument("--fitness", choices=FITNESS_METHODS, default="auto",
                       help="control-flow fitness: auto (exact replay; the cases that do not "
                            "fit are aligned to explain them, up to 2,000 distinct variants), "
                            "alignments, token-replay or none")
    calendar = check.add_argument_group("calendar and deadlines (also settable in --config)")
    calendar.add_argument("--close-of-business", metavar="HH:MM",
                          help="local close of business (default 17:00)")
    calendar.add_argument("--same-day", choices=("calendar", "working"),
                          help="'the same day' means the calendar date (default) or the same "
                               "working day")
    calendar.add_argument("--day-counting", choices=("day0", "day1"),
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
    calendar.add_argument("--icpc-clock", choices=("last-strategy-discussion", "section-47-start"),
                          help="which strategy discussion starts the ICPC's 15 working days "
                               "(default: the last one, as the procedure says)")
    check.add_argument("--quiet", action="store_true", help="no progress bar or other chatter")
    _add_log_options(check)
    check.set_defaults(handler=run_check)

    pseudo = sub.add_parser(
        "pseudonymise",
        help="replace case ids and resources in a log by keyed pseudonyms before sharing it",
        description=(
            "Write a copy of an event log in which case ids and resources are replaced by "
            "pseudonyms derived with a secret key (the same key gives the same pseudonyms, so "
            "logs stay linkable), and columns that look like personal data are left out."
        ),
    )
    pseudo.add_argument("log", type=Path, metavar="LOG", help="the event log")
    pseudo.add_argument("--key-file", type=Path, required=True, metavar="KEY",
                        help="the file holding the secret key")
    pseudo.add_argument("--out", type=Path, required=True, metavar="OUT",
                        help="the pseudonymised log to write (CSV)")
    pseudo.add_argument("--new-key", action="store_true",
                        help="create a new key in KEY first (it must not exist yet)")
    _add_log_options(pseudo)
    pseudo.set_defaults(handler=run_pseudonymise)


def _add_log_options(parser: argparse.ArgumentParser) -> None:
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


# ---------------------------------------------------------------------------- check


def run_check(args: argparse.Namespace) -> int:
    from conformance.check import check
    from conformance.report import summary_text, to_json_text, write_outputs

    config = _config(args)
    if args.out is not None:
        output_directory(args.out)
    show_progress = (
        not args.quiet and args.format == "text" and sys.stderr.isatty()
        and _size(args.log) >= LARGE_LOG_BYTES
    )
    with _progress(show_progress) as progress:
        report = check(
            args.log,
            procedure=args.procedure,
            rules_files=args.rules,
            contract_rules=not args.no_contract_rules,
            log_format=_log_format(args),
            config=config,
            fitness=args.fitness,
            progress=progress,
        )
        if args.out is not None:
            if progress is not None:
                progress.stage("writing the reports")
            paths = write_outputs(args.out, report)
    if args.format == "json":
        sys.stdout.write(to_json_text(report))
    else:
        sys.stdout.write(summary_text(report))
        if args.out is not None and not args.quiet:
            sys.stdout.write(f"\nWrote {', '.join(p.name for p in paths)} to {args.out}.\n")
    return report.exit_status


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _config(args: argparse.Namespace) -> CheckConfig:
    from conformance.config import config_with_overrides, load_check_config
    from conformance.engine import CheckConfig

    config = load_check_config(args.config) if args.config is not None else CheckConfig()
    values: dict[str, Any] = {}
    if args.as_of is not None:
        values["as_of"] = args.as_of
    if args.close_of_business is not None:
        values["close_of_business"] = args.close_of_business
    if args.same_day is not None:
        values["same_day"] = args.same_day
    if args.day_counting is not None:
        values["day_counting"] = args.day_counting
    if args.ignore_bank_holidays:
        values["bank_holidays"] = False
    if args.closure:
        values["extra_closures"] = list(args.closure)
    if args.immediately is not None:
        values["immediately"] = args.immediately
    if args.icpc_clock is not None:
        values["icpc_clock"] = args.icpc_clock
    return config_with_overrides(config, **values) if values else config


def _log_format(args: argparse.Namespace) -> LogFormat:
    from conformance.check import LogFormat

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


class _ProgressBars:
    """Progress on standard error: the stages of a check, and the variants fitness has judged
    (a second bar, shown while fitness runs)."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._stages = tqdm(total=4, file=sys.stderr, unit="stage", leave=False,
                            bar_format="{desc}: {n_fmt}/{total_fmt} stages")
        self._started = False
        self._variants: Any = None

    def stage(self, name: str) -> None:
        self._close_variants()
        if self._started:
            self._stages.update(1)
        self._started = True
        self._stages.set_description_str(name)

    def variants(self, done: int, total: int) -> None:
        if self._variants is None:
            self._variants = self._tqdm(file=sys.stderr, unit="variant", leave=False,
                                        desc="fitness")
        bar = self._variants
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        self._close_variants()
        self._stages.close()

    def _close_variants(self) -> None:
        if self._variants is not None:
            self._variants.close()
            self._variants = None


@contextmanager
def _progress(enabled: bool) -> Iterator[_ProgressBars | None]:
    if not enabled:
        yield None
        return
    bars = _ProgressBars()
    try:
        yield bars
    finally:
        bars.close()


# ---------------------------------------------------------------------------- pseudonymise


def run_pseudonymise(args: argparse.Namespace) -> int:
    from conformance.check import read_options
    from conformance.pseudonymise import new_key_file, pseudonymise_log
    from model.procedure import load_procedure

    options = read_options(load_procedure(), _log_format(args))
    output_file(args.out)  # before a new key is written, so that a bad --out leaves nothing
    if args.new_key:
        new_key_file(args.key_file)
    summary = pseudonymise_log(args.log, args.key_file, args.out, options)
    lines = [
        f"Pseudonymised {summary.cases:,} cases, {summary.events:,} events and "
        f"{summary.resources:,} resources into {summary.output}.",
    ]
    if args.new_key:
        lines.append(f"A new key was written to {args.key_file}: keep it secret, and keep it "
                     "to pseudonymise later extracts the same way.")
    dropped = len(summary.dropped_columns)
    if dropped:
        lines.append(f"{dropped:,} column{'s' if dropped != 1 else ''} that looked like personal "
                     f"data {'were' if dropped != 1 else 'was'} left out.")
    warned = len(summary.warnings)
    if warned:
        lines.append(f"{warned:,} warning{'s' if warned != 1 else ''} about the input; "
                     "'lscb check' lists them.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

"""`lscb check`: judge an event log against the procedure's rules and model.

``lscb check LOG`` prints a summary for people (or, with ``--format json``, the JSON object of
CONTRACT §6) and, with ``--out DIR``, writes deviations.csv, cases.csv, summary.json and
report.html. Exit status: 0 when no rule of severity ``violation`` is violated, 1 when one is,
2 when an input cannot be read or is invalid (``InputError``, printed by ``lscb.cli.main``).

Every setting of a check can be given in a TOML file (``--config``) and on the command line; the
command line wins.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from lscb.options import (
    FITNESS_CHOICES,
    Subparsers,
    add_check_settings,
    add_fitness_budget_options,
    add_force_option,
    add_input_options,
    check_config,
    fitness_budget_of,
    log_format,
    output_guard,
)
from model.errors import InputError, Problem

__all__ = ["OUTPUT_NAMES", "register", "run_check"]

OUTPUT_NAMES: Final = ("deviations.csv", "cases.csv", "summary.json", "report.html")
"""The files of ``--out``, written as one set (lscb.safeoutput)."""

LARGE_LOG_BYTES: Final = 20_000_000  # a progress bar is shown for logs at least this big


def register(sub: Subparsers) -> None:
    """Add ``check`` to the ``lscb`` subcommands."""
    check = sub.add_parser(
        "check",
        help="judge an event log against the procedure's rules and model",
        description=(
            "Judge every case of an event log (CSV, Excel, Parquet, XES, or a Children in Need "
            "census XML file) against the rules of "
            "procedure 1.4.9 and any local rules, and measure how well its steps fit the "
            "model. Exit status: 0 when no rule of severity 'violation' is violated, 1 when "
            "one is, 2 when an input cannot be read or is invalid."
        ),
    )
    check.add_argument("log", type=Path, metavar="LOG", help="the event log")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: a summary for people (default); json: one JSON object")
    check.add_argument("--out", type=Path, metavar="DIR",
                       help="also write deviations.csv, cases.csv, summary.json and report.html")
    check.add_argument("--procedure", type=Path, metavar="FILE",
                       help="a procedure file (default: the built-in procedure 1.4.9)")
    check.add_argument("--fitness", choices=FITNESS_CHOICES, default="auto",
                       help="control-flow fitness: auto (exact replay; the cases that do not "
                            "fit are aligned to explain them, up to 100,000 distinct variants), "
                            "alignments, token-replay or none")
    check.add_argument("--quiet", action="store_true", help="no progress bar or other chatter")
    add_force_option(check)
    add_fitness_budget_options(check)
    add_input_options(check)
    add_check_settings(check)
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Judge the log; print the summary or the JSON; write the files of ``--out``."""
    from conformance import check
    from conformance.logio.rejects import REJECTS_FILE
    from conformance.report import summary_text, to_json_text, write_outputs
    from lscb.safeoutput import plan_folder

    config = check_config(args)
    if args.on_bad_rows == "skip" and args.out is None:
        raise InputError("the command line", [Problem(
            "--on-bad-rows skip", "--out DIR, where the rows left out are listed (rejects.csv)",
            "no --out")])
    plan = None
    if args.out is not None:  # checked before any work; written as a set, or not at all
        guard = output_guard(args, [args.log, args.procedure, args.config, args.mapping,
                                    *args.rules])
        names = (*OUTPUT_NAMES, REJECTS_FILE) if args.on_bad_rows == "skip" else OUTPUT_NAMES
        plan = plan_folder(args.out, names, guard)
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
            log_format=log_format(args),
            config=config,
            fitness=args.fitness,
            progress=progress,
            fitness_budget=fitness_budget_of(args),
        )
        if plan is not None:
            if progress is not None:
                progress.stage("writing the reports")
            with plan.staging() as staging:
                write_outputs(staging, report)
                if args.on_bad_rows == "skip":
                    _write_rejects(staging, report)
            paths = plan.written
    if args.format == "json":
        sys.stdout.write(to_json_text(report))
    else:
        sys.stdout.write(summary_text(report))
        if args.out is not None and not args.quiet:
            sys.stdout.write(f"\nWrote {', '.join(p.name for p in paths)} to {args.out}.\n")
    return report.exit_status


def _write_rejects(out: Path, report: Any) -> Path:
    """``rejects.csv`` in ``out``: every row left out under --on-bad-rows skip (its line, the
    column, the problem and, unless the column looks like personal data, the value); a header
    alone when none was."""
    from conformance.logio.rejects import REJECTS_FILE, write_rejects_frame

    return write_rejects_frame(out / REJECTS_FILE, report.log.rejects, report.log.row_word)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _ProgressBars:
    """Progress on standard error: the stages of a check, and the variants fitness has judged
    (a second bar, shown while fitness runs)."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        # the stream under lscb's escaping one: the bars move the cursor with escape sequences
        self._stream = getattr(sys.stderr, "raw", sys.stderr)
        self._stages = tqdm(total=4, file=self._stream, unit="stage", leave=False,
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
            self._variants = self._tqdm(file=self._stream, unit="variant", leave=False,
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

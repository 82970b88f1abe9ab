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
    add_input_options,
    check_config,
    log_format,
)
from lscb.outputs import output_directory

__all__ = ["register", "run_check"]

LARGE_LOG_BYTES: Final = 20_000_000  # a progress bar is shown for logs at least this big


def register(sub: Subparsers) -> None:
    """Add ``check`` to the ``lscb`` subcommands."""
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
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: a summary for people (default); json: one JSON object")
    check.add_argument("--out", type=Path, metavar="DIR",
                       help="also write deviations.csv, cases.csv, summary.json and report.html")
    check.add_argument("--procedure", type=Path, metavar="FILE",
                       help="a procedure file (default: the built-in procedure 1.4.9)")
    check.add_argument("--fitness", choices=FITNESS_CHOICES, default="auto",
                       help="control-flow fitness: auto (exact replay; the cases that do not "
                            "fit are aligned to explain them, up to 2,000 distinct variants), "
                            "alignments, token-replay or none")
    check.add_argument("--quiet", action="store_true", help="no progress bar or other chatter")
    add_input_options(check)
    add_check_settings(check)
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Judge the log; print the summary or the JSON; write the files of ``--out``."""
    from conformance import check
    from conformance.report import summary_text, to_json_text, write_outputs

    config = check_config(args)
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
            log_format=log_format(args),
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

"""`lscb calibrate`: a scenario estimated from a partnership's own event log.

Reads the log as ``lscb check`` does (the same options for its layout, its as-of time and the
calendar), estimates what the log can tell (``simulation.calibration.calibrate``) and writes a
scenario file that ``lscb simulate --scenario`` takes, every estimated number with its sample
size and uncertainty in a comment beside it, every other number the base scenario's and marked
as an assumption; its ledger (where each number comes from) is written beside it as CSV and
printed.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from lscb.options import (
    Subparsers,
    add_check_settings,
    add_force_option,
    add_log_options,
    check_config,
    log_format,
    positive,
)

__all__ = ["inputs_overwritten", "ledger_path", "register"]


def register(sub: Subparsers) -> None:
    """Add ``calibrate`` to the ``lscb`` subcommands."""
    cal = sub.add_parser(
        "calibrate",
        help="estimate a scenario from an event log (arrivals, branches, delays, staff)",
        description=(
            "Estimate a simulation scenario from an event log in the contract's vocabulary: "
            "arrivals per route and their weekday, month and hour profiles; the chance of each "
            "branch; each step's delay in working time, fitted to a distribution; how many "
            "people of each role worked. Numbers the log cannot give stay as in the base "
            "scenario and are marked as assumptions. Writes the scenario (--out) and its ledger "
            "beside it (NAME.ledger.csv), and prints the ledger."
        ),
    )
    cal.add_argument("log", type=Path, metavar="LOG",
                     help="the event log (CSV, Parquet or XES), as for 'lscb check'")
    cal.add_argument("--out", type=Path, required=True, metavar="FILE.toml",
                     help="the scenario file to write (and FILE.ledger.csv beside it)")
    cal.add_argument("--base", type=Path, metavar="SCENARIO",
                     help="the scenario whose routes, roles and assumptions are kept "
                          "(default: the built-in one)")
    cal.add_argument("--until", type=date.fromisoformat, metavar="DATE",
                     help="calibrate on the log as it stood before this date (YYYY-MM-DD)")
    cal.add_argument("--refine", type=int, default=2, metavar="N",
                     help="times to simulate the estimate to separate waiting for people "
                          "from the steps' lags (default 2; 0 for none)")
    cal.add_argument("--workers", type=positive, metavar="N",
                     help="parallel processes for those simulations (default: two, or one on a "
                          "single core); the result does not depend on it")
    cal.add_argument("--as-of", metavar="TIMESTAMP",
                     help="when the log was extracted (ISO 8601); default: its latest "
                          "timestamp")
    add_log_options(cal)
    add_check_settings(cal)
    add_force_option(cal)
    cal.set_defaults(handler=_calibrate)


def ledger_path(out: Path) -> Path:
    """Where the ledger of a scenario written to ``out`` goes."""
    return out.with_name(out.stem + ".ledger.csv")


def inputs_overwritten(outputs: list[Path], inputs: list[Path | None]) -> list[Any]:
    """Problems for outputs that are the same file as an input."""
    from model.errors import Problem

    given = {p.resolve() for p in inputs if p is not None and p.exists()}
    return [Problem("option --out", "a file that is not one of the command's inputs",
                    f"'{p}', an input") for p in outputs if p.resolve() in given]


def rejects_path(out: Path) -> Path:
    """Where the rows left out under --on-bad-rows skip are listed, beside a scenario file."""
    return out.with_name(out.stem + ".rejects.csv")


def skipped_rows(log: Any) -> int:
    """How many rows of the file were left out under --on-bad-rows skip."""
    return 0 if log.coverage is None else int(log.coverage.skipped)


def skipped_note(log: Any, listed_in: str) -> str:
    """The sentence every summary gives when rows were left out (nothing dropped silently)."""
    n = skipped_rows(log)
    word = log.row_word if n == 1 else f"{log.row_word}s"
    return (f"{n:,} {word} of the log could not be read and {'was' if n == 1 else 'were'} left "
            f"out (--on-bad-rows skip); every one is listed, with its reason, in {listed_in}.")


def _calibrate(args: argparse.Namespace) -> int:
    from lscb.options import output_guard
    from lscb.safeoutput import plan_folder
    from model import load_procedure
    from model.errors import InputError, Problem
    from simulation.calibration.calibrate import calibrate, read_event_log, write_calibration
    from simulation.scenario import load_scenario

    problems: list[Problem] = []
    out: Path = args.out
    if out.suffix.lower() != ".toml":
        problems.append(Problem("option --out", "a file name ending in .toml (a scenario file)",
                                f"'{out}'"))
    if args.refine < 0:
        problems.append(Problem("option --refine", "a whole number of at least 0",
                                str(args.refine)))
    skip = args.on_bad_rows == "skip"
    outputs = [out, ledger_path(out), *([rejects_path(out)] if skip else [])]
    problems += inputs_overwritten(outputs, [args.log, args.base, args.mapping, args.config])
    if problems:
        raise InputError("the command line", problems)
    guard = output_guard(args, [args.log, args.base, args.mapping, args.config])
    plan = plan_folder(out.parent, tuple(p.name for p in outputs), guard)
    procedure = load_procedure()
    config = check_config(args)
    base = load_scenario(args.base, procedure) if args.base is not None else None
    log = read_event_log(args.log, procedure, log_format(args), as_of=config.as_of, starts=True)
    calibration = calibrate(log, procedure, base=base, source=args.log.name, until=args.until,
                            calendar=config.calendar, refine=args.refine, workers=args.workers)
    with plan.staging() as staging:  # the scenario, its ledger (and the rows left out): one set
        write_calibration(calibration, staging / out.name)
        if skip:
            from conformance.logio.rejects import write_rejects_frame

            write_rejects_frame(staging / rejects_path(out).name, log.rejects, log.row_word)
    written = [out, ledger_path(out)]
    print(report(calibration))
    print()
    if skip:
        print(skipped_note(log, str(rejects_path(out))))
    print(f"Wrote {written[0]} (a scenario: lscb simulate --scenario {written[0]}) and its "
          f"ledger {written[1].name}.")
    return 0


def report(calibration: Any) -> str:
    """The calibration in plain words: what was estimated, from how much, and the ledger."""
    import math

    import pandas as pd

    end = calibration.start.toordinal() + calibration.horizon_days - 1
    lines = [
        f"Calibrated from {calibration.source}: {calibration.cases:,} cases that began "
        f"{calibration.start} to {date.fromordinal(end)}.",
        "",
        "Arrivals (a year's volume, 95% interval):",
    ]
    for r in calibration.arrivals.itertuples():
        lines.append(f"  {r.route:<16} {r.cases:>7,} cases  {r.annual_volume:9,.1f} a year "
                     f"({r.low:,.1f}-{r.high:,.1f})")
    if not calibration.branches.empty:
        lines += ["", "Chances (95% interval, cases):"]
        for b in calibration.branches.itertuples():
            lines.append(f"  {b.what:<66} {b.probability:6.1%} ({b.low:.1%}-{b.high:.1%}), "
                         f"n = {b.n:,}; {b.method}")
    if not calibration.delays.empty:
        lines += ["", "Lags before each step (mean, 95% interval; the family written):"]
        for d in calibration.delays.itertuples():
            lines.append(f"  {d.activity:<48} {d.mean:7.3g} {d.unit:<12} "
                         f"({d.mean_low:.3g}-{d.mean_high:.3g}), n = {d.n:,}; {d.written}")
    if not calibration.resources.empty:
        lines += ["", "People (named in the log; estimate with its interval):"]
        for r in calibration.resources.itertuples():
            busy = "" if not math.isfinite(r.busy_share) else f"; steps took {r.busy_share:.0%}"
            lines.append(f"  {r.role:<18} {r.people_seen:>4} seen, headcount {r.headcount} "
                         f"({r.low}-{r.high}); {r.events_per_person_per_working_day:.2f} events "
                         f"a person a working day{busy}")
            if r.started:
                waited = ("" if not r.waited else f", after waiting {r.wait_working_days:.2f} "
                          "working days from the step that enabled them")
                lines.append(f"  {'':<18} {r.started:,} steps with start events: working "
                             f"{r.work_minutes:.0f} minutes on average{waited}")
    if calibration.notes:
        lines += ["", "What the log could not tell:"]
        lines += [f"  - {note}" for note in calibration.notes]
    ledger = calibration.ledger
    counts = ledger["kind"].value_counts()
    lines += ["", "Ledger: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
                                         ("estimated", "published", "assumed")),
              f"  {'field':<62} {'kind':<10} {'value':<24} n"]
    for e in ledger.itertuples():
        n = "" if pd.isna(e.n) else f"{int(e.n):,}"
        value = str(e.value)
        value = value if len(value) <= 24 else value[:21] + "..."
        lines.append(f"  {e.field:<62} {e.kind:<10} {value:<24} {n}")
    return "\n".join(lines)

"""`lscb pseudonymise`: replace the identifiers in a log by keyed pseudonyms before it is
shared, and leave out the columns that look like personal data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lscb.options import Subparsers, add_log_options, log_format
from lscb.outputs import output_file

__all__ = ["register", "run_pseudonymise"]


def register(sub: Subparsers) -> None:
    """Add ``pseudonymise`` to the ``lscb`` subcommands."""
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
    add_log_options(pseudo)
    pseudo.set_defaults(handler=run_pseudonymise)


def run_pseudonymise(args: argparse.Namespace) -> int:
    """Write the pseudonymised log (and a new key with ``--new-key``); print what was done."""
    from conformance import read_options
    from conformance.pseudonymise import new_key_file, pseudonymise_log
    from model import load_procedure

    options = read_options(load_procedure(), log_format(args))
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

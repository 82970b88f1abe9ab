"""`lscb pseudonymise`: replace the identifiers in a log by keyed pseudonyms before it is
shared, keep only the contract's columns, and say exactly what happened to every column.

The order of the work keeps every promise: the output and (with ``--new-key``) the key's path
are checked first; then the key is read (it must look like a key) or a new one made in memory;
then the log is read and pseudonymised; only then is the new key written (mode 0600) and the
output renamed into place. If anything fails, neither is left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from lscb.options import (
    Subparsers,
    add_force_option,
    add_log_options,
    log_format,
    output_guard,
)
from model.errors import InputError

__all__ = ["register", "run_pseudonymise"]


def register(sub: Subparsers) -> None:
    """Add ``pseudonymise`` to the ``lscb`` subcommands."""
    pseudo = sub.add_parser(
        "pseudonymise",
        help="replace case ids and resources in a log by keyed pseudonyms before sharing it",
        description=(
            "Write a copy of an event log in the contract's columns only: case ids and resources "
            "replaced by pseudonyms derived with a secret key (the same key gives the same "
            "pseudonyms, so logs stay linkable), activity and role values outside the procedure "
            "replaced by keyed labels, every other column left out. It says what happened to "
            "each column (docs/privacy.md)."
        ),
    )
    pseudo.add_argument("log", type=Path, metavar="LOG", help="the event log")
    pseudo.add_argument("--key-file", type=Path, required=True, metavar="KEY",
                        help="the file holding the secret key (made with --new-key)")
    pseudo.add_argument("--out", type=Path, required=True, metavar="OUT",
                        help="the pseudonymised log to write (CSV)")
    pseudo.add_argument("--new-key", action="store_true",
                        help="create a new key in KEY (it must not exist yet); it is written only "
                             "when the log has been read and pseudonymised")
    pseudo.add_argument("--round-to", choices=("hour", "day"),
                        help="coarsen the timestamps: round down to the hour, or keep the date "
                             "alone (default: as in the log)")
    add_force_option(pseudo)
    add_log_options(pseudo)
    pseudo.set_defaults(handler=run_pseudonymise)


def run_pseudonymise(args: argparse.Namespace) -> int:
    """Write the pseudonymised log (and a new key with ``--new-key``); print what was done."""
    from conformance import read_log, read_options
    from conformance.keys import new_key, new_key_problems, read_key, write_new_key
    from conformance.pseudonymise import pseudonymise, write_csv
    from lscb.safeoutput import plan_file
    from model import load_procedure

    guard = output_guard(args, [args.log, args.mapping], keys=[args.key_file])
    plan = plan_file(args.out, guard)
    warnings = []
    if args.new_key:
        problems = new_key_problems(args.key_file)
        if problems:
            raise InputError(str(args.key_file), problems)
        key = new_key()
    else:
        found = read_key(args.key_file)
        key, warnings = found.key, list(found.warnings)
    procedure = load_procedure()
    options = read_options(procedure, log_format(args))
    log = read_log(args.log, options)
    roles = [*procedure.roles, *(role.name for role in procedure.roles.values())]
    frame, summary = pseudonymise(log, key, activities=options.vocabulary, roles=roles,
                                  round_to=args.round_to)
    key_written = False
    try:
        with plan.staging() as temporary:
            write_csv(frame, temporary)
            if args.new_key:
                write_new_key(args.key_file, key)
                key_written = True
    except BaseException:
        if key_written:  # the output was not written: a key without it would mislead
            with contextlib.suppress(OSError):
                args.key_file.unlink()
        raise
    lines = summary.statements(str(args.log), str(args.out))
    if args.new_key:
        lines.append(f"A new key was written to {args.key_file} (readable by you only): keep "
                     "it secret, apart from the data, and keep it to pseudonymise later "
                     "extracts the same way.")
    for warning in warnings:
        lines.append(f"Warning about the key: {warning}.")
    if summary.warnings:
        n = len(summary.warnings)
        lines.append(f"{n:,} warning{'s' if n != 1 else ''} about the input; 'lscb check' "
                     "lists them.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

"""The `lscb` command: one entry point, one module per subcommand (:mod:`lscb.commands`).

Every subcommand module has ``register(subparsers)``, which adds its parser and sets ``handler``
(a function ``(argparse.Namespace) -> int`` returning the exit status). Building the parser
imports no heavy library (pandas, numpy, pm4py, matplotlib): the handlers import what they need,
so ``lscb --help`` answers at once.

Input problems end with exit status 2 and a message on standard error that names the file, row
or field, what was expected and what was found; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lscb import __version__
from lscb.commands import COMMANDS
from model.errors import LscbError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``lscb`` command with every subcommand.

    >>> parser = build_parser()
    >>> parser.parse_args(["check", "log.csv", "--as-of", "2024-06-30"]).as_of
    '2024-06-30'
    """
    parser = argparse.ArgumentParser(
        prog="lscb",
        description=(
            "Test safeguarding procedure 1.4.9 (child abuse and ICT) against reality: "
            "the procedure as a model, caseload simulation, and checking of event logs."
        ),
    )
    parser.add_argument("--version", action="version", version=f"lscb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lscb`` command and return its exit status.

    Parameters
    ----------
    argv
        The arguments after ``lscb`` (default: the process's).

    Returns
    -------
    int
        0 done; 1 a rule of severity violation was violated (``check``); 2 an input or option
        cannot be used (the problems are on standard error, never a traceback); 130
        interrupted.

    Examples
    --------
    >>> main(["model", "validate"])
    The built-in procedure is valid: ... rules.
    0
    >>> main(["simulate", "--replications", "0"])
    2
    """
    try:
        status = _run(argv)
        sys.stdout.flush()  # here, so that a closed pipe is noticed while it can be handled
    except BrokenPipeError:
        # The reader of standard output went away (``lscb model show | head``): stop quietly.
        # Standard output is pointed at devnull so that Python's final flush at exit does not
        # fail again (the Python docs' "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return status


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        status: int = handler(args)
    except LscbError as exc:  # InputError included: every problem of the input, listed
        print(f"lscb: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except OSError as exc:
        # A file or folder that cannot be read or written, a network address that does not
        # answer: say which and why, without a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lscb: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lscb: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

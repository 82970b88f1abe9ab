"""The subcommands of ``lscb``, one module each, in the order ``lscb --help`` lists them.

Each module has ``register(subparsers)``: it adds its parser (with the shared option groups of
:mod:`lscb.options`) and sets the handler that runs it. A module imports the libraries it needs
inside its handlers, so that building the parser stays fast.
"""

from __future__ import annotations

from typing import Final, Protocol

from lscb.commands import (
    calibrate,
    check,
    model,
    pseudonymise,
    report,
    sensitivity,
    simulate,
    sweep,
    validate,
)
from lscb.options import Subparsers

__all__ = ["COMMANDS", "Command"]


class Command(Protocol):
    """A subcommand module."""

    def register(self, sub: Subparsers) -> None:
        """Add the command's parser to ``sub``."""


COMMANDS: Final[tuple[Command, ...]] = (
    model, check, pseudonymise, simulate, sweep, sensitivity, calibrate, validate, report,
)

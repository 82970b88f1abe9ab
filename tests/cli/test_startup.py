"""Start-up: ``lscb --help`` and ``lscb COMMAND --help`` import neither pandas, numpy, pm4py nor
matplotlib. The command modules import them inside their handlers, so that asking for help (or
mistyping an option) answers at once.

Counted by the modules a fresh interpreter has loaded, never by time: ``bench/bench_startup.py``
measures the time against ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from lscb import options
from lscb.cli import build_parser

HEAVY = ("pandas", "numpy", "pm4py", "matplotlib")


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and action of the parser (``()`` is ``lscb`` itself)."""
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())

# In a fresh interpreter: build the parser, then run each command line; after each, the heavy
# libraries loaded so far. The first command after which one appears is the culprit.
_PROBE = """
import contextlib, io, json, sys
heavy = {heavy!r}
loaded = {{}}
from lscb.cli import build_parser
build_parser()
loaded["(building the parser)"] = [m for m in heavy if m in sys.modules]
from lscb.cli import main
for argv in {commands!r}:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
    loaded[" ".join(["lscb", *argv])] = [m for m in heavy if m in sys.modules]
print(json.dumps(loaded))
"""


def _probe(commands: list[list[str]]) -> dict[str, list[str]]:
    """The heavy libraries loaded after building the parser and after each command line."""
    code = _PROBE.format(heavy=HEAVY, commands=commands)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_the_probe_covers_every_command() -> None:
    names = {argv[0] for argv in COMMANDS if argv}
    assert names == {"model", "check", "pseudonymise", "simulate", "sweep", "report", "calibrate",
                     "validate", "sensitivity"}
    assert ("report", "audit") in COMMANDS and ("model", "export") in COMMANDS


def test_help_of_every_command_imports_no_heavy_library() -> None:
    loaded = _probe([[*c, "--help"] for c in COMMANDS])
    assert len(loaded) == len(COMMANDS) + 1
    assert {where: mods for where, mods in loaded.items() if mods} == {}


def test_the_probe_sees_a_handler_that_loads_a_heavy_library() -> None:
    """Not blind: running a command (not its help) loads what its handler needs."""
    loaded = _probe([["model", "validate"]])
    assert loaded["(building the parser)"] == []
    assert "numpy" in loaded["lscb model validate"]


@pytest.mark.parametrize(("choices", "library"), [
    (options.ICPC_CLOCK_CHOICES, "icpc"),
    (options.DAY_COUNTING_CHOICES, "day_counting"),
    (options.SAME_DAY_CHOICES, "same_day"),
    (options.FITNESS_CHOICES, "fitness"),
])
def test_the_options_choices_are_the_libraries(choices: tuple[str, ...], library: str) -> None:
    """The choices are written in lscb.options (importing the libraries would load numpy);
    they must stay the libraries' own."""
    from conformance import FITNESS_METHODS, ICPC_CLOCKS
    from model.calendar import DayCounting, SameDay

    expected = {
        "icpc": tuple(ICPC_CLOCKS),
        "day_counting": tuple(d.value for d in DayCounting),
        "same_day": tuple(s.value for s in SameDay),
        "fitness": tuple(FITNESS_METHODS),
    }[library]
    assert tuple(choices) == expected

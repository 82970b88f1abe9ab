"""Benchmark: how long ``lscb --help`` and ``lscb COMMAND --help`` take, against ``python -c pass``
in the same run.

Run:  python bench/bench_startup.py [--repeat 15]

Each command line is started ``--repeat`` times as a new process, in turns (so that other load on
the machine falls on all alike); the median wall-clock time of each is printed in milliseconds,
with its ratio to the bare interpreter's and the time the command adds to it. Target on a 2-core
machine: every line under 0.3 s. The console script next to this interpreter is used (``lscb``);
without one, ``python -m lscb``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.3
COMMANDS: tuple[tuple[str, ...], ...] = (
    (),
    ("model",),
    ("check",),
    ("pseudonymise",),
    ("simulate",),
    ("sweep",),
    ("report",),
    ("report", "audit"),
    ("report", "scenario"),
)


def lscb_command() -> list[str]:
    """The ``lscb`` console script beside this interpreter, or ``python -m lscb``."""
    script = Path(sys.executable).with_name("lscb")
    if script.exists():
        return [str(script)]
    found = shutil.which("lscb")
    return [found] if found else [sys.executable, "-m", "lscb"]


def seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each (default: 15)")
    args = parser.parse_args()
    lscb = lscb_command()
    lines = {"python -c pass": [sys.executable, "-c", "pass"]}
    lines |= {" ".join(["lscb", *c, "--help"]): [*lscb, *c, "--help"] for c in COMMANDS}
    for argv in lines.values():  # warm the file cache first
        seconds(argv)
    times: dict[str, list[float]] = {name: [] for name in lines}
    for _ in range(args.repeat):
        for name, argv in lines.items():
            times[name].append(seconds(argv))
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["python -c pass"]
    print(f"{args.repeat} runs each, median wall-clock time ({' '.join(lscb)}):")
    print(f"  {'command':<32} {'ms':>7} {'x python':>9} {'added ms':>9}")
    worst = 0.0
    for name, value in median.items():
        print(f"  {name:<32} {value * 1000:7.0f} {value / base:9.2f} {(value - base) * 1000:9.0f}")
        if name != "python -c pass":
            worst = max(worst, value)
    verdict = "meets" if worst < TARGET_SECONDS else "misses"
    print(f"Slowest: {worst * 1000:.0f} ms; {verdict} the target of {TARGET_SECONDS * 1000:.0f} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

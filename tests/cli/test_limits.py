"""Bounded cost: every input that could make a command expensive is refused with a clear error
(exit status 2) or handled within a budget, and each limit can be raised."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import conformance.fitness as fitness_module
from conformance.fitness import fitness
from conformance.logio import EventLog, ReadOptions, read_log
from model.procedure import Kind, load_procedure

PROCEDURE = load_procedure()
STEPS = sorted(a.name for a in PROCEDURE.activities.values() if a.kind is not Kind.FORBIDDEN)


def _random_steps_log(tmp_path: Path, cases: int, seed: int = 11) -> EventLog:
    """Cases of 20 to 40 random steps: every one a distinct variant that fits badly."""
    rng = random.Random(seed)
    start = pd.Timestamp("2024-01-08T09:00:00")
    lines = ["case_id,activity,timestamp"]
    for case in range(cases):
        for step in range(rng.randint(20, 40)):
            when = (start + pd.Timedelta(minutes=step)).isoformat()
            lines.append(f"C{case},{rng.choice(STEPS)},{when}")
    path = tmp_path / "random.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_log(path, ReadOptions(vocabulary=frozenset(PROCEDURE.activities)))


def test_past_the_alignment_time_budget_the_rest_are_judged_by_token_replay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _random_steps_log(tmp_path, 30)
    now = [0.0]
    real_pm4py = fitness_module._Judge.pm4py

    def slow_pm4py(self: Any, *args: Any, **kwargs: Any) -> Any:
        now[0] += 1000.0  # every batch takes longer than the whole budget
        return real_pm4py(self, *args, **kwargs)

    monkeypatch.setattr(fitness_module._Judge, "pm4py", slow_pm4py)
    result = fitness(log, PROCEDURE, "auto", alignment_seconds=30.0, clock=lambda: now[0])
    # one batch aligned, then one batch by token replay (its own 30 s), the rest exact replay
    methods = result.cases["method"].value_counts().to_dict()
    assert set(methods) == {"alignments", "token-replay", "replay"}
    assert "time budget for aligning (30 s, --alignment-seconds raises it) ran out" in result.reason
    assert (f"{methods['token-replay'] + methods['replay']:,} variants were not aligned in time "
            "and were judged by token replay instead") in result.reason
    assert f"{methods['replay']:,} variants were judged by exact replay only" in result.reason
    assert not result.cases["is_fit"].any() and len(result.cases) == 30  # none left out
    unexplained = result.cases[result.cases["method"] == "replay"]
    assert unexplained["fitness"].isna().all()
    assert (unexplained["deviations"].str.contains("the time budget ran out")).all()


def test_the_budget_also_bounds_explicit_alignments(tmp_path: Path) -> None:
    log = _random_steps_log(tmp_path, 5)
    ticks: Iterator[float] = itertools.chain([0.0], itertools.repeat(1e9))  # no time at all
    result = fitness(log, PROCEDURE, "alignments", alignment_seconds=1.0,
                     clock=lambda: next(ticks))
    assert set(result.cases["method"]) == {"token-replay"}  # none aligned: all replayed
    assert not result.cases["is_fit"].any()
    assert "ran out" in result.reason


def test_a_real_time_budget_stops_aligning_hard_random_logs(tmp_path: Path) -> None:
    log = _random_steps_log(tmp_path, 300)
    result = fitness(log, PROCEDURE, "auto", alignment_seconds=2.0)
    assert "ran out" in result.reason
    assert len(result.cases) == 300 and not result.cases["is_fit"].any()


def test_within_the_budget_nothing_changes(tmp_path: Path) -> None:
    log = _random_steps_log(tmp_path, 3)
    result = fitness(log, PROCEDURE, "auto", clock=lambda: 0.0)
    assert "ran out" not in result.reason
    assert set(result.cases["method"]) == {"alignments"}


# ----------------------------------------------------------------- hostile files, end to end

GIB = 1 << 30
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
sys.stdout.write(f"{done.returncode}\\n{peak}\\n" + done.stderr + "\\n@@\\n" + done.stdout)
"""


def _lscb_measured(*args: str | Path) -> tuple[int, int, str, str]:
    """Run ``lscb ARGS`` in a process of its own: exit status, peak memory (bytes), standard
    error and standard output. More than 60 seconds is a failure (TimeoutExpired)."""
    import subprocess
    import sys

    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "lscb", *map(str, args)],
        capture_output=True, text=True, timeout=90, check=True,
    )
    status, peak, rest = measured.stdout.split("\n", 2)
    err, _, out = rest.partition("\n@@\n")
    return int(status), int(peak), err, out


def _parquet_many_rows(path: Path, rows: int) -> Path:
    """A small Parquet file of many dictionary-encoded rows (one repeated value per column)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    zeros = pa.array(np.zeros(rows, dtype=np.int32))

    def repeated(value: str) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(zeros, pa.array([value]))

    table = pa.table({"case_id": repeated("C1"), "activity": repeated("Case closed"),
                      "timestamp": repeated("2024-01-01T09:00:00")})
    pq.write_table(table, path, compression="zstd", row_group_size=rows)
    return path


def _parquet_big_unused_column(path: Path, value_bytes: int, rows: int) -> Path:
    """A small Parquet file with a column nobody maps whose values add up to gigabytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    indices = pa.array(np.zeros(rows, dtype=np.int32))
    table = pa.table({
        "case_id": pa.array([f"C{i % 7}" for i in range(rows)]),
        "activity": pa.array(["Case closed"] * rows),
        "timestamp": pa.array(["2024-01-01T09:00:00"] * rows),
        "notes": pa.DictionaryArray.from_arrays(indices, pa.array(["x" * value_bytes])),
    })
    pq.write_table(table, path, compression="zstd")
    return path


def _csv_wide_header(path: Path, columns: int) -> Path:
    header = ",".join(["case_id", "activity", "timestamp", *(f"c{i}" for i in range(columns))])
    path.write_text(header + "\nA,Case closed,2024-01-01" + "," * columns + "\n",
                    encoding="utf-8")
    return path


def _xes_gz_one_huge_value(path: Path, value_bytes: int) -> Path:
    """A small .xes.gz whose one activity name is ``value_bytes`` long."""
    import gzip

    chunk = b"A" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
                  b'<trace><string key="concept:name" value="C1"/>\n<event>'
                  b'<date key="time:timestamp" value="2024-01-01T09:00:00"/>'
                  b'<string key="concept:name" value="')
        for _ in range(value_bytes // len(chunk)):
            out.write(chunk)
        out.write(b'"/></event></trace></log>\n')
    return path

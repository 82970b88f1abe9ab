"""The time budget of control-flow fitness (conformance/fitness.py): past it, token replay and
then exact replay judge the rest, and the reason says so."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import conformance.fitness as fitness_module
from conformance.align import BatchAligner
from conformance.fitness import fitness
from conformance.logio import EventLog, ReadOptions, read_log
from conformance.pm4py_bridge import Pm4pyJudge
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
    real_pm4py = Pm4pyJudge.pm4py
    real_explain = BatchAligner.explain

    def slow_pm4py(self: Any, *args: Any, **kwargs: Any) -> Any:
        now[0] += 1000.0  # every batch takes longer than the whole budget
        return real_pm4py(self, *args, **kwargs)

    def slow_explain(self: Any, *args: Any, **kwargs: Any) -> Any:
        now[0] += 10.0  # a third of the budget per chunk (of one variant)
        return real_explain(self, *args, **kwargs)

    monkeypatch.setattr(Pm4pyJudge, "pm4py", slow_pm4py)
    monkeypatch.setattr(BatchAligner, "explain", slow_explain)
    monkeypatch.setattr(fitness_module, "_ALIGN_CHUNK", 1)
    result = fitness(log, PROCEDURE, "auto", alignment_seconds=30.0, clock=lambda: now[0])
    # three variants aligned, then one batch (at most 25) by token replay (its own 15 s), the
    # rest by exact replay
    methods = result.cases["method"].value_counts().to_dict()
    assert methods["alignments"] == 3 and 0 < methods["token-replay"] <= 25
    assert methods["replay"] == 27 - methods["token-replay"]
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
    # a microsecond on the real clock: spent by the exact replay before aligning starts
    log = _random_steps_log(tmp_path, 300)
    result = fitness(log, PROCEDURE, "auto", alignment_seconds=1e-6)
    assert "ran out" in result.reason
    assert len(result.cases) == 300 and not result.cases["is_fit"].any()


def test_within_the_budget_nothing_changes(tmp_path: Path) -> None:
    log = _random_steps_log(tmp_path, 3)
    result = fitness(log, PROCEDURE, "auto", clock=lambda: 0.0)
    assert "ran out" not in result.reason
    assert set(result.cases["method"]) == {"alignments"}

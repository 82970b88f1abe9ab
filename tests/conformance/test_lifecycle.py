"""Lifecycle transitions: the checker keeps complete events only; with ``keep_starts`` (what
``lscb calibrate`` asks for) each complete event also gets the start event it ends."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conformance.logio import ReadOptions, read_log
from conformance.logio.lifecycle import NO_START, pair_starts

HEADER = "case_id,activity,timestamp,lifecycle:transition"

ROWS = [
    # a step run twice in a loop: each complete pairs with its own start
    "A,Strategy discussion held,2024-05-01T09:00:00+00:00,start",
    "A,Strategy discussion held,2024-05-01T10:00:00+00:00,complete",
    "A,Strategy discussion held,2024-05-02T09:00:00+00:00,start",
    "A,Strategy discussion held,2024-05-02T09:30:00+00:00,complete",
    # two overlapping runs of one step: first in, first out
    "B,Information shared,2024-05-01T09:00:00+00:00,start",
    "B,Information shared,2024-05-01T09:10:00+00:00,start",
    "B,Information shared,2024-05-01T09:40:00+00:00,complete",
    "B,Information shared,2024-05-01T09:50:00+00:00,complete",
    # a complete without a start, a schedule event, a start never completed
    "B,Family informed,2024-05-01T12:00:00+00:00,complete",
    "B,Family informed,2024-05-01T08:00:00+00:00,schedule",
    "B,Case closed,2024-05-03T08:00:00+00:00,start",
    "B,Case closed,2024-05-03T09:00:00+00:00,",
    # a local name the mapping maps, on its start and its complete
    "C,Chat with family,2024-05-01T09:00:00+00:00,START",
    "C,Chat with family,2024-05-01T09:20:00+00:00,Complete",
    # a start after the as-of time is not kept
    "C,Case closed,2024-05-10T09:00:00+00:00,start",
]

AS_OF = pd.Timestamp("2024-05-05T00:00:00+00:00")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "log.csv"
    target.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return target


def options(keep_starts: bool) -> ReadOptions:
    return replace(ReadOptions(), activity_map={"Chat with family": "Family informed"},
                   as_of=AS_OF.to_pydatetime(), keep_starts=keep_starts)


def test_the_checker_keeps_complete_events_only(path: Path) -> None:
    log = read_log(path, options(False))
    assert "start_utc" not in log.events
    assert len(log.events) == 7
    assert log.excluded_other_lifecycle == 8  # seven starts (one after the as-of time) and a
    # schedule event
    assert "kept apart" not in "\n".join(str(w) for w in log.warnings)


def test_keep_starts_pairs_each_complete_with_its_start(path: Path) -> None:
    plain = read_log(path, options(False))
    log = read_log(path, options(True))
    # the events judged are the same, with one more column
    pd.testing.assert_frame_equal(log.events.drop(columns="start_utc"), plain.events)
    assert log.excluded_other_lifecycle == plain.excluded_other_lifecycle
    assert "the 7 start events among them are kept apart" in "\n".join(
        str(w) for w in log.warnings)
    got = {(c, a, t.strftime("%d %H:%M")): (None if pd.isna(s) else s.strftime("%d %H:%M"))
           for c, a, t, s in log.events[["case_id", "activity", "time_utc", "start_utc"]]
           .itertuples(index=False)}
    assert got == {
        ("A", "Strategy discussion held", "01 10:00"): "01 09:00",
        ("A", "Strategy discussion held", "02 09:30"): "02 09:00",
        ("B", "Information shared", "01 09:40"): "01 09:00",
        ("B", "Information shared", "01 09:50"): "01 09:10",
        ("B", "Family informed", "01 12:00"): None,
        ("B", "Case closed", "03 09:00"): "03 08:00",
        ("C", "Family informed", "01 09:20"): "01 09:00",  # mapped on both events
    }
    assert str(log.events["start_utc"].dtype) == "datetime64[ns, UTC]"


def test_pair_starts_first_in_first_out() -> None:
    ns = np.array([10, 20, 30, 40], dtype=np.int64)
    paired = pair_starts(["x", "x", "x", "y"], ["a", "a", "b", "a"], ns,
                         ["x", "x", "x", "y"], ["a", "a", "a", "a"],
                         np.array([5, 10, 25, 41], dtype=np.int64))
    # x/a: starts 5 and 10 pair in order (10 at the same instant as the first complete waits
    # its turn); the start at 25 has no complete; x/b has no start; y/a's start is later
    assert paired.tolist() == [5, 10, NO_START, NO_START]
    assert pair_starts([], [], np.array([], dtype=np.int64), ["x"], ["a"],
                       np.array([1], dtype=np.int64)).tolist() == []

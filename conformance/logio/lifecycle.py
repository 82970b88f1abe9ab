"""Lifecycle transitions: which rows of a log are the steps judged, and the start events that
time each step's work.

The checker judges a step when it is done: only events whose transition is ``complete`` (or
empty, when the log records none) are kept (``split_lifecycle``), and the others are counted and
said. With ``ReadOptions.keep_starts`` (``lscb calibrate`` sets it; ``lscb check`` does not),
the ``start`` events are kept apart and each complete event is given the start of the same step
of the same case that it ends (``pair_starts``): the earliest start not yet paired, at or
before it (first in, first out, so two overlapping runs of one step pair in order).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.table import RawTable
from conformance.logio.values import stripped_text
from model.errors import InputError, Problem

__all__ = ["NO_START", "cases_lost", "pair_starts", "split_lifecycle"]

NO_START = np.iinfo(np.int64).min  # a complete event without a start (NaT's nanoseconds)


def split_lifecycle(table: RawTable, keep: npt.NDArray[np.bool_], case_text: pd.Series,
                    keep_starts: bool, warnings: list[Problem]
                    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], int]:
    """The rows kept as events (transition ``complete`` or none), the start events kept apart
    (only with ``keep_starts``; all False otherwise) and how many rows had another transition
    than complete (start events included: they are not steps judged). Adds the warning that
    says so to ``warnings``; raises when no complete event is left."""
    starts = np.zeros(len(keep), dtype=bool)
    if "lifecycle" not in table.data:
        return keep, starts, 0
    name = table.name
    transition = stripped_text(table.data["lifecycle"]).str.lower()
    other = ((transition != "") & (transition != "complete")).to_numpy() & keep
    excluded = int(other.sum())
    if not excluded:
        return keep, starts, 0
    if keep_starts:
        starts = (transition == "start").to_numpy() & keep
    lost = cases_lost(case_text[keep], ~other[keep])
    kept_apart = int(starts.sum())
    warnings.append(
        Problem(
            f"{name}, {table.column_word} {table.columns['lifecycle']!r}",
            "only events whose lifecycle transition is 'complete' (the steps judged)",
            f"{excluded:,} events with another transition (such as start or schedule), left out"
            + (f"; {lost:,} cases had no complete event" if lost else "")
            + (f"; the {kept_apart:,} start events among them are kept apart to time each "
               "step's work from its start to its complete event" if kept_apart else ""),
            topic="lifecycle",
        )
    )
    keep = keep & ~other
    if not keep.any():
        raise InputError(table.source, [
            Problem(name, "at least one event with lifecycle transition 'complete'", "none")])
    return keep, starts, excluded


def pair_starts(case: npt.ArrayLike, activity: npt.ArrayLike, ns: npt.ArrayLike,
                start_case: npt.ArrayLike, start_activity: npt.ArrayLike,
                start_ns: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """For each complete event (its case, activity and UTC nanoseconds), the nanoseconds of the
    start event it ends, or ``NO_START``: within the same case and activity, the earliest start
    not yet paired at or before the complete (a start at the same instant counts)."""
    complete = pd.DataFrame({"case": np.asarray(case, dtype=object),
                             "activity": np.asarray(activity, dtype=object),
                             "ns": np.asarray(ns, dtype=np.int64), "kind": 1,
                             "row": np.arange(len(np.asarray(ns)))})
    begun = pd.DataFrame({"case": np.asarray(start_case, dtype=object),
                          "activity": np.asarray(start_activity, dtype=object),
                          "ns": np.asarray(start_ns, dtype=np.int64), "kind": 0, "row": -1})
    out = np.full(len(complete), NO_START, dtype=np.int64)
    if begun.empty or complete.empty:
        return out
    both = pd.concat([begun, complete], ignore_index=True).sort_values(
        ["case", "activity", "ns", "kind"], kind="stable")  # a start before a complete on ties
    cases = both["case"].to_numpy()
    activities = both["activity"].to_numpy()
    times = both["ns"].to_numpy()
    kinds = both["kind"].to_numpy()
    rows = both["row"].to_numpy()
    open_starts: list[int] = []
    first = 0  # the first open start in open_starts
    previous: tuple[object, object] | None = None
    for i in range(len(both)):
        key = (cases[i], activities[i])
        if key != previous:
            open_starts, first, previous = [], 0, key
        if kinds[i] == 0:
            open_starts.append(int(times[i]))
        elif first < len(open_starts):
            out[rows[i]] = open_starts[first]
            first += 1
    return out


def cases_lost(case: pd.Series, keep: npt.NDArray[np.bool_]) -> int:
    """How many cases have no event left under ``keep``."""
    codes, uniques = pd.factorize(case)
    present = np.zeros(len(uniques), dtype=bool)
    present[codes[keep]] = True
    return int((~present).sum())

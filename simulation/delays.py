"""Where a late case's time went: bottlenecks that are queues (issue 12, item 5).

For each deadline rule, each late case's time from its trigger to its deadline is split into
``COMPONENTS``: waiting in a role's queue while people of the role were on duty, waiting for a
diary slot, waiting while nobody of the role was on duty, the steps' own time (lags, notice and
work: assumptions of the scenario), and other time. Only the first two are ``BOTTLENECKS``.
``delays_of`` splits one replication's late cases (in the worker, from its judgement and its
steps); ``aggregate_delays`` sums the replications' splits for ``SimulationResult``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.procedure import Block, Choice, Parallel, Procedure, Task
from model.procedure import Sequence as Seq
from model.rules import Template

__all__ = ["BOTTLENECKS", "COMPONENTS", "aggregate_delays", "delays_of", "duty_table",
           "split_case"]


def _paths(procedure: Procedure) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """The steps on the way to each step of the flow, and the places of each rule's steps.

    ``before[task_id]``: the tasks that the flow puts before it in sequence (steps of parallel
    branches are not on its way). ``required[rule_id]``: the tasks that can meet a deadline
    rule. Derived from the model's blocks, so the flow is not written again."""
    before: dict[str, frozenset[str]] = {}
    places: dict[str, set[str]] = {}

    def visit(block: Block | None, done: frozenset[str]) -> set[str]:
        if block is None:
            return set()
        if isinstance(block, Task):
            before[block.id] = done
            places.setdefault(block.activity, set()).add(block.id)
            return {block.id}
        if isinstance(block, Seq):
            seen: set[str] = set()
            for child in block.children:
                seen |= visit(child, done | seen)
            return seen
        if isinstance(block, (Parallel, Choice)):
            bodies = block.children if isinstance(block, Parallel) else tuple(
                b.body for b in block.branches)
            out: set[str] = set()
            for body in bodies:
                out |= visit(body, done)
            return out
        return visit(block.body, done)  # a loop or a sub-process

    visit(procedure.flow, frozenset())
    required: dict[str, frozenset[str]] = {}
    for rule in procedure.rules:
        if rule.template is Template.RESPONSE:
            required[rule.id] = frozenset(
                t for entry in rule.require for name in entry for t in places.get(name, ()))
    return before, required


COMPONENTS: Final = ("queueing", "diary", "outside working hours", "step duration", "other")
"""How a late case's time from its trigger to its deadline is split (``SimulationResult.delays``):
waiting in a role's queue while people of the role were on duty (busy with other work), waiting
for a free slot in a diary, waiting while nobody of the role was on duty or outside the office
day (nights, weekends, bank holidays), the steps' own time (their lags, booking notice and work,
all assumptions of the scenario), and other time (waiting for a step that is not on the way to
the late one)."""
BOTTLENECKS: Final = ("queueing", "diary")
"""The components that are bottlenecks: more people, or more slots, would shorten them."""

_Duty = tuple[list[float], list[float], list[float]]  # starts, ends, on-duty minutes before each


def duty_table(intervals: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]) -> _Duty:
    starts, ends = (np.asarray(x, dtype=float) for x in intervals)
    cum = np.concatenate([[0.0], np.cumsum(ends - starts)])
    return starts.tolist(), ends.tolist(), cum.tolist()


def _on_duty(duty: _Duty, a: float, b: float) -> float:
    """On-duty minutes in [a, b]."""
    starts, ends, cum = duty

    def until(t: float) -> float:
        i = bisect.bisect_right(starts, t)  # intervals starting at or before t
        return 0.0 if i == 0 else cum[i - 1] + min(t, ends[i - 1]) - starts[i - 1]

    return until(b) - until(a) if b > a else 0.0


def _add(out: dict[tuple[str, str], float], component: str, role: str, a: float, b: float,
         lo: float, hi: float, duty: _Duty | None) -> None:
    """Add [a, b] clipped to [lo, hi]: its on-duty part (all of it when ``duty`` is None) to
    ``component``, the rest to "outside working hours"."""
    a, b = max(a, lo), min(b, hi)
    if b <= a:
        return
    inside = (b - a) if duty is None else _on_duty(duty, a, b)
    if inside > 0:
        out[(component, role)] = out.get((component, role), 0.0) + inside
    if b - a - inside > 1e-9:
        key = ("outside working hours", "")
        out[key] = out.get(key, 0.0) + (b - a - inside)


_Step = tuple[str, float, float, float, float, float, float, float,
              tuple[tuple[str, str, float, float], ...]]


def split_case(path: Sequence[_Step], late_task: str, evidence: float, t0: float, t1: float,
                duty: Mapping[str, _Duty]) -> dict[tuple[str, str], float]:
    """Split one late case's window [t0, t1] (trigger to deadline, in minutes) along the chain
    of steps back from its late step (each step, then the step on its way that ended last
    before it began): each step's lag, booking notice, waits and work, the on-duty part to its
    component and the rest to "outside working hours"; what no step covers to "other".

    ``path``: the case's steps on the way to the late step (``Replication.steps`` rows from
    task_id on)."""
    out: dict[tuple[str, str], float] = {}
    office = duty[""]
    if not path:
        return {("other", ""): t1 - t0}
    late = [s for s in path if s[0] == late_task]
    if late and math.isfinite(evidence):
        current = min(late, key=lambda s: abs(s[6] - evidence))
    else:  # the late step never came: from the last step on its way
        current = max(path, key=lambda s: s[6])
        if current[6] < t1:
            out[("other", "")] = t1 - max(current[6], t0)
    used = {id(current)}
    while True:
        _, start, lag_end, lag_own, ready, work_start, end, work_own, waits = current
        if min(end, t1) > max(start, t0):
            _add(out, "step duration", "", start, lag_end, t0, t1,
                 None if lag_own < 0 else office)
            _add(out, "step duration", "", lag_end, ready, t0, t1, office)  # booking notice
            for kind, role, a, b in waits:
                _add(out, "diary" if kind == "diary" else "queueing", role, a, b, t0, t1,
                     duty.get(role, office))
            a, b = max(work_start, t0), min(end, t1)
            if b > a:  # the work: its on-duty minutes are its own, the rest off duty
                span = end - work_start
                own = min(work_own, span) / span if span > 0 else 1.0
                key = ("step duration", "")
                out[key] = out.get(key, 0.0) + own * (b - a)
                if own < 1.0:
                    key = ("outside working hours", "")
                    out[key] = out.get(key, 0.0) + (1.0 - own) * (b - a)
        if start <= t0:
            break
        earlier = [s for s in path if id(s) not in used and s[6] <= start + 1e-6]
        if not earlier:
            out[("other", "")] = out.get(("other", ""), 0.0) + min(start, t1) - t0
            break
        previous = max(earlier, key=lambda s: s[6])
        gap_lo, gap_hi = max(previous[6], t0), min(start, t1)
        if gap_hi > gap_lo:  # waiting for a step that is not on the way (a parallel branch)
            out[("other", "")] = out.get(("other", ""), 0.0) + gap_hi - gap_lo
        used.add(id(previous))
        current = previous
    return out


def delays_of(results: pd.DataFrame, steps: pd.DataFrame, task_ids: npt.NDArray[Any],
              duty_intervals: Mapping[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
              origin_ns: int, procedure: Procedure) -> pd.DataFrame:
    """For each deadline rule: its late cases' time from the trigger to the deadline, split
    into ``COMPONENTS`` (per role for queueing and diary waits), counting only the late step
    and the steps the flow puts before it (columns rule_id, component, role, hours,
    late_cases, window_hours). ``steps``, ``duty_intervals`` and ``origin_ns``: a replication's
    (``Replication.steps``, ``duty``, ``origin_ns``); ``task_ids``: the task id of each row of
    its events."""
    columns = ["rule_id", "component", "role", "hours", "late_cases", "window_hours"]
    before, required = _paths(procedure)
    late = results[(results["status"] == "violated")
                   & results["rule_id"].astype(str).isin(required)
                   & results["trigger_time"].notna() & results["deadline"].notna()]
    if late.empty or steps.empty:
        return pd.DataFrame(columns=columns)
    rows = late["evidence_row"].to_numpy(dtype=float, na_value=np.nan)
    evidence_task = [task_ids[int(r)] if np.isfinite(r) else "" for r in rows]

    def minutes(column: str) -> npt.NDArray[np.float64]:
        stamps = pd.DatetimeIndex(late[column]).as_unit("ns")
        out = (stamps.asi8 - origin_ns) / 60e9
        return np.where(stamps.isna(), np.nan, out)

    t0s, t1s, evidence = minutes("trigger_time"), minutes("deadline"), minutes("evidence_time")
    duty = {role: duty_table(intervals) for role, intervals in duty_intervals.items()}
    by_case: dict[str, list[_Step]] = {}
    for row in zip(steps["case_id"], steps["task_id"], steps["start"], steps["lag_end"],
                   steps["lag_own"], steps["ready"], steps["work_start"], steps["end"],
                   steps["work_own"], steps["waits"], strict=True):
        by_case.setdefault(row[0], []).append(row[1:])
    totals: dict[tuple[str, str, str], float] = {}
    per_rule: dict[str, list[float]] = {}
    for case_id, rule_id, task, t0, t1, ev in zip(
            late["case_id"].astype(str), late["rule_id"].astype(str), evidence_task, t0s, t1s,
            evidence, strict=True):
        if not t1 > t0:
            continue
        targets = [task] if task else sorted(required[rule_id])
        path = [s for s in by_case.get(case_id, ())
                if any(s[0] == t or s[0] in before.get(t, ()) for t in targets)]
        parts = split_case(path, task, float(ev), float(t0), float(t1), duty)
        for (component, role), value in parts.items():
            key = (rule_id, component, role)
            totals[key] = totals.get(key, 0.0) + value / 60.0
        counts = per_rule.setdefault(rule_id, [0.0, 0.0])
        counts[0] += 1
        counts[1] += (t1 - t0) / 60.0
    return pd.DataFrame(
        [(r, c, role, hours, int(per_rule[r][0]), per_rule[r][1])
         for (r, c, role), hours in totals.items() if hours > 0], columns=columns)


def aggregate_delays(parts: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``delays`` and ``bottlenecks`` of ``SimulationResult`` from the replications' splits."""
    columns = ["rule_id", "component", "role", "late_cases", "hours", "window_hours", "share",
               "bottleneck"]
    wait_columns = ["rule_id", "role", "component", "late_cases", "wait_hours", "span_hours",
                    "share"]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=wait_columns)
    table = pd.concat(parts, ignore_index=True)
    # late_cases and window_hours repeat on each row of a rule: count them once a replication
    spans = (table.drop_duplicates(["replication", "rule_id"])
             .groupby("rule_id")[["late_cases", "window_hours"]].sum())
    hours = table.groupby(["rule_id", "component", "role"], as_index=False)["hours"].sum()
    hours = hours.join(spans, on="rule_id")
    hours["share"] = hours["hours"] / hours["window_hours"]
    hours["bottleneck"] = hours["component"].isin(BOTTLENECKS)
    hours["_order"] = hours["component"].map({c: i for i, c in enumerate(COMPONENTS)})
    hours = hours.sort_values(["rule_id", "_order", "share"], ascending=[True, True, False],
                              kind="stable")
    delays: pd.DataFrame = hours[columns].reset_index(drop=True)
    waits = delays[delays["bottleneck"]].rename(
        columns={"hours": "wait_hours", "window_hours": "span_hours"})
    waits = waits.sort_values(["rule_id", "share"], ascending=[True, False], kind="stable")
    bottlenecks: pd.DataFrame = waits[wait_columns].reset_index(drop=True)
    return delays, bottlenecks

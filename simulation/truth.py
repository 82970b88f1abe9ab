"""The ground truth of injected slips: the rules that each slip breaks.

Worked out from the rules' definitions on each case's final trace, independently of the
checker's rule engine, so that the simulator is a test oracle for the checker; with the same
settings (``CheckConfig``: its trigger occurrences, and its calendar through the run's clock)
and the same definition of a case's scope (``model.scope``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import pandas as pd

from conformance import CheckConfig
from model.contract import CASE_CLOSED
from model.procedure import Procedure
from model.rules import Occurrence, Rule, Template, TriggerOccurrence
from model.scope import in_scope
from simulation.clock import Clock

__all__ = ["TRUTH_COLUMNS", "clock_start", "expected_breaks"]

TRUTH_COLUMNS: Final = ["case_id", "slip", "activity", "detail", "rule_ids"]
_T = TypeVar("_T", int, float)


def expected_breaks(
    truth: Sequence[tuple[int, str, str, str, float]],
    by_no: Mapping[int, Any],
    cases: pd.DataFrame,
    events: pd.DataFrame,
    procedure: Procedure,
    clock: Clock,
    as_of_ns: int,
    check_config: CheckConfig,
) -> pd.DataFrame:
    """The ground truth of injected slips, each with the rules it breaks (judged with
    ``check_config``'s trigger occurrences and ``clock``'s calendar, which is its calendar).

    Worked out from the rules' definitions on the case's final trace, independently of the
    checker (so that the simulator is a test oracle for it): a skipped step breaks the rules
    that require it (when they apply to the case, their trigger occurred and, for a deadline,
    the deadline passed before the as-of time) and the precedence rules it should precede; a
    step done early breaks the precedence rules that it now precedes; a forbidden event breaks
    the absence rules that forbid it.
    """
    if not truth:
        return pd.DataFrame(columns=TRUTH_COLUMNS)
    wanted = {by_no[t[0]].id for t in truth}
    traces: dict[str, list[tuple[str, int]]] = {}
    sub = events[events["case_id"].isin(wanted)]
    for case_id, activity, t in zip(sub["case_id"], sub["activity"], pd.DatetimeIndex(sub["time_utc"]).as_unit("ns").asi8,
                                    strict=True):
        traces.setdefault(case_id, []).append((activity, int(t)))
    rows = []
    for no, kind, activity, other, _ in truth:
        case_id = by_no[no].id
        trace = traces.get(case_id, [])
        attrs = {name: (None if pd.isna(v) else bool(v))
                 for name, v in cases.loc[case_id, list(procedure.boolean_attributes)].items()}
        broken = [r.id for r in procedure.rules
                  if _breaks(r, kind, activity, other, trace, attrs, clock, as_of_ns,
                             check_config)]
        rows.append((case_id, kind, activity, other, ";".join(broken)))
    rows.sort(key=lambda row: row[0])  # case ids follow arrival order; stable within a case
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)


def clock_start(rule: Rule, occurrence: TriggerOccurrence,
                occ: Mapping[str, Sequence[_T]]) -> _T | None:
    """When a response rule's clock starts in one case, or None when no trigger occurred.

    ``occ``: the case's occurrences (activity -> its times in the order of the log, so far).
    The reading is the checker's (CONTRACT §5): the first trigger; or the last trigger before
    the first occurrence of the anchor (the rule's first required entry, or the activity that
    ``occurrence`` names), the first trigger when none is before it, and the last trigger at
    all while the anchor has not occurred. Simulated times are exact, so the checker's benefit
    of the doubt for events known to the day only does not arise.
    """
    times = sorted(t for name in rule.trigger for t in occ.get(name, ()))
    if not times:
        return None
    if occurrence.kind is Occurrence.FIRST:
        return times[0]
    if occurrence.kind is Occurrence.LAST_BEFORE_RESPONSE:
        anchor_names: Sequence[str] = rule.require[0]
    else:
        anchor_names = (occurrence.activity or "",)
    anchors = [t for name in anchor_names for t in occ.get(name, ())]
    if not anchors:
        return times[-1]
    before = [t for t in times if t <= min(anchors)]
    return before[-1] if before else times[0]


def _applies(rule: Rule, attrs: Mapping[str, bool | None], acts: set[str]) -> bool:
    for name, value in rule.when.items():
        known = attrs.get(name)
        if known is None or known is not value:
            return False
    return in_scope(rule.scope, acts)


def _breaks(rule: Rule, kind: str, activity: str, other: str, trace: list[tuple[str, int]],
            attrs: Mapping[str, bool | None], clock: Clock, as_of_ns: int,
            check_config: CheckConfig) -> bool:
    names = [a for a, _ in trace]
    acts = set(names)
    if not _applies(rule, attrs, acts):
        return False

    def first(name: str) -> int:
        return names.index(name) if name in acts else -1

    closed = first(CASE_CLOSED)
    upto = set(names[: closed + 1]) if closed >= 0 else acts
    if kind == "forbidden":
        if rule.template is not Template.ABSENCE or rule.activity != activity:
            return False
        if rule.after is None:
            return True
        anchor = first(rule.after)
        return anchor >= 0 and any(n == activity for n in names[anchor + 1:])
    if kind == "order":
        if rule.template is Template.PRECEDENCE:
            return (rule.activity == activity and rule.preceded_by == other
                    and (first(other) < 0 or first(activity) < first(other)))
        if rule.template is Template.EXISTENCE and rule.after == other and closed >= 0:
            entries = [e for e in rule.require if activity in e]
            anchor = first(other)
            return bool(entries) and anchor >= 0 and not any(
                n in entries[0] for n in names[anchor + 1: closed + 1])
        return False
    # a skipped step
    if activity in acts:
        return False  # done at another place of the flow
    if rule.template is Template.PRECEDENCE:
        return rule.preceded_by == activity and rule.activity in acts
    if rule.template is Template.EXISTENCE:
        if closed < 0 or (rule.trigger and not (set(rule.trigger) & upto)):
            return False
        missing = any(activity in e and not (set(e) & upto) for e in rule.require)
        orphaned = rule.after == activity and any(set(e) & upto for e in rule.require)
        return missing or orphaned
    if rule.template is Template.RESPONSE and rule.within is not None:
        if not any(activity in e and not (set(e) & acts) for e in rule.require):
            return False
        occ: dict[str, list[int]] = {}
        for name, t in trace:
            occ.setdefault(name, []).append(t)
        trigger = clock_start(rule, check_config.trigger_occurrence(rule), occ)
        if trigger is None:
            return False
        moment = datetime.fromtimestamp(trigger / 1e9, tz=UTC)
        due = clock.calendar.deadline(rule.within, moment)
        due_ns = int(due.timestamp() * 1_000_000) * 1000
        return due_ns <= as_of_ns
    return False

"""Judging: the order of judgement (scope, trigger, conditions) and the four rule templates, each
a handful of numpy operations on the prepared log, deciding a ``Verdict`` per case."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.engine.messages import Entries, entries_text, names_text
from conformance.engine.prepared import I64, NO_TIME, Bools, PreparedLog, earliest
from model.calendar import NAT_NS, WorkingCalendar
from model.contract import CASE_CLOSED
from model.rules import Occurrence, Rule, Scope, Template, TriggerOccurrence
from model.scope import SCOPE_ACTIVITIES, case_scopes

if TYPE_CHECKING:
    from conformance.config import CheckConfig


STATUSES: Final = ("satisfied", "violated", "pending", "not_applicable", "not_assessable")
ST_SAT, ST_VIO, ST_PEN, ST_NA, ST_NASS = range(5)  # codes of STATUSES


_NS_PER_HOUR: Final = 3_600 * 1_000_000_000


class Reasons:
    """Reason texts as small integer codes; each may carry two lists of entries for messages."""

    def __init__(self) -> None:
        self.texts: list[str] = [""]
        self.details: list[tuple[Entries, Entries]] = [((), ())]
        self._codes: dict[str, int] = {"": 0}

    def code(self, text: str, first: Entries = (), second: Entries = ()) -> int:
        if text not in self._codes:
            self._codes[text] = len(self.texts)
            self.texts.append(text)
            self.details.append((first, second))
        return self._codes[text]

    def codes(
        self, keys: I64, describe: Callable[[int], tuple[str, Entries, Entries]]
    ) -> I64:
        """Codes for per-row integer keys, describing each distinct key once."""
        if not keys.size:
            return np.zeros(0, np.int64)
        distinct, inverse = np.unique(keys, return_inverse=True)
        table = np.array([self.code(*describe(int(k))) for k in distinct], dtype=np.int64)
        result: I64 = table[inverse]
        return result


class Verdict:
    """The columns of one rule's results, one element per case, filled as cases are decided."""

    def __init__(self, n_cases: int) -> None:
        self.status = np.full(n_cases, -1, dtype=np.int8)
        self.reason = np.zeros(n_cases, dtype=np.int64)
        self.trigger = np.full(n_cases, -1, dtype=np.int64)
        self.evidence = np.full(n_cases, -1, dtype=np.int64)
        self.deadline = np.full(n_cases, NAT_NS, dtype=np.int64)
        self.late_days = np.full(n_cases, -1, dtype=np.int64)
        self.late_hours = np.full(n_cases, np.nan, dtype=np.float64)
        self.date_only = np.zeros(n_cases, dtype=bool)

    def open(self) -> I64:
        """The cases not decided yet."""
        return np.flatnonzero(self.status < 0).astype(np.int64)

    def decide(self, cases: I64, status: int, reason: int | I64 = 0) -> None:
        if cases.size:
            self.status[cases] = status
            self.reason[cases] = reason


class Context:
    """What every rule needs: the log's arrays, the calendar, case kinds and attributes."""

    def __init__(
        self, log: PreparedLog, cases: pd.DataFrame, cal: WorkingCalendar, as_of_ns: int
    ) -> None:
        self.log = log
        self.cal = cal
        self.as_of_ns = as_of_ns
        self.reasons = Reasons()
        self._cases = cases
        self._attributes: dict[str, npt.NDArray[np.int8]] = {}
        self.scopes = case_scopes({name: log.occ((name,)).first >= 0 for name in SCOPE_ACTIVITIES})
        closure = log.occ((CASE_CLOSED,)).first
        self.closed = closure >= 0
        # The last position an existence rule looks at: the first Case closed, else the last event.
        self.limit: I64 = np.where(self.closed, closure, log.end - 1)

    def attribute(self, name: str) -> npt.NDArray[np.int8]:
        """Per case: 1 true, 0 false, -1 unknown."""
        if name not in self._attributes:
            values = np.full(self.log.n_cases, -1, dtype=np.int8)
            if name in self._cases.columns:
                column = (
                    self._cases[name].astype("boolean").reindex(self.log.case_ids).array
                )
                known = ~np.asarray(column.isna(), dtype=bool)
                truth = np.asarray(column.to_numpy(dtype=bool, na_value=False), dtype=bool)
                values[known] = truth[known].astype(np.int8)
            self._attributes[name] = values
        return self._attributes[name]


def _condition_text(rule: Rule) -> str:
    parts = [f"{attr} is {'true' if want else 'false'}" for attr, want in rule.when.items()]
    return "the rule applies only when " + " and ".join(parts)


def _conditions(ctx: Context, rule: Rule, cases: I64) -> tuple[Bools, I64, Bools]:
    """For ``cases``: any ``when`` attribute unknown, the reason codes naming the unknown ones,
    and whether a known one differs."""
    attrs = list(rule.when.items())
    unknown_bits = np.zeros(len(cases), dtype=np.int64)
    differs = np.zeros(len(cases), dtype=bool)
    for bit, (attr, want) in enumerate(attrs):
        values = ctx.attribute(attr)[cases]
        unknown_bits |= (values < 0).astype(np.int64) << bit
        differs |= (values >= 0) & (values != int(want))

    def describe(bits: int) -> tuple[str, Entries, Entries]:
        names = [attr for bit, (attr, _) in enumerate(attrs) if bits >> bit & 1]
        return "case attribute unknown: " + ", ".join(names), (), ()

    unknown = unknown_bits != 0
    codes = np.zeros(len(cases), dtype=np.int64)
    if unknown.any():
        codes[unknown] = ctx.reasons.codes(unknown_bits[unknown], describe)
    return unknown, codes, differs


def _apply_conditions(ctx: Context, rule: Rule, v: Verdict) -> None:
    """Steps 3 and 4 of the order of judgement, for the undecided cases."""
    if not rule.when:
        return
    cases = v.open()
    unknown, codes, differs = _conditions(ctx, rule, cases)
    v.decide(cases[differs], ST_NA, ctx.reasons.code(_condition_text(rule)))
    v.decide(cases[unknown & ~differs], ST_NASS, codes[unknown & ~differs])


def _scope(ctx: Context, rule: Rule, v: Verdict) -> None:
    if rule.scope is not Scope.ANY:
        outside = np.flatnonzero(~ctx.scopes.covered(rule.scope))
        v.decide(outside, ST_NA, ctx.reasons.code(f"not a {rule.scope.value} case"))


def _trigger_positions(log: PreparedLog, rule: Rule, occurrence: TriggerOccurrence) -> I64:
    """Per case, the trigger occurrence that starts a response rule's clock (-1 for none)."""
    trigger = log.occ(rule.trigger)
    if occurrence.kind is Occurrence.FIRST:
        return trigger.first
    if occurrence.kind is Occurrence.LAST_BEFORE_RESPONSE:
        anchor = log.occ(rule.require[0]).first
    else:
        anchor = log.occ((occurrence.activity or "",)).first
    positions = trigger.last.copy()
    cases = np.flatnonzero(anchor >= 0).astype(np.int64)
    at = anchor[cases]
    before = trigger.last_upto(at, cases)
    # A trigger on the anchor's date counts as before it when either is date-only (their order
    # that day is unknown; the benefit of the doubt starts the clock later). A date-only
    # trigger can follow a timed anchor on its date: both at local midnight, the anchor
    # earlier in the file.
    day = log.day[at]
    footing = np.where(
        log.do[at],
        trigger.last_on_date(cases, day),
        trigger.last_on_date(cases, day, dated_only=True),
    )
    best = np.maximum(before, footing)
    positions[cases] = np.where(best >= 0, best, trigger.first[cases])
    return positions


def _response(ctx: Context, rule: Rule, v: Verdict, occurrence: TriggerOccurrence) -> None:
    log, reasons = ctx.log, ctx.reasons
    assert rule.within is not None
    positions = _trigger_positions(log, rule, occurrence)
    cases = v.open()
    v.decide(cases[positions[cases] < 0], ST_NA, reasons.code(f"{names_text(rule.trigger)} not recorded"))
    _apply_conditions(ctx, rule, v)
    cases = v.open()
    if not cases.size:
        return
    trig = positions[cases]
    v.trigger[cases] = trig
    deadline = ctx.cal.deadlines_ns(rule.within, log.t[trig], log.do[trig])
    v.deadline[cases] = deadline
    first = np.stack([log.occ(entry).first[cases] for entry in rule.require])
    when = np.where(first >= 0, log.t[first], NO_TIME)
    met = when <= deadline
    all_met = met.all(axis=0)
    pending = ~all_met & (deadline > ctx.as_of_ns)
    violated = ~all_met & ~pending
    # Per entry: 0 met, 1 late, 2 not recorded.
    state = np.where(met, 0, np.where(first >= 0, 1, 2)).astype(np.int64)
    key = (state * (3 ** np.arange(len(rule.require), dtype=np.int64))[:, None]).sum(axis=0)
    unmet_entry = np.argmax(~met, axis=0)
    evidence = np.where(all_met, first.max(axis=0), first[unmet_entry, np.arange(len(cases))])
    evidence = np.where(pending, -1, evidence)
    v.evidence[cases] = evidence
    v.date_only[cases] = log.do[trig] | ((evidence >= 0) & log.do[evidence])

    def split(k: int) -> tuple[Entries, Entries]:
        states = [k // 3**j % 3 for j in range(len(rule.require))]
        late = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 1)
        never = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 2)
        return late, never

    def describe_violated(k: int) -> tuple[str, Entries, Entries]:
        late, never = split(k)
        parts = []
        if late:
            parts.append("late: " + entries_text(late))
        if never:
            parts.append("not recorded by the as-of time: " + entries_text(never))
        tail = " (lateness measured to the as-of time)" if never else ""
        return "; ".join(parts) + tail, late, never

    def describe_pending(k: int) -> tuple[str, Entries, Entries]:
        late, never = split(k)
        return "deadline after the as-of time; not yet recorded: " + entries_text(never), late, never

    v.decide(cases[all_met], ST_SAT)
    v.decide(cases[pending], ST_PEN, reasons.codes(key[pending], describe_pending))
    v.decide(cases[violated], ST_VIO, reasons.codes(key[violated], describe_violated))
    if violated.any():
        late_cases = cases[violated]
        ev = evidence[violated]
        at = np.where(ev >= 0, log.t[ev], ctx.as_of_ns)
        due = deadline[violated]
        v.late_days[late_cases] = ctx.cal.working_days_late(due, at)
        v.late_hours[late_cases] = (at - due) / _NS_PER_HOUR


def _precedence(ctx: Context, rule: Rule, v: Verdict) -> None:
    log = ctx.log
    assert rule.activity is not None and rule.preceded_by is not None
    target = log.occ((rule.activity,)).first
    before = log.occ((rule.preceded_by,))
    cases = v.open()
    v.decide(cases[target[cases] < 0], ST_NA, ctx.reasons.code(f"{rule.activity} not recorded"))
    _apply_conditions(ctx, rule, v)
    cases = v.open()
    if not cases.size:
        return
    p = target[cases]
    v.trigger[cases] = p
    strict = before.strictly_before_exists(p, cases)
    footing = before.same_footing(p, cases) >= 0
    satisfied = strict | footing
    v.evidence[cases] = np.where(satisfied, before.first[cases], before.next_after(p, cases))
    v.date_only[cases] = satisfied & ~strict
    v.decide(cases[satisfied], ST_SAT)
    v.decide(
        cases[~satisfied],
        ST_VIO,
        ctx.reasons.code(f"{rule.activity} not preceded by {rule.preceded_by}"),
    )


def _absence(ctx: Context, rule: Rule, v: Verdict) -> None:
    log, reasons = ctx.log, ctx.reasons
    assert rule.activity is not None
    forbidden = log.occ((rule.activity,))
    anchor = log.occ((rule.after,)).first if rule.after else None
    cases = v.open()
    if anchor is not None:
        v.decide(cases[anchor[cases] < 0], ST_NA, reasons.code(f"{rule.after} not recorded"))
        cases = v.open()
    if not cases.size:
        return
    if anchor is not None:
        p = anchor[cases]
        v.trigger[cases] = p
        counted = forbidden.strictly_after(p, cases)
        footing = forbidden.same_footing(p, cases) >= 0
    else:
        counted = forbidden.first[cases]
        footing = np.zeros(len(cases), dtype=bool)
    occurs = counted >= 0
    tail = f" after {rule.after}" if rule.after else ""
    if rule.when:
        unknown, codes, differs = _conditions(ctx, rule, cases)
        v.decide(cases[differs], ST_NA, reasons.code(_condition_text(rule)))
        unknown &= ~differs
        v.decide(cases[unknown & occurs], ST_NASS, codes[unknown & occurs])
        v.decide(
            cases[unknown & ~occurs],
            ST_NA,
            reasons.code(f"{rule.activity} not recorded{tail}; a case attribute is unknown"),
        )
        still = v.status[cases] < 0
        cases, counted, footing, occurs = cases[still], counted[still], footing[still], occurs[still]
    v.evidence[cases] = np.where(occurs, counted, -1)
    v.date_only[cases] = ~occurs & footing
    v.decide(cases[~occurs], ST_SAT)
    v.decide(cases[occurs], ST_VIO, reasons.code(f"{rule.activity} recorded{tail}"))


def _existence(ctx: Context, rule: Rule, v: Verdict) -> None:
    log, reasons = ctx.log, ctx.reasons
    limit = ctx.limit
    trigger = log.occ(rule.trigger).first if rule.trigger else None
    if trigger is not None:
        cases = v.open()
        missing = (trigger[cases] < 0) | (trigger[cases] > limit[cases])
        v.decide(
            cases[missing], ST_NA, reasons.code(f"{names_text(rule.trigger)} not recorded by Case closed")
        )
    _apply_conditions(ctx, rule, v)
    cases = v.open()
    if not cases.size:
        return
    last = limit[cases]
    k = len(rule.require)
    m = len(cases)
    x = np.full(m, -1, dtype=np.int64)
    if rule.after:
        x = log.occ((rule.after,)).first[cases]
        x = np.where(x <= last, x, -1)
    has_x = x >= 0
    sub = np.flatnonzero(has_x)
    state = np.zeros((k, m), dtype=np.int64)  # 0 met, 1 only before `after`, 2 missing
    counted = np.full((k, m), -1, dtype=np.int64)
    first = np.full((k, m), -1, dtype=np.int64)
    early = np.full((k, m), -1, dtype=np.int64)  # only_after: the first occurrence before `after`
    footing_only = np.zeros(m, dtype=bool)
    for j, entry in enumerate(rule.require):
        occ = log.occ(entry)
        fe = occ.first[cases]
        occurred = (fe >= 0) & (fe <= last)
        first[j] = np.where(occurred, fe, -1)
        if rule.after:
            strict = np.full(m, -1, dtype=np.int64)
            footing = np.full(m, -1, dtype=np.int64)
            before = np.full(m, -1, dtype=np.int64)
            if sub.size:
                strict[sub] = occ.strictly_after(x[sub], cases[sub])
                footing[sub] = occ.same_footing(x[sub], cases[sub])
                before[sub] = occ.first_strictly_before(x[sub], cases[sub])
            strict = np.where(strict <= last, strict, -1)
            footing = np.where(footing <= last, footing, -1)
            counted[j] = earliest(strict, footing)
            ok = counted[j] >= 0
            footing_only |= ok & (strict < 0)
            if rule.only_after:
                early[j] = np.where(occurred, np.where(has_x, before, fe), -1)
        else:
            counted[j] = first[j]
            ok = occurred
        state[j] = np.where(early[j] >= 0, 1, np.where(ok, 0, np.where(occurred, 1, 2)))
    broken = (early >= 0).any(axis=0)
    satisfied = (state == 0).all(axis=0)
    pending = ~satisfied & ~broken & ~ctx.closed[cases]
    missing = ~satisfied & ~broken & ~pending
    if rule.trigger:
        v.trigger[cases] = trigger[cases] if trigger is not None else -1
    elif rule.after:
        v.trigger[cases] = x
    # the first entry found only before `after` (with only_after: the first found before it),
    # shown by its first occurrence (with only_after: its first one before `after`)
    broken_entry = np.argmax(state == 1, axis=0)
    shown_before = np.where(broken, early, first)[broken_entry, np.arange(m)]
    v.evidence[cases] = np.where(
        satisfied,
        counted.max(axis=0),
        np.where(~pending & (state == 1).any(axis=0), shown_before, -1),
    )
    v.date_only[cases] = footing_only
    key = (state * (3 ** np.arange(k, dtype=np.int64))[:, None]).sum(axis=0) + has_x * 3**k
    after = rule.after or ""

    def describe(code: int) -> tuple[str, Entries, Entries]:
        states = [code // 3**j % 3 for j in range(k)]
        x_present = code // 3**k == 1
        early = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 1)
        absent = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 2)
        parts = []
        if early:
            where = "before" if x_present else "without"
            parts.append(f"recorded {where} {after}: " + entries_text(early))
        if absent:
            tail = f" after {after}" if after else ""
            parts.append(f"not recorded{tail} by Case closed: " + entries_text(absent))
        return "; ".join(parts), early, absent

    def describe_pending(code: int) -> tuple[str, Entries, Entries]:
        _, early, absent = describe(code)
        tail = f" after {after}" if after else ""
        return (f"case not closed yet; not yet recorded{tail}: " + entries_text(early + absent),
                early, absent)

    v.decide(cases[satisfied], ST_SAT)
    v.decide(cases[pending], ST_PEN, reasons.codes(key[pending], describe_pending))
    bad = broken | missing
    v.decide(cases[bad], ST_VIO, reasons.codes(key[bad], describe))


def judge_rule(ctx: Context, rule: Rule, config: CheckConfig) -> Verdict:
    v = Verdict(ctx.log.n_cases)
    _scope(ctx, rule, v)
    if rule.template is Template.RESPONSE:
        _response(ctx, rule, v, config.trigger_occurrence(rule))
    elif rule.template is Template.PRECEDENCE:
        _precedence(ctx, rule, v)
    elif rule.template is Template.ABSENCE:
        _absence(ctx, rule, v)
    else:
        _existence(ctx, rule, v)
    assert not (v.status < 0).any()
    unjudged = (v.status == ST_NA) | (v.status == ST_NASS)
    v.trigger[unjudged] = -1
    v.evidence[unjudged] = -1
    v.deadline[unjudged] = NAT_NS
    v.date_only[unjudged] = False
    return v

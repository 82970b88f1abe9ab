"""The rule engine: judge every rule on every case of an event log (CONTRACT §4-§5), vectorised.

``judge(log, rules, config)`` returns a ``Judgement`` whose ``results`` hold one row per
(case, rule) with one of ``STATUSES``. It never loops in Python over cases or events: the log is
sorted once, activities become integer codes, and each rule is a handful of numpy operations
(first/last occurrence per case, ``searchsorted`` on sorted positions or (case, local date) keys,
the calendar's vectorised deadlines). Messages in plain language are built only for violated
rows, when ``Judgement.deviations()`` is called.

Semantics
---------

Cases and order
    The events of a case are ordered by time, ties in file order (``source_row``); a *position*
    is an event's place in that order. Two events are *on the same footing* when they fall on the
    same Europe/London date and either is date-only (known to the day): an order requirement
    between them counts as met (benefit of the doubt) and the judgement's ``date_only`` is True.
    A *workplace case* has ``Concern identified``; a *referral case* has ``Social care notified``
    or ``Strategy discussion held``, or ``Police notified`` and is not a workplace case (the
    definition is ``model.scope``'s).

As-of
    ``config.as_of`` (or else the log's as-of time; or else its latest event) is when the log
    was extracted. Events after it are left out before judging (the reader has already left out
    those after its own as-of time) and counted in ``Judgement.excluded_after_as_of``.

Order of judgement for each (case, rule)
    1. ``scope`` excludes the case (workplace / referral): ``not_applicable``.
    2. The trigger never occurs (response rules; existence rules that name a ``trigger``):
       ``not_applicable``.
    3. A ``when`` attribute is known and differs: ``not_applicable`` (whatever the others are:
       the rule cannot apply).
    4. Otherwise a ``when`` attribute is unknown (empty, missing, or disagreeing between the rows
       of the case): ``not_assessable``, with a reason naming the attribute; never
       ``violated``. (Absence rules: see below.)
    5. The template decides.

response
    The trigger is the first occurrence of any trigger activity (``first``), or, for
    ``last before response``, the last trigger occurrence at or before the first occurrence of
    the first ``require`` entry (the last one at all when that entry has not occurred), or, for
    ``last before X``, the last trigger occurrence at or before the first ``X`` (the last one at
    all when there is no ``X``); a trigger on the anchor's date counts as before it when either
    is date-only. When the anchor occurred but no trigger occurrence precedes it, the first
    trigger occurrence is used. The check's configuration may set a rule's trigger occurrence
    in place of the rule's own (``CheckConfig.trigger_occurrence``; ``icpc_clock =
    "section-47-start"`` is the shorthand that gives ``icpc-within-15-working-days``
    ``last before Section 47 enquiry started``). The deadline
    is set by the trigger's time with the calendar (a date-only trigger counts as before close
    of business). Each ``require`` entry is met by its earliest occurrence (of any alternative)
    at or before the deadline; an occurrence before the trigger counts. All met: ``satisfied``
    (evidence: the last of the meeting events). Otherwise, when the deadline is after the as-of
    time: ``pending``. Otherwise ``violated``: the evidence is the first late occurrence of the
    first unmet entry, with ``late_working_days`` (working days from the deadline's date to the
    event's) and ``late_hours`` (elapsed), or none when the entry has not occurred (lateness is
    then measured to the as-of time, and the reason says so). Deadline rules look at all of a
    case's events, also after ``Case closed``.

precedence
    The target is the first ``activity``; none: ``not_applicable``. ``satisfied`` when some
    ``preceded_by`` comes before it or is on the same footing (then ``date_only``); otherwise
    ``violated`` (evidence: the first ``preceded_by`` after the target, or none).

absence
    ``after`` given and never occurring: ``not_applicable``. The forbidden ``activity`` counts
    only after the first ``after`` (positions; an occurrence on the same footing as ``after``
    does not count: the doubt favours the case). When a ``when`` attribute is unknown, the rule
    is ``not_applicable`` if the activity does not count as occurring (nothing happened that the
    rule forbids) and ``not_assessable`` if it does. Occurring: ``violated`` (evidence: the first
    counted occurrence); else ``satisfied`` (``date_only`` when an occurrence was discounted as on
    the same footing).

existence
    Judged on the events up to and including the first ``Case closed`` (for the trigger, the
    ``after`` anchor and the required events alike). Each ``require`` entry must occur, after
    the first ``after`` when one is given (same footing counts as after). With ``only_after``,
    an occurrence before the first ``after`` (not on the same footing), or any occurrence while
    ``after`` never occurred, breaks the rule: ``violated`` at once, even before closure
    (evidence: the first such occurrence). Otherwise all entries met: ``satisfied``; not all
    and no ``Case closed`` yet: ``pending`` (they may still come); else ``violated`` (evidence:
    an entry's occurrence before ``after``, when there is one; the reason lists the entries).

Results
-------
``Judgement.results`` is ordered by case (in the order the log's cases first appear) and, within
a case, by rule; see ``RESULT_COLUMNS``. Times are UTC; messages show Europe/London local time.
``trigger_*`` describe the event the judgement starts from: a response rule's trigger, a
precedence rule's target, an absence rule's ``after``, an existence rule's ``trigger`` (or else
its ``after``). ``evidence_*`` describe the event that decided it, as said above; ``*_row`` is the
event's ``source_row``. ``deadline``, ``late_working_days`` and ``late_hours`` belong to response
rules. ``not_applicable`` and ``not_assessable`` rows carry no trigger, evidence or deadline, and
their ``date_only`` is False. ``reason`` is a short fixed text (why violated, pending, not
applicable or not assessable; empty when satisfied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.config import CheckConfig
from conformance.logio import log_from_frame
from conformance.logio.values import as_utc
from model.calendar import (
    LONDON,
    NAT_NS,
    CalendarConfig,
    DeadlineKind,
    SameDay,
    Within,
    WorkingCalendar,
)
from model.contract import CASE_CLOSED
from model.rules import Occurrence, Rule, Scope, Severity, Template, TriggerOccurrence
from model.scope import SCOPE_ACTIVITIES, case_scopes

# TODO(seams): CheckConfig and log_from_frame are here only for callers not yet importing them
# from ``conformance``; remove them when simulation/ no longer does.
__all__ = [
    "RESULT_COLUMNS",
    "STATUSES",
    "CheckConfig",
    "Judgement",
    "LogLike",
    "judge",
    "log_from_frame",
]

STATUSES: Final = ("satisfied", "violated", "pending", "not_applicable", "not_assessable")
_SAT, _VIO, _PEN, _NA, _NASS = range(5)

RESULT_COLUMNS: Final = (
    "case_id",
    "rule_id",
    "status",
    "severity",
    "clause",
    "trigger_activity",
    "trigger_time",
    "trigger_row",
    "deadline",
    "evidence_activity",
    "evidence_time",
    "evidence_row",
    "late_working_days",
    "late_hours",
    "date_only",
    "reason",
)

_NS_PER_HOUR: Final = 3_600 * 1_000_000_000
_NO_TIME: Final = np.iinfo(np.int64).max  # "never" when comparing times

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


class LogLike(Protocol):
    """What the engine reads of an ``EventLog``."""

    @property
    def events(self) -> pd.DataFrame: ...

    @property
    def cases(self) -> pd.DataFrame: ...

    @property
    def as_of(self) -> pd.Timestamp | None: ...

    @property
    def source(self) -> str: ...


# ------------------------------------------------------------------ the prepared log


def _ns(values: pd.Series | pd.Index) -> I64:
    """``int64`` UTC nanoseconds of a datetime column (aware, or naive UTC)."""
    array = pd.DatetimeIndex(values)
    if array.tz is not None:
        array = array.tz_convert(UTC).tz_localize(None)
    return np.asarray(array.as_unit("ns").asi8, dtype=np.int64)


@lru_cache(maxsize=16)
def _calendar(config: CalendarConfig, first_year: int, last_year: int) -> WorkingCalendar:
    return WorkingCalendar(config, first_year=first_year, last_year=last_year)


def _calendar_for(config: CalendarConfig, instants_ns: Sequence[int]) -> WorkingCalendar:
    """A calendar for the default years and every given instant (with a margin for deadlines)."""
    years = [pd.Timestamp(t, tz=UTC).year for t in instants_ns]
    first = min([1990, *(y - 1 for y in years)])
    last = max([2075, *(y + 2 for y in years)])
    return _calendar(config, first, last)


def _is_sorted(case: I64, t: I64, row: I64) -> bool:
    """Are the events grouped by case (codes of first appearance) and in time and file order?"""
    if len(case) < 2:
        return True
    step = case[1:] - case[:-1]
    if (step < 0).any():
        return False
    dt = t[1:] - t[:-1]
    bad = (step == 0) & ((dt < 0) | ((dt == 0) & (row[1:] < row[:-1])))
    return not bool(bad.any())


def _firsts_lasts(pos: I64, cse: I64, n_cases: int) -> tuple[I64, I64]:
    """The first and last of sorted positions per case (-1 for none)."""
    first = np.full(n_cases, -1, dtype=np.int64)
    last = np.full(n_cases, -1, dtype=np.int64)
    if pos.size:
        change = cse[1:] != cse[:-1]
        head = np.concatenate(([True], change))
        tail = np.concatenate((change, [True]))
        first[cse[head]] = pos[head]
        last[cse[tail]] = pos[tail]
    return first, last


def _earliest(a: I64, b: I64) -> I64:
    """Elementwise the earlier of two positions, -1 meaning none."""
    big = np.iinfo(np.int64).max
    m = np.minimum(np.where(a < 0, big, a), np.where(b < 0, big, b))
    result: I64 = np.where(m == big, -1, m)
    return result


class _Log:
    """The events as arrays sorted by case, time and file order, with occurrence indexes.

    ``case`` holds case indexes 0..n_cases-1 in order of first appearance; ``day`` local dates
    as days after the earliest one; ``start``/``end`` each case's slice of positions.
    """

    def __init__(self, events: pd.DataFrame, t: I64, as_of_ns: int, cal: WorkingCalendar) -> None:
        keep = t <= as_of_ns
        self.excluded = int(len(t) - int(np.count_nonzero(keep)))
        if self.excluded:
            events = events.loc[keep]
            t = t[keep]
        case, case_ids = pd.factorize(events["case_id"])
        act, activities = pd.factorize(events["activity"])
        do = (
            np.asarray(events["date_only"], dtype=bool)
            if "date_only" in events
            else np.zeros(len(t), dtype=bool)
        )
        row = (
            np.asarray(events["source_row"], dtype=np.int64)
            if "source_row" in events
            else np.arange(len(t), dtype=np.int64)
        )
        case = case.astype(np.int64, copy=False)
        act = act.astype(np.int64, copy=False)
        if not _is_sorted(case, t, row):
            order = np.lexsort((row, t, case))
            case, act, t, do, row = case[order], act[order], t[order], do[order], row[order]
        self.n = len(t)
        self.case: I64 = case
        self.act: I64 = act
        self.t: I64 = t
        self.do: Bools = do
        self.row: I64 = row
        self.case_ids = pd.Index(case_ids, dtype="str")
        self.activities = [str(a) for a in activities]
        self.code = {name: i for i, name in enumerate(self.activities)}
        self.n_cases = len(self.case_ids)
        if self.n:
            days = cal.local_dates(t).view(np.int64)
            self.day0 = int(days.min())
            self.day: I64 = days - self.day0
            self.span = int(self.day.max()) + 2
            bounds = np.flatnonzero(case[1:] != case[:-1]) + 1
            self.start: I64 = np.concatenate(([0], bounds)).astype(np.int64)
            self.end: I64 = np.concatenate((bounds, [self.n])).astype(np.int64)
        else:
            self.day0, self.span = 0, 1
            self.day = self.start = self.end = np.zeros(0, np.int64)
        self._occ: dict[tuple[str, ...], _Occ] = {}

    def occ(self, names: Sequence[str]) -> _Occ:
        """The occurrences of any of ``names``."""
        key = tuple(sorted(set(names)))
        if key not in self._occ:
            self._occ[key] = _Occ(self, [self.code[n] for n in key if n in self.code])
        return self._occ[key]

    def day_key(self, case: I64, day: I64) -> I64:
        """A sortable key of (case, local date)."""
        key: I64 = case * self.span + day
        return key


class _Occ:
    """The occurrences of a set of activities: sorted positions and per-case lookups.

    Each query takes ``c``, case indexes, and an anchor per case; it answers with a position
    (-1 for none) inside that case only.
    """

    def __init__(self, log: _Log, codes: list[int]) -> None:
        self.log = log
        if codes:
            mask = log.act == codes[0] if len(codes) == 1 else np.isin(log.act, codes)
            self.pos: I64 = np.flatnonzero(mask).astype(np.int64)
        else:
            self.pos = np.zeros(0, np.int64)
        self.cse: I64 = log.case[self.pos]
        self.first, self.last = _firsts_lasts(self.pos, self.cse, log.n_cases)

    @cached_property
    def _timed(self) -> tuple[I64, I64]:
        """Positions of the occurrences with a time of day, and the first of them per case."""
        pos = self.pos[~self.log.do[self.pos]]
        first, _ = _firsts_lasts(pos, self.log.case[pos], self.log.n_cases)
        return pos, first

    @cached_property
    def _keys(self) -> I64:
        return self.log.day_key(self.cse, self.log.day[self.pos])

    @cached_property
    def _dated(self) -> tuple[I64, I64]:
        """Positions of the date-only occurrences and their (case, date) keys."""
        pos = self.pos[self.log.do[self.pos]]
        return pos, self.log.day_key(self.log.case[pos], self.log.day[pos])

    @property
    def first_timed(self) -> I64:
        """Per case, the first occurrence with a time of day (-1 for none)."""
        return self._timed[1]

    def next_after(self, p: I64, c: I64, *, timed_only: bool = False) -> I64:
        """The first occurrence after position ``p`` (only those with a time of day if asked)."""
        pos = self._timed[0] if timed_only else self.pos
        if not pos.size:
            return np.full(len(p), -1, np.int64)
        idx = np.searchsorted(pos, p, side="right")
        cand = pos[np.minimum(idx, len(pos) - 1)]
        result: I64 = np.where((idx < len(pos)) & (cand < self.log.end[c]), cand, -1)
        return result

    def last_upto(self, p: I64, c: I64) -> I64:
        """The last occurrence at or before position ``p``."""
        if not self.pos.size:
            return np.full(len(p), -1, np.int64)
        idx = np.searchsorted(self.pos, p, side="right") - 1
        cand = self.pos[np.maximum(idx, 0)]
        result: I64 = np.where((idx >= 0) & (cand >= self.log.start[c]), cand, -1)
        return result

    def _by_date(self, keys: I64, pos: I64, c: I64, d: I64, *, exact: bool) -> I64:
        """On date ``d`` (exact) or the first date after it, in case ``c``."""
        if not keys.size:
            return np.full(len(c), -1, np.int64)
        query = self.log.day_key(c, d)
        idx = np.searchsorted(keys, query, side="left" if exact else "right")
        safe = np.minimum(idx, len(keys) - 1)
        found = keys[safe]
        if exact:
            ok = (idx < len(keys)) & (found == query)
        else:
            ok = (idx < len(keys)) & (found // self.log.span == c)
        result: I64 = np.where(ok, pos[safe], -1)
        return result

    def last_on_date(self, c: I64, d: I64) -> I64:
        """The last occurrence on local date ``d`` in case ``c``."""
        keys = self._keys
        if not keys.size:
            return np.full(len(c), -1, np.int64)
        query = self.log.day_key(c, d)
        idx = np.searchsorted(keys, query, side="right") - 1
        safe = np.maximum(idx, 0)
        result: I64 = np.where((idx >= 0) & (keys[safe] == query), self.pos[safe], -1)
        return result

    def strictly_after(self, p: I64, c: I64) -> I64:
        """The first occurrence after the event at ``p`` and not on the same footing as it
        (a later date, or a later position with both times of day known)."""
        log = self.log
        later_date = self._by_date(self._keys, self.pos, c, log.day[p], exact=False)
        timed = np.where(log.do[p], -1, self.next_after(p, c, timed_only=True))
        return _earliest(later_date, timed)

    def same_footing(self, p: I64, c: I64) -> I64:
        """The first occurrence on the same local date as the event at ``p`` where either is
        date-only (order unknown: benefit of the doubt)."""
        log = self.log
        d = log.day[p]
        dated_pos, dated_keys = self._dated
        on_date = self._by_date(self._keys, self.pos, c, d, exact=True)
        dated = self._by_date(dated_keys, dated_pos, c, d, exact=True)
        result: I64 = np.where(log.do[p], on_date, dated)
        return result

    def strictly_before_exists(self, p: I64, c: I64) -> Bools:
        """Is there an occurrence before the event at ``p`` and not on the same footing?"""
        log = self.log
        first = self.first[c]
        earlier_date = (first >= 0) & (log.day[first] < log.day[p])
        timed = self.first_timed[c]
        earlier_timed = ~log.do[p] & (timed >= 0) & (timed < p)
        result: Bools = earlier_date | earlier_timed
        return result


# ------------------------------------------------------------------ judging


def _names(alternatives: Sequence[str]) -> str:
    """Alternatives in words: "A", "A or B", "A, B or C"."""
    items = list(alternatives)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _listing(items: Sequence[str]) -> str:
    """Items in words: "A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_Entries = tuple[tuple[str, ...], ...]  # require entries, each a tuple of alternatives


def _entries(entries: _Entries) -> str:
    return "; ".join(_names(e) for e in entries)


def _not_recorded(entry: tuple[str, ...], tail: str = "") -> str:
    """'X was not recorded<tail>', or 'none of X, Y or Z was recorded<tail>'."""
    if len(entry) == 1:
        return f"{entry[0]} was not recorded{tail}"
    return f"none of {_names(entry)} was recorded{tail}"


class _Reasons:
    """Reason texts as small integer codes; each may carry two lists of entries for messages."""

    def __init__(self) -> None:
        self.texts: list[str] = [""]
        self.details: list[tuple[_Entries, _Entries]] = [((), ())]
        self._codes: dict[str, int] = {"": 0}

    def code(self, text: str, first: _Entries = (), second: _Entries = ()) -> int:
        if text not in self._codes:
            self._codes[text] = len(self.texts)
            self.texts.append(text)
            self.details.append((first, second))
        return self._codes[text]

    def codes(
        self, keys: I64, describe: Callable[[int], tuple[str, _Entries, _Entries]]
    ) -> I64:
        """Codes for per-row integer keys, describing each distinct key once."""
        if not keys.size:
            return np.zeros(0, np.int64)
        distinct, inverse = np.unique(keys, return_inverse=True)
        table = np.array([self.code(*describe(int(k))) for k in distinct], dtype=np.int64)
        result: I64 = table[inverse]
        return result


class _Verdict:
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


class _Context:
    """What every rule needs: the log's arrays, the calendar, case kinds and attributes."""

    def __init__(
        self, log: _Log, cases: pd.DataFrame, cal: WorkingCalendar, as_of_ns: int
    ) -> None:
        self.log = log
        self.cal = cal
        self.as_of_ns = as_of_ns
        self.reasons = _Reasons()
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


def _conditions(ctx: _Context, rule: Rule, cases: I64) -> tuple[Bools, I64, Bools]:
    """For ``cases``: any ``when`` attribute unknown, the reason codes naming the unknown ones,
    and whether a known one differs."""
    attrs = list(rule.when.items())
    unknown_bits = np.zeros(len(cases), dtype=np.int64)
    differs = np.zeros(len(cases), dtype=bool)
    for bit, (attr, want) in enumerate(attrs):
        values = ctx.attribute(attr)[cases]
        unknown_bits |= (values < 0).astype(np.int64) << bit
        differs |= (values >= 0) & (values != int(want))

    def describe(bits: int) -> tuple[str, _Entries, _Entries]:
        names = [attr for bit, (attr, _) in enumerate(attrs) if bits >> bit & 1]
        return "case attribute unknown: " + ", ".join(names), (), ()

    unknown = unknown_bits != 0
    codes = np.zeros(len(cases), dtype=np.int64)
    if unknown.any():
        codes[unknown] = ctx.reasons.codes(unknown_bits[unknown], describe)
    return unknown, codes, differs


def _apply_conditions(ctx: _Context, rule: Rule, v: _Verdict) -> None:
    """Steps 3 and 4 of the order of judgement, for the undecided cases."""
    if not rule.when:
        return
    cases = v.open()
    unknown, codes, differs = _conditions(ctx, rule, cases)
    v.decide(cases[differs], _NA, ctx.reasons.code(_condition_text(rule)))
    v.decide(cases[unknown & ~differs], _NASS, codes[unknown & ~differs])


def _scope(ctx: _Context, rule: Rule, v: _Verdict) -> None:
    if rule.scope is not Scope.ANY:
        outside = np.flatnonzero(~ctx.scopes.covered(rule.scope))
        v.decide(outside, _NA, ctx.reasons.code(f"not a {rule.scope.value} case"))


def _trigger_positions(log: _Log, rule: Rule, occurrence: TriggerOccurrence) -> I64:
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
    # that day is unknown; the benefit of the doubt starts the clock later). Date-only events
    # stand first on their date, so only a date-only anchor can have such triggers after it.
    footing = np.where(log.do[at], trigger.last_on_date(cases, log.day[at]), -1)
    best = np.maximum(before, footing)
    positions[cases] = np.where(best >= 0, best, trigger.first[cases])
    return positions


def _response(ctx: _Context, rule: Rule, v: _Verdict, occurrence: TriggerOccurrence) -> None:
    log, reasons = ctx.log, ctx.reasons
    assert rule.within is not None
    positions = _trigger_positions(log, rule, occurrence)
    cases = v.open()
    v.decide(cases[positions[cases] < 0], _NA, reasons.code(f"{_names(rule.trigger)} not recorded"))
    _apply_conditions(ctx, rule, v)
    cases = v.open()
    if not cases.size:
        return
    trig = positions[cases]
    v.trigger[cases] = trig
    deadline = ctx.cal.deadlines_ns(rule.within, log.t[trig], log.do[trig])
    v.deadline[cases] = deadline
    first = np.stack([log.occ(entry).first[cases] for entry in rule.require])
    when = np.where(first >= 0, log.t[first], _NO_TIME)
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

    def split(k: int) -> tuple[_Entries, _Entries]:
        states = [k // 3**j % 3 for j in range(len(rule.require))]
        late = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 1)
        never = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 2)
        return late, never

    def describe_violated(k: int) -> tuple[str, _Entries, _Entries]:
        late, never = split(k)
        parts = []
        if late:
            parts.append("late: " + _entries(late))
        if never:
            parts.append("not recorded by the as-of time: " + _entries(never))
        tail = " (lateness measured to the as-of time)" if never else ""
        return "; ".join(parts) + tail, late, never

    def describe_pending(k: int) -> tuple[str, _Entries, _Entries]:
        late, never = split(k)
        return "deadline after the as-of time; not yet recorded: " + _entries(never), late, never

    v.decide(cases[all_met], _SAT)
    v.decide(cases[pending], _PEN, reasons.codes(key[pending], describe_pending))
    v.decide(cases[violated], _VIO, reasons.codes(key[violated], describe_violated))
    if violated.any():
        late_cases = cases[violated]
        ev = evidence[violated]
        at = np.where(ev >= 0, log.t[ev], ctx.as_of_ns)
        due = deadline[violated]
        v.late_days[late_cases] = ctx.cal.working_days_late(due, at)
        v.late_hours[late_cases] = (at - due) / _NS_PER_HOUR


def _precedence(ctx: _Context, rule: Rule, v: _Verdict) -> None:
    log = ctx.log
    assert rule.activity is not None and rule.preceded_by is not None
    target = log.occ((rule.activity,)).first
    before = log.occ((rule.preceded_by,))
    cases = v.open()
    v.decide(cases[target[cases] < 0], _NA, ctx.reasons.code(f"{rule.activity} not recorded"))
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
    v.decide(cases[satisfied], _SAT)
    v.decide(
        cases[~satisfied],
        _VIO,
        ctx.reasons.code(f"{rule.activity} not preceded by {rule.preceded_by}"),
    )


def _absence(ctx: _Context, rule: Rule, v: _Verdict) -> None:
    log, reasons = ctx.log, ctx.reasons
    assert rule.activity is not None
    forbidden = log.occ((rule.activity,))
    anchor = log.occ((rule.after,)).first if rule.after else None
    cases = v.open()
    if anchor is not None:
        v.decide(cases[anchor[cases] < 0], _NA, reasons.code(f"{rule.after} not recorded"))
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
        v.decide(cases[differs], _NA, reasons.code(_condition_text(rule)))
        unknown &= ~differs
        v.decide(cases[unknown & occurs], _NASS, codes[unknown & occurs])
        v.decide(
            cases[unknown & ~occurs],
            _NA,
            reasons.code(f"{rule.activity} not recorded{tail}; a case attribute is unknown"),
        )
        still = v.status[cases] < 0
        cases, counted, footing, occurs = cases[still], counted[still], footing[still], occurs[still]
    v.evidence[cases] = np.where(occurs, counted, -1)
    v.date_only[cases] = ~occurs & footing
    v.decide(cases[~occurs], _SAT)
    v.decide(cases[occurs], _VIO, reasons.code(f"{rule.activity} recorded{tail}"))


def _existence(ctx: _Context, rule: Rule, v: _Verdict) -> None:
    log, reasons = ctx.log, ctx.reasons
    limit = ctx.limit
    trigger = log.occ(rule.trigger).first if rule.trigger else None
    if trigger is not None:
        cases = v.open()
        missing = (trigger[cases] < 0) | (trigger[cases] > limit[cases])
        v.decide(
            cases[missing], _NA, reasons.code(f"{_names(rule.trigger)} not recorded by Case closed")
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
    early = np.zeros((k, m), dtype=bool)  # only_after: an occurrence before `after`
    footing_only = np.zeros(m, dtype=bool)
    for j, entry in enumerate(rule.require):
        occ = log.occ(entry)
        fe = occ.first[cases]
        occurred = (fe >= 0) & (fe <= last)
        first[j] = np.where(occurred, fe, -1)
        if rule.after:
            strict = np.full(m, -1, dtype=np.int64)
            footing = np.full(m, -1, dtype=np.int64)
            before = np.zeros(m, dtype=bool)
            if sub.size:
                strict[sub] = occ.strictly_after(x[sub], cases[sub])
                footing[sub] = occ.same_footing(x[sub], cases[sub])
                before[sub] = occ.strictly_before_exists(x[sub], cases[sub])
            strict = np.where(strict <= last, strict, -1)
            footing = np.where(footing <= last, footing, -1)
            counted[j] = _earliest(strict, footing)
            ok = counted[j] >= 0
            footing_only |= ok & (strict < 0)
            if rule.only_after:
                early[j] = occurred & np.where(has_x, before, True)
        else:
            counted[j] = first[j]
            ok = occurred
        state[j] = np.where(early[j], 1, np.where(ok, 0, np.where(occurred, 1, 2)))
    broken = early.any(axis=0)
    satisfied = (state == 0).all(axis=0)
    pending = ~satisfied & ~broken & ~ctx.closed[cases]
    missing = ~satisfied & ~broken & ~pending
    if rule.trigger:
        v.trigger[cases] = trigger[cases] if trigger is not None else -1
    elif rule.after:
        v.trigger[cases] = x
    broken_entry = np.argmax(state == 1, axis=0)
    v.evidence[cases] = np.where(
        satisfied,
        counted.max(axis=0),
        np.where(~pending & (state == 1).any(axis=0), first[broken_entry, np.arange(m)], -1),
    )
    v.date_only[cases] = footing_only
    key = (state * (3 ** np.arange(k, dtype=np.int64))[:, None]).sum(axis=0) + has_x * 3**k
    after = rule.after or ""

    def describe(code: int) -> tuple[str, _Entries, _Entries]:
        states = [code // 3**j % 3 for j in range(k)]
        x_present = code // 3**k == 1
        early = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 1)
        absent = tuple(e for e, s in zip(rule.require, states, strict=True) if s == 2)
        parts = []
        if early:
            where = "before" if x_present else "without"
            parts.append(f"recorded {where} {after}: " + _entries(early))
        if absent:
            tail = f" after {after}" if after else ""
            parts.append(f"not recorded{tail} by Case closed: " + _entries(absent))
        return "; ".join(parts), early, absent

    def describe_pending(code: int) -> tuple[str, _Entries, _Entries]:
        _, early, absent = describe(code)
        tail = f" after {after}" if after else ""
        return (f"case not closed yet; not yet recorded{tail}: " + _entries(early + absent),
                early, absent)

    v.decide(cases[satisfied], _SAT)
    v.decide(cases[pending], _PEN, reasons.codes(key[pending], describe_pending))
    bad = broken | missing
    v.decide(cases[bad], _VIO, reasons.codes(key[bad], describe))


def _judge_rule(ctx: _Context, rule: Rule, config: CheckConfig) -> _Verdict:
    v = _Verdict(ctx.log.n_cases)
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
    unjudged = (v.status == _NA) | (v.status == _NASS)
    v.trigger[unjudged] = -1
    v.evidence[unjudged] = -1
    v.deadline[unjudged] = NAT_NS
    v.date_only[unjudged] = False
    return v


# ------------------------------------------------------------------ results


def _times(ns: I64) -> pd.arrays.DatetimeArray:
    """UTC times from nanoseconds (``NAT_NS`` = missing)."""
    return pd.DatetimeIndex(ns.view("datetime64[ns]"), dtype="datetime64[ns, UTC]", copy=False).array


def _categorical(
    codes: npt.NDArray[np.integer], categories: pd.Index | Sequence[str]
) -> pd.Categorical:
    """A categorical from codes (-1 = missing) and distinct category names."""
    index = categories if isinstance(categories, pd.Index) else pd.Index(list(categories), dtype="str")
    result: pd.Categorical = pd.Categorical.from_codes(codes, categories=index, validate=False)
    return result


@dataclass(frozen=True)
class _Events:
    """The events at some positions (-1 = none), as result columns."""

    activity: pd.Categorical
    time: pd.arrays.DatetimeArray
    row: pd.arrays.IntegerArray
    date_only: Bools

    @classmethod
    def at(cls, log: _Log, pos: I64) -> _Events:
        none = pos < 0
        if not log.n:  # no events: every position is -1
            safe = np.zeros(0, np.int64)
            return cls(
                _categorical(safe, log.activities), _times(np.full(0, NAT_NS, np.int64)),
                pd.arrays.IntegerArray(safe, none), np.zeros(0, bool),
            )
        safe = np.where(none, 0, pos)
        return cls(
            activity=_categorical(np.where(none, -1, log.act[safe]), log.activities),
            time=_times(np.where(none, NAT_NS, log.t[safe])),
            row=pd.arrays.IntegerArray(log.row[safe], none),
            date_only=~none & log.do[safe],
        )


@dataclass(frozen=True, eq=False)
class Judgement:
    """Every rule judged on every case. See the module docstring for the semantics."""

    as_of: pd.Timestamp
    cases: int
    events: int
    rules: tuple[Rule, ...]
    results: pd.DataFrame
    excluded_after_as_of: int = 0
    config: CheckConfig = field(default_factory=CheckConfig)
    source: str = ""
    # Per result row: whether the trigger and the evidence event were date-only (for messages).
    _event_dates: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)
    # Per reason text: the entries it names (late / order broken; not recorded), for messages.
    _reason_entries: Mapping[str, tuple[_Entries, _Entries]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def deviations(self) -> pd.DataFrame:
        """The violated rows, in case then rule order, with a plain-language ``message``."""
        violated = self.results["status"].cat.codes.to_numpy() == _VIO
        rows: pd.DataFrame = self.results.loc[violated].reset_index(drop=True)
        trigger_date_only = self._event_dates["trigger_date_only"].to_numpy()[violated]
        evidence_date_only = self._event_dates["evidence_date_only"].to_numpy()[violated]
        rules = {r.id: r for r in self.rules}
        messages = [
            _message(
                rules[str(row.rule_id)],
                row,
                bool(trigger_only),
                bool(evidence_only),
                self._reason_entries.get(str(row.reason), ((), ())),
                self,
            )
            for row, trigger_only, evidence_only in zip(
                rows.itertuples(index=False), trigger_date_only, evidence_date_only, strict=True
            )
        ]
        rows["message"] = pd.array(messages, dtype="str")
        return rows

    def summary(self) -> pd.DataFrame:
        """Per rule: how many cases have each status, and compliance = satisfied / (satisfied +
        violated) (NaN when neither)."""
        n_rules = len(self.rules)
        rule_codes = self.results["rule_id"].cat.codes.to_numpy(dtype=np.int64)
        status_codes = self.results["status"].cat.codes.to_numpy(dtype=np.int64)
        counts = np.bincount(
            rule_codes * len(STATUSES) + status_codes, minlength=n_rules * len(STATUSES)
        ).reshape(n_rules, len(STATUSES))
        table = pd.DataFrame(counts, columns=list(STATUSES))
        table.insert(0, "rule_id", [r.id for r in self.rules])
        table.insert(1, "clause", [r.clause for r in self.rules])
        table.insert(2, "severity", [r.severity.value for r in self.rules])
        judged = table["satisfied"] + table["violated"]
        table["compliance"] = (table["satisfied"] / judged.where(judged > 0)).astype(float)
        return table


def judge(log: LogLike, rules: Sequence[Rule], config: CheckConfig | None = None) -> Judgement:
    """Judge every rule on every case of ``log`` (see the module docstring)."""
    config = config or CheckConfig()
    rules = tuple(rules)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule ids must be unique")
    responses = {r.id for r in rules if r.template is Template.RESPONSE}
    strays = sorted(set(config.trigger_occurrences) - responses)
    if strays:
        raise ValueError(
            "trigger_occurrences names rules that are not response rules being judged: "
            + ", ".join(strays)
        )
    events = log.events
    t = _ns(events["time_utc"])
    if len(t) and (t == NAT_NS).any():
        raise ValueError("every event needs a time (found events without one)")
    if config.as_of is not None:
        as_of = config.as_of
    elif log.as_of is not None:
        as_of = as_utc(log.as_of)
    else:
        as_of = pd.Timestamp(int(t.max()), tz=UTC) if len(t) else pd.Timestamp(0, tz=UTC)
    as_of_ns = int(as_of.value)
    instants = [as_of_ns] + ([int(t.min()), int(t.max())] if len(t) else [])
    cal = _calendar_for(config.calendar, instants)
    prepared = _Log(events, t, as_of_ns, cal)
    ctx = _Context(prepared, log.cases, cal, as_of_ns)
    verdicts = [_judge_rule(ctx, rule, config) for rule in rules]
    results, event_dates = _assemble(prepared, rules, verdicts, ctx.reasons)
    return Judgement(
        as_of=as_of,
        cases=prepared.n_cases,
        events=prepared.n,
        rules=rules,
        results=results,
        excluded_after_as_of=prepared.excluded,
        config=config,
        source=log.source,
        _event_dates=event_dates,
        _reason_entries={
            text: detail
            for text, detail in zip(ctx.reasons.texts, ctx.reasons.details, strict=True)
        },
    )


def _assemble(
    log: _Log, rules: tuple[Rule, ...], verdicts: list[_Verdict], reasons: _Reasons
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results frame, ordered by case then rule, and the per-row date-only flags."""
    n_rules, n_cases = len(rules), log.n_cases

    def stacked(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        """One column of every verdict, (rules, cases) transposed to case-major order."""
        if not verdicts or not n_cases:
            return np.zeros(0, dtype)
        return np.stack([getattr(v, name) for v in verdicts], axis=1).reshape(-1)

    trigger = _Events.at(log, stacked("trigger", np.int64))
    evidence = _Events.at(log, stacked("evidence", np.int64))
    late_days = stacked("late_days", np.int64)
    rule_codes = np.tile(np.arange(n_rules, dtype=np.int64), n_cases)
    case_codes = np.repeat(np.arange(n_cases, dtype=np.int64), n_rules)
    severities = [s.value for s in Severity]
    clauses = list(dict.fromkeys(r.clause for r in rules))
    severity_of = np.array([severities.index(r.severity.value) for r in rules], dtype=np.int64)
    clause_of = np.array([clauses.index(r.clause) for r in rules], dtype=np.int64)
    results = pd.DataFrame(
        copy=False,
        data={
            "case_id": _categorical(case_codes, log.case_ids),
            "rule_id": _categorical(rule_codes, [r.id for r in rules]),
            "status": _categorical(stacked("status", np.int8), STATUSES),
            "severity": _categorical(severity_of[rule_codes], severities),
            "clause": _categorical(clause_of[rule_codes], clauses),
            "trigger_activity": trigger.activity,
            "trigger_time": trigger.time,
            "trigger_row": trigger.row,
            "deadline": _times(stacked("deadline", np.int64)),
            "evidence_activity": evidence.activity,
            "evidence_time": evidence.time,
            "evidence_row": evidence.row,
            "late_working_days": pd.arrays.IntegerArray(
                np.maximum(late_days, 0), late_days < 0
            ),
            "late_hours": stacked("late_hours", np.float64),
            "date_only": stacked("date_only", np.bool_),
            "reason": _categorical(stacked("reason", np.int64), reasons.texts),
        },
    )
    event_dates = pd.DataFrame(
        {"trigger_date_only": trigger.date_only, "evidence_date_only": evidence.date_only}
    )
    return results, event_dates


# ------------------------------------------------------------------ messages


def _local(ts: pd.Timestamp) -> datetime:
    return ts.to_pydatetime().astimezone(LONDON)


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _at(ts: pd.Timestamp, date_only: bool) -> str:
    """'at 16:10 on 4 Mar 2024', or 'on 4 Mar 2024' for a date-only event."""
    local = _local(ts)
    return f"on {_day(local.date())}" if date_only else f"at {local:%H:%M} on {_day(local.date())}"


def _deadline_text(ts: pd.Timestamp) -> str:
    local = _local(ts)
    if (local.hour, local.minute, local.second) == (23, 59, 59):
        return f"the end of {_day(local.date())}"
    return f"{local:%H:%M} on {_day(local.date())}"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}" + ("" if n == 1 else "s")
    return f"{seconds} seconds"  # pragma: no cover - seconds always divide


def _phrase(within: Within, config: CheckConfig) -> str:
    """How a deadline relates to its trigger: 'the same working day as', '15 working days after'."""
    kind = within.kind
    if kind is DeadlineKind.SAME_DAY and config.calendar.same_day is SameDay.WORKING:
        kind = DeadlineKind.SAME_WORKING_DAY
    if kind is DeadlineKind.SAME_WORKING_DAY:
        return "the same working day as"
    if kind is DeadlineKind.SAME_DAY:
        return "the same day as"
    if kind is DeadlineKind.IMMEDIATELY:
        return f"immediately ({_duration(config.calendar.immediately)}) after"
    return f"{within} after"


def _lateness(days: object, hours: float, *, date_only: bool = False) -> str:
    if isinstance(days, (int, np.integer)) and days >= 1:
        return f"{days} working day" + ("" if days == 1 else "s")
    if date_only:  # known to the day only: the hours after the deadline are not known
        return "less than a working day"
    if hours >= 1:
        whole = int(hours)
        minutes = round((hours - whole) * 60)
        text = f"{whole} hour" + ("" if whole == 1 else "s")
        return text + (f" {minutes} minutes" if minutes else "")
    minutes = max(1, round(hours * 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def _message(
    rule: Rule,
    row: object,
    trigger_date_only: bool,
    evidence_date_only: bool,
    entries: tuple[_Entries, _Entries],
    judgement: Judgement,
) -> str:
    """One violated row in plain language (activity names, times, rule text and counts only)."""
    get = row.__getattribute__
    trigger_act, trigger_time = get("trigger_activity"), get("trigger_time")
    evidence_act, evidence_time = get("evidence_activity"), get("evidence_time")
    has_evidence = not pd.isna(evidence_time)
    if rule.template is Template.RESPONSE:
        assert rule.within is not None
        late, never = entries
        set_by = (
            f"{_phrase(rule.within, judgement.config)} {trigger_act} "
            f"{_at(trigger_time, trigger_date_only)}"
        )
        deadline = _deadline_text(get("deadline"))
        overdue = _lateness(get("late_working_days"), float(get("late_hours")),
                            date_only=has_evidence and evidence_date_only)
        if has_evidence:
            text = (
                f"{evidence_act} was recorded {overdue} late "
                f"({_at(evidence_time, evidence_date_only).removeprefix('at ')}; the deadline was "
                f"{deadline}, {set_by})"
            )
            others = [f"{_names(e)} was also late" for e in late[1:]]
            others += [_not_recorded(e) for e in never]
        else:
            as_of = _at(judgement.as_of, False).removeprefix("at ")
            text = (
                f"{_not_recorded(never[0], ' by the deadline')} ({deadline}, {set_by}); "
                f"at the as-of time ({as_of}) it was {overdue} overdue"
            )
            others = [f"{_names(e)} was late" for e in late]
            others += [_not_recorded(e, " either") for e in never[1:]]
        return text + "".join(f"; {o}" for o in others)
    if rule.template is Template.PRECEDENCE:
        text = (
            f"{trigger_act} ({_at(trigger_time, trigger_date_only).removeprefix('at ')}) "
            f"was not preceded by {rule.preceded_by}"
        )
        if has_evidence:
            return text + (
                f"; {rule.preceded_by} was recorded only afterwards "
                f"({_at(evidence_time, evidence_date_only).removeprefix('at ')})"
            )
        return text + f"; {rule.preceded_by} was not recorded"
    if rule.template is Template.ABSENCE:
        text = (
            f"{evidence_act} was recorded "
            f"({_at(evidence_time, evidence_date_only).removeprefix('at ')})"
        )
        if rule.after:
            text += (
                f" after {rule.after} "
                f"({_at(trigger_time, trigger_date_only).removeprefix('at ')})"
            )
        if rule.when:
            text += f"; the rule: {rule.text()}"
        return text
    early, absent = entries
    parts = []
    if early and has_evidence:
        recorded = _at(evidence_time, evidence_date_only).removeprefix("at ")
        if str(get("reason")).startswith("recorded before"):
            anchor = ""
            if not rule.trigger and not pd.isna(trigger_time):
                anchor = f" ({_at(trigger_time, trigger_date_only).removeprefix('at ')})"
            parts.append(f"{evidence_act} was recorded ({recorded}) before {rule.after}{anchor}")
        else:
            parts.append(f"{evidence_act} was recorded ({recorded}) but {rule.after} was not")
    if absent:
        verb = "was" if len(absent) == 1 else "were"
        tail = f" after {rule.after}" if rule.after else ""
        names = [_names(e) for e in absent]
        parts.append(f"{_listing(names)} {verb} not recorded{tail} before the case was closed")
    return "; ".join(parts)

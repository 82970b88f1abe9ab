"""The prepared log: the events as arrays sorted by case, time and file order, with per-case
occurrence indexes that every rule template queries (``PreparedLog``, ``Occurrences``), and
the working calendar for the log's years."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from functools import cached_property, lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.values import TEXT
from model.calendar import CalendarConfig, WorkingCalendar

NO_TIME: Final = np.iinfo(np.int64).max  # "never" when comparing times


I64 = npt.NDArray[np.int64]


Bools = npt.NDArray[np.bool_]


def utc_ns(values: pd.Series | pd.Index) -> I64:
    """``int64`` UTC nanoseconds of a datetime column (aware, or naive UTC)."""
    array = pd.DatetimeIndex(values)
    if array.tz is not None:
        array = array.tz_convert(UTC).tz_localize(None)
    return np.asarray(array.as_unit("ns").asi8, dtype=np.int64)


@lru_cache(maxsize=16)
def _calendar(config: CalendarConfig, first_year: int, last_year: int) -> WorkingCalendar:
    return WorkingCalendar(config, first_year=first_year, last_year=last_year)


def calendar_for(config: CalendarConfig, instants_ns: Sequence[int]) -> WorkingCalendar:
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


def earliest(a: I64, b: I64) -> I64:
    """Elementwise the earlier of two positions, -1 meaning none."""
    big = np.iinfo(np.int64).max
    m = np.minimum(np.where(a < 0, big, a), np.where(b < 0, big, b))
    result: I64 = np.where(m == big, -1, m)
    return result


class PreparedLog:
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
        self.case_ids = pd.Index(case_ids, dtype=TEXT)
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
        self._occ: dict[tuple[str, ...], Occurrences] = {}

    def occ(self, names: Sequence[str]) -> Occurrences:
        """The occurrences of any of ``names``."""
        key = tuple(sorted(set(names)))
        if key not in self._occ:
            self._occ[key] = Occurrences(self, [self.code[n] for n in key if n in self.code])
        return self._occ[key]

    def day_key(self, case: I64, day: I64) -> I64:
        """A sortable key of (case, local date)."""
        key: I64 = case * self.span + day
        return key


class Occurrences:
    """The occurrences of a set of activities: sorted positions and per-case lookups.

    Each query takes ``c``, case indexes, and an anchor per case; it answers with a position
    (-1 for none) inside that case only.
    """

    def __init__(self, log: PreparedLog, codes: list[int]) -> None:
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

    def last_on_date(self, c: I64, d: I64, *, dated_only: bool = False) -> I64:
        """The last occurrence on local date ``d`` in case ``c`` (only date-only ones if
        asked)."""
        pos, keys = self._dated if dated_only else (self.pos, self._keys)
        if not keys.size:
            return np.full(len(c), -1, np.int64)
        query = self.log.day_key(c, d)
        idx = np.searchsorted(keys, query, side="right") - 1
        safe = np.maximum(idx, 0)
        result: I64 = np.where((idx >= 0) & (keys[safe] == query), pos[safe], -1)
        return result

    def strictly_after(self, p: I64, c: I64) -> I64:
        """The first occurrence after the event at ``p`` and not on the same footing as it
        (a later date, or a later position with both times of day known)."""
        log = self.log
        later_date = self._by_date(self._keys, self.pos, c, log.day[p], exact=False)
        timed = np.where(log.do[p], -1, self.next_after(p, c, timed_only=True))
        return earliest(later_date, timed)

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

    def first_strictly_before(self, p: I64, c: I64) -> I64:
        """The first occurrence before the event at ``p`` and not on the same footing as it
        (an earlier date, or an earlier position with both times of day known)."""
        log = self.log
        first = self.first[c]
        earlier_date = (first >= 0) & (log.day[first] < log.day[p])
        # otherwise every occurrence before p is on p's date: the first timed one counts
        timed = self.first_timed[c]
        earlier_timed = ~log.do[p] & (timed >= 0) & (timed < p)
        result: I64 = np.where(earlier_date, first, np.where(earlier_timed, timed, -1))
        return result

    def strictly_before_exists(self, p: I64, c: I64) -> Bools:
        """Is there an occurrence before the event at ``p`` and not on the same footing?"""
        result: Bools = self.first_strictly_before(p, c) >= 0
        return result

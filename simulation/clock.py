"""Simulation time: minutes (float) from local midnight of the first simulated day.

``Clock`` converts between simulation minutes, UTC instants and Europe/London local dates and
times (clocks change twice a year, so a local 09:00 is not always 540 minutes after local
midnight's 0). Which days are working days, and how working days are counted, is the project's
one calendar (``model.calendar.WorkingCalendar``) with the checker's settings
(``CalendarConfig``: bank holidays, closures), so the simulated staff and the checker agree.
``Schedule`` is one person's on-duty time as sorted intervals, with the two questions the engine
asks: are they on duty at ``t``, and when will ``work`` minutes of on-duty time have passed from
``t``; ``Duty`` is a simulated person's, which
remembers where it last answered and also tells when a job begun at ``t`` ends and whether the
person is on duty then.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.calendar import (
    DEFAULT_CONFIG,
    LONDON,
    CalendarConfig,
    Within,
    WorkingCalendar,
)

__all__ = ["Clock", "Duty", "Schedule", "clock_for"]

_NS_PER_MINUTE = 60_000_000_000


class Clock:
    """Days ``0..n_days-1`` from ``first_date`` (local), with their working-day status.

    ``calendar`` is the checker's calendar settings (default: bank holidays of England and
    Wales, no other closures).

    Examples
    --------
    >>> from datetime import date
    >>> clock = Clock(date(2024, 12, 23), 14)  # Monday 23 December 2024
    >>> [clock.dates[d].isoformat() for d in clock.working_index[:4]]
    ['2024-12-23', '2024-12-24', '2024-12-27', '2024-12-30']
    >>> clock.dates[clock.add_working_days(0, 2)]  # day 0 is the 23rd; 25, 26 are holidays
    datetime.date(2024, 12, 27)
    """

    def __init__(self, first_date: date, n_days: int,
                 calendar: CalendarConfig = DEFAULT_CONFIG) -> None:
        self.first_date = first_date
        self.n_days = n_days
        self.calendar = WorkingCalendar(
            calendar,
            first_year=min(first_date.year, 2000) - 1,
            last_year=max((first_date + timedelta(days=n_days)).year + 1, 2030),
        )
        origin = datetime.combine(first_date, time(0), LONDON)
        self.origin = origin.astimezone(UTC)
        self.origin_ns = int((self.origin - datetime(1970, 1, 1, tzinfo=UTC))
                             // timedelta(microseconds=1)) * 1000
        midnights = []
        for i in range(n_days + 1):
            local = datetime.combine(first_date + timedelta(days=i), time(0), LONDON)
            midnights.append((local.astimezone(UTC) - self.origin) / timedelta(minutes=1))
        self.midnight: list[float] = midnights
        self.dates = [first_date + timedelta(days=i) for i in range(n_days)]
        days = np.arange(n_days, dtype=np.int64) + np.datetime64(first_date, "D").astype(np.int64)
        working = self.calendar.is_working_days(days.astype("datetime64[D]"))
        self.working: list[bool] = working.tolist()
        self.working_index: list[int] = np.flatnonzero(working).tolist()  # the working days
        self._changeover = {
            i for i in range(n_days) if self.midnight[i + 1] - self.midnight[i] != 1440.0
        }
        self._office: dict[tuple[time, time], tuple[list[float], list[float]]] = {}

    @property
    def end(self) -> float:
        return self.midnight[-1]

    def day_of(self, t: float) -> int:
        """Index of the local date at simulation minute ``t`` (clipped to the clock's days)."""
        return min(max(bisect_right(self.midnight, t) - 1, 0), self.n_days - 1)

    def local(self, day: int, at: time) -> float:
        """Simulation minute of local wall time ``at`` on day ``day``."""
        if day not in self._changeover:
            return self.midnight[day] + at.hour * 60 + at.minute + at.second / 60
        local = datetime.combine(self.dates[day], at, LONDON)
        return (local.astimezone(UTC) - self.origin) / timedelta(minutes=1)

    def local_minutes(self, day: int, minute_of_day: float) -> float:
        """Simulation minute of ``minute_of_day`` minutes of wall-clock time after local
        midnight on ``day`` (a time that the clocks skip moves forward an hour)."""
        if day not in self._changeover:
            return self.midnight[day] + minute_of_day
        whole = int(minute_of_day)
        at = time(whole // 60, whole % 60)
        return self.local(day, at) + (minute_of_day - whole)

    def add_working_days(self, day: int, n: int) -> int:
        """The index of the n-th working day after ``day`` (``day`` itself is day 0, as
        ``WorkingCalendar.add_working_days`` counts), or the clock's last day when that is
        beyond it."""
        if n <= 0:
            return day
        k = bisect_right(self.working_index, day) + n - 1  # counted in the clock's working days
        return self.working_index[k] if k < len(self.working_index) else self.n_days - 1

    def datetime_of(self, t: float) -> datetime:
        """The aware UTC instant of simulation minute ``t``."""
        return self.origin + timedelta(minutes=t)

    def minutes_of(self, instant: datetime) -> float:
        return (instant.astimezone(UTC) - self.origin) / timedelta(minutes=1)

    def utc_ns(self, t: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """UTC nanoseconds of simulation minutes, floored to the second (as the log writes)."""
        seconds = np.floor(np.asarray(t, dtype=np.float64) * 60.0).astype(np.int64)
        result: npt.NDArray[np.int64] = self.origin_ns + seconds * 1_000_000_000
        return result

    def deadline(self, within: Within, trigger: float) -> float:
        """The simulation minute of the deadline set at ``trigger`` (the calendar's rule)."""
        return self.minutes_of(self.calendar.deadline(within, self.datetime_of(trigger)))

    def iso_local(self, t: npt.ArrayLike) -> list[str]:
        """ISO 8601 local times with their offset, floored to the second."""
        stamps = pd.to_datetime(self.utc_ns(t), utc=True).tz_convert(LONDON)
        text = stamps.strftime("%Y-%m-%dT%H:%M:%S%z")
        return [s[:-2] + ":" + s[-2:] for s in text]

    def office_intervals(self, opening: time, closing: time) -> tuple[list[float], list[float]]:
        """Open..close on every working day (new lists, of times worked out once per clock)."""
        known = self._office.get((opening, closing))
        if known is None:
            known = self._office[opening, closing] = (
                [self.local(i, opening) for i in range(self.n_days) if self.working[i]],
                [self.local(i, closing) for i in range(self.n_days) if self.working[i]])
        return list(known[0]), list(known[1])

    def day_intervals(self) -> tuple[list[float], list[float]]:
        """Every day, midnight to midnight."""
        return self.midnight[:-1], self.midnight[1:]


@lru_cache(maxsize=16)
def clock_for(first_date: date, n_days: int, calendar: CalendarConfig = DEFAULT_CONFIG) -> Clock:
    """A shared clock (building one takes a few milliseconds per hundred days)."""
    return Clock(first_date, n_days, calendar)


class Schedule:
    """One person's on-duty time: disjoint intervals [start, end) in increasing order."""

    __slots__ = ("cum", "ends", "starts")

    def __init__(self, starts: Sequence[float], ends: Sequence[float]) -> None:
        self.starts = list(starts)
        self.ends = list(ends)
        cum = [0.0]
        total = 0.0
        for s, e in zip(self.starts, self.ends, strict=True):
            total += e - s
            cum.append(total)
        self.cum = cum  # on-duty minutes before interval i (len = intervals + 1)

    def on_duty(self, t: float) -> bool:
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]

    def next_on(self, t: float) -> float:
        """The first on-duty instant at or after ``t`` (infinity when there is none)."""
        i = bisect_right(self.ends, t)
        if i == len(self.starts):
            return float("inf")
        return max(t, self.starts[i])

    def advance(self, t: float, work: float) -> float:
        """When ``work`` minutes of on-duty time have passed, starting at ``t``."""
        i = bisect_right(self.ends, t)
        starts = self.starts
        if i == len(starts):
            return t + work  # beyond the schedule: time runs on unbroken
        start = t if t > starts[i] else starts[i]
        target = self.cum[i] + (start - starts[i]) + work
        cum = self.cum
        if target <= cum[i + 1]:
            return starts[i] + (target - cum[i])
        j = bisect_left(cum, target) - 1
        if j >= len(starts):
            return self.ends[-1] + (target - cum[-1])
        return starts[j] + (target - cum[j])

    def worked_until(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """On-duty minutes in [0, x) for each x (for utilisation)."""
        if not self.starts:
            return np.zeros_like(x)
        starts = np.asarray(self.starts)
        ends = np.asarray(self.ends)
        cum = np.asarray(self.cum)
        i = np.searchsorted(starts, x, side="right") - 1
        inside = np.clip(x - starts[np.maximum(i, 0)], 0, ends[np.maximum(i, 0)]
                         - starts[np.maximum(i, 0)])
        result: npt.NDArray[np.float64] = np.where(i >= 0, cum[np.maximum(i, 0)] + inside, 0.0)
        return result


class Duty(Schedule):
    """A person's on-duty time (``Schedule``) that remembers where its last answers were: time
    mostly moves on by little between questions about one person, so the answer is checked
    there first, and searched for only when it is not there (the same answers, sooner).

    The interval each kind of question last landed in is kept beside the lists, its bounds and
    sums copied into the object itself (``_duty_at``, ``_work_at``): the compiled code then
    answers most questions from a few numbers in one place, without reading (and unboxing)
    items of lists spread over the memory of hundreds of people."""

    __slots__ = ("_a_after", "_a_beyond", "_a_done", "_a_first", "_a_high", "_a_low", "_d_end",
                 "_d_high", "_d_low", "end_hint", "start_hint")

    def __init__(self, starts: Sequence[float], ends: Sequence[float]) -> None:
        super().__init__(starts, ends)
        self.start_hint = 0
        self.end_hint = 0
        self._d_low = self._d_high = self._d_end = 0.0
        self._a_low = self._a_high = self._a_first = self._a_done = self._a_after = 0.0
        self._a_beyond = False
        self._duty_at(0 if self.starts else -1)
        self._work_at(0)

    def _duty_at(self, i: int) -> None:
        """``on_duty``'s interval: ``i`` is ``bisect_right(starts, t) - 1`` for every ``t`` in
        [``_d_low``, ``_d_high``), and ``_d_end`` its end (-1: before the first)."""
        starts = self.starts
        n = len(starts)
        self.start_hint = i
        self._d_low = starts[i] if i >= 0 else -math.inf
        self._d_high = starts[i + 1] if i + 1 < n else math.inf
        self._d_end = self.ends[i] if i >= 0 else -math.inf

    def _work_at(self, i: int) -> None:
        """``advance``'s interval: ``i`` is ``bisect_right(ends, t)`` for every ``t`` in
        [``_a_low``, ``_a_high``); its start and the on-duty minutes before and after it."""
        ends = self.ends
        n = len(ends)
        self.end_hint = i
        self._a_low = ends[i - 1] if i > 0 else -math.inf
        self._a_high = ends[i] if i < n else math.inf
        self._a_beyond = i == n
        if i < n:
            self._a_first = self.starts[i]
            self._a_done = self.cum[i]
            self._a_after = self.cum[i + 1]

    def on_duty(self, t: float) -> bool:
        if not (self._d_low <= t < self._d_high):
            starts = self.starts
            n = len(starts)
            i = self.start_hint
            # most often the next interval: a third of the questions move on by one
            if t >= self._d_high and (i + 2 == n or t < starts[i + 2]):
                i += 1
            else:
                i = bisect_right(starts, t) - 1
            self._duty_at(i)
        return t < self._d_end

    def finish(self, t: float, work: float) -> tuple[float, bool]:
        """A job of ``work`` on-duty minutes begun at ``t``: when a SimPy timeout set at ``t``
        for its length would fire (``t + (end - t)``, which rounding can set a hair away from
        ``end``), and whether this person is on duty then (asked now, while the hints are
        near, rather than when the job ends)."""
        at = t + (self.advance(t, work) - t)
        return at, self.on_duty(at)

    def advance(self, t: float, work: float) -> float:
        """As ``Schedule.advance``, with the same arithmetic."""
        if not (self._a_low <= t < self._a_high):
            ends = self.ends
            i = self.end_hint
            if t >= self._a_high and (i + 1 == len(ends) or t < ends[i + 1]):
                i += 1  # the next interval, most often
            else:
                i = bisect_right(ends, t)
            self._work_at(i)
        if self._a_beyond:
            return t + work  # beyond the schedule: time runs on unbroken
        first = self._a_first
        done = self._a_done
        start = t if t > first else first
        target = done + (start - first) + work
        if target <= self._a_after:
            return first + (target - done)
        i = self.end_hint
        starts = self.starts
        cum = self.cum
        if i + 2 <= len(starts) and target <= cum[i + 2]:  # in the next interval, most often
            return starts[i + 1] + (target - self._a_after)
        j = bisect_left(cum, target) - 1
        if j >= len(starts):
            return self.ends[-1] + (target - cum[-1])
        return starts[j] + (target - cum[j])

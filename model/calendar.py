"""The project's one calendar: working days, deadlines and Europe/London local time (CONTRACT §4).

The simulator and the conformance checker both use this module, so a deadline means the same
thing in both. Every calendar judgement is made in Europe/London local time.

Two forms of each computation live here:

- scalar methods on ``datetime``/``date`` objects (the simulator, reports, tests), written as the
  plain definition: walk the days, look dates up in the set of closed dates;
- vectorised methods on ``int64`` nanoseconds since the epoch (UTC), for the rule engine, which
  judges millions of events a second. They never loop in Python per element: at construction the
  calendar tabulates, for every local date of its years, whether it is a working day (with
  ``numpy.busdaycalendar``), the running count of working days and the UTC instant of the end of
  the day, and for every UTC hour the Europe/London offset; each call is then a few array gathers.

The tests check that both forms agree on random inputs, including dates around clock changes and
bank holidays.

Missing instants in the vectorised forms are ``NAT_NS`` (``numpy.datetime64('NaT')`` viewed as
``int64``); they give ``NaT``/``NAT_NS`` results. A date outside the calendar's years raises
``OutsideCalendarError`` (bank holidays are only known for those years).
"""

from __future__ import annotations

import bisect
import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

from model.errors import LscbError

__all__ = [
    "DEFAULT_CONFIG",
    "LONDON",
    "NAT_NS",
    "CalendarConfig",
    "DayCounting",
    "DeadlineKind",
    "OutsideCalendarError",
    "SameDay",
    "Within",
    "WorkingCalendar",
]

LONDON: Final = ZoneInfo("Europe/London")

NAT_NS: Final = int(np.iinfo(np.int64).min)
"""``NaT`` as an ``int64`` nanosecond count: a missing instant in the vectorised forms."""

_NS_PER_US: Final = 1_000
_NS_PER_SECOND: Final = 1_000_000_000
_NS_PER_HOUR: Final = 3_600 * _NS_PER_SECOND
_NS_PER_DAY: Final = 24 * _NS_PER_HOUR
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE: Final = date(1970, 1, 1)
_END_OF_DAY: Final = time(23, 59, 59, 999_999)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]


class OutsideCalendarError(LscbError, ValueError):
    """A date outside the years a ``WorkingCalendar`` covers (their bank holidays are unknown)."""


class DayCounting(enum.StrEnum):
    """How "within N working days" counts: from day 0 (default) or day 1 (CIN census validator)."""

    DAY0 = "day0"
    DAY1 = "day1"


class SameDay(enum.StrEnum):
    """What "the same day" means: the calendar date (default) or the same working day."""

    CALENDAR = "calendar"
    WORKING = "working"


class DeadlineKind(enum.StrEnum):
    """The kinds of deadline a rule can state."""

    SAME_WORKING_DAY = "same working day"
    SAME_DAY = "same day"
    WORKING_DAYS = "working days"
    CALENDAR_DAYS = "days"
    IMMEDIATELY = "immediately"
    ELAPSED = "elapsed"


_ACCEPTED_FORMS: Final = (
    "one of 'same working day', 'same day', 'immediately', or 'N working days', 'N days', "
    "'N hours', 'N minutes', 'N seconds' with N a whole number of at least 1"
)
_FIXED_FORMS: Final = {
    "same working day": DeadlineKind.SAME_WORKING_DAY,
    "same day": DeadlineKind.SAME_DAY,
    "immediately": DeadlineKind.IMMEDIATELY,
}
_COUNTED_FORM: Final = re.compile(
    r"(?P<n>\d+) (?P<unit>working days?|calendar days?|days?|hours?|minutes?|seconds?)"
)
_ELAPSED_UNITS: Final = {"hour": 3_600, "minute": 60, "second": 1}


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


@dataclass(frozen=True)
class Within:
    """A deadline as written in rules files ("same working day", "15 working days", "24 hours")."""

    kind: DeadlineKind
    n: int = 0
    duration: timedelta | None = None

    def __post_init__(self) -> None:
        counted = self.kind in (DeadlineKind.WORKING_DAYS, DeadlineKind.CALENDAR_DAYS)
        if counted and self.n < 1:
            raise ValueError(f"a deadline of '{self.kind.value}' needs n of at least 1")
        if not counted and self.n != 0:
            raise ValueError(f"a deadline of '{self.kind.value}' takes no n (leave it 0)")
        if self.kind is DeadlineKind.ELAPSED:
            if self.duration is None or self.duration <= timedelta(0):
                raise ValueError("an elapsed deadline needs a positive duration")
            if self.duration % timedelta(seconds=1):
                raise ValueError("an elapsed deadline needs a whole number of seconds")
        elif self.duration is not None:
            raise ValueError(f"a deadline of '{self.kind.value}' takes no duration")

    @classmethod
    def parse(cls, text: str) -> Within:
        """Read a deadline; letter case and spacing do not matter.

        Raises ``ValueError`` whose message lists the accepted forms (phrased as what was expected,
        without repeating the text).
        """
        norm = " ".join(text.lower().split())
        if norm in _FIXED_FORMS:
            return cls(_FIXED_FORMS[norm])
        match = _COUNTED_FORM.fullmatch(norm)
        if match is None or int(match["n"]) < 1:
            raise ValueError(_ACCEPTED_FORMS)
        n = int(match["n"])
        unit = match["unit"].removesuffix("s")
        if unit == "working day":
            return cls(DeadlineKind.WORKING_DAYS, n)
        if unit in ("day", "calendar day"):
            return cls(DeadlineKind.CALENDAR_DAYS, n)
        return cls(DeadlineKind.ELAPSED, duration=timedelta(seconds=n * _ELAPSED_UNITS[unit]))

    def __str__(self) -> str:
        if self.kind is DeadlineKind.WORKING_DAYS:
            return _plural(self.n, "working day")
        if self.kind is DeadlineKind.CALENDAR_DAYS:
            return _plural(self.n, "day")
        if self.kind is DeadlineKind.ELAPSED:
            assert self.duration is not None  # guaranteed by __post_init__
            seconds = self.duration // timedelta(seconds=1)
            for unit, size in _ELAPSED_UNITS.items():
                if seconds % size == 0:
                    return _plural(seconds // size, unit)
        return self.kind.value


@dataclass(frozen=True)
class CalendarConfig:
    """The configurable parts of the calendar (CONTRACT §4)."""

    close_of_business: time = time(17, 0)
    bank_holidays: bool = True
    extra_closures: tuple[date, ...] = ()
    day_counting: DayCounting = DayCounting.DAY0
    same_day: SameDay = SameDay.CALENDAR
    immediately: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.close_of_business.tzinfo is not None:
            raise ValueError("close_of_business must be a local wall-clock time without a zone")
        if self.immediately <= timedelta(0):
            raise ValueError("'immediately' must be a positive duration")
        if any(isinstance(d, datetime) or not isinstance(d, date) for d in self.extra_closures):
            raise ValueError("extra_closures must hold dates (without a time)")


DEFAULT_CONFIG: Final = CalendarConfig()


@lru_cache(maxsize=8)
def _bank_holidays(first_year: int, last_year: int) -> tuple[tuple[date, str], ...]:
    """The bank holidays of England and Wales that fall on weekdays, sorted.

    A holiday on a weekend (Christmas Day 2022, a Sunday) is not itself a day off; its substitute
    day (27 December 2022) is, and is listed. This matches the gov.uk list.
    """
    table = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return tuple(sorted((d, str(name)) for d, name in table.items() if d.weekday() < 5))


def _utc_offset_ns(utc_ns: int) -> int:
    instant = _EPOCH + timedelta(microseconds=utc_ns // _NS_PER_US)
    offset = instant.astimezone(LONDON).utcoffset()
    assert offset is not None  # a ZoneInfo always gives an offset
    return offset // timedelta(microseconds=1) * _NS_PER_US


@dataclass(frozen=True)
class _ZoneTables:
    """Europe/London offsets tabulated for fast vectorised conversion (read-only arrays)."""

    hour_base_ns: int  # the UTC instant of hour 0 of ``hour_offset_ns``
    hour_offset_ns: IntArray  # the Europe/London offset (ns) during each UTC hour
    day_base: int  # days since 1970-01-01 of the first local date of ``end_of_day_ns``
    end_of_day_ns: IntArray  # UTC instant of 23:59:59.999999 local on each local date


@lru_cache(maxsize=8)
def _zone_tables(first_year: int, last_year: int) -> _ZoneTables:
    first = date(first_year, 1, 1)
    last = date(last_year, 12, 31)
    day_base = (first - _EPOCH_DATE).days
    n_days = (last - first).days + 1
    # UTC hours from the day before the first date to the day after the last one: every instant
    # whose local date is in range lies inside them (the offset is well under a day).
    hour_days = n_days + 2
    hour_base_ns = (day_base - 1) * _NS_PER_DAY
    midnight_offsets = [
        _utc_offset_ns(hour_base_ns + j * _NS_PER_DAY) for j in range(hour_days + 1)
    ]
    hourly = np.repeat(np.array(midnight_offsets[:-1], dtype=np.int64), 24)
    for j in range(hour_days):
        before, after = midnight_offsets[j], midnight_offsets[j + 1]
        if before == after:
            continue  # no clock change on this UTC day (Europe/London changes at most once a day)
        day_ns = hour_base_ns + j * _NS_PER_DAY
        hour = next(h for h in range(1, 25) if _utc_offset_ns(day_ns + h * _NS_PER_HOUR) == after)
        if _utc_offset_ns(day_ns + hour * _NS_PER_HOUR - _NS_PER_SECOND) != before:
            raise RuntimeError("the tz database has a Europe/London clock change off the hour")
        hourly[j * 24 + hour : (j + 1) * 24] = after
    end_of_day = np.array(
        [
            (datetime.combine(first + timedelta(days=i), _END_OF_DAY, LONDON) - _EPOCH)
            // timedelta(microseconds=1)
            * _NS_PER_US
            for i in range(n_days)
        ],
        dtype=np.int64,
    )
    hourly.setflags(write=False)
    end_of_day.setflags(write=False)
    return _ZoneTables(hour_base_ns, hourly, day_base, end_of_day)


def _as_ns(values: npt.ArrayLike) -> IntArray:
    """``int64`` nanoseconds from an ``int64`` or ``datetime64`` array."""
    array = np.asarray(values)
    if array.dtype.kind == "M":
        return array.astype("datetime64[ns]").view(np.int64)
    return array.astype(np.int64, copy=False)


class WorkingCalendar:
    """Working days and deadlines in Europe/London local time, for the years it is built for.

    Bank holidays are only known for ``first_year``..``last_year``; a date outside them raises
    ``OutsideCalendarError``. Construction takes a few tenths of a second the first time for
    given years (the tables are cached and shared afterwards).
    """

    def __init__(
        self, config: CalendarConfig = DEFAULT_CONFIG, first_year: int = 1990, last_year: int = 2075
    ) -> None:
        if not 1900 <= first_year <= last_year <= 2200:
            raise ValueError(
                "the calendar's years must satisfy 1900 <= first_year <= last_year <= 2200"
            )
        self.config = config
        self.first_date = date(first_year, 1, 1)
        self.last_date = date(last_year, 12, 31)
        self._bank_holidays = _bank_holidays(first_year, last_year) if config.bank_holidays else ()
        closed = {d for d, _ in self._bank_holidays}
        closed.update(d for d in config.extra_closures if d.weekday() < 5)
        self._closed = frozenset(closed)
        self._closed_sorted = sorted(closed)

        zone = _zone_tables(first_year, last_year)
        self._hour_base_ns = zone.hour_base_ns
        self._hour_offset_ns = zone.hour_offset_ns
        self._day_base = zone.day_base
        self._end_of_day_ns = zone.end_of_day_ns
        n_days = len(zone.end_of_day_ns)
        self._n_days = n_days
        self.busdaycalendar = np.busdaycalendar(
            weekmask="1111100", holidays=np.array(self._closed_sorted, dtype="datetime64[D]")
        )
        days = np.arange(n_days, dtype=np.int64) + self._day_base
        working = np.is_busday(days.astype("datetime64[D]"), busdaycal=self.busdaycalendar)
        # _working[i]: local date i (days after first_date) is a working day.
        # _cum[i]: working days among dates 0..i. _nth[k]: the date index of working day k (from
        # 0), padded with n_days, an out-of-range index, for "beyond the calendar's last date".
        self._working = working
        self._cum = np.cumsum(working, dtype=np.int64)
        self._nth = np.append(np.flatnonzero(working), n_days).astype(np.int64)
        self._cob_ns = (
            (config.close_of_business.hour * 60 + config.close_of_business.minute) * 60
            + config.close_of_business.second
        ) * _NS_PER_SECOND + config.close_of_business.microsecond * _NS_PER_US
        for array in (self._working, self._cum, self._nth):
            array.setflags(write=False)

    # ----------------------------------------------------------------- scalar forms

    def _check_date(self, d: date) -> None:
        if not self.first_date <= d <= self.last_date:
            raise OutsideCalendarError(
                f"a date outside {self.first_date.year}-{self.last_date.year}, the years this "
                "calendar covers; build WorkingCalendar(first_year=..., last_year=...) to cover it"
            )

    def is_working_day(self, d: date) -> bool:
        """Monday to Friday, not a bank holiday (unless they are ignored), not an extra closure."""
        self._check_date(d)
        return d.weekday() < 5 and d not in self._closed

    def bank_holidays(self, start: date, end: date) -> list[tuple[date, str]]:
        """The England and Wales bank holidays in [start, end] with their names.

        Only days off are listed: a holiday that falls on a weekend appears as its substitute
        weekday. Empty when the configuration ignores bank holidays.
        """
        self._check_date(start)
        self._check_date(end)
        return [(d, name) for d, name in self._bank_holidays if start <= d <= end]

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (``d`` is day 0 whatever it is); ``d`` if n == 0."""
        if n < 0:
            raise ValueError("add_working_days counts forwards: n must be 0 or more")
        self._check_date(d)
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days lie in (a, b]; the negative of (b, a] when b < a."""
        self._check_date(a)
        self._check_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        closed = bisect.bisect_right(self._closed_sorted, b) - bisect.bisect_right(
            self._closed_sorted, a
        )
        return _weekdays_up_to(b) - _weekdays_up_to(a) - closed

    def to_local(self, ts: datetime) -> datetime:
        """``ts`` in Europe/London, aware. A naive ``ts`` is already local wall time.

        A naive time that the clocks skip (01:30 on the last Sunday of March) is read with the
        offset before the change, so it becomes 02:30 BST; an ambiguous one (01:30 on the last
        Sunday of October) is read as the first of the two (BST), as ``fold=0`` says.
        """
        if ts.tzinfo is None or ts.utcoffset() is None:
            ts = ts.replace(tzinfo=LONDON)
        return ts.astimezone(UTC).astimezone(LONDON)

    def end_of_day(self, d: date) -> datetime:
        """23:59:59.999999 Europe/London on ``d``, aware."""
        return datetime.combine(d, _END_OF_DAY, LONDON)

    def deadline(self, within: Within, trigger: datetime, *, date_only: bool = False) -> datetime:
        """The deadline set by ``trigger`` (aware, Europe/London).

        ``date_only``: the trigger is known to the day only (given as its local midnight). It then
        counts as before close of business, and an elapsed deadline ("immediately", "24 hours")
        runs to the end of its date (benefit of the doubt).
        """
        local = self.to_local(trigger)
        d = local.date()
        kind = self._effective_kind(within)
        if kind is DeadlineKind.SAME_WORKING_DAY:
            before_close = date_only or local.time() < self.config.close_of_business
            due = d if self.is_working_day(d) and before_close else self.next_working_day(d)
        elif kind is DeadlineKind.SAME_DAY:
            due = d
        elif kind is DeadlineKind.WORKING_DAYS:
            if self.config.day_counting is DayCounting.DAY0:
                due = self.add_working_days(d, within.n)
            else:
                day1 = d if self.is_working_day(d) else self.next_working_day(d)
                due = self.add_working_days(day1, within.n - 1)
        elif kind is DeadlineKind.CALENDAR_DAYS:
            due = d + timedelta(days=within.n)
        elif date_only:
            due = d
        else:
            return (local.astimezone(UTC) + self._elapsed(within)).astimezone(LONDON)
        self._check_date(due)
        return self.end_of_day(due)

    def _effective_kind(self, within: Within) -> DeadlineKind:
        if within.kind is DeadlineKind.SAME_DAY and self.config.same_day is SameDay.WORKING:
            return DeadlineKind.SAME_WORKING_DAY
        return within.kind

    def _elapsed(self, within: Within) -> timedelta:
        if within.kind is DeadlineKind.IMMEDIATELY:
            return self.config.immediately
        assert within.duration is not None  # an ELAPSED Within always has one
        return within.duration

    # ------------------------------------------------------------- vectorised forms

    def _raise_outside(self) -> None:
        raise OutsideCalendarError(
            f"a time outside {self.first_date.year}-{self.last_date.year}, the years this "
            "calendar covers; build WorkingCalendar(first_year=..., last_year=...) to cover it"
        )

    def _check_index(self, index: IntArray) -> None:
        if index.size and (int(index.min()) < 0 or int(index.max()) >= self._n_days):
            self._raise_outside()

    def _fill_nat(self, utc_ns: npt.ArrayLike) -> tuple[IntArray, BoolArray | None]:
        """The instants with NaT replaced by an in-range instant, and the NaT mask (or None)."""
        values = _as_ns(utc_ns)
        nat = values == NAT_NS
        if not nat.any():
            return values, None
        filler = int(self._end_of_day_ns[self._n_days // 2])
        return np.where(nat, filler, values), nat

    def _local_ns(self, utc_ns: IntArray) -> IntArray:
        """Local wall time as nanoseconds since 1970-01-01 00:00 (of the local wall clock)."""
        hour = (utc_ns - self._hour_base_ns) // _NS_PER_HOUR
        if hour.size and (int(hour.min()) < 0 or int(hour.max()) >= len(self._hour_offset_ns)):
            self._raise_outside()
        local: IntArray = utc_ns + self._hour_offset_ns[hour]
        return local

    def _day_index(self, local_ns: IntArray) -> IntArray:
        index: IntArray = local_ns // _NS_PER_DAY - self._day_base
        self._check_index(index)
        return index

    def local_dates(self, utc_ns: npt.NDArray[np.int64]) -> DateArray:
        """Europe/London dates (``datetime64[D]``) of instants given as UTC ns; NaT stays NaT."""
        values, nat = self._fill_nat(utc_ns)
        days = self._day_index(self._local_ns(values)) + self._day_base
        dates = days.astype("datetime64[D]")
        if nat is not None:
            dates[nat] = np.datetime64("NaT")
        return dates

    def is_working_days(self, local_dates: npt.ArrayLike) -> BoolArray:
        """Vectorised ``is_working_day`` for ``datetime64[D]`` dates (NaT gives False)."""
        dates = np.asarray(local_dates, dtype="datetime64[D]")
        nat = np.isnat(dates)
        index = np.where(nat, 0, dates.view(np.int64) - self._day_base)
        self._check_index(index)
        result: BoolArray = self._working[index] & ~nat
        return result

    def end_of_local_day_ns(self, local_dates: npt.NDArray[np.datetime64]) -> IntArray:
        """UTC ns of 23:59:59.999999 Europe/London on each date; NaT gives ``NAT_NS``."""
        dates = np.asarray(local_dates, dtype="datetime64[D]")
        nat = np.isnat(dates)
        index = np.where(nat, 0, dates.view(np.int64) - self._day_base)
        self._check_index(index)
        result: IntArray = np.where(nat, NAT_NS, self._end_of_day_ns[index])
        return result

    def deadlines_ns(
        self,
        within: Within,
        trigger_utc_ns: npt.NDArray[np.int64],
        date_only: npt.NDArray[np.bool_] | bool,
    ) -> IntArray:
        """Vectorised ``deadline``: UTC ns in, UTC ns out; a NaT trigger gives ``NAT_NS``.

        ``date_only`` (broadcast to the triggers' shape) marks triggers known to the day only,
        given as their local midnight.
        """
        trigger, nat = self._fill_nat(trigger_utc_ns)
        only_date = np.broadcast_to(np.asarray(date_only, dtype=np.bool_), trigger.shape)
        local = self._local_ns(trigger)
        index = self._day_index(local)
        kind = self._effective_kind(within)
        if kind in (DeadlineKind.IMMEDIATELY, DeadlineKind.ELAPSED):
            elapsed_ns = self._elapsed(within) // timedelta(microseconds=1) * _NS_PER_US
            result = np.where(only_date, self._end_of_day_ns[index], trigger + elapsed_ns)
        else:
            due = self._due_index(kind, within.n, index, local, only_date)
            self._check_index(due)
            result = self._end_of_day_ns[due]
        if nat is not None:
            result = np.where(nat, NAT_NS, result)
        return result

    def _due_index(
        self, kind: DeadlineKind, n: int, index: IntArray, local: IntArray, only_date: BoolArray
    ) -> IntArray:
        """The date index of the day whose end is the deadline, for the day-based kinds."""
        if kind is DeadlineKind.SAME_WORKING_DAY:
            time_of_day = local - (index + self._day_base) * _NS_PER_DAY
            on_the_day = self._working[index] & (only_date | (time_of_day < self._cob_ns))
            due: IntArray = np.where(on_the_day, index, self._nth[self._cum[index]])
            return due
        if kind is DeadlineKind.SAME_DAY:
            return index
        if kind is DeadlineKind.WORKING_DAYS:
            # The n-th working day after date i has ordinal cum[i] + n - 1 (from 0). Counting i as
            # day 1 when it is a working day takes one off.
            ordinal = self._cum[index] + (n - 1)
            if self.config.day_counting is DayCounting.DAY1:
                ordinal = ordinal - self._working[index]
            due = self._nth[np.minimum(ordinal, len(self._nth) - 1)]
            return due
        return index + n  # CALENDAR_DAYS

    def working_days_late(
        self, deadline_utc_ns: npt.NDArray[np.int64], event_utc_ns: npt.NDArray[np.int64]
    ) -> IntArray:
        """Working days from each deadline's local date to its event's local date, for reports.

        The count of working days in (deadline date, event date]; 0 when the event's date is not
        after the deadline's. Neither array may hold NaT (there is no lateness to count).
        """
        deadline = _as_ns(deadline_utc_ns)
        event = _as_ns(event_utc_ns)
        if (deadline == NAT_NS).any() or (event == NAT_NS).any():
            raise ValueError("working_days_late needs a deadline and an event for every element")
        d = self._day_index(self._local_ns(deadline))
        e = self._day_index(self._local_ns(event))
        late: IntArray = np.where(e > d, self._cum[e] - self._cum[d], 0)
        return late


def _weekdays_up_to(d: date) -> int:
    """How many Mondays to Fridays lie in [0001-01-01, d] (0001-01-01 was a Monday)."""
    days = d.toordinal() - 1
    return (days // 7) * 5 + min(days % 7 + 1, 5)

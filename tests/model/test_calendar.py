"""The calendar (CONTRACT §4): working days, deadlines, Europe/London time, scalar = vectorised."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.calendar import (
    LONDON,
    NAT_NS,
    CalendarConfig,
    DayCounting,
    DeadlineKind,
    OutsideCalendarError,
    SameDay,
    Within,
    WorkingCalendar,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CAL = WorkingCalendar()
DAY1 = WorkingCalendar(CalendarConfig(day_counting=DayCounting.DAY1))
SAME_DAY_WORKING = WorkingCalendar(CalendarConfig(same_day=SameDay.WORKING))
NO_HOLIDAYS = WorkingCalendar(
    CalendarConfig(bank_holidays=False, extra_closures=(date(2024, 12, 24), date(2030, 1, 2)))
)
EARLY_CLOSE = WorkingCalendar(
    CalendarConfig(
        close_of_business=time(16, 30),
        immediately=timedelta(minutes=30),
        extra_closures=(date(2024, 12, 24), date(2024, 12, 31)),
    )
)
CALENDARS = [CAL, DAY1, SAME_DAY_WORKING, NO_HOLIDAYS, EARLY_CLOSE]

SWD = Within(DeadlineKind.SAME_WORKING_DAY)
SAME_DAY = Within(DeadlineKind.SAME_DAY)
WITHINS = [
    SWD,
    SAME_DAY,
    Within(DeadlineKind.WORKING_DAYS, 1),
    Within(DeadlineKind.WORKING_DAYS, 15),
    Within(DeadlineKind.CALENDAR_DAYS, 3),
    Within(DeadlineKind.IMMEDIATELY),
    Within(DeadlineKind.ELAPSED, duration=timedelta(hours=24)),
    Within(DeadlineKind.ELAPSED, duration=timedelta(minutes=90)),
]


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=LONDON)


def end_of(y: int, m: int, d: int) -> datetime:
    return local(y, m, d, 23, 59, 59, 999_999)


def ns(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1) * 1_000


def from_ns(value: int) -> datetime:
    return (EPOCH + timedelta(microseconds=value // 1_000)).astimezone(LONDON)


def local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), LONDON)


# ----------------------------------------------------------------------------- working days


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 3, 29),  # Good Friday
        date(2024, 4, 1),  # Easter Monday
        date(2025, 4, 18),  # Good Friday
        date(2025, 4, 21),  # Easter Monday
        date(2021, 12, 27),  # Christmas Day 2021 (a Saturday), substitute
        date(2021, 12, 28),  # Boxing Day 2021 (a Sunday), substitute
        date(2022, 12, 27),  # Christmas Day 2022 (a Sunday), substitute
        date(2022, 1, 3),  # New Year's Day 2022 (a Saturday), substitute
        date(2022, 6, 2),  # Spring bank holiday moved for the Platinum Jubilee
        date(2022, 6, 3),  # Platinum Jubilee
        date(2022, 9, 19),  # State funeral of Queen Elizabeth II
        date(2023, 5, 8),  # Coronation of King Charles III
        date(2020, 5, 8),  # Early May bank holiday moved to VE Day
        date(1999, 12, 31),  # Millennium
    ],
)
def test_bank_holidays_with_substitute_and_one_off_days_are_not_working_days(day: date) -> None:
    assert day.weekday() < 5
    assert not CAL.is_working_day(day)
    assert NO_HOLIDAYS.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2022, 5, 30),  # the usual spring bank holiday date, moved in 2022
        date(2020, 5, 4),  # the usual early May bank holiday, moved in 2020
        date(2022, 12, 28),  # after the 2022 Christmas substitute days
        date(2024, 3, 28),  # Thursday before Good Friday
    ],
)
def test_weekdays_that_are_not_holidays_are_working_days(day: date) -> None:
    assert CAL.is_working_day(day)


def test_weekends_are_never_working_days() -> None:
    assert not CAL.is_working_day(date(2024, 7, 13))
    assert not NO_HOLIDAYS.is_working_day(date(2024, 7, 14))


def test_bank_holidays_lists_days_off_with_names() -> None:
    assert [d for d, _ in CAL.bank_holidays(date(2022, 12, 1), date(2022, 12, 31))] == [
        date(2022, 12, 26),
        date(2022, 12, 27),  # the Sunday Christmas Day itself is not a day off
    ]
    ((day, name),) = CAL.bank_holidays(date(2022, 9, 1), date(2022, 9, 30))
    assert day == date(2022, 9, 19)
    assert "Funeral" in name
    assert len(CAL.bank_holidays(date(2024, 1, 1), date(2024, 12, 31))) == 8
    assert NO_HOLIDAYS.bank_holidays(date(2024, 1, 1), date(2024, 12, 31)) == []


def test_extra_closures_are_not_working_days() -> None:
    assert not EARLY_CLOSE.is_working_day(date(2024, 12, 24))
    assert not NO_HOLIDAYS.is_working_day(date(2024, 12, 24))
    assert NO_HOLIDAYS.is_working_day(date(2024, 12, 25))  # bank holidays ignored
    assert CAL.is_working_day(date(2024, 12, 24))


def test_working_day_arithmetic_examples() -> None:
    assert CAL.next_working_day(date(2024, 7, 12)) == date(2024, 7, 15)  # Friday -> Monday
    assert CAL.next_working_day(date(2024, 3, 28)) == date(2024, 4, 2)  # over Easter
    assert CAL.next_working_day(date(2024, 7, 13)) == date(2024, 7, 15)  # Saturday -> Monday
    assert CAL.add_working_days(date(2024, 7, 13), 0) == date(2024, 7, 13)
    assert CAL.add_working_days(date(2021, 12, 24), 1) == date(2021, 12, 29)
    assert CAL.add_working_days(date(2021, 12, 24), 3) == date(2021, 12, 31)
    assert CAL.add_working_days(date(2021, 12, 24), 4) == date(2022, 1, 4)  # 3 Jan substitute
    assert CAL.working_days_between(date(2024, 3, 28), date(2024, 4, 2)) == 1
    assert CAL.working_days_between(date(2024, 4, 2), date(2024, 3, 28)) == -1
    assert CAL.working_days_between(date(2024, 7, 13), date(2024, 7, 13)) == 0
    with pytest.raises(ValueError, match="n must be 0 or more"):
        CAL.add_working_days(date(2024, 7, 1), -1)


def test_dates_outside_the_calendar_years_are_refused() -> None:
    small = WorkingCalendar(first_year=2020, last_year=2025)
    with pytest.raises(OutsideCalendarError, match="2020-2025"):
        small.is_working_day(date(2026, 1, 5))
    with pytest.raises(OutsideCalendarError, match="first_year"):
        small.add_working_days(date(2025, 12, 30), 5)
    with pytest.raises(OutsideCalendarError, match="2020-2025"):
        small.local_dates(np.array([ns(local(2019, 12, 31, 12))]))
    with pytest.raises(OutsideCalendarError, match="2020-2025"):
        small.deadlines_ns(
            Within(DeadlineKind.WORKING_DAYS, 5), np.array([ns(local(2025, 12, 30, 12))]), False
        )
    with pytest.raises(ValueError, match="first_year <= last_year"):
        WorkingCalendar(first_year=2030, last_year=2020)


# ----------------------------------------------------------------------- same working day


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        (local(2024, 7, 10, 9, 0), end_of(2024, 7, 10)),
        (local(2024, 7, 10, 16, 59, 59, 999_999), end_of(2024, 7, 10)),  # just before close
        (local(2024, 7, 10, 17, 0), end_of(2024, 7, 11)),  # exactly at close counts as after
        (local(2024, 7, 10, 17, 0, 0, 1), end_of(2024, 7, 11)),
        (local(2024, 7, 10, 0, 0), end_of(2024, 7, 10)),
        (local(2024, 7, 12, 18, 0), end_of(2024, 7, 15)),  # Friday after close -> Monday
        (local(2024, 7, 13, 10, 0), end_of(2024, 7, 15)),  # Saturday -> Monday
        (local(2024, 7, 14, 10, 0), end_of(2024, 7, 15)),  # Sunday -> Monday
        (local(2024, 3, 28, 17, 30), end_of(2024, 4, 2)),  # before Good Friday -> after Easter
        (local(2025, 4, 18, 9, 0), end_of(2025, 4, 22)),  # on Good Friday
        (local(2022, 9, 16, 17, 1), end_of(2022, 9, 20)),  # over the state funeral
        (local(2023, 5, 5, 17, 0), end_of(2023, 5, 9)),  # over the coronation
        (local(2021, 12, 24, 17, 0), end_of(2021, 12, 29)),  # over Christmas substitutes
        (local(2021, 12, 31, 20, 0), end_of(2022, 1, 4)),  # over the New Year substitute
    ],
)
def test_same_working_day(trigger: datetime, expected: datetime) -> None:
    assert CAL.deadline(SWD, trigger) == expected
    vector = CAL.deadlines_ns(SWD, np.array([ns(trigger)]), np.array([False]))
    assert vector.tolist() == [ns(expected)]


def test_close_of_business_is_configurable() -> None:
    assert EARLY_CLOSE.deadline(SWD, local(2024, 7, 10, 16, 29)) == end_of(2024, 7, 10)
    assert EARLY_CLOSE.deadline(SWD, local(2024, 7, 10, 16, 30)) == end_of(2024, 7, 11)


def test_summer_evening_in_utc_is_the_next_local_day() -> None:
    trigger = datetime(2024, 7, 10, 23, 30, tzinfo=UTC)  # 00:30 on 11 July in London
    assert CAL.to_local(trigger) == local(2024, 7, 11, 0, 30)
    assert CAL.deadline(SAME_DAY, trigger) == end_of(2024, 7, 11)
    assert CAL.deadline(SWD, trigger) == end_of(2024, 7, 11)  # before close on the 11th
    assert CAL.local_dates(np.array([ns(trigger)])).tolist() == [date(2024, 7, 11)]
    friday_night = datetime(2024, 7, 12, 23, 30, tzinfo=UTC)  # Saturday 00:30 in London
    assert CAL.deadline(SWD, friday_night) == end_of(2024, 7, 15)
    winter = datetime(2024, 1, 10, 23, 30, tzinfo=UTC)  # still 10 January in London
    assert CAL.deadline(SAME_DAY, winter) == end_of(2024, 1, 10)


def test_date_only_trigger_on_a_working_day_counts_as_before_close() -> None:
    midnight = local_midnight(date(2024, 7, 10))
    assert CAL.deadline(SWD, midnight, date_only=True) == end_of(2024, 7, 10)
    saturday = local_midnight(date(2024, 7, 13))
    assert CAL.deadline(SWD, saturday, date_only=True) == end_of(2024, 7, 15)
    vector = EARLY_CLOSE.deadlines_ns(SWD, np.array([ns(midnight)]), np.array([True]))
    assert vector.tolist() == [ns(end_of(2024, 7, 10))]


# ------------------------------------------------------------------------------- same day


def test_same_day_is_the_calendar_date_by_default() -> None:
    assert CAL.deadline(SAME_DAY, local(2024, 7, 13, 22, 0)) == end_of(2024, 7, 13)  # Saturday
    assert CAL.deadline(SAME_DAY, local(2024, 7, 10, 18, 0)) == end_of(2024, 7, 10)  # after close
    assert CAL.deadline(SAME_DAY, local(2024, 12, 25, 9, 0)) == end_of(2024, 12, 25)


def test_same_day_can_mean_same_working_day() -> None:
    cal = SAME_DAY_WORKING
    assert cal.deadline(SAME_DAY, local(2024, 7, 13, 22, 0)) == end_of(2024, 7, 15)
    assert cal.deadline(SAME_DAY, local(2024, 7, 10, 18, 0)) == end_of(2024, 7, 11)
    vector = cal.deadlines_ns(SAME_DAY, np.array([ns(local(2024, 7, 10, 18, 0))]), False)
    assert vector.tolist() == [ns(end_of(2024, 7, 11))]


# ------------------------------------------------------------------ N working days / N days


def test_working_days_count_the_trigger_date_as_day_zero() -> None:
    fifteen = Within(DeadlineKind.WORKING_DAYS, 15)
    one = Within(DeadlineKind.WORKING_DAYS, 1)
    assert CAL.deadline(fifteen, local(2024, 3, 28, 10, 0)) == end_of(2024, 4, 22)
    assert CAL.deadline(one, local(2024, 7, 13, 10, 0)) == end_of(2024, 7, 15)  # Saturday
    assert CAL.deadline(one, local(2024, 7, 10, 23, 0)) == end_of(2024, 7, 11)  # no close
    assert CAL.deadline(one, local(2024, 7, 10, 1, 0)) == end_of(2024, 7, 11)


def test_day1_counting_counts_the_trigger_date_as_day_one() -> None:
    fifteen = Within(DeadlineKind.WORKING_DAYS, 15)
    one = Within(DeadlineKind.WORKING_DAYS, 1)
    assert DAY1.deadline(fifteen, local(2024, 3, 28, 10, 0)) == end_of(2024, 4, 19)
    assert DAY1.deadline(one, local(2024, 7, 10, 10, 0)) == end_of(2024, 7, 10)
    assert DAY1.deadline(one, local(2024, 7, 13, 10, 0)) == end_of(2024, 7, 15)  # Saturday
    assert DAY1.deadline(Within(DeadlineKind.WORKING_DAYS, 2), local(2024, 3, 29)) == end_of(
        2024, 4, 3
    )  # Good Friday: Tuesday 2 April is day 1
    triggers = np.array([ns(local(2024, 3, 28, 10, 0)), ns(local(2024, 7, 13, 10, 0))])
    assert DAY1.deadlines_ns(fifteen, triggers, np.array([False, False])).tolist() == [
        ns(end_of(2024, 4, 19)),
        ns(end_of(2024, 8, 2)),  # Monday 15 July is day 1
    ]


def test_bank_holidays_can_be_ignored() -> None:
    one = Within(DeadlineKind.WORKING_DAYS, 1)
    assert NO_HOLIDAYS.deadline(one, local(2024, 3, 28, 10, 0)) == end_of(2024, 3, 29)
    assert NO_HOLIDAYS.deadline(SWD, local(2024, 12, 23, 18, 0)) == end_of(2024, 12, 25)
    assert EARLY_CLOSE.deadline(SWD, local(2024, 12, 23, 18, 0)) == end_of(2024, 12, 27)


def test_calendar_days_are_local_dates() -> None:
    three = Within(DeadlineKind.CALENDAR_DAYS, 3)
    assert CAL.deadline(three, datetime(2024, 7, 10, 23, 30, tzinfo=UTC)) == end_of(2024, 7, 14)
    assert CAL.deadline(three, local(2024, 3, 29, 12)) == end_of(2024, 4, 1)


# ------------------------------------------------------------------- elapsed and immediately


def test_immediately_is_an_elapsed_hour_across_the_clock_change() -> None:
    now = Within(DeadlineKind.IMMEDIATELY)
    # 00:30 GMT on the day clocks go forward: one hour later is 02:30 BST, not 01:30.
    assert CAL.deadline(now, local(2024, 3, 31, 0, 30)) == local(2024, 3, 31, 2, 30)
    assert CAL.deadline(now, local(2024, 3, 31, 0, 30)).utcoffset() == timedelta(hours=1)
    assert EARLY_CLOSE.deadline(now, local(2024, 7, 10, 9, 0)) == local(2024, 7, 10, 9, 30)


def test_elapsed_hours_cross_the_autumn_clock_change() -> None:
    day = Within(DeadlineKind.ELAPSED, duration=timedelta(hours=24))
    due = CAL.deadline(day, local(2024, 10, 26, 12, 0))  # 11:00 UTC
    assert due == datetime(2024, 10, 27, 11, 0, tzinfo=UTC)
    assert (due.hour, due.utcoffset()) == (11, timedelta(0))


def test_elapsed_deadlines_of_date_only_triggers_run_to_the_end_of_the_date() -> None:
    midnight = local_midnight(date(2024, 7, 13))
    for within in (Within(DeadlineKind.IMMEDIATELY), Within.parse("24 hours")):
        assert CAL.deadline(within, midnight, date_only=True) == end_of(2024, 7, 13)
        vector = CAL.deadlines_ns(within, np.array([ns(midnight)] * 2), np.array([True, False]))
        assert vector.tolist() == [ns(end_of(2024, 7, 13)), ns(CAL.deadline(within, midnight))]


# ------------------------------------------------------------------------------ clock changes


@pytest.mark.parametrize(
    ("day", "utc_end"),
    [
        (date(2024, 3, 30), datetime(2024, 3, 30, 23, 59, 59, 999_999, tzinfo=UTC)),
        (date(2024, 3, 31), datetime(2024, 3, 31, 22, 59, 59, 999_999, tzinfo=UTC)),  # BST
        (date(2024, 10, 26), datetime(2024, 10, 26, 22, 59, 59, 999_999, tzinfo=UTC)),
        (date(2024, 10, 27), datetime(2024, 10, 27, 23, 59, 59, 999_999, tzinfo=UTC)),  # GMT
        (date(2025, 3, 30), datetime(2025, 3, 30, 22, 59, 59, 999_999, tzinfo=UTC)),
        (date(2025, 10, 26), datetime(2025, 10, 26, 23, 59, 59, 999_999, tzinfo=UTC)),
    ],
)
def test_end_of_day_on_clock_change_dates_is_right_in_utc(day: date, utc_end: datetime) -> None:
    trigger = datetime.combine(day, time(12), LONDON)
    assert CAL.deadline(SAME_DAY, trigger) == utc_end
    assert CAL.end_of_local_day_ns(np.array([day], dtype="datetime64[D]")).tolist() == [ns(utc_end)]
    assert CAL.deadlines_ns(SAME_DAY, np.array([ns(trigger)]), False).tolist() == [ns(utc_end)]


def test_local_dates_around_the_clock_changes() -> None:
    instants = [
        datetime(2024, 3, 30, 23, 59, tzinfo=UTC),  # 23:59 GMT, 30 March
        datetime(2024, 3, 31, 23, 0, tzinfo=UTC),  # 00:00 BST, 1 April
        datetime(2024, 10, 26, 23, 0, tzinfo=UTC),  # 00:00 BST, 27 October
        datetime(2024, 10, 27, 23, 30, tzinfo=UTC),  # 23:30 GMT, 27 October
    ]
    assert CAL.local_dates(np.array([ns(t) for t in instants])).tolist() == [
        date(2024, 3, 30),
        date(2024, 4, 1),
        date(2024, 10, 27),
        date(2024, 10, 27),
    ]


def test_to_local_reads_naive_times_as_london_wall_time() -> None:
    assert CAL.to_local(datetime(2024, 7, 10, 16, 0)) == datetime(2024, 7, 10, 15, 0, tzinfo=UTC)
    assert CAL.to_local(datetime(2024, 1, 10, 16, 0)) == datetime(2024, 1, 10, 16, 0, tzinfo=UTC)
    skipped = CAL.to_local(datetime(2024, 3, 31, 1, 30))  # the clocks skip 01:00-02:00
    assert (skipped.hour, skipped.minute, skipped.utcoffset()) == (2, 30, timedelta(hours=1))
    assert CAL.to_local(datetime(2024, 7, 10, 15, 0, tzinfo=UTC)).tzinfo is LONDON


# ---------------------------------------------------------------------- vectorised extras


def test_missing_instants_stay_missing() -> None:
    triggers = np.array([NAT_NS, ns(local(2024, 7, 10, 9))])
    for within in WITHINS:
        result = CAL.deadlines_ns(within, triggers, np.array([False, False]))
        assert result[0] == NAT_NS
        assert result[1] == ns(CAL.deadline(within, local(2024, 7, 10, 9)))
    assert np.isnat(CAL.local_dates(triggers)[0])
    dates = np.array(["NaT", "2024-07-10"], dtype="datetime64[D]")
    assert CAL.end_of_local_day_ns(dates).tolist() == [NAT_NS, ns(end_of(2024, 7, 10))]
    assert CAL.is_working_days(dates).tolist() == [False, True]
    with pytest.raises(ValueError, match="a deadline and an event for every element"):
        CAL.working_days_late(triggers, triggers)


def test_working_days_late_examples() -> None:
    deadline = ns(end_of(2024, 3, 28))  # Thursday before Easter
    events = [
        local(2024, 3, 28, 23),  # on time
        local(2024, 3, 27, 12),  # before
        local(2024, 4, 1, 9),  # Easter Monday: no working day late yet
        local(2024, 4, 2, 9),  # Tuesday: one working day late
        local(2024, 4, 8, 9),  # the Monday after: five
    ]
    late = CAL.working_days_late(np.full(len(events), deadline), np.array([ns(e) for e in events]))
    assert late.tolist() == [0, 0, 0, 1, 5]
    assert late.dtype == np.int64


def test_datetime64_inputs_are_accepted() -> None:
    trigger = np.array(["2024-07-10T23:30"], dtype="datetime64[m]")  # UTC
    assert CAL.local_dates(trigger).tolist() == [date(2024, 7, 11)]


# --------------------------------------------------------------------------------- Within


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("same working day", Within(DeadlineKind.SAME_WORKING_DAY), "same working day"),
        ("  Same   Working  DAY ", Within(DeadlineKind.SAME_WORKING_DAY), "same working day"),
        ("same day", Within(DeadlineKind.SAME_DAY), "same day"),
        ("Immediately", Within(DeadlineKind.IMMEDIATELY), "immediately"),
        ("15 working days", Within(DeadlineKind.WORKING_DAYS, 15), "15 working days"),
        ("1 working day", Within(DeadlineKind.WORKING_DAYS, 1), "1 working day"),
        ("3 days", Within(DeadlineKind.CALENDAR_DAYS, 3), "3 days"),
        ("1 day", Within(DeadlineKind.CALENDAR_DAYS, 1), "1 day"),
        ("2 calendar days", Within(DeadlineKind.CALENDAR_DAYS, 2), "2 days"),
        ("24 hours", Within(DeadlineKind.ELAPSED, duration=timedelta(hours=24)), "24 hours"),
        ("1 hour", Within(DeadlineKind.ELAPSED, duration=timedelta(hours=1)), "1 hour"),
        ("90 minutes", Within(DeadlineKind.ELAPSED, duration=timedelta(minutes=90)), "90 minutes"),
        ("120 Minutes", Within(DeadlineKind.ELAPSED, duration=timedelta(hours=2)), "2 hours"),
        ("45 seconds", Within(DeadlineKind.ELAPSED, duration=timedelta(seconds=45)), "45 seconds"),
    ],
)
def test_within_parse_and_canonical_text(text: str, expected: Within, canonical: str) -> None:
    parsed = Within.parse(text)
    assert parsed == expected
    assert str(parsed) == canonical
    assert Within.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text", ["", "soon", "0 working days", "-1 days", "1.5 hours", "15 weeks", "working days"]
)
def test_within_parse_rejects_other_text_listing_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"'same working day'.*'N working days'.*at least 1"):
        Within.parse(text)


def test_within_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="needs n of at least 1"):
        Within(DeadlineKind.WORKING_DAYS)
    with pytest.raises(ValueError, match="takes no n"):
        Within(DeadlineKind.SAME_DAY, 2)
    with pytest.raises(ValueError, match="positive duration"):
        Within(DeadlineKind.ELAPSED)
    with pytest.raises(ValueError, match="whole number of seconds"):
        Within(DeadlineKind.ELAPSED, duration=timedelta(milliseconds=1500))
    with pytest.raises(ValueError, match="takes no duration"):
        Within(DeadlineKind.IMMEDIATELY, duration=timedelta(hours=1))


def test_calendar_config_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="positive duration"):
        CalendarConfig(immediately=timedelta(0))
    with pytest.raises(ValueError, match="without a zone"):
        CalendarConfig(close_of_business=time(17, tzinfo=UTC))
    with pytest.raises(ValueError, match="dates"):
        CalendarConfig(extra_closures=(datetime(2024, 12, 24, 9),))


# ------------------------------------------------------------------------ property-based

CLOCK_CHANGES = [
    d
    for year in range(2015, 2031)
    for d in (date(year, 3, 31) - timedelta(days=i) for i in range(7))
    if d.weekday() == 6
] + [
    d
    for year in range(2015, 2031)
    for d in (date(year, 10, 31) - timedelta(days=i) for i in range(7))
    if d.weekday() == 6
]
ANCHORS = sorted(
    set(CLOCK_CHANGES) | {d for d, _ in CAL.bank_holidays(date(2015, 1, 1), date(2030, 12, 31))}
)

near_anchor = st.builds(
    lambda anchor, k: anchor + timedelta(days=k), st.sampled_from(ANCHORS), st.integers(-4, 4)
)
dates = st.one_of(near_anchor, st.dates(date(1995, 1, 1), date(2070, 12, 31)))
# Seconds after local midnight, with the edges (midnight, close of business, the clock changes)
# offered explicitly.
edges = [0, 1, 3_599, 3_600, 5_400, 7_200, 59_399, 59_400, 61_199, 61_200, 61_201, 86_399]
seconds = st.one_of(st.sampled_from(edges), st.integers(-6 * 3_600, 30 * 3_600))


@st.composite
def triggers(draw: st.DrawFn) -> tuple[datetime, bool]:
    """A trigger instant (aware) and whether it is date-only (then at local midnight)."""
    day = draw(dates)
    if draw(st.booleans()):
        return local_midnight(day), True
    offset = draw(seconds) * 1_000_000 + draw(st.sampled_from([0, 1, 999_999]))
    instant = local_midnight(day).astimezone(UTC) + timedelta(microseconds=offset)
    return instant.astimezone(LONDON), False


@given(d=dates, n=st.integers(0, 400))
def test_adding_working_days_then_counting_them_is_the_identity(d: date, n: int) -> None:
    for cal in (CAL, NO_HOLIDAYS):
        later = cal.add_working_days(d, n)
        assert cal.working_days_between(d, later) == n
        assert cal.working_days_between(later, d) == -n
        if n >= 1:
            assert later > d
            assert cal.is_working_day(later)
            assert cal.add_working_days(d, n - 1) < later
        expected = np.busday_offset(
            np.datetime64(d, "D"), n, roll="backward", busdaycal=cal.busdaycalendar
        )
        if n >= 1:
            assert later == expected.item()


@given(a=dates, b=dates)
def test_counting_working_days_then_adding_them_back(a: date, b: date) -> None:
    count = CAL.working_days_between(a, b)
    assert count == -CAL.working_days_between(b, a)
    if b >= a:
        back = CAL.add_working_days(a, count)
        assert back <= b
        assert CAL.working_days_between(back, b) == 0
        if CAL.is_working_day(b):
            assert back == b
        assert count == np.busday_count(
            np.datetime64(a + timedelta(days=1)),
            np.datetime64(b + timedelta(days=1)),
            busdaycal=CAL.busdaycalendar,
        )


@given(trigger=triggers(), within=st.sampled_from(WITHINS), cal=st.sampled_from(CALENDARS))
def test_deadlines_are_never_before_the_trigger(
    trigger: tuple[datetime, bool], within: Within, cal: WorkingCalendar
) -> None:
    instant, date_only = trigger
    due = cal.deadline(within, instant, date_only=date_only)
    assert due.tzinfo is LONDON
    if date_only:
        assert due >= cal.end_of_day(instant.date()) > instant
    else:
        assert due >= instant
    if within.kind not in (DeadlineKind.IMMEDIATELY, DeadlineKind.ELAPSED) or date_only:
        assert due.time() == time(23, 59, 59, 999_999)


@given(first=triggers(), second=triggers(), cal=st.sampled_from(CALENDARS))
def test_same_working_day_deadline_is_monotone_in_the_trigger_time(
    first: tuple[datetime, bool], second: tuple[datetime, bool], cal: WorkingCalendar
) -> None:
    early, late = sorted([first[0], second[0]])
    assert cal.deadline(SWD, early) <= cal.deadline(SWD, late)
    due = cal.deadline(SWD, late)
    assert cal.is_working_day(due.date())
    assert cal.working_days_between(late.date(), due.date()) <= 1


@settings(max_examples=200)
@given(cases=st.lists(triggers(), min_size=1, max_size=25), cal=st.sampled_from(CALENDARS))
def test_vectorised_deadlines_equal_the_scalar_ones(
    cases: list[tuple[datetime, bool]], cal: WorkingCalendar
) -> None:
    instants = np.array([ns(t) for t, _ in cases], dtype=np.int64)
    date_only = np.array([flag for _, flag in cases])
    for within in WITHINS:
        vector = cal.deadlines_ns(within, instants, date_only)
        scalar = [ns(cal.deadline(within, t, date_only=flag)) for t, flag in cases]
        assert vector.tolist() == scalar, str(within)


@given(cases=st.lists(triggers(), min_size=1, max_size=25), cal=st.sampled_from(CALENDARS))
def test_vectorised_dates_equal_the_scalar_ones(
    cases: list[tuple[datetime, bool]], cal: WorkingCalendar
) -> None:
    instants = np.array([ns(t) for t, _ in cases], dtype=np.int64)
    local_dates = cal.local_dates(instants)
    assert local_dates.tolist() == [cal.to_local(t).date() for t, _ in cases]
    assert cal.is_working_days(local_dates).tolist() == [
        cal.is_working_day(t.date()) for t, _ in cases
    ]
    assert cal.end_of_local_day_ns(local_dates).tolist() == [
        ns(cal.end_of_day(t.date())) for t, _ in cases
    ]
    reversed_instants = instants[::-1].copy()
    late = cal.working_days_late(instants, reversed_instants)
    expected = [
        max(0, cal.working_days_between(from_ns(d).date(), from_ns(e).date()))
        for d, e in zip(instants.tolist(), reversed_instants.tolist(), strict=True)
    ]
    assert late.tolist() == expected

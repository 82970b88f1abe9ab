"""Options of ``lscb check``: a TOML file, and overrides from the command line.

The file (every key is optional; a missing key keeps its default)::

    # When the log was extracted. ISO 8601; without an offset it is Europe/London local
    # time; a date alone means the end of that day. Default: the latest timestamp in the log.
    as_of = "2024-06-30T17:00:00+01:00"

    # Which strategy discussion starts the 15 working days to the Initial child protection
    # conference: "last-strategy-discussion" (the last one before the conference; the source
    # text, default) or "section-47-start" (the last one before the Section 47 enquiry
    # started; many local procedures and the DfE statistics).
    icpc_clock = "last-strategy-discussion"

    [calendar]
    close_of_business = "17:00"       # local time, HH:MM; a "same working day" trigger at or
                                      # after it counts from the next working day
    bank_holidays = true              # England and Wales bank holidays are not working days
    extra_closures = ["2024-12-27"]   # further dates that are not working days (YYYY-MM-DD)
    day_counting = "day0"             # "within N working days": the trigger's date is day 0
                                      # ("day0", default) or day 1 ("day1", as the census
                                      # validator counts)
    same_day = "calendar"             # "same day" is the trigger's calendar date ("calendar",
                                      # default) or the same working day ("working")
    immediately = "1 hour"            # how soon "immediately" is: N hours, minutes or seconds

TOML dates and times may be written bare (``extra_closures = [2024-12-27]``,
``close_of_business = 17:00:00``, ``as_of = 2024-06-30T17:00:00+01:00``) as well as quoted.

``load_check_config(path)`` reads a file; ``config_with_overrides(config, **values)`` applies
command-line values (``as_of``, ``icpc_clock``, ``close_of_business``, ``bank_holidays``,
``extra_closures``, ``day_counting``, ``same_day``, ``immediately``; None = not given) on top.
Both report every problem at once as ``InputError`` (key, what was expected, what was found).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import pandas as pd

from conformance.engine import ICPC_CLOCKS, CheckConfig
from model.calendar import LONDON, CalendarConfig, DayCounting, DeadlineKind, SameDay, Within
from model.errors import InputError, Problem
from model.tomlsource import read_toml

__all__ = ["CALENDAR_KEYS", "TOP_LEVEL_KEYS", "config_with_overrides", "load_check_config"]

TOP_LEVEL_KEYS: Final = ("as_of", "icpc_clock", "calendar")
CALENDAR_KEYS: Final = (
    "close_of_business",
    "bank_holidays",
    "extra_closures",
    "day_counting",
    "same_day",
    "immediately",
)
_TIME_RE: Final = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class _Bad(ValueError):
    """A value that cannot be used: ``expected`` says what would do, ``found`` what was there."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(expected)
        self.expected = expected
        self.found = found


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}" if value.strip() else "an empty text"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__} value"


def _close_of_business(value: Any) -> time:
    expected = "a local time of day such as \"17:00\""
    if isinstance(value, time) and not isinstance(value, datetime):
        if value.tzinfo is not None:
            raise _Bad(expected + " without an offset", _describe(value))
        return value
    if isinstance(value, str):
        match = _TIME_RE.fullmatch(value.strip())
        if match:
            hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
            if hour < 24 and minute < 60 and second < 60:
                return time(hour, minute, second)
    raise _Bad(expected, _describe(value))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise _Bad("true or false", _describe(value))


def _one_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Bad("a date written YYYY-MM-DD", _describe(value))


def _extra_closures(value: Any) -> tuple[date, ...]:
    if isinstance(value, str):  # from the command line: comma-separated
        items: list[Any] = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise _Bad("a list of dates written YYYY-MM-DD", _describe(value))
    dates: list[date] = []
    bad: list[str] = []
    for number, item in enumerate(items, start=1):
        try:
            dates.append(_one_date(item))
        except _Bad as exc:
            bad.append(f"item {number}: {exc.found}")
    if bad:
        raise _Bad("a list of dates written YYYY-MM-DD", "; ".join(bad))
    return tuple(sorted(set(dates)))


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        raise _Bad("one of " + ", ".join(f'"{o}"' for o in options), _describe(value))

    return parse


def _immediately(value: Any) -> timedelta:
    expected = "a duration such as \"1 hour\", \"30 minutes\" or \"90 seconds\""
    if isinstance(value, timedelta):
        if value > timedelta(0) and not value % timedelta(seconds=1):
            return value
        raise _Bad(expected, "a duration that is not a positive whole number of seconds")
    if isinstance(value, str):
        try:
            within = Within.parse(value)
        except ValueError:
            within = None
        if within is not None and within.kind is DeadlineKind.ELAPSED:
            assert within.duration is not None
            return within.duration
    raise _Bad(expected, _describe(value))


def _as_of(value: Any) -> pd.Timestamp:
    expected = (
        "a date and time in ISO 8601, such as \"2024-06-30T17:00:00+01:00\" (without an offset: "
        "Europe/London time; a date alone: the end of that day)"
    )
    if isinstance(value, pd.Timestamp):
        stamp = value
    elif isinstance(value, datetime):
        stamp = pd.Timestamp(value)
    elif isinstance(value, date):
        stamp = pd.Timestamp(datetime.combine(value, time(23, 59, 59, 999_999)))
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = date.fromisoformat(text)
                stamp = pd.Timestamp(datetime.combine(day, time(23, 59, 59, 999_999)))
            else:
                stamp = pd.Timestamp(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise _Bad(expected, _describe(value)) from None
    else:
        raise _Bad(expected, _describe(value))
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC")


_PARSERS: Final[dict[str, Callable[[Any], Any]]] = {
    "as_of": _as_of,
    "icpc_clock": _choice(ICPC_CLOCKS),
    "close_of_business": _close_of_business,
    "bank_holidays": _boolean,
    "extra_closures": _extra_closures,
    "day_counting": _choice(tuple(d.value for d in DayCounting)),
    "same_day": _choice(tuple(s.value for s in SameDay)),
    "immediately": _immediately,
}


def _build(config: CheckConfig, values: dict[str, Any]) -> CheckConfig:
    """``config`` with parsed ``values`` (keys of ``_PARSERS``) put in."""
    calendar_values = {k: v for k, v in values.items() if k in CALENDAR_KEYS}
    if "day_counting" in calendar_values:
        calendar_values["day_counting"] = DayCounting(calendar_values["day_counting"])
    if "same_day" in calendar_values:
        calendar_values["same_day"] = SameDay(calendar_values["same_day"])
    calendar: CalendarConfig = dataclasses.replace(config.calendar, **calendar_values)
    top = {k: v for k, v in values.items() if k in ("as_of", "icpc_clock")}
    return dataclasses.replace(config, calendar=calendar, **top)


def _parse_all(
    raw: dict[str, Any], where: Callable[[str], str], problems: list[Problem]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            parsed[key] = _PARSERS[key](value)
        except _Bad as exc:
            problems.append(Problem(where(key), exc.expected, exc.found))
    return parsed


def load_check_config(path: Path | str) -> CheckConfig:
    """Read a check configuration file (see the module docstring for its format)."""
    source = str(path)
    data = read_toml(path, what="a check configuration file")
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    for key, value in data.items():
        if key == "calendar":
            if not isinstance(value, dict):
                problems.append(Problem("key 'calendar'", "a table [calendar]", _describe(value)))
                continue
            for sub, sub_value in value.items():
                if sub in CALENDAR_KEYS:
                    raw[sub] = sub_value
                else:
                    problems.append(
                        Problem(
                            f"key 'calendar.{sub}'",
                            "one of the keys " + ", ".join(CALENDAR_KEYS),
                            "an unknown key",
                        )
                    )
        elif key in ("as_of", "icpc_clock"):
            raw[key] = value
        elif key in CALENDAR_KEYS:
            problems.append(
                Problem(f"key '{key}'", f"'{key}' inside the [calendar] table", "it at top level")
            )
        else:
            problems.append(
                Problem(
                    f"key '{key}'", "one of the keys " + ", ".join(TOP_LEVEL_KEYS), "an unknown key"
                )
            )

    def where(key: str) -> str:
        return f"key 'calendar.{key}'" if key in CALENDAR_KEYS else f"key '{key}'"

    parsed = _parse_all(raw, where, problems)
    if problems:
        raise InputError(source, problems)
    return _build(CheckConfig(), parsed)


_OPTION_NAMES: Final = {"extra_closures": "closure", "bank_holidays": "ignore-bank-holidays"}
"""Command-line option names where they differ from the config file's keys."""


def config_with_overrides(
    config: CheckConfig, *, source: str = "command line", **values: Any
) -> CheckConfig:
    """``config`` with the given command-line values on top (None = not given).

    Values may be typed (``bool``, ``date``, ``timedelta``, ...) or text as typed on the
    command line (``extra_closures`` then is comma-separated). An unknown name is a
    programming error (``TypeError``); a bad value is an ``InputError`` naming the option.
    """
    unknown = sorted(set(values) - set(_PARSERS))
    if unknown:
        raise TypeError("unknown check option(s): " + ", ".join(unknown))
    given = {k: v for k, v in values.items() if v is not None}
    problems: list[Problem] = []
    parsed = _parse_all(given, lambda key: "option --" + _OPTION_NAMES.get(key, key.replace("_", "-")),
                        problems)
    if problems:
        raise InputError(source, problems)
    return _build(config, parsed)

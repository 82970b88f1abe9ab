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

``icpc_clock`` is a shorthand for a rule option: the trigger occurrence of the rule
``icpc-within-15-working-days`` (``ICPC_CLOCK_OPTIONS``). From Python, any response rule's
trigger occurrence can be set the same way (``CheckConfig(trigger_occurrences={rule_id:
TriggerOccurrence(...)})``); the engine asks ``CheckConfig.trigger_occurrence(rule)`` and knows
no rule by its id.

``CheckConfig`` holds the settings; ``load_check_config(path)`` reads a file,
``check_config_from_mapping(data, source)`` reads the same keys from a table already parsed (the
``[checking]`` section of a scenario file); ``config_with_overrides(config, **values)`` applies
command-line values (``as_of``, ``icpc_clock``, ``close_of_business``, ``bank_holidays``,
``extra_closures``, ``day_counting``, ``same_day``, ``immediately``; None = not given) on top.
Both report every problem at once as ``InputError`` (key, what was expected, what was found).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import pandas as pd

from conformance.logio.values import as_utc
from model.calendar import (
    DEFAULT_CONFIG,
    CalendarConfig,
    DayCounting,
    DeadlineKind,
    SameDay,
    Within,
)
from model.contract import SECTION_47_STARTED
from model.errors import InputError, Problem
from model.rules import Occurrence, Rule, TriggerOccurrence
from model.tomlsource import read_toml

__all__ = [
    "CALENDAR_KEYS",
    "ICPC_CLOCKS",
    "ICPC_CLOCK_OPTIONS",
    "ICPC_RULE",
    "TOP_LEVEL_KEYS",
    "CheckConfig",
    "check_config_from_mapping",
    "config_with_overrides",
    "load_check_config",
]

ICPC_RULE: Final = "icpc-within-15-working-days"
ICPC_CLOCK_OPTIONS: Final[Mapping[str, Mapping[str, TriggerOccurrence]]] = {
    # the rule's own option (procedure.yaml: "last before response")
    "last-strategy-discussion": {},
    "section-47-start": {
        ICPC_RULE: TriggerOccurrence(Occurrence.LAST_BEFORE, SECTION_47_STARTED)
    },
}
"""What each value of the ``icpc_clock`` shorthand sets: per rule id, a trigger occurrence."""
ICPC_CLOCKS: Final = tuple(ICPC_CLOCK_OPTIONS)


@dataclass(frozen=True)
class CheckConfig:
    """Every setting of a check (settable in a TOML file and on the command line).

    Parameters
    ----------
    calendar
        Working days, close of business and how deadlines are counted.
    as_of
        When the log was extracted (None: the log's own as-of time); a naive timestamp is
        Europe/London local time. Stored in UTC.
    icpc_clock
        Which strategy discussion starts the Initial child protection conference's 15 working
        days: a shorthand (``ICPC_CLOCKS``) for the trigger occurrence of the rule
        ``icpc-within-15-working-days`` (``ICPC_CLOCK_OPTIONS``).
    trigger_occurrences
        Per rule id, the occurrence of its trigger that starts a response rule's clock in place
        of the rule's own ``trigger_occurrence``; an entry here wins over ``icpc_clock``.

    Examples
    --------
    >>> from model.procedure import load_procedure
    >>> icpc = next(r for r in load_procedure().rules if r.id == ICPC_RULE)
    >>> str(CheckConfig().trigger_occurrence(icpc))
    'last before response'
    >>> str(CheckConfig(icpc_clock="section-47-start").trigger_occurrence(icpc))
    'last before Section 47 enquiry started'
    """

    calendar: CalendarConfig = DEFAULT_CONFIG
    as_of: pd.Timestamp | None = None
    icpc_clock: str = "last-strategy-discussion"
    trigger_occurrences: Mapping[str, TriggerOccurrence] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.icpc_clock not in ICPC_CLOCKS:
            raise ValueError("icpc_clock must be one of " + ", ".join(ICPC_CLOCKS))
        if self.as_of is not None:
            object.__setattr__(self, "as_of", as_utc(self.as_of))
        overrides = dict(self.trigger_occurrences)
        for rule_id, occurrence in overrides.items():
            if not isinstance(occurrence, TriggerOccurrence):
                raise TypeError(
                    f"trigger_occurrences[{rule_id!r}] must be a TriggerOccurrence "
                    f"(got {type(occurrence).__name__})"
                )
            if occurrence.kind is Occurrence.LAST_BEFORE and not occurrence.activity:
                raise ValueError(f"trigger_occurrences[{rule_id!r}]: 'last before' needs an activity")
        object.__setattr__(self, "trigger_occurrences", overrides)

    def __hash__(self) -> int:
        overrides = tuple(sorted(self.trigger_occurrences.items()))
        return hash((self.calendar, self.as_of, self.icpc_clock, overrides))

    def rule_options(self) -> dict[str, TriggerOccurrence]:
        """Every trigger occurrence this configuration sets, per rule id (the ``icpc_clock``
        shorthand's, then ``trigger_occurrences``)."""
        return {**ICPC_CLOCK_OPTIONS[self.icpc_clock], **self.trigger_occurrences}

    def trigger_occurrence(self, rule: Rule) -> TriggerOccurrence:
        """The trigger occurrence that starts ``rule``'s clock under this configuration."""
        return self.rule_options().get(rule.id, rule.trigger_occurrence)


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
    return as_utc(stamp)


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
    r"""Read a check configuration file (TOML; its keys are in the module docstring).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    CheckConfig
        The defaults with the file's values put in.

    Raises
    ------
    model.errors.InputError
        Naming every problem of the file at once: its line and column for a syntax error,
        else each key, what was expected and what was found.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "check.toml").write_text(
    ...     'icpc_clock = "section-47-start"\n[calendar]\nextra_closures = [2024-12-27]\n')
    >>> config = load_check_config(folder / "check.toml")
    >>> config.icpc_clock, config.calendar.extra_closures
    ('section-47-start', (datetime.date(2024, 12, 27),))
    >>> _ = (folder / "bad.toml").write_text('[calendar]\nsame_day = "soon"\n')
    >>> load_check_config(folder / "bad.toml")
    Traceback (most recent call last):
    ...
    model.errors.InputError: .../bad.toml: 1 problem(s) found
      - key 'calendar.same_day': expected one of "calendar", "working"; found the text 'soon'
    """
    source = str(path)
    return check_config_from_mapping(read_toml(path, what="a check configuration file"), source)


def check_config_from_mapping(
    data: Mapping[str, Any], source: str, *, prefix: str = "", base: CheckConfig | None = None
) -> CheckConfig:
    """A ``CheckConfig`` from a table with the keys of a check configuration file.

    ``data`` is a parsed TOML table (such as the ``[checking]`` section of a scenario file);
    ``prefix`` goes before each key in messages (``"checking."`` names
    ``key 'checking.calendar.same_day'``); ``base`` is the configuration the values go into
    (default: the defaults). Raises ``InputError(source, problems)`` with every problem.
    """
    problems: list[Problem] = []
    raw: dict[str, Any] = {}

    def key(name: str) -> str:
        return f"key '{prefix}{name}'"

    for name, value in data.items():
        if name == "calendar":
            if not isinstance(value, dict):
                problems.append(Problem(key("calendar"), "a table [calendar]", _describe(value)))
                continue
            for sub, sub_value in value.items():
                if sub in CALENDAR_KEYS:
                    raw[sub] = sub_value
                else:
                    problems.append(
                        Problem(
                            key(f"calendar.{sub}"),
                            "one of the keys " + ", ".join(CALENDAR_KEYS),
                            "an unknown key",
                        )
                    )
        elif name in ("as_of", "icpc_clock"):
            raw[name] = value
        elif name in CALENDAR_KEYS:
            problems.append(
                Problem(key(name), f"'{name}' inside the [calendar] table", "it at top level")
            )
        else:
            problems.append(
                Problem(key(name), "one of the keys " + ", ".join(TOP_LEVEL_KEYS), "an unknown key")
            )

    def where(name: str) -> str:
        return key(f"calendar.{name}") if name in CALENDAR_KEYS else key(name)

    parsed = _parse_all(raw, where, problems)
    if problems:
        raise InputError(source, problems)
    return _build(base if base is not None else CheckConfig(), parsed)


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

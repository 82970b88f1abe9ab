"""The scenario: how much work arrives, who is on duty, how long things take (docs/scenario.md).

A scenario is read from TOML (``tomllib``) into frozen dataclasses and validated against the
procedure as a whole: every problem is collected as a ``Problem(where="field 'roles.lado.
headcount'", expected, found)`` and raised together in one ``InputError``. Parsing only stores
what it is given; the engine (``simulation.engine``) does the work.
"""

from __future__ import annotations

import copy
import enum
import importlib.resources
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from model.errors import InputError, Problem
from model.procedure import Kind, Procedure, Task, walk
from simulation.calibration.ledger import drop_entries, ledger_problems

__all__ = [
    "DEFAULT_SCENARIO",
    "Background",
    "Booking",
    "Delay",
    "Diary",
    "Dispatch",
    "Distribution",
    "ForbiddenSlip",
    "OrderSlip",
    "RoleSpec",
    "Route",
    "Scenario",
    "Slips",
    "Surge",
    "TaskSpec",
    "default_scenario_path",
    "describe",
    "field_keys",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_SCENARIO: Final = "default_scenario.toml"
UNLIMITED: Final = "unlimited"


class Dispatch(enum.StrEnum):
    """The order in which a role's queue is served."""

    FCFS = "fcfs"  # first come, first served
    EDF = "edf"  # earliest deadline first (deadlines from the procedure's rules)


class Hours(enum.StrEnum):
    OFFICE = "office"  # working days (model.calendar), between open and close
    ALWAYS = "always"  # every minute of every day


class LagUnit(enum.StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"  # elapsed days of 24 hours
    WORKING_DAYS = "working days"  # office time of the scenario's calendar


_DISTRIBUTIONS: Final = ("fixed", "exponential", "lognormal", "triangular", "uniform", "empirical")


@dataclass(frozen=True)
class Distribution:
    """A non-negative random quantity. ``kind`` is one of fixed, exponential (mean), lognormal
    (mean, sd of the quantity itself), triangular (low, mode, high), uniform (low, high) and
    empirical (values, with optional weights)."""

    kind: str
    a: float = 0.0  # fixed: value; exponential: mean; lognormal: mean; triangular/uniform: low
    b: float = 0.0  # lognormal: sd; triangular: mode; uniform: high
    c: float = 0.0  # triangular: high
    values: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()

    def sample(self, rng: np.random.Generator) -> float:
        kind = self.kind
        if kind == "fixed":
            return self.a
        if kind == "exponential":
            return float(rng.exponential(self.a))
        if kind == "lognormal":
            mu, sigma = self._lognormal()
            return float(rng.lognormal(mu, sigma))
        if kind == "triangular":
            if self.a == self.c:
                return self.a
            return float(rng.triangular(self.a, self.b, self.c))
        if kind == "uniform":
            return float(rng.uniform(self.a, self.b))
        index = int(rng.choice(len(self.values), p=self._probabilities()))
        return self.values[index]

    def sample_many(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
        kind = self.kind
        if kind == "fixed":
            return np.full(n, self.a)
        if kind == "exponential":
            return rng.exponential(self.a, n)
        if kind == "lognormal":
            mu, sigma = self._lognormal()
            return rng.lognormal(mu, sigma, n)
        if kind == "triangular":
            if self.a == self.c:
                return np.full(n, self.a)
            return rng.triangular(self.a, self.b, self.c, n)
        if kind == "uniform":
            return rng.uniform(self.a, self.b, n)
        picks = rng.choice(len(self.values), size=n, p=self._probabilities())
        result: npt.NDArray[np.float64] = np.asarray(self.values, dtype=float)[picks]
        return result

    def mean(self) -> float:
        if self.kind in ("fixed", "exponential", "lognormal"):
            return self.a
        if self.kind == "triangular":
            return (self.a + self.b + self.c) / 3
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return float(np.dot(self.values, self._probabilities()))

    def _lognormal(self) -> tuple[float, float]:
        if self.b == 0:
            return math.log(self.a), 0.0
        sigma2 = math.log1p((self.b / self.a) ** 2)
        return math.log(self.a) - sigma2 / 2, math.sqrt(sigma2)

    def _probabilities(self) -> npt.NDArray[np.float64]:
        weights = np.asarray(self.weights or [1.0] * len(self.values), dtype=float)
        result: npt.NDArray[np.float64] = weights / weights.sum()
        return result

    def __str__(self) -> str:
        if self.kind == "fixed":
            return f"{self.a:g}"
        if self.kind in ("exponential",):
            return f"exponential, mean {self.a:g}"
        if self.kind == "lognormal":
            return f"lognormal, mean {self.a:g}, sd {self.b:g}"
        if self.kind == "triangular":
            return f"triangular {self.a:g}/{self.b:g}/{self.c:g}"
        if self.kind == "uniform":
            return f"uniform {self.a:g}-{self.b:g}"
        return f"empirical ({len(self.values)} values)"


@dataclass(frozen=True)
class Delay:
    """Time that passes before a step can start (waiting for others, not anyone's work)."""

    distribution: Distribution
    unit: LagUnit = LagUnit.MINUTES


@dataclass(frozen=True)
class Surge:
    start: date
    end: date  # inclusive
    multiplier: float


@dataclass(frozen=True)
class Route:
    """An arrival stream of cases, with the probabilities of their attributes."""

    id: str
    annual_volume: float
    weekday: tuple[float, ...]  # Monday..Sunday; a bank holiday takes Sunday's weight
    hours: tuple[float, ...]  # 24 weights, local time
    months: tuple[float, ...]  # January..December
    surges: tuple[Surge, ...]
    attributes: Mapping[str, float]  # boolean attribute -> probability of true (0/1 = fixed)
    offence: Mapping[str, float]  # offence id -> weight


@dataclass(frozen=True)
class Background:
    """Work outside this procedure that competes for the same people: a share of the role's
    nominal on-duty time arrives as a stream of jobs of the given length (minutes)."""

    share: float
    job: Distribution


@dataclass(frozen=True)
class Diary:
    """Meetings booked ahead into slots of a role's diary (a conference chair's)."""

    slots: tuple[time, ...]
    slot_minutes: float
    background_per_working_day: float  # other bookings into the same diaries
    background_lead: Distribution  # working days between their request and the earliest slot


@dataclass(frozen=True)
class RoleSpec:
    id: str
    headcount: int | None  # None: unlimited (no queue)
    hours: Hours
    open: time
    close: time
    out_of_hours: int  # how many of the headcount are on duty at every hour of every day
    leave_days_per_year: float
    leave_block_days: int
    absence_rate: float  # daily probability that a person is off sick
    background: Background | None
    diary: Diary | None

    @property
    def limited(self) -> bool:
        return self.headcount is not None


@dataclass(frozen=True)
class Booking:
    """A step held in a slot of the lane role's diary, booked this many working days ahead."""

    lead_working_days: int


@dataclass(frozen=True)
class TaskSpec:
    activity: str
    work: Distribution  # minutes of the people's on-duty time
    lag: Delay | None
    extra_roles: tuple[str, ...]  # roles needed besides the lane and the model's participants
    booking: Booking | None


@dataclass(frozen=True)
class OrderSlip:
    activity: str  # done early ...
    before: str  # ... just before this one
    probability: float


@dataclass(frozen=True)
class ForbiddenSlip:
    activity: str  # a forbidden event of the procedure
    after: str | None  # when given: only in cases where it occurred, at some time after it
    probability: float


@dataclass(frozen=True)
class Slips:
    skip: Mapping[str, float] = field(default_factory=dict)
    order: tuple[OrderSlip, ...] = ()
    forbidden: tuple[ForbiddenSlip, ...] = ()

    @property
    def any(self) -> bool:
        return bool(
            any(p > 0 for p in self.skip.values())
            or any(s.probability > 0 for s in self.order)
            or any(s.probability > 0 for s in self.forbidden)
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start: date
    horizon_days: int
    warm_up_days: int
    drain_days: int
    replications: int
    seed: int
    dispatch: Dispatch
    demand: float  # multiplies the routes' volumes (this procedure's cases)
    background_demand: float  # multiplies the background work and diary bookings
    timeline_days: int
    office_open: time
    office_close: time
    routes: Mapping[str, Route]
    roles: Mapping[str, RoleSpec]
    tasks: Mapping[str, TaskSpec]
    loops: Mapping[str, float]
    slips: Slips
    source: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def with_values(self, values: Mapping[str, Any], procedure: Procedure) -> Scenario:
        """A copy with fields replaced by dotted path ('roles.lado.headcount', 'scenario.demand'
        or a short form: 'demand', 'dispatch', 'seed', ...), validated like a file."""
        data = copy.deepcopy(dict(self.data))
        for path, value in values.items():
            keys = _expand_path(path)
            node = data
            for key in keys[:-1]:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child
            node[keys[-1]] = value
        drop_entries(data, list(values))  # a changed value no longer comes from its source
        changed = ", ".join(f"{k} = {v}" for k, v in values.items())
        return parse_scenario(data, f"{self.source} with {changed}", procedure)

    def role(self, role_id: str) -> RoleSpec:
        """The role's spec; a role the scenario does not list is unlimited, on office hours."""
        spec = self.roles.get(role_id)
        if spec is not None:
            return spec
        return RoleSpec(
            role_id, None, Hours.OFFICE, self.office_open, self.office_close, 0, 0.0, 1, 0.0,
            None, None,
        )

    def task(self, activity: str) -> TaskSpec:
        """The activity's spec; one the scenario does not list takes 15 minutes, no lag."""
        spec = self.tasks.get(activity)
        if spec is not None:
            return spec
        return TaskSpec(activity, Distribution("fixed", 15.0), None, (), None)


_SHORT_PATHS: Final = {
    "name", "description", "start", "horizon_days", "warm_up_days", "drain_days",
    "replications", "seed", "dispatch", "demand", "background_demand", "timeline_days",
}


def field_keys(path: str) -> tuple[str, ...]:
    """The keys of a field path as ``with_values`` reads it: 'demand' and 'scenario.demand'
    give the same."""
    return tuple(_expand_path(path))


def _expand_path(path: str) -> list[str]:
    keys = _split_path(path)
    if len(keys) == 1 and keys[0] in _SHORT_PATHS:
        return ["scenario", keys[0]]
    return keys


def _split_path(path: str) -> list[str]:
    """Split 'tasks."Family informed".work' on dots outside quotes."""
    return [m.group(1) if m.group(1) is not None else m.group(2)
            for m in re.finditer(r'"([^"]*)"|([^.]+)', path)]


# ------------------------------------------------------------------------- loading


def default_scenario_path() -> Path:
    return Path(str(importlib.resources.files("simulation").joinpath(DEFAULT_SCENARIO)))


def load_scenario(path: Path | str | None, procedure: Procedure) -> Scenario:
    """Read and validate a scenario file (the built-in default when ``path`` is None)."""
    target = Path(path) if path is not None else default_scenario_path()
    source = str(path) if path is not None else f"the default scenario ({DEFAULT_SCENARIO})"
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            source, [Problem(source, "an existing scenario file", "no such file")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            source, [Problem(source, "a readable UTF-8 TOML file", type(exc).__name__)]
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"line {at.group(1)}, column {at.group(2)}" if at else "the file"
        what = re.sub(r"\s*\(at .*\)$", "", message) or "a syntax error"
        raise InputError(
            source, [Problem(where, "valid TOML", what.lower())],
            summary=f"{source}: not valid TOML",
        ) from exc
    return parse_scenario(data, source, procedure)


def parse_scenario(data: Mapping[str, Any], source: str, procedure: Procedure) -> Scenario:
    """Validate a scenario given as the mapping TOML gives; raise InputError with every problem."""
    return _Reader(source, procedure).scenario(data)


# ------------------------------------------------------------------------- the reader

_MISSING: Final = object()
_TIME: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


_SHOWN: Final = 40  # characters of a value shown in a message


def describe(value: Any) -> str:
    """Show a value found in a scenario or on the command line in a message: a scenario is
    configuration, not personal data, so its values may be repeated (text in quotes, long
    values cut short)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _cut(str(value))
    if isinstance(value, float):
        return _cut(f"{value:g}")
    if isinstance(value, str):
        return "an empty text" if not value else _quote(value)
    if isinstance(value, list):
        if not value:
            return "an empty list"
        return _cut("[" + ", ".join(_item(v) for v in value) + "]")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (date, time)):
        return value.isoformat()
    return type(value).__name__


def _item(value: Any) -> str:
    return repr(value) if isinstance(value, str) else describe(value)


def _quote(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else repr(text[:_SHOWN]) + "..."


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class _Reader:
    def __init__(self, source: str, procedure: Procedure) -> None:
        self.source = source
        self.procedure = procedure
        self.problems: list[Problem] = []
        self.invalid: set[str] = set()  # the paths of the fields with a problem

    # ---------------------------------------------------------------- primitives

    def bad(self, path: str, expected: str, found: str) -> None:
        self.problems.append(Problem(f"field '{path}'", expected, found))
        self.invalid.add(path)

    def ok(self, *paths: str) -> bool:
        """No problem was found in these fields (nor inside them): only then are they compared
        with each other, never a default put in place of a value with a problem."""
        return not any(
            bad == path or bad.startswith((f"{path}.", f"{path}["))
            for path in paths for bad in self.invalid
        )

    def table(self, data: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key, _MISSING)
        if value is _MISSING:
            return {}
        if not isinstance(value, dict):
            self.bad(path, "a table", describe(value))
            return {}
        return value

    def only(self, data: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.bad(where, "one of " + ", ".join(allowed), "an unknown field")

    def number(
        self, data: Mapping[str, Any], key: str, path: str, default: float | None = None, *,
        low: float | None = 0.0, high: float | None = None, low_open: bool = False,
        high_open: bool = False, integer: bool = False,
    ) -> float:
        value = data.get(key, _MISSING)
        fallback = default if default is not None else (low if low is not None else 0.0)
        if value is _MISSING:
            if default is None:
                self.bad(path, "a value (this field is required)", "none")
            return fallback
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or not math.isfinite(float(value)):
            self.bad(path, "a whole number" if integer else "a number", describe(value))
            return fallback
        number = float(value)
        too_low = low is not None and (number <= low if low_open else number < low)
        too_high = high is not None and (number >= high if high_open else number > high)
        if too_low or too_high:
            bounds = []
            if low is not None:
                bounds.append(f"{'more than' if low_open else 'at least'} {low:g}")
            if high is not None:
                bounds.append(f"{'less than' if high_open else 'at most'} {high:g}")
            noun = "a whole number " if integer else "a number "
            self.bad(path, noun + " and ".join(bounds), describe(value))
            return fallback
        return number

    def integer(self, data: Mapping[str, Any], key: str, path: str, default: int | None = None,
                *, low: int = 0, high: int | None = None) -> int:
        return int(self.number(data, key, path, None if default is None else float(default),
                               low=low, high=None if high is None else float(high), integer=True))

    def probability(self, value: Any, path: str, *, allow_bool: bool = False) -> float:
        if allow_bool and isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            0.0 <= float(value) <= 1.0
        ):
            expected = "true, false or a probability from 0 to 1" if allow_bool else \
                "a probability from 0 to 1"
            self.bad(path, expected, describe(value))
            return 0.0
        return float(value)

    def text(self, data: Mapping[str, Any], key: str, path: str, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            self.bad(path, "a text", describe(value))
            return default
        return value

    def clock_time(self, data: Mapping[str, Any], key: str, path: str, default: time) -> time:
        value = data.get(key, _MISSING)
        if value is _MISSING:
            return default
        return self.time_value(value, path) or default

    def time_value(self, value: Any, path: str) -> time | None:
        if isinstance(value, time):
            return value.replace(second=0, microsecond=0)
        if isinstance(value, str):
            match = _TIME.fullmatch(value.strip())
            if match:
                return time(int(match.group(1)), int(match.group(2)))
        self.bad(path, "a time of day such as \"09:00\"", describe(value))
        return None

    def date_value(self, data: Mapping[str, Any], key: str, path: str) -> date | None:
        value = data.get(key, _MISSING)
        if value is _MISSING:
            self.bad(path, "a date such as 2024-04-01 (this field is required)", "none")
            return None
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.bad(path, "a date such as 2024-04-01", describe(value))
        return None

    def weights(self, data: Mapping[str, Any], key: str, path: str, n: int) -> tuple[float, ...]:
        value = data.get(key, _MISSING)
        if value is _MISSING:
            return (1.0,) * n
        if not isinstance(value, list) or len(value) != n:
            found = f"a list of {len(value)}" if isinstance(value, list) else describe(value)
            self.bad(path, f"a list of {n} weights", found)
            return (1.0,) * n
        out: list[float] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not (
                math.isfinite(float(item)) and float(item) >= 0
            ):
                self.bad(path, f"a list of {n} weights, each a number of at least 0",
                         "a list with " + describe(item))
                return (1.0,) * n
            out.append(float(item))
        if sum(out) <= 0:
            self.bad(path, "weights with a positive total", "all zero")
            return (1.0,) * n
        return tuple(out)

    def distribution(self, value: Any, path: str, *, unit: bool = False) -> Delay | None:
        """A number (fixed) or a table {distribution = ..., parameters [, unit]}."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(float(value)) or float(value) < 0:
                self.bad(path, "a number of at least 0", describe(value))
                return None
            return Delay(Distribution("fixed", float(value)))
        if not isinstance(value, dict):
            self.bad(path, "a number or a table such as {distribution = \"exponential\", "
                     "mean = 30}", describe(value))
            return None
        kind = value.get("distribution", _MISSING)
        params = {
            "fixed": ("value",), "exponential": ("mean",), "lognormal": ("mean", "sd"),
            "triangular": ("low", "mode", "high"), "uniform": ("low", "high"),
            "empirical": ("values", "weights"),
        }
        if kind not in _DISTRIBUTIONS:
            self.bad(f"{path}.distribution", "one of " + ", ".join(map(repr, _DISTRIBUTIONS)),
                     "none" if kind is _MISSING else describe(kind))
            return None
        allowed = ["distribution", *params[str(kind)]] + (["unit"] if unit else [])
        self.only(value, allowed, path)
        lag_unit = LagUnit.MINUTES
        if unit and "unit" in value:
            try:
                lag_unit = LagUnit(value["unit"])
            except ValueError:
                self.bad(f"{path}.unit", "one of " + ", ".join(repr(u.value) for u in LagUnit),
                         describe(value["unit"]))
        before = len(self.problems)

        def num(key: str, *, positive: bool = False) -> float:
            return self.number(value, key, f"{path}.{key}", low=0.0, low_open=positive)

        if kind == "fixed":
            dist = Distribution("fixed", num("value"))
        elif kind == "exponential":
            dist = Distribution("exponential", num("mean", positive=True))
        elif kind == "lognormal":
            dist = Distribution("lognormal", num("mean", positive=True), num("sd"))
        elif kind == "triangular":
            low, mode, high = num("low"), num("mode"), num("high")
            if len(self.problems) == before and not low <= mode <= high:
                self.bad(path, "low <= mode <= high", f"{low:g}, {mode:g}, {high:g}")
            dist = Distribution("triangular", low, mode, high)
        elif kind == "uniform":
            low, high = num("low"), num("high")
            if len(self.problems) == before and not low <= high:
                self.bad(path, "low <= high", f"{low:g}, {high:g}")
            dist = Distribution("uniform", low, high)
        else:
            values = value.get("values", _MISSING)
            weights = value.get("weights", _MISSING)
            if not isinstance(values, list) or not values or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) >= 0
                for v in values
            ):
                self.bad(f"{path}.values", "a non-empty list of numbers of at least 0",
                         "none" if values is _MISSING else describe(values))
                return None
            wts: tuple[float, ...] = ()
            if weights is not _MISSING:
                wts = self.weights(value, "weights", f"{path}.weights", len(values))
            dist = Distribution("empirical", values=tuple(float(v) for v in values), weights=wts)
        if len(self.problems) != before:
            return None
        return Delay(dist, lag_unit)

    # ---------------------------------------------------------------- sections

    def scenario(self, data: Mapping[str, Any]) -> Scenario:
        self.only(data, ["scenario", "calendar", "routes", "roles", "tasks", "loops", "slips",
                         "ledger"], "")
        self.problems.extend(ledger_problems(data))  # where each number comes from
        head = self.table(data, "scenario", "scenario")
        self.only(head, sorted(_SHORT_PATHS), "scenario")
        name = self.text(head, "name", "scenario.name", "scenario")
        description = self.text(head, "description", "scenario.description", "")
        start = self.date_value(head, "start", "scenario.start") or date(2024, 4, 1)
        horizon = self.integer(head, "horizon_days", "scenario.horizon_days", 365, low=1,
                               high=3660)
        warm_up = self.integer(head, "warm_up_days", "scenario.warm_up_days", 0, low=0,
                               high=3660)
        drain = self.integer(head, "drain_days", "scenario.drain_days", 180, low=0, high=3660)
        replications = self.integer(head, "replications", "scenario.replications", 20, low=1,
                                    high=100_000)
        seed = self.integer(head, "seed", "scenario.seed", 1, low=0)
        dispatch_raw = head.get("dispatch", Dispatch.FCFS.value)
        try:
            dispatch = Dispatch(dispatch_raw)
        except ValueError:
            self.bad("scenario.dispatch", "'fcfs' (first come, first served) or 'edf' "
                     "(earliest deadline first)", describe(dispatch_raw))
            dispatch = Dispatch.FCFS
        demand = self.number(head, "demand", "scenario.demand", 1.0, low=0.0, low_open=True)
        background_demand = self.number(head, "background_demand", "scenario.background_demand",
                                        1.0, low=0.0)
        timeline = self.integer(head, "timeline_days", "scenario.timeline_days", 7, low=1)

        cal = self.table(data, "calendar", "calendar")
        self.only(cal, ["open", "close"], "calendar")
        office_open = self.clock_time(cal, "open", "calendar.open", time(9, 0))
        office_close = self.clock_time(cal, "close", "calendar.close", time(17, 0))
        if self.ok("calendar.open", "calendar.close") and office_open >= office_close:
            self.bad("calendar.close", f"a time after calendar.open ({office_open:%H:%M})",
                     f"{office_close:%H:%M}")

        routes = {
            rid: self.route(rid, body)
            for rid, body in sorted(self.table(data, "routes", "routes").items())
        }
        roles = {
            rid: self.role_spec(rid, body, office_open, office_close)
            for rid, body in self.table(data, "roles", "roles").items()
        }
        tasks = {
            name: spec
            for name, body in self.table(data, "tasks", "tasks").items()
            if (spec := self.task(name, body, roles)) is not None
        }
        self.diaries_only_booked(roles, tasks)
        self.some_work(data, routes, roles, background_demand)
        loops = self.loops(self.table(data, "loops", "loops"))
        slips = self.slips(self.table(data, "slips", "slips"))
        if self.problems:
            raise InputError(
                self.source, self.problems,
                summary=f"{self.source}: {len(self.problems)} problem(s) in the scenario",
            )
        return Scenario(
            name=name, description=description, start=start, horizon_days=horizon,
            warm_up_days=warm_up, drain_days=drain, replications=replications, seed=seed,
            dispatch=dispatch, demand=demand, background_demand=background_demand,
            timeline_days=timeline, office_open=office_open,
            office_close=office_close, routes=routes, roles=roles, tasks=tasks, loops=loops,
            slips=slips, source=self.source, data=copy.deepcopy(dict(data)),
        )

    def some_work(self, data: Mapping[str, Any], routes: Mapping[str, Route],
                  roles: Mapping[str, RoleSpec], background_demand: float) -> None:
        """Cases arrive, or at least the roles' other work does (a scenario of background work
        alone studies the queues without the procedure); otherwise nothing would happen."""
        if any(r.annual_volume > 0 for r in routes.values()) or not self.ok("routes"):
            return
        other_work = background_demand > 0 and any(
            (spec.background is not None and spec.background.share > 0)
            or (spec.diary is not None and spec.diary.background_per_working_day > 0)
            for spec in roles.values()
        )
        raw_roles = data.get("roles")
        maybe_other = not self.ok("roles") and isinstance(raw_roles, dict) and any(
            isinstance(body, dict) and ("background" in body or "diary" in body)
            for body in raw_roles.values()
        )
        if not other_work and not maybe_other:
            self.bad("routes", "at least one [routes.<id>] table with an annual_volume above 0 "
                     "(without one no case arrives, and no role has other work to simulate)",
                     "no route" if not routes else "only volumes of 0")

    def route(self, rid: str, body: Any) -> Route:
        path = f"routes.{rid}"
        if not isinstance(body, dict):
            self.bad(path, "a table", describe(body))
            body = {}
        self.only(body, ["annual_volume", "weekday", "hours", "months", "surges", "attributes",
                         "offence"], path)
        volume = self.number(body, "annual_volume", f"{path}.annual_volume", low=0.0)
        weekday = self.weights(body, "weekday", f"{path}.weekday", 7)
        hours = self.weights(body, "hours", f"{path}.hours", 24)
        months = self.weights(body, "months", f"{path}.months", 12)
        surges: list[Surge] = []
        raw_surges = body.get("surges", [])
        if not isinstance(raw_surges, list):
            self.bad(f"{path}.surges", "a list of tables [[...surges]]", describe(raw_surges))
            raw_surges = []
        for i, raw in enumerate(raw_surges):
            where = f"{path}.surges[{i}]"
            if not isinstance(raw, dict):
                self.bad(where, "a table with start, end and multiplier", describe(raw))
                continue
            self.only(raw, ["start", "end", "multiplier"], where)
            s = self.date_value(raw, "start", f"{where}.start")
            e = self.date_value(raw, "end", f"{where}.end")
            m = self.number(raw, "multiplier", f"{where}.multiplier", low=0.0)
            if s is not None and e is not None:
                if e < s:
                    self.bad(f"{where}.end", f"a date on or after start ({s})", describe(e))
                surges.append(Surge(s, e, m))
        attributes = self.route_attributes(body.get("attributes", {}), f"{path}.attributes")
        offence = self.offence(body.get("offence", _MISSING), f"{path}.offence")
        return Route(rid, volume, weekday, hours, months, tuple(surges), attributes, offence)

    def route_attributes(self, raw: Any, path: str) -> dict[str, float]:
        booleans = set(self.procedure.boolean_attributes)
        out = {name: 0.0 for name in self.procedure.boolean_attributes}
        if not isinstance(raw, dict):
            self.bad(path, "a table of attribute = true/false/probability", describe(raw))
            return out
        for name, value in raw.items():
            if name not in booleans:
                self.bad(f"{path}.{name}", "a true/false attribute of the procedure ("
                         + ", ".join(sorted(booleans)) + ")", "an unknown attribute")
                continue
            out[name] = self.probability(value, f"{path}.{name}", allow_bool=True)
        if (self.ok(f"{path}.youth_produced_imagery", f"{path}.alleged_is_child")
                and out.get("youth_produced_imagery", 0.0) > 0
                and out.get("alleged_is_child", 0.0) < 1):
            self.bad(f"{path}.alleged_is_child",
                     "true whenever youth_produced_imagery can be true (young people shared "
                     "the images, so the person alleged is a child)", "not always true")
        return out

    def offence(self, raw: Any, path: str) -> dict[str, float]:
        offences = list(self.procedure.offences)
        if raw is _MISSING:
            return dict.fromkeys(offences, 1.0)
        if not isinstance(raw, dict) or not raw:
            self.bad(path, "a table of offence = weight", describe(raw))
            return dict.fromkeys(offences, 1.0)
        out: dict[str, float] = {}
        for name, value in raw.items():
            if name not in offences:
                self.bad(f"{path}.{name}", "an offence of the procedure (" + ", ".join(offences)
                         + ")", "an unknown offence")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self.bad(f"{path}.{name}", "a weight of at least 0", describe(value))
            else:
                out[name] = float(value)
        if out and sum(out.values()) <= 0:
            self.bad(path, "weights with a positive total", "all zero")
        return out or dict.fromkeys(offences, 1.0)

    def role_spec(self, rid: str, body: Any, office_open: time, office_close: time) -> RoleSpec:
        path = f"roles.{rid}"
        if rid not in self.procedure.roles:
            self.bad(path, "a role of the procedure (" + ", ".join(self.procedure.roles) + ")",
                     "an unknown role")
        if not isinstance(body, dict):
            self.bad(path, "a table", describe(body))
            body = {}
        self.only(body, ["headcount", "hours", "open", "close", "out_of_hours",
                         "leave_days_per_year", "leave_block_days", "absence_rate",
                         "background", "diary"], path)
        raw_head = body.get("headcount", UNLIMITED)
        headcount: int | None
        if raw_head == UNLIMITED:
            headcount = None
        elif isinstance(raw_head, int) and not isinstance(raw_head, bool) and raw_head >= 1:
            headcount = raw_head
        else:
            self.bad(f"{path}.headcount", "a whole number of at least 1, or \"unlimited\"",
                     describe(raw_head))
            headcount = 1
        known_head = self.ok(f"{path}.headcount")
        raw_hours = body.get("hours", Hours.OFFICE.value)
        try:
            hours = Hours(raw_hours)
        except ValueError:
            self.bad(f"{path}.hours", "'office' (working days, open to close) or 'always'",
                     describe(raw_hours))
            hours = Hours.OFFICE
        opening = self.clock_time(body, "open", f"{path}.open", office_open)
        closing = self.clock_time(body, "close", f"{path}.close", office_close)
        sources = [f"{path}.{key}" if key in body else f"calendar.{key}"
                   for key in ("open", "close")]
        if self.ok(*sources) and opening >= closing:
            self.bad(f"{path}.close", f"a time after {sources[0]} ({opening:%H:%M})",
                     f"{closing:%H:%M}")
        ooh = self.integer(body, "out_of_hours", f"{path}.out_of_hours", 0, low=0)
        if known_head and self.ok(f"{path}.out_of_hours"):
            if headcount is not None and ooh > headcount:
                self.bad(f"{path}.out_of_hours", f"at most the headcount ({headcount})",
                         f"{ooh}")
            if headcount is None and ooh:
                self.bad(f"{path}.out_of_hours", "0 for an unlimited role", f"{ooh}")
        leave = self.number(body, "leave_days_per_year", f"{path}.leave_days_per_year", 0.0,
                            low=0.0, high=200.0)
        block = self.integer(body, "leave_block_days", f"{path}.leave_block_days", 5, low=1,
                             high=100)
        absence = self.number(body, "absence_rate", f"{path}.absence_rate", 0.0, low=0.0,
                              high=1.0, high_open=True)
        background = None
        if "background" in body:
            raw_bg = self.table(body, "background", f"{path}.background")
            self.only(raw_bg, ["share", "job"], f"{path}.background")
            share = self.number(raw_bg, "share", f"{path}.background.share", low=0.0, high=1.0,
                                high_open=True)
            job = self.distribution(raw_bg.get("job", _MISSING), f"{path}.background.job")
            if job is not None and job.distribution.mean() <= 0:
                self.bad(f"{path}.background.job", "jobs with a positive mean length", "0")
            if known_head and headcount is None:
                self.bad(f"{path}.background", "no background work for an unlimited role "
                         "(nobody queues for it)", "a background table")
            if job is not None:
                background = Background(share, job.distribution)
        diary = None
        if "diary" in body:
            diary = self.diary(self.table(body, "diary", f"{path}.diary"), f"{path}.diary")
            if known_head and headcount is None:
                self.bad(f"{path}.diary", "a diary only for a role with a headcount",
                         "an unlimited role")
            if background is not None:
                self.bad(f"{path}.background", "no background jobs for a role with a diary (its "
                         "other meetings are the diary's background bookings)", "both")
        return RoleSpec(rid, headcount, hours, opening, closing, ooh, leave, block, absence,
                        background, diary)

    def diary(self, raw: dict[str, Any], path: str) -> Diary | None:
        self.only(raw, ["slots", "slot_minutes", "background_per_working_day",
                        "background_lead"], path)
        slots_raw = raw.get("slots", _MISSING)
        slots: list[time] = []
        if not isinstance(slots_raw, list) or not slots_raw:
            self.bad(f"{path}.slots", "a list of slot start times such as [\"09:30\", \"13:30\"]",
                     "none" if slots_raw is _MISSING else describe(slots_raw))
        else:
            for i, item in enumerate(slots_raw):
                t = self.time_value(item, f"{path}.slots[{i}]")
                if t is not None:
                    slots.append(t)
            if slots != sorted(set(slots)):
                self.bad(f"{path}.slots", "distinct times in increasing order", "another order")
        minutes = self.number(raw, "slot_minutes", f"{path}.slot_minutes", low=0.0,
                              low_open=True)
        per_day = self.number(raw, "background_per_working_day",
                              f"{path}.background_per_working_day", 0.0, low=0.0)
        lead_raw = raw.get("background_lead", 0)
        lead = self.distribution(lead_raw, f"{path}.background_lead")
        if not slots or lead is None:
            return None
        return Diary(tuple(slots), minutes, per_day, lead.distribution)

    def task(self, name: str, body: Any, roles: Mapping[str, RoleSpec]) -> TaskSpec | None:
        path = f'tasks."{name}"'
        flow_tasks = [b for b in walk(self.procedure.flow) if isinstance(b, Task)]
        lanes = {t.role for t in flow_tasks if t.activity == name}
        if not lanes:
            self.bad(path, "an activity in the procedure's flow", "an unknown activity"
                     if name not in self.procedure.activities else "an activity not in the flow")
        if not isinstance(body, dict):
            self.bad(path, "a table", describe(body))
            return None
        self.only(body, ["work", "lag", "extra_roles", "booking"], path)
        work = self.distribution(body.get("work", 15.0), f"{path}.work")
        lag = None
        if "lag" in body:
            lag = self.distribution(body["lag"], f"{path}.lag", unit=True)
        extra_raw = body.get("extra_roles", [])
        extra: list[str] = []
        if not isinstance(extra_raw, list):
            self.bad(f"{path}.extra_roles", "a list of roles", describe(extra_raw))
        else:
            for item in extra_raw:
                if not isinstance(item, str) or item not in self.procedure.roles:
                    self.bad(f"{path}.extra_roles", "roles of the procedure ("
                             + ", ".join(self.procedure.roles) + ")", describe(item))
                elif item not in extra:
                    extra.append(str(item))
        booking = None
        if "booking" in body:
            raw_booking = self.table(body, "booking", f"{path}.booking")
            self.only(raw_booking, ["lead_working_days"], f"{path}.booking")
            lead = self.integer(raw_booking, "lead_working_days",
                                f"{path}.booking.lead_working_days", 0, low=0, high=250)
            booking = Booking(lead)
            for lane in sorted(lanes):
                spec = roles.get(lane)
                if not self.ok(f"roles.{lane}"):
                    continue  # its problems are reported; the diary may be one of them
                if spec is None or spec.diary is None:
                    self.bad(f"{path}.booking", f"a diary for the role '{lane}' "
                             f"([roles.{lane}.diary]) to book the step into", "none")
        if work is None:
            return None
        return TaskSpec(name, work.distribution, lag, tuple(extra), booking)

    def diaries_only_booked(self, roles: Mapping[str, RoleSpec],
                            tasks: Mapping[str, TaskSpec]) -> None:
        """A role with a diary is only booked into slots: every step that needs it must be a
        booked step in its lane."""
        diary_roles = {r for r, spec in roles.items() if spec.diary is not None}
        for task in self.procedure.tasks():
            spec = tasks.get(task.activity)
            if not self.ok(f'tasks."{task.activity}"'):
                continue  # what was written for the step has problems of its own
            act = self.procedure.activities[task.activity]
            needed = {task.role, *act.participants, *(spec.extra_roles if spec else ())}
            for role in sorted(r for r in needed & diary_roles if self.ok(f"roles.{r}")):
                if role != task.role or spec is None or spec.booking is None:
                    self.bad(f'tasks."{task.activity}"', f"a booking in the diary of '{role}' "
                             f"(a role with a diary is only booked into its slots)",
                             "a step that needs the role without one")

    def loops(self, raw: dict[str, Any]) -> dict[str, float]:
        ids = [loop.id for loop in self.procedure.loops()]
        out: dict[str, float] = {}
        for key, value in raw.items():
            if key not in ids:
                self.bad(f"loops.{key}", "a loop of the procedure (" + ", ".join(ids) + ")",
                         "an unknown loop")
                continue
            p = self.probability(value, f"loops.{key}")
            if p >= 1.0:
                self.bad(f"loops.{key}", "a probability below 1 (the loop must end)", "1")
                p = 0.0
            out[key] = p
        return out

    def slips(self, raw: dict[str, Any]) -> Slips:
        self.only(raw, ["skip", "order", "forbidden"], "slips")
        in_flow = {b.activity for b in walk(self.procedure.flow) if isinstance(b, Task)}
        skip: dict[str, float] = {}
        skip_raw = self.table(raw, "skip", "slips.skip")
        for name, value in skip_raw.items():
            where = f'slips.skip."{name}"'
            act = self.procedure.activities.get(name)
            if name not in in_flow or act is None or act.kind is not Kind.TASK:
                self.bad(where, "a step of the procedure's flow (not 'Case closed')",
                         "an unknown activity" if act is None else "another activity")
                continue
            skip[name] = self.probability(value, where)
        order: list[OrderSlip] = []
        for i, item in enumerate(self.list_of_tables(raw, "order", "slips.order")):
            where = f"slips.order[{i}]"
            self.only(item, ["activity", "before", "probability"], where)
            names = []
            for key in ("activity", "before"):
                value = item.get(key)
                act = self.procedure.activities.get(value) if isinstance(value, str) else None
                if act is None or value not in in_flow or act.kind is not Kind.TASK:
                    self.bad(f"{where}.{key}", "a step of the procedure's flow ("
                             + ", ".join(self._steps(in_flow)) + ")",
                             "none" if value is None else describe(value))
                names.append(value if isinstance(value, str) else "")
            if self.ok(f"{where}.activity", f"{where}.before") and names[0] == names[1]:
                self.bad(f"{where}.before", "an activity other than 'activity'", "the same")
            p = self.probability(item.get("probability", 0.0), f"{where}.probability")
            order.append(OrderSlip(names[0], names[1], p))
        forbidden: list[ForbiddenSlip] = []
        for i, item in enumerate(self.list_of_tables(raw, "forbidden", "slips.forbidden")):
            where = f"slips.forbidden[{i}]"
            self.only(item, ["activity", "after", "probability"], where)
            event = item.get("activity")
            act = self.procedure.activities.get(event) if isinstance(event, str) else None
            if act is None or act.kind is not Kind.FORBIDDEN:
                forbidden_names = [a.name for a in self.procedure.activities.values()
                                   if a.kind is Kind.FORBIDDEN]
                self.bad(f"{where}.activity", "a forbidden event of the procedure ("
                         + ", ".join(forbidden_names) + ")",
                         "none" if event is None else describe(event))
            after_raw = item.get("after")
            after = after_raw if isinstance(after_raw, str) else None
            if after_raw is not None and after not in in_flow:
                self.bad(f"{where}.after", "a step of the procedure's flow ("
                         + ", ".join(self._steps(in_flow, tasks_only=False)) + ")",
                         describe(after_raw))
                after = None
            p = self.probability(item.get("probability", 0.0), f"{where}.probability")
            forbidden.append(ForbiddenSlip(event if isinstance(event, str) else "", after, p))
        return Slips(skip, tuple(order), tuple(forbidden))

    def _steps(self, in_flow: set[str], *, tasks_only: bool = True) -> list[str]:
        """The flow's steps, in the order of the flow, quoted for a message."""
        names = dict.fromkeys(b.activity for b in walk(self.procedure.flow)
                              if isinstance(b, Task) and b.activity in in_flow)
        return [repr(n) for n in names
                if not tasks_only or self.procedure.activities[n].kind is Kind.TASK]

    def list_of_tables(self, raw: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.bad(path, f"a list of tables ([[{path}]])", describe(value))
            return []
        return value

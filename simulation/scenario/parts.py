"""The parts of a scenario: frozen records of what a scenario file says, and its random quantities.

Everything here only stores what it is given (the reader, ``simulation.scenario.reader``,
validates a file before it builds these), except ``Distribution``, which also draws from itself
with a ``numpy.random.Generator`` passed in (no module-level random state).
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DISTRIBUTIONS",
    "Background",
    "Booking",
    "Delay",
    "Diary",
    "Dispatch",
    "Distribution",
    "ForbiddenSlip",
    "Hours",
    "LagUnit",
    "OrderSlip",
    "RoleSpec",
    "Route",
    "Slips",
    "Surge",
    "TaskSpec",
    "cumulative",
]


class Dispatch(enum.StrEnum):
    """The order in which a role's queue is served."""

    FCFS = "fcfs"  # first come, first served
    EDF = "edf"  # earliest deadline first (deadlines from the procedure's rules)


class Hours(enum.StrEnum):
    """When a role's people are on duty."""

    OFFICE = "office"  # working days (model.calendar), between open and close
    ALWAYS = "always"  # every minute of every day


class LagUnit(enum.StrEnum):
    """The unit of a step's lag (``Delay``)."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"  # elapsed days of 24 hours
    WORKING_DAYS = "working days"  # office time of the scenario's calendar


def cumulative(weights: Sequence[float]) -> list[float]:
    """The cumulative probabilities of the weights, as ``Generator.choice(p=...)`` computes them:
    ``bisect_right(cumulative(w), rng.random())`` picks what ``rng.choice(len(w), p=w / sum)``
    picks, from the same draw, without its checks on every call (tested to be so)."""
    p = np.asarray(weights, dtype=float)
    cdf = (p / p.sum()).cumsum()
    cdf /= cdf[-1]
    return [float(x) for x in cdf]


DISTRIBUTIONS: Final = ("fixed", "exponential", "lognormal", "triangular", "uniform", "empirical")


@dataclass(frozen=True)
class Distribution:
    """A non-negative random quantity. ``kind`` is one of fixed, exponential (mean), lognormal
    (mean, sd of the quantity itself), triangular (low, mode, high), uniform (low, high) and
    empirical (values, with optional weights).

    Examples
    --------
    >>> import numpy as np
    >>> Distribution("triangular", 10, 20, 60).mean()
    30.0
    >>> print(Distribution("lognormal", 30, 10))
    lognormal, mean 30, sd 10
    >>> 5.0 <= Distribution("uniform", 5.0, 10.0).sample(np.random.default_rng(1)) <= 10.0
    True
    """

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
            mu, sigma = self._lognormal_parameters
            return float(rng.lognormal(mu, sigma))
        if kind == "triangular":
            if self.a == self.c:
                return self.a
            return float(rng.triangular(self.a, self.b, self.c))
        if kind == "uniform":
            return float(rng.uniform(self.a, self.b))
        return self.values[bisect_right(self._cumulative, rng.random())]

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

    @cached_property
    def _lognormal_parameters(self) -> tuple[float, float]:
        return self._lognormal()

    @cached_property
    def _cumulative(self) -> list[float]:
        return cumulative(self.weights or [1.0] * len(self.values))

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
    """A period in which a route's arrivals are multiplied."""

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
    """A role's people: how many, when they are on duty, leave, sickness and other work."""

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
        """The role has a headcount (people who queue), not unlimited."""
        return self.headcount is not None


@dataclass(frozen=True)
class Booking:
    """A step held in a slot of the lane role's diary, booked this many working days ahead."""

    lead_working_days: int


@dataclass(frozen=True)
class TaskSpec:
    """How a step of the flow is carried out: its work, lag, extra roles and booking."""

    activity: str
    work: Distribution  # minutes of the people's on-duty time
    lag: Delay | None
    extra_roles: tuple[str, ...]  # roles needed besides the lane and the model's participants
    booking: Booking | None


@dataclass(frozen=True)
class OrderSlip:
    """A step done early, just before another one, in a share of cases."""

    activity: str  # done early ...
    before: str  # ... just before this one
    probability: float


@dataclass(frozen=True)
class ForbiddenSlip:
    """A forbidden event of the procedure that happens in a share of cases."""

    activity: str  # a forbidden event of the procedure
    after: str | None  # when given: only in cases where it occurred, at some time after it
    probability: float


@dataclass(frozen=True)
class Slips:
    """Mistakes injected on purpose, so that the checker has deviations to find."""

    skip: Mapping[str, float] = field(default_factory=dict)
    order: tuple[OrderSlip, ...] = ()
    forbidden: tuple[ForbiddenSlip, ...] = ()

    @property
    def any(self) -> bool:
        """Some slip can happen."""
        return bool(
            any(p > 0 for p in self.skip.values())
            or any(s.probability > 0 for s in self.order)
            or any(s.probability > 0 for s in self.forbidden)
        )

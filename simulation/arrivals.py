"""When cases arrive: each route's expected cases per day and the drawn arrival times.

A route's annual volume is spread over the days by its weekday and month profiles (a weekday
that is not a working day of the run's calendar counts as a Sunday), normalised over the 365
days from the scenario's start so that the annual volume holds, multiplied by the scenario's
demand and by any surge that covers the day; each day's count is Poisson, and each case's time
of day is drawn from the route's hour profile. The engine (``simulation.engine``) starts a case
at each time.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from simulation.clock import Clock
from simulation.scenario import Route, Scenario
from simulation.streams import Purpose, Streams

__all__ = ["arrival_times", "expected_per_day"]


def arrival_times(scenario: Scenario, clock: Clock, streams: Streams) -> list[tuple[float, str]]:
    """(minute of the run, route id) of every case that arrives from the start of the warm-up
    to the end of the horizon, in time order."""
    first_day = 0
    last_day = scenario.warm_up_days + scenario.horizon_days
    out: list[tuple[float, str]] = []
    for route in scenario.routes.values():
        rng = streams(Purpose.ARRIVALS, route.id)
        expected = expected_per_day(route, scenario, clock, first_day, last_day)
        counts = rng.poisson(expected)
        hours = np.asarray(route.hours) / sum(route.hours)
        for offset, k in enumerate(counts.tolist()):
            if not k:
                continue
            day = first_day + offset
            hour = rng.choice(24, size=k, p=hours)
            minute = rng.uniform(0.0, 60.0, k)
            for h, m in zip(hour.tolist(), minute.tolist(), strict=True):
                out.append((clock.local_minutes(day, h * 60 + m), route.id))
    out.sort()
    return out


def expected_per_day(route: Route, scenario: Scenario, clock: Clock, first: int, last: int
                     ) -> npt.NDArray[np.float64]:
    """The route's expected cases on each day ``first`` to ``last - 1`` of the clock."""
    calendar = clock.calendar

    def weight(day: date) -> float:
        holiday = day.weekday() < 5 and not calendar.is_working_day(day)
        return route.weekday[6 if holiday else day.weekday()] * route.months[day.month - 1]

    # Normalise over the 365 days from the scenario's start, so the annual volume holds.
    norm = sum(weight(scenario.start + timedelta(days=i)) for i in range(365))
    out = np.empty(last - first)
    for i, d in enumerate(range(first, last)):
        day = clock.dates[d]
        w = weight(day)
        for surge in route.surges:
            if surge.start <= day <= surge.end:
                w *= surge.multiplier
        out[i] = route.annual_volume * scenario.demand * w / norm
    return out

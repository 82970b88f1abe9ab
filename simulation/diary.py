"""Conference diaries: the slots of a diary role's people (the independent chairs), booked by
cases with a lead of working days and by the other bookings that fill them too (a Poisson
number each working day, at office times, with their own lead). Built by
``simulation.staff.build_staff`` beside the role's ``Pool``; the engine books through ``book``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simulation.clock import Clock
from simulation.scenario import Scenario

if TYPE_CHECKING:
    from simulation.staff import Pool

__all__ = ["Diary"]


class Diary:
    """Slots in the diaries of a role's people, booked by cases and by background bookings."""

    def __init__(self, clock: Clock, pool: Pool, absent: list[set[int]],
                 rng: np.random.Generator, scenario: Scenario) -> None:
        spec = pool.spec.diary
        assert spec is not None  # only built for roles with a diary
        self.clock = clock
        self.pool = pool
        self.spec = spec
        self.slot_starts: list[list[float]] = [
            [clock.local(d, s) for s in spec.slots] if clock.working[d] else []
            for d in range(clock.n_days)
        ]
        self.free: list[list[list[int]]] = [
            [[p for p in range(len(pool.people)) if d not in absent[p]] for _ in starts]
            for d, starts in enumerate(self.slot_starts)
        ]
        self.available = [sum(len(f) for f in day) for day in self.free]
        self.taken_at: list[float] = []
        self._lead_day: dict[tuple[int, int], int] = {}  # (day, lead) -> first day allowed
        # Other bookings: a Poisson number each working day, at office times, with their lead.
        days = [d for d in range(clock.n_days) if clock.working[d]]
        counts = rng.poisson(spec.background_per_working_day * scenario.background_demand,
                             len(days))
        request: list[float] = []
        for d, k in zip(days, counts.tolist(), strict=True):
            opening = clock.local(d, scenario.office_open)
            closing = clock.local(d, scenario.office_close)
            request.extend(np.sort(rng.uniform(opening, closing, k)).tolist())
        leads = np.rint(spec.background_lead.sample_many(rng, len(request))).astype(int)
        self.bg_times = request
        self.bg_leads = leads.tolist()
        self.bg_next = 0

    def catch_up(self, now: float) -> None:
        times, leads = self.bg_times, self.bg_leads
        i = self.bg_next
        while i < len(times) and times[i] <= now:
            self.take(times[i], leads[i])
            i += 1
        self.bg_next = i

    def take(self, now: float, lead: int) -> tuple[int, float, float] | None:
        """Book the earliest free slot on or after the lead's working day: (person, earliest
        allowed, slot start), or None when the diaries are full to the clock's end."""
        clock = self.clock
        key = (clock.day_of(now), lead)
        day = self._lead_day.get(key)
        if day is None:
            day = self._lead_day[key] = clock.add_working_days(*key)
        earliest = math.inf
        for d in range(day, clock.n_days):
            starts = self.slot_starts[d]
            for j, start in enumerate(starts):
                if start < now:
                    continue
                earliest = min(earliest, start)
                free = self.free[d][j]
                if free:
                    person = free.pop(0)
                    self.taken_at.append(start)
                    return person, earliest, start
        return None

    def book(self, now: float, lead: int) -> tuple[int, float, float] | None:
        self.catch_up(now)
        return self.take(now, lead)

"""What the engine (``simulation.engine``) walks through the flow: a case, with its attributes,
what happened to it when and the slips drawn for it; the join a parallel block waits on; and
the count of the events a run handed SimPy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import simpy

from model.rules import AttributeValue
from simulation.scenario import ForbiddenSlip

__all__ = ["Case", "Join", "scheduled"]


class Case:
    """One case on its way through the flow: its attributes, what happened when (``occ``),
    and the slips drawn for it."""

    __slots__ = (
        "arrival", "attrs", "closed_at", "early", "forbidden", "id", "key", "logged", "no", "occ",
        "offence", "order_before", "record", "rng", "route", "s47_done", "skip", "skipped",
    )

    def __init__(self, no: int, route: str, arrival: float, logged: bool,
                 rng: np.random.Generator) -> None:
        self.no = no
        self.id = ""
        self.route = route
        self.arrival = arrival
        self.logged = logged
        self.record = False  # its steps, waits and slips recorded (logged, and not lean)
        self.rng = rng
        self.attrs: dict[str, AttributeValue] = {}  # the booleans, and the offence
        self.offence = ""
        self.key: tuple[Any, ...] = ()  # the route and the attributes' values (for caches)
        self.occ: dict[str, list[float]] = {}
        self.skip: frozenset[str] = frozenset()
        self.skipped: set[str] = set()
        self.early: set[str] = set()
        self.order_before: dict[str, str] = {}
        self.forbidden: list[ForbiddenSlip] = []
        self.s47_done = False
        self.closed_at = math.inf


class Join(simpy.Event):
    """Succeeds when all of the given processes (just started) have ended, or fails with the
    first failure: SimPy's ``AllOf`` of processes, scheduled at the same moment and in the same
    order as it, without gathering their values (which nothing reads)."""

    def __init__(self, env: simpy.Environment, processes: list[simpy.Process]) -> None:
        super().__init__(env)
        self._left = len(processes)
        if not processes:
            self.succeed()
        for process in processes:
            process.callbacks.append(self._check)  # type: ignore[union-attr]

    def _check(self, event: simpy.Event) -> None:
        if self._value is not simpy.events.PENDING:
            return
        self._left -= 1
        if not event._ok:
            event._defused = True  # type: ignore[attr-defined]
            self.fail(event._value)
        elif not self._left:
            self.succeed()


def scheduled(env: simpy.Environment) -> int:
    """How many SimPy events the run scheduled (SimPy numbers them as it goes)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else 0

"""What the engine (``simulation.engine``) walks through the flow: a case, with its attributes,
what happened to it when and the slips drawn for it; the join a parallel block waits on; the
walk of a case's flow (SimPy's process, compiled with the engine) and the loop that runs SimPy's
events; and the count of the events a run handed SimPy."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np
import simpy

from model.rules import AttributeValue
from simulation.scenario import ForbiddenSlip

__all__ = ["Case", "Join", "Walk", "run_until", "scheduled"]


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

    def __init__(self, env: simpy.Environment, processes: Sequence[simpy.Event]) -> None:
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


class Walk(simpy.Event):
    """SimPy's ``Process`` for the engine's generators, compiled with them: the same steps at the
    same moments in the same order (an initialising event of urgent priority, then the generator
    resumed with each event's value, or thrown its failure; the walk's own event scheduled when
    the generator ends or fails), without the interpreter's cost of SimPy's own, on the path
    every step of every case takes (``tests/simulation/test_join.py`` compares the two)."""

    def __init__(self, env: simpy.Environment,
                 generator: Generator[simpy.Event, Any, Any]) -> None:
        super().__init__(env)
        self._generator = generator
        start = simpy.Event(env)
        start.callbacks = [self._resume]
        start._value = None
        start._ok = True
        heappush(env._queue, (env._now + 0, simpy.events.URGENT, next(env._eid), start))

    def _resume(self, event: Any) -> None:
        # ``event`` is Any: SimPy types an event's callbacks as a list, but a processed event's
        # are None, which the compiled code would refuse
        env = self.env
        env._active_proc = self  # type: ignore[assignment]
        generator = self._generator
        while True:
            try:
                if event._ok:
                    event = generator.send(event._value)
                else:
                    event._defused = True  # type: ignore[attr-defined]
                    failure = type(event._value)(*event._value.args)
                    failure.__cause__ = event._value
                    event = generator.throw(failure)
            except StopIteration as end:
                self._ok = True
                self._value = end.args[0] if len(end.args) else None
                heappush(env._queue, (env._now + 0, simpy.events.NORMAL, next(env._eid), self))
                break
            except BaseException as failure:
                self._ok = False
                self._value = failure
                heappush(env._queue, (env._now + 0, simpy.events.NORMAL, next(env._eid), self))
                break
            callbacks = event.callbacks
            if callbacks is not None:
                callbacks.append(self._resume)
                break
        env._active_proc = None


def run_until(env: simpy.Environment, until: simpy.Event) -> None:
    """``env.run(until=until)``, the loop compiled: SimPy's ``step`` until ``until`` has been
    processed (nothing else may wait on ``until``: SimPy would stop before later callbacks)."""
    queue = env._queue
    pending: Any = until  # its callbacks become None (SimPy's types say a list: see Walk)
    event: Any
    while pending.callbacks is not None:
        if not queue:
            raise RuntimeError(f'No scheduled events left but "until" event was not '
                               f"triggered: {until}")
        now, _, _, event = heappop(queue)
        env._now = now
        callbacks = event.callbacks
        event.callbacks = None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            failure = type(event._value)(*event._value.args)
            failure.__cause__ = event._value
            raise failure


def scheduled(env: simpy.Environment) -> int:
    """How many SimPy events the run scheduled (SimPy numbers them as it goes)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else 0

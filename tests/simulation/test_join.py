"""The join a parallel block waits on (``simulation.cases.Join``) behaves as SimPy's ``AllOf`` of
the same processes: the same moments, the same order of everything that happens, and the first
failure handed to the waiting process."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy

from simulation.cases import Join

Gen = Generator[simpy.Event, Any, Any]
Waiter = Callable[[simpy.Environment, list[simpy.Process]], simpy.Event]


def _run(waiter: Waiter, seed: int) -> list[tuple[float, str]]:
    """Many cases, each of parallel branches of timeouts, some of them at the same times;
    what happened, in the order it happened."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    happened: list[tuple[float, str]] = []

    def branch(name: str, delays: list[float]) -> Gen:
        for d in delays:
            yield env.timeout(d)
        happened.append((env.now, f"{name} ends"))

    def case(no: int) -> Gen:
        yield env.timeout(float(rng.integers(0, 5)))
        for round_ in range(3):
            branches = [env.process(branch(f"{no}.{round_}.{k}",
                                           [float(v) for v in rng.integers(0, 3, 2)]))
                        for k in range(int(rng.integers(0, 4)))]
            yield waiter(env, branches)
            happened.append((env.now, f"{no} joined {round_}"))

    for no in range(40):
        env.process(case(no))
    env.run()
    return happened


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_join_happens_as_all_of_does(seed: int) -> None:
    ours = _run(lambda env, ps: Join(env, ps), seed)
    simpys = _run(lambda env, ps: env.all_of(ps), seed)
    assert len(ours) > 200
    assert ours == simpys


def test_a_failed_branch_fails_the_join() -> None:
    env = simpy.Environment()
    caught: list[str] = []

    def fine() -> Gen:
        yield env.timeout(2)

    def broken() -> Gen:
        yield env.timeout(1)
        raise ValueError("a branch went wrong")

    def parent() -> Gen:
        try:
            yield Join(env, [env.process(fine()), env.process(broken())])
        except ValueError as error:
            caught.append(f"{env.now}: {error}")

    env.process(parent())
    env.run()
    assert caught == ["1: a branch went wrong"]

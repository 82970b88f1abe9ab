"""The join a parallel block waits on (``simulation.cases.Join``) behaves as SimPy's ``AllOf`` of
the same processes, and the compiled walk and loop (``Walk``, ``run_until``) as SimPy's
``Process`` and ``Environment.run``: the same moments, the same order of everything that
happens, and the first failure handed to the waiting process."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy

from simulation.cases import Join, Walk, run_until

Gen = Generator[simpy.Event, Any, Any]
Waiter = Callable[[simpy.Environment, list[simpy.Event]], simpy.Event]


def _run(waiter: Waiter, seed: int, walk: bool = False) -> list[tuple[float, str]]:
    """Many cases, each of parallel branches of timeouts, some of them at the same times;
    what happened, in the order it happened (``walk``: on ``Walk`` and ``run_until``)."""
    env = simpy.Environment()
    start: Callable[[Gen], simpy.Event] = (lambda g: Walk(env, g)) if walk else env.process
    rng = np.random.default_rng(seed)
    happened: list[tuple[float, str]] = []

    def branch(name: str, delays: list[float]) -> Gen:
        for d in delays:
            yield env.timeout(d)
        happened.append((env.now, f"{name} ends"))

    def case(no: int) -> Gen:
        yield env.timeout(float(rng.integers(0, 5)))
        for round_ in range(3):
            branches = [start(branch(f"{no}.{round_}.{k}",
                                     [float(v) for v in rng.integers(0, 3, 2)]))
                        for k in range(int(rng.integers(0, 4)))]
            yield waiter(env, branches)
            happened.append((env.now, f"{no} joined {round_}"))

    everyone = env.all_of([start(case(no)) for no in range(40)])
    if walk:
        run_until(env, everyone)
    else:
        env.run(until=everyone)
    happened.append((env.now, "all done"))
    return happened


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_join_happens_as_all_of_does(seed: int) -> None:
    ours = _run(lambda env, ps: Join(env, ps), seed)
    simpys = _run(lambda env, ps: env.all_of(ps), seed)
    assert len(ours) > 200
    assert ours == simpys


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_compiled_walk_and_loop_happen_as_simpys_process_and_run_do(seed: int) -> None:
    for waiter in (lambda env, ps: Join(env, ps), lambda env, ps: env.all_of(ps)):
        assert _run(waiter, seed, walk=True) == _run(waiter, seed)


def test_a_failure_in_a_walk_reaches_whoever_waits_or_stops_the_run() -> None:
    env = simpy.Environment()
    caught: list[str] = []

    def broken() -> Gen:
        yield env.timeout(1)
        raise ValueError("a branch went wrong")

    def parent() -> Gen:
        try:
            yield Walk(env, broken())
        except ValueError as error:
            caught.append(f"{env.now}: {error}")
        return "parent done"

    done = Walk(env, parent())
    run_until(env, done)
    assert caught == ["1: a branch went wrong"] and done.value == "parent done"

    unwatched = Walk(env, broken())  # nobody waits for it: the run stops with its failure
    with pytest.raises(ValueError, match="a branch went wrong"):
        run_until(env, env.timeout(5))
    assert not unwatched.ok
    with pytest.raises(RuntimeError, match="No scheduled events left"):
        run_until(env, simpy.Event(env))


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

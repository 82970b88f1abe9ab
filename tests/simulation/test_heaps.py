"""The pools' compiled heaps hand out their items in ``heapq``'s order."""

from __future__ import annotations

import heapq
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.heaps import End, pop_end, pop_int, push_end, push_int

# a session of pushes (a key) and pops (None), as a pool makes them
_OPS = st.lists(st.one_of(st.none(), st.tuples(
    st.sampled_from([0.0, 1.5, 2.0, 2.0000000000000004, 7.25, 1e9]), st.integers(0, 60))),
    max_size=120)


@settings(max_examples=300, deadline=None)
@given(ops=_OPS)
def test_ends_come_off_as_heapq_gives_them(ops: list[tuple[float, int] | None]) -> None:
    """Ties in time are decided by the order number; every (time, order) is distinct."""
    ours: list[End] = []
    theirs: list[tuple[float, int, int, bool]] = []
    seen: set[tuple[float, int]] = set()
    for n, op in enumerate(ops):
        if op is None or op in seen:
            if theirs:
                got = pop_end(ours)
                want = heapq.heappop(theirs)
                assert (got.at, got.order, got.index, got.on) == want
            continue
        seen.add(op)
        push_end(ours, End(op[0], op[1], n, n % 2 == 0))
        heapq.heappush(theirs, (op[0], op[1], n, n % 2 == 0))
        assert (ours[0].at, ours[0].order) == theirs[0][:2]
    while theirs:
        got = pop_end(ours)
        assert (got.at, got.order, got.index, got.on) == heapq.heappop(theirs)
    assert not ours


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.one_of(st.none(), st.integers(0, 40)), max_size=120))
def test_ints_come_off_as_heapq_gives_them(ops: list[int | None]) -> None:
    ours: list[int] = []
    theirs: list[int] = []
    for op in ops:
        if op is None or op in theirs:  # nobody is free twice
            if theirs:
                assert pop_int(ours) == heapq.heappop(theirs)
            continue
        push_int(ours, op)
        heapq.heappush(theirs, op)
    assert [pop_int(ours) for _ in range(len(ours))] == sorted(theirs)


def test_a_heapified_list_is_served_by_both() -> None:
    """``Pool.shifts`` rebuilds the free list with ``heapq.heapify``; the pops that follow are
    this module's."""
    rng = random.Random(4)
    free = rng.sample(range(500), 200)
    heapq.heapify(free)
    expected = sorted(free)
    push_int(free, 1000)
    assert [pop_int(free) for _ in range(len(free))] == [*expected, 1000]


def test_repr_shows_the_end() -> None:
    assert repr(End(2.5, 3, 1, True)) == "End(2.5, 3, 1, True)"

"""The two heaps a pool of people works through most (``simulation.staff``), compiled with it.

A pool keeps the ends of its background jobs in time order (``End``, ``push_end``, ``pop_end``)
and the people free and on duty, lowest number first (``push_int``, ``pop_int``). The standard
library's ``heapq`` does the same, but compares its items through the interpreter: a tuple's
items one by one, and each float or int as an object. Compiled, an ``End``'s time and number are
plain machine numbers, compared directly.

Every key here is distinct (no two ends share their place in the order of events, no person is
free twice), so the smallest item is always the same one whichever way a heap arranges the
others: these heaps hand out their items in exactly ``heapq``'s order
(``tests/simulation/test_heaps.py``).

The two pairs are the same sift written twice on purpose, once per item type: a generic version
(a key function, or ``TypeVar`` items) would be compiled as comparisons between objects, which is
the cost these heaps exist to remove.
"""

from __future__ import annotations

__all__ = ["End", "pop_end", "pop_int", "push_end", "push_int"]


class End:
    """A background job's end: when, its place among SimPy's events (a tie's decider), whose,
    and whether that person is on duty then."""

    __slots__ = ("at", "index", "on", "order")

    def __init__(self, at: float, order: int, index: int, on: bool) -> None:
        self.at = at
        self.order = order
        self.index = index
        self.on = on

    def __repr__(self) -> str:
        return f"End({self.at!r}, {self.order}, {self.index}, {self.on})"


def _before(a: End, b: End) -> bool:
    return a.at < b.at or (a.at == b.at and a.order < b.order)


def push_end(heap: list[End], item: End) -> None:
    """Put ``item`` on ``heap`` (``heapq.heappush`` by ``(at, order)``)."""
    heap.append(item)
    pos = len(heap) - 1
    while pos > 0:
        parent = (pos - 1) >> 1
        above = heap[parent]
        if not _before(item, above):
            break
        heap[pos] = above
        pos = parent
    heap[pos] = item


def pop_end(heap: list[End]) -> End:
    """Take the earliest end off ``heap`` (``heapq.heappop`` by ``(at, order)``)."""
    last = heap.pop()
    if not heap:
        return last
    top = heap[0]
    n = len(heap)
    pos = 0
    child = 1
    while child < n:
        smaller = heap[child]
        right = child + 1
        if right < n:
            other = heap[right]
            if _before(other, smaller):
                child = right
                smaller = other
        if not _before(smaller, last):
            break
        heap[pos] = smaller
        pos = child
        child = 2 * pos + 1
    heap[pos] = last
    return top


def push_int(heap: list[int], item: int) -> None:
    """Put ``item`` on ``heap`` (``heapq.heappush``)."""
    heap.append(item)
    pos = len(heap) - 1
    while pos > 0:
        parent = (pos - 1) >> 1
        above = heap[parent]
        if item >= above:
            break
        heap[pos] = above
        pos = parent
    heap[pos] = item


def pop_int(heap: list[int]) -> int:
    """Take the smallest item off ``heap`` (``heapq.heappop``)."""
    last = heap.pop()
    if not heap:
        return last
    top = heap[0]
    n = len(heap)
    pos = 0
    child = 1
    while child < n:
        smaller = heap[child]
        right = child + 1
        if right < n:
            other = heap[right]
            if other < smaller:
                child = right
                smaller = other
        if smaller >= last:
            break
        heap[pos] = smaller
        pos = child
        child = 2 * pos + 1
    heap[pos] = last
    return top

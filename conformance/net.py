"""The procedure's Petri net as plain data, for the exact replay and alignments of
:mod:`conformance.fitness` without importing pm4py (about 1.5 s to import, as long as the rest
of ``lscb check`` on a small log).

:func:`compile_net` follows the compile rules of :mod:`model.petri` (the pm4py net the reports
and the PNML export use) and gives the same places, transitions and arcs, which
:func:`from_pm4py` reads from such a net; a test holds the two to each other. Places and
transitions are numbered in order of name, so that everything computed on the net (markings,
tie-breaking) is the same on every run.

:class:`Replayer` replays a trace exactly: the set of markings a trace can reach, firing silent
transitions as needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from model.procedure import Block, Choice, Loop, Parallel, Procedure, Sequence, SubProcess, Task

__all__ = ["Net", "Replayer", "Transition", "compile_net", "from_pm4py"]

Marking = int
"""A marking of a safe net (one token at most per place): bit ``i`` set when place ``i`` is
marked. Bit masks make the replay and the reachability graph several times faster than sets."""


@dataclass(frozen=True)
class Transition:
    name: str
    label: str | None  # None: a silent transition
    pre: Marking  # input places (a bit mask)
    post: Marking  # output places (a bit mask)


@dataclass(frozen=True)
class Net:
    """A Petri net whose arcs all have weight 1, with its initial and final markings.
    ``places`` and ``transitions`` are in order of name."""

    places: tuple[str, ...]
    transitions: tuple[Transition, ...]
    initial: Marking
    final: Marking

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(t.label for t in self.transitions if t.label is not None)


def compile_net(procedure: Procedure) -> Net:
    """The procedure's workflow net, by the compile rules of :func:`model.petri.to_petri_net`."""
    places: list[str] = ["source", "sink"]
    arcs: list[tuple[str, str | None, list[str], list[str]]] = []  # name, label, pre, post

    def place(name: str) -> str:
        places.append(name)
        return name

    def block(b: Block, before: str, after: str) -> None:
        if isinstance(b, Task):
            arcs.append((b.id, b.activity, [before], [after]))
        elif isinstance(b, SubProcess):
            block(b.body, before, after)
        elif isinstance(b, Sequence):
            chain = [before, *(place(f"p_{b.id}_{n}") for n in range(1, len(b.children))), after]
            for index, child in enumerate(b.children):
                block(child, chain[index], chain[index + 1])
        elif isinstance(b, Choice):
            for number, branch in enumerate(b.branches, start=1):
                if branch.body is None:
                    arcs.append((f"tau_{b.id}_{number}", None, [before], [after]))
                else:
                    block(branch.body, before, after)
        elif isinstance(b, Parallel):
            starts, ends = [], []
            for number, child in enumerate(b.children, start=1):
                starts.append(place(f"p_{b.id}_{number}_start"))
                ends.append(place(f"p_{b.id}_{number}_end"))
                block(child, starts[-1], ends[-1])
            arcs.append((f"tau_{b.id}_split", None, [before], starts))
            arcs.append((f"tau_{b.id}_join", None, ends, [after]))
        elif isinstance(b, Loop):
            start = place(f"p_{b.id}_start")
            done = place(f"p_{b.id}_done")
            arcs.append((f"tau_{b.id}_enter", None, [before], [start]))
            block(b.body, start, done)
            arcs.append((f"tau_{b.id}_redo", None, [done], [start]))
            arcs.append((f"tau_{b.id}_exit", None, [done], [after]))
        else:
            raise TypeError(f"unknown block {type(b).__name__}")

    block(procedure.flow, "source", "sink")
    return _net(places, arcs, ["source"], ["sink"])


def from_pm4py(net: Any, initial: Any, final: Any) -> Net:
    """The plain form of a pm4py Petri net with arcs of weight 1 and markings of one token per
    place (ValueError otherwise)."""
    if any(a.weight != 1 for a in net.arcs) or any(
            n != 1 for n in (*initial.values(), *final.values())):
        raise ValueError("the net needs arcs of weight 1 and markings of one token per place")
    arcs = [
        (str(t.name), None if t.label is None else str(t.label),
         [str(a.source.name) for a in t.in_arcs], [str(a.target.name) for a in t.out_arcs])
        for t in net.transitions
    ]
    return _net([str(p.name) for p in net.places], arcs,
                [str(p.name) for p in initial], [str(p.name) for p in final])


def _net(places: list[str], arcs: list[tuple[str, str | None, list[str], list[str]]],
         initial: list[str], final: list[str]) -> Net:
    names = sorted(places)
    if len(set(names)) != len(names):
        raise ValueError("two places of the net have the same name")
    number = {name: i for i, name in enumerate(names)}

    def mask(places: list[str]) -> Marking:
        bits = 0
        for place in places:
            bits |= 1 << number[place]
        return bits

    transitions = tuple(
        Transition(name, label, mask(pre), mask(post))
        for name, label, pre, post in sorted(arcs, key=lambda arc: arc[0])
    )
    if len({t.name for t in transitions}) != len(transitions):
        raise ValueError("two transitions of the net have the same name")
    return Net(tuple(names), transitions, mask(initial), mask(final))


def fire(marking: Marking, t: Transition) -> Marking | None:
    """The marking after firing ``t``, None when it is not enabled (ValueError when a place would
    hold two tokens: the net is not safe)."""
    if marking & t.pre != t.pre:
        return None
    rest = marking ^ t.pre
    if rest & t.post:
        raise ValueError("the net is not safe (a place would hold two tokens)")
    return rest | t.post


class Replayer:
    """Exact replay on a safe net: the set of markings a trace can reach, firing silent
    transitions as needed. Reached sets are interned and each (set, activity) step is
    memoised, so variants that share a prefix share the work.

    A closed case's trace fits when the final marking is reachable after its last step; an open
    case's (no ``Case closed``) when the set is not empty: it is then a prefix of a run, since a
    sound net can complete from every marking it reaches."""

    def __init__(self, net: Net) -> None:
        self.silent = [t for t in net.transitions if t.label is None]
        self.visible: dict[str, list[Transition]] = {}
        for t in net.transitions:
            if t.label is not None:
                self.visible.setdefault(t.label, []).append(t)
        self.final = net.final
        self.states: dict[frozenset[Marking], int] = {}
        self.sets: list[frozenset[Marking]] = []
        self.steps: dict[tuple[int, str], int] = {}
        self.empty = self._intern(frozenset())
        self.start = self._intern(self._closure([net.initial]))

    def _closure(self, markings: Iterable[Marking]) -> frozenset[Marking]:
        seen = set(markings)
        todo = list(seen)
        while todo:
            marking = todo.pop()
            for t in self.silent:
                after = fire(marking, t)
                if after is not None and after not in seen:
                    seen.add(after)
                    todo.append(after)
        return frozenset(seen)

    def _intern(self, markings: frozenset[Marking]) -> int:
        number = self.states.get(markings)
        if number is None:
            number = self.states[markings] = len(self.sets)
            self.sets.append(markings)
        return number

    def step(self, state: int, activity: str) -> int:
        """The set reached from set number ``state`` by one step ``activity``."""
        key = (state, activity)
        found = self.steps.get(key)
        if found is None:
            reached = []
            for marking in self.sets[state]:
                for t in self.visible.get(activity, ()):
                    after = fire(marking, t)
                    if after is not None:
                        reached.append(after)
            found = self.steps[key] = self._intern(self._closure(reached))
        return found

    def fits(self, trace: tuple[str, ...], *, is_open: bool) -> bool:
        state = self.start
        for activity in trace:
            state = self.step(state, activity)
            if state == self.empty:
                return False
        return is_open or self.final in self.sets[state]

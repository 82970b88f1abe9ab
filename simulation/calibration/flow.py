"""What the procedure's flow tells calibration: the steps that can enable each step, which cases
reached a block of the flow, and which steps tell the value of an attribute at a gateway."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from model.procedure import Block, Choice, Loop, Parallel, SubProcess, Task, walk
from model.procedure import Sequence as Seq

__all__ = [
    "Cases",
    "activities_of",
    "enablers_of",
    "first_activity",
    "parents_of",
    "reach",
    "telling_steps",
]


def activities_of(block: Block | None) -> set[str]:
    if block is None:
        return set()
    if isinstance(block, Task):
        return {block.activity}
    if isinstance(block, (Seq, Parallel)):
        return set().union(*(activities_of(c) for c in block.children))
    if isinstance(block, Choice):
        return set().union(*(activities_of(b.body) for b in block.branches))
    return activities_of(block.body)


def enablers_of(flow: Block) -> dict[str, set[str]]:
    """For each activity, the activities whose completion can enable it (the steps the flow
    puts just before it; for a loop's first step, its last ones too)."""
    preds: dict[str, set[str]] = {}

    def visit(block: Block | None, before: frozenset[str]) -> frozenset[str]:
        if block is None:
            return before
        if isinstance(block, Task):
            preds.setdefault(block.activity, set()).update(before)
            return frozenset({block.activity})
        if isinstance(block, Seq):
            current = before
            for child in block.children:
                current = visit(child, current)
            return current
        if isinstance(block, Parallel):
            return frozenset().union(*(visit(c, before) for c in block.children))
        if isinstance(block, Choice):
            ends: frozenset[str] = frozenset()
            for branch in block.branches:
                ends |= visit(branch.body, before)
            return ends
        if isinstance(block, SubProcess):  # behaves exactly as its body
            return visit(block.body, before)
        first = visit(block.body, before)
        visit(block.body, before | first)  # a repeat follows the body's own end
        return first

    visit(flow, frozenset())
    return preds


def parents_of(flow: Block) -> dict[int, tuple[Block, int]]:
    """id(block) -> (parent block, index among its children or branches)."""
    out: dict[int, tuple[Block, int]] = {}

    def visit(block: Block | None) -> None:
        if block is None:
            return
        children: Sequence[Block | None] = ()
        if isinstance(block, (Seq, Parallel)):
            children = block.children
        elif isinstance(block, Choice):
            children = [b.body for b in block.branches]
        elif isinstance(block, (Loop, SubProcess)):  # a sub-process is its body (version 2)
            children = [block.body]
        for i, child in enumerate(children):
            if child is not None:
                out[id(child)] = (block, i)
                visit(child)

    visit(flow)
    return out


class Cases:
    """The cases of a log as sets of activities, for reach and branch questions."""

    def __init__(self, events: pd.DataFrame, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self.acts: dict[str, set[str]] = {c: set() for c in self.ids}
        for case, activity in zip(events["case_id"].astype(str).tolist(),
                                  events["activity"].astype(str).tolist(), strict=True):
            if case in self.acts:
                self.acts[case].add(activity)

    def having(self, activities: Iterable[str], among: Iterable[str]) -> list[str]:
        wanted = set(activities)
        return [c for c in among if self.acts[c] & wanted]


def reach(block: Block, flow: Block, parents: Mapping[int, tuple[Block, int]],
           cases: Cases, among: list[str]) -> list[str]:
    """The cases (of ``among``) that got as far as ``block``: those with a step of the block
    before it in its sequence (or, when that one can be empty, that reached it), of the
    branch that holds it, or of the enclosing block's reach."""
    if block is flow or id(block) not in parents:
        return among
    parent, index = parents[id(block)]
    if isinstance(parent, Seq) and index > 0:
        previous = parent.children[index - 1]
        having = cases.having(activities_of(previous), among)
        if _may_be_empty(previous):
            earlier = set(reach(previous, flow, parents, cases, among))
            having = [c for c in among if c in earlier or c in set(having)]
        return having
    if isinstance(parent, Choice):
        reached = reach(parent, flow, parents, cases, among)
        return cases.having(activities_of(block), reached)
    return reach(parent, flow, parents, cases, among)


def _may_be_empty(block: Block | None) -> bool:
    if block is None:
        return True
    if isinstance(block, Task):
        return False
    if isinstance(block, Seq):
        return all(_may_be_empty(c) for c in block.children)
    if isinstance(block, Parallel):
        return all(_may_be_empty(c) for c in block.children)
    if isinstance(block, Choice):
        return any(_may_be_empty(b.body) for b in block.branches)
    return _may_be_empty(block.body)


def _occurrences(block: Block | None) -> dict[str, int]:
    """How many places of the block hold each activity."""
    out: dict[str, int] = {}
    for node in walk(block):
        if isinstance(node, Task):
            out[node.activity] = out.get(node.activity, 0) + 1
    return out


def telling_steps(flow: Block, gateway: Choice, attribute: str, fixed: Mapping[str, bool],
                   others: Sequence[str]) -> tuple[set[str], bool] | None:
    """Steps whose presence tells the attribute's value at this gateway, whatever the other
    undecided attributes are: (steps, the value they mean), or None when none do. Only steps
    that the flow holds nowhere outside the gateway can tell."""
    import itertools

    everywhere, inside = _occurrences(flow), _occurrences(gateway)
    own = {a for a, k in inside.items() if everywhere.get(a) == k}

    telling: set[str] | None = None
    meaning: bool | None = None
    free = [a for a in others if a != attribute and a not in fixed]
    for values in itertools.product([True, False], repeat=len(free)):
        base: dict[str, bool | None] = {**fixed, **dict(zip(free, values, strict=True))}
        true_acts = activities_of(gateway.branches[gateway.select({**base, attribute: True})].body)
        false_acts = activities_of(
            gateway.branches[gateway.select({**base, attribute: False})].body)
        if (true_acts - false_acts) & own:
            steps, means = (true_acts - false_acts) & own, True
        elif (false_acts - true_acts) & own:
            steps, means = (false_acts - true_acts) & own, False
        else:
            return None
        if meaning is not None and means != meaning:
            return None
        meaning = means
        telling = steps if telling is None else telling & steps
        if not telling:
            return None
    if telling is None or meaning is None:
        return None
    return telling, meaning


def first_activity(block: Block | None) -> str | None:
    if block is None:
        return None
    if isinstance(block, Task):
        return block.activity
    if isinstance(block, Seq):
        for child in block.children:
            found = first_activity(child)
            if found is not None:
                return found
        return None
    if isinstance(block, (Loop, SubProcess)):
        return first_activity(block.body)
    return None


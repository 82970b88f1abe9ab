"""The procedure's records: roles, attributes, offences, activities, the blocks of the flow and
the :class:`Procedure` that holds them all (built by :mod:`model.procedure.reader`).

The flow is a tree of blocks (task, sequence, parallel, choice, loop and sub-process); a
sub-process groups a part of the flow under a name, so that diagrams can draw it collapsed on
the overview and in full on a page of its own. It changes nothing else: the graph, the Petri net
and the simulator walk straight through it."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Union

from model.rules import AttributeValue, Rule

__all__ = [
    "Activity",
    "Attribute",
    "Block",
    "Branch",
    "Choice",
    "Kind",
    "Loop",
    "Offence",
    "Parallel",
    "Procedure",
    "Role",
    "Sequence",
    "SubProcess",
    "Task",
    "matches",
    "walk",
]



class Kind(enum.StrEnum):
    TASK = "task"  # a step of the flow
    FORBIDDEN = "forbidden"  # an event the procedure forbids; never in the flow
    END = "end"  # closes the case


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    meaning: str


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # "boolean" or "category"
    clause: str
    meaning: str
    contract: bool = True
    values: tuple[str, ...] = ()
    # What each value says about a case, in words ("the concern is about the line manager"):
    # keys True and False for a boolean attribute, the values for a categorical one.
    words: Mapping[AttributeValue, str] = field(default_factory=dict)

    def says(self, value: AttributeValue) -> str:
        """The words for ``value`` (the attribute and value when none are written)."""
        return self.words.get(value) or f"{self.name} is {str(value).lower()}"


@dataclass(frozen=True)
class Offence:
    id: str
    name: str
    statute: str
    clause: str
    meaning: str
    note: str = ""  # where the text's legal attribution differs from the statute


@dataclass(frozen=True)
class Activity:
    name: str
    role: str
    performer: str
    clause: str
    kind: Kind
    meaning: str
    participants: tuple[str, ...] = ()
    considerations: tuple[str, ...] = ()


# Control flow blocks -------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """An activity at one place in the flow (the same activity may appear at several)."""

    id: str
    activity: str
    role: str
    clause: str


@dataclass(frozen=True)
class Sequence:
    id: str
    children: tuple[Block, ...]
    clause: str


@dataclass(frozen=True)
class Parallel:
    id: str
    name: str
    children: tuple[Block, ...]
    clause: str


def matches(value: AttributeValue | None, wanted: AttributeValue) -> bool:
    """Whether a case's attribute value (None = unknown) is the one a condition wants."""
    if isinstance(wanted, bool):
        return value is wanted
    return isinstance(value, str) and value == wanted


@dataclass(frozen=True)
class Branch:
    """``when`` None is the ``otherwise`` branch; ``body`` None is a branch with no step."""

    when: Mapping[str, AttributeValue] | None
    body: Block | None

    def condition_text(self) -> str:
        """The condition as attribute expressions ("concern_about_line_manager = true")."""
        if self.when is None:
            return "otherwise"
        return " and ".join(f"{k} = {str(v).lower()}" for k, v in self.when.items())


@dataclass(frozen=True)
class Choice:
    id: str
    name: str
    clause: str
    decided_by: tuple[str, ...]
    branches: tuple[Branch, ...]

    def select(self, attributes: Mapping[str, AttributeValue | None]) -> int:
        """Index of the branch taken: the first whose conditions all hold, else ``otherwise``."""
        for index, branch in enumerate(self.branches):
            if branch.when is None or all(
                matches(attributes.get(k), v) for k, v in branch.when.items()
            ):
                return index
        raise ValueError(f"gateway '{self.id}': no branch applies and there is no 'otherwise'")


@dataclass(frozen=True)
class Loop:
    """The body once, then again while ``repeat`` holds (one or more times)."""

    id: str
    name: str
    clause: str
    body: Block
    repeat: str


@dataclass(frozen=True)
class SubProcess:
    """A named part of the flow, drawn collapsed (in the lane ``role``) on the page around it and
    in full on a page of its own. It behaves exactly as its body."""

    id: str
    name: str
    clause: str
    role: str
    body: Block


Block = Union[Task, Sequence, Parallel, Choice, Loop, SubProcess]  # noqa: UP007 (run time)


def walk(block: Block | None) -> Iterator[Block]:
    """Every block in the tree, depth first, parents before children."""
    if block is None:
        return
    yield block
    if isinstance(block, (Sequence, Parallel)):
        for child in block.children:
            yield from walk(child)
    elif isinstance(block, Choice):
        for branch in block.branches:
            yield from walk(branch.body)
    elif isinstance(block, (Loop, SubProcess)):
        yield from walk(block.body)


@dataclass(frozen=True)
class Procedure:
    id: str
    title: str
    source: str
    roles: Mapping[str, Role]
    attributes: Mapping[str, Attribute]
    offences: Mapping[str, Offence]
    activities: Mapping[str, Activity]
    flow: Block
    rules: tuple[Rule, ...]
    path: str = ""
    _tasks: tuple[Task, ...] = field(default=(), repr=False, compare=False)

    @property
    def activity_names(self) -> tuple[str, ...]:
        return tuple(self.activities)

    @property
    def boolean_attributes(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes.values() if a.type == "boolean")

    @property
    def categories(self) -> dict[str, tuple[str, ...]]:
        """Each categorical attribute (such as ``offence``) with its values."""
        return {a.name: a.values for a in self.attributes.values() if a.type == "category"}

    def condition_words(self, when: Mapping[str, AttributeValue] | None) -> str:
        """A branch's condition in words ("the concern is about the line manager")."""
        if when is None:
            return "otherwise"
        parts = [
            self.attributes[k].says(v) if k in self.attributes else f"{k} is {str(v).lower()}"
            for k, v in when.items()
        ]
        return " and ".join(parts)

    def tasks(self) -> tuple[Task, ...]:
        """The flow's task nodes in depth-first order."""
        return tuple(b for b in walk(self.flow) if isinstance(b, Task))

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(
            f"no rule '{rule_id}'; the rules are: " + ", ".join(r.id for r in self.rules)
        )

    def gateways(self) -> tuple[Choice, ...]:
        return tuple(b for b in walk(self.flow) if isinstance(b, Choice))

    def loops(self) -> tuple[Loop, ...]:
        return tuple(b for b in walk(self.flow) if isinstance(b, Loop))

    def subprocesses(self) -> tuple[SubProcess, ...]:
        """The sub-processes, outer ones first (depth-first order of the flow)."""
        return tuple(b for b in walk(self.flow) if isinstance(b, SubProcess))

    def subprocess(self, sub_id: str) -> SubProcess:
        for sub in self.subprocesses():
            if sub.id == sub_id:
                return sub
        raise KeyError(
            f"no sub-process '{sub_id}'; the sub-processes are: "
            + ", ".join(s.id for s in self.subprocesses())
        )

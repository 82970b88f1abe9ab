"""The procedure as a networkx graph (events, tasks and gateways), as Graphviz DOT text and as JSON.

The graph is compiled from the block-structured flow of :class:`~model.procedure.Procedure`.
:func:`to_graph` gives the whole flow on one graph (a sub-process is walked straight through;
its nodes carry its id in ``subprocess``). :func:`page_graph` gives one page of the diagrams:
the overview, with each sub-process collapsed into one node of kind ``subprocess``, or one
sub-process drawn in full between its own start and end events (sub-processes inside it
collapsed); :func:`pages` lists them.

- one node per :class:`~model.procedure.Task` (node id = task id), one ``start`` and one ``end``;
- a :class:`~model.procedure.Choice` becomes an ``xor-split`` and an ``xor-join``
  (``<choice id>-split``/``-join``), a branch without steps an edge from split to join;
- a :class:`~model.procedure.Parallel` becomes an ``and-split`` and an ``and-join``;
- a :class:`~model.procedure.Loop` becomes a ``loop-entry`` (an exclusive join), its body and a
  ``loop-exit`` (an exclusive split) whose back edge returns to the entry.

Node attributes: ``kind`` (see :data:`NODE_KINDS`), ``label``, ``activity`` (tasks; None
otherwise), ``role`` (the lane: a task's role; a collapsed sub-process's ``role``; a gateway or
event takes the lane of its neighbours), ``clause``, ``block`` (the id of the block that made the
node) and ``subprocess`` (the innermost sub-process around the node, else None). Edge
attributes: ``condition`` (a choice branch's condition as attribute expressions,
``"repeat: <text>"`` on a loop's back edge, else None), ``label`` (the same in words, for
people: "the concern is about the line manager", "again if <text>"), ``gateway`` (the split node
an edge leaves, else None), ``default`` (the ``otherwise`` branch of a choice, or the way out of
a loop), ``back`` (a loop's back edge) and ``clause``.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Final

import networkx as nx

from model.procedure import (
    Block,
    Choice,
    Loop,
    Parallel,
    Procedure,
    Sequence,
    SubProcess,
    Task,
)

__all__ = [
    "END",
    "JOIN_KINDS",
    "NODE_KINDS",
    "SPLIT_KINDS",
    "START",
    "Page",
    "page_graph",
    "pages",
    "paths",
    "to_dot",
    "to_graph",
    "to_json",
]

START: Final = "start"
END: Final = "end"
NODE_KINDS: Final = (
    "start",
    "end",
    "task",
    "xor-split",
    "xor-join",
    "and-split",
    "and-join",
    "loop-entry",
    "loop-exit",
    "subprocess",
)
SPLIT_KINDS: Final = frozenset({"xor-split", "and-split", "loop-exit"})
JOIN_KINDS: Final = frozenset({"xor-join", "and-join", "loop-entry"})


class _Builder:
    """Adds the nodes and edges of blocks to one graph. With ``collapse``, a sub-process is one
    node; without, it is walked straight through."""

    def __init__(self, p: Procedure, *, collapse: bool) -> None:
        self.graph = nx.DiGraph()
        self.procedure = p
        self.collapse = collapse
        self.within: list[str] = []  # the sub-processes around the block being added

    def node(self, node_id: str, kind: str, label: str, clause: str, block: str,
             activity: str | None = None, role: str | None = None) -> str:
        if node_id in self.graph:
            raise ValueError(f"two nodes of the flow would both be called '{node_id}'; "
                             "rename one of the blocks")
        self.graph.add_node(node_id, kind=kind, label=label, activity=activity, role=role,
                            clause=clause, block=block,
                            subprocess=self.within[-1] if self.within else None)
        return node_id

    def edge(self, source: str, target: str, clause: str, condition: str | None = None, *,
             label: str | None = None, default: bool = False, back: bool = False) -> None:
        gateway = source if self.graph.nodes[source]["kind"] in SPLIT_KINDS else None
        # the way out of a loop is its exclusive split's default flow
        default = default or (self.graph.nodes[source]["kind"] == "loop-exit" and not back)
        if self.graph.has_edge(source, target):
            # two branches of one choice without steps: one edge carries both conditions
            data = self.graph.edges[source, target]
            for key, text in (("condition", condition), ("label", label)):
                texts = [t for t in (data[key], text) if t]
                data[key] = " or ".join(texts) if texts else None
            data["default"] = data["default"] or default
            return
        self.graph.add_edge(source, target, condition=condition, label=label, gateway=gateway,
                            default=default, back=back, clause=clause)

    def block(self, block: Block, clause: str) -> tuple[str, str]:
        """Add the nodes of ``block``; return its entry and exit nodes."""
        if isinstance(block, Task):
            node = self.node(block.id, "task", block.activity, block.clause, block.id,
                             activity=block.activity, role=block.role)
            return node, node
        if isinstance(block, SubProcess):
            if self.collapse:
                node = self.node(block.id, "subprocess", block.name, block.clause, block.id,
                                 role=block.role)
                return node, node
            self.within.append(block.id)
            try:
                return self.block(block.body, block.clause)
            finally:
                self.within.pop()
        if isinstance(block, Sequence):
            inner = block.clause or clause
            ends = [self.block(child, inner) for child in block.children]
            for (_, exit_node), (entry_node, _) in itertools.pairwise(ends):
                self.edge(exit_node, entry_node, inner)
            return ends[0][0], ends[-1][1]
        if isinstance(block, Parallel):
            split = self.node(f"{block.id}-split", "and-split", block.name, block.clause, block.id)
            ends = [self.block(child, block.clause) for child in block.children]
            join = self.node(f"{block.id}-join", "and-join", block.name, block.clause, block.id)
            for entry_node, exit_node in ends:
                self.edge(split, entry_node, block.clause)
                self.edge(exit_node, join, block.clause)
            return split, join
        if isinstance(block, Choice):
            split = self.node(f"{block.id}-split", "xor-split", block.name, block.clause, block.id)
            branch_ends: list[tuple[str, str, tuple[str, str] | None, bool]] = []
            for branch in block.branches:
                inner_ends = None if branch.body is None else self.block(branch.body, block.clause)
                words = self.procedure.condition_words(branch.when)
                branch_ends.append((branch.condition_text(), words, inner_ends,
                                    branch.when is None))
            join = self.node(f"{block.id}-join", "xor-join", block.name, block.clause, block.id)
            for condition, words, inner_ends, default in branch_ends:
                if inner_ends is None:
                    self.edge(split, join, block.clause, condition, label=words, default=default)
                else:
                    self.edge(split, inner_ends[0], block.clause, condition, label=words,
                              default=default)
                    self.edge(inner_ends[1], join, block.clause)
            return split, join
        entry = self.node(f"{block.id}-entry", "loop-entry", block.name, block.clause, block.id)
        body_entry, body_exit = self.block(block.body, block.clause)
        exit_node = self.node(f"{block.id}-exit", "loop-exit", block.name, block.clause, block.id)
        self.edge(entry, body_entry, block.clause)
        self.edge(body_exit, exit_node, block.clause)
        self.edge(exit_node, entry, block.clause, f"repeat: {block.repeat}",
                  label=f"again if {block.repeat}", back=True)
        return entry, exit_node


def _assign_lanes(graph: nx.DiGraph) -> None:
    """Give every gateway and event the lane most of its neighbours are in (tasks and collapsed
    sub-processes keep their own).

    Ties go to the lane before a split (the one deciding) and after a join. Repeated until
    nothing changes, so chains of gateways take the lane of the nearest task."""
    changed = True
    while changed:
        changed = False
        for node, data in graph.nodes(data=True):
            if data["kind"] in ("task", "subprocess"):
                continue
            before = [graph.nodes[n]["role"] for n in graph.predecessors(node)]
            after = [graph.nodes[n]["role"] for n in graph.successors(node)]
            ordered = after + before if data["kind"] in JOIN_KINDS else before + after
            known = [role for role in ordered if role is not None]
            if not known:
                continue
            counts = Counter(known)
            best = max(counts.values())
            role = next(r for r in known if counts[r] == best)
            if role != data["role"]:
                data["role"] = role
                changed = True


def to_graph(p: Procedure) -> nx.DiGraph:
    """The procedure's whole flow as a directed graph (see the module text for its attributes)."""
    builder = _Builder(p, collapse=False)
    builder.node(START, "start", "Start", "", "")
    entry, exit_node = builder.block(p.flow, "")
    builder.node(END, "end", "End", "", "")
    builder.edge(START, entry, "")
    builder.edge(exit_node, END, "")
    _assign_lanes(builder.graph)
    return builder.graph


@dataclass(frozen=True)
class Page:
    """One page of the diagrams: the overview (``id`` None) or a sub-process."""

    id: str | None
    name: str
    clause: str
    parent: str | None  # the page that shows this one collapsed (None: the overview)


def pages(p: Procedure) -> tuple[Page, ...]:
    """The overview, then every sub-process (outer ones first)."""
    out = [Page(None, p.title, "", None)]
    parent_of: dict[str, str | None] = {}

    def visit(block: Block | None, parent: str | None) -> None:
        if block is None:
            return
        if isinstance(block, SubProcess):
            parent_of[block.id] = parent
            parent = block.id
        if isinstance(block, (Sequence, Parallel)):
            for child in block.children:
                visit(child, parent)
        elif isinstance(block, Choice):
            for branch in block.branches:
                visit(branch.body, parent)
        elif isinstance(block, (Loop, SubProcess)):
            visit(block.body, parent)

    visit(p.flow, None)
    out += [Page(sub.id, sub.name, sub.clause, parent_of[sub.id]) for sub in p.subprocesses()]
    return tuple(out)


def page_graph(p: Procedure, page: str | None = None) -> nx.DiGraph:
    """One page of the diagrams as a graph: the overview (``page`` None), with every
    sub-process collapsed into one node, or the sub-process ``page`` in full between its own
    start (``<id>-start``) and end (``<id>-end``) events, with the sub-processes inside it
    collapsed. Nodes and edges have the attributes of :func:`to_graph`."""
    builder = _Builder(p, collapse=True)
    if page is None:
        start, end, body = START, END, p.flow
    else:
        sub = p.subprocess(page)
        start, end, body = f"{page}-start", f"{page}-end", sub.body
        builder.within.append(page)
    builder.node(start, "start", "Start", "", "")
    entry, exit_node = builder.block(body, "")
    builder.node(end, "end", "End", "", "")
    builder.edge(start, entry, "")
    builder.edge(exit_node, end, "")
    _assign_lanes(builder.graph)
    return builder.graph


# Paths ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    marked: tuple[tuple[str, str], ...]  # edges holding a token, sorted (a multiset)
    repeats: tuple[tuple[str, int], ...]  # loop-exit node -> back edges taken, sorted
    trace: tuple[str, ...]


def _enabled(graph: nx.DiGraph, node: str, marked: Counter[tuple[str, str]]) -> bool:
    incoming = list(graph.in_edges(node))
    if graph.nodes[node]["kind"] == "and-join":
        return all(marked[e] > 0 for e in incoming)
    return any(marked[e] > 0 for e in incoming)


def _successors(graph: nx.DiGraph, order: dict[str, int], state: _State,
                max_loops: int) -> Iterator[_State]:
    marked = Counter(state.marked)
    candidates = sorted({target for _, target in marked.elements()}, key=order.__getitem__)
    node = next(n for n in candidates if _enabled(graph, n, marked))
    data = graph.nodes[node]
    repeats = dict(state.repeats)
    trace = state.trace
    if data["kind"] == "and-join":
        for edge in graph.in_edges(node):
            marked[edge] -= 1
    else:
        edge = next(e for e in graph.in_edges(node) if marked[e] > 0)
        marked[edge] -= 1
        if data["kind"] == "loop-entry" and not graph.edges[edge]["back"]:
            repeats.pop(_loop_exit_of(graph, node), None)
    if data["kind"] == "task":
        trace = (*trace, data["activity"])
    outgoing = list(graph.out_edges(node))
    if data["kind"] in ("xor-split", "loop-exit"):
        choices = []
        for out in outgoing:
            taken = dict(repeats)
            if graph.edges[out]["back"]:
                if taken.get(node, 0) >= max_loops:
                    continue
                taken[node] = taken.get(node, 0) + 1
            choices.append(([out], taken))
    else:
        choices = [(outgoing, repeats)]
    for produced, taken in choices:
        after = marked.copy()
        after.update(produced)
        yield _State(tuple(sorted(after.elements())), tuple(sorted(taken.items())), trace)


def _loop_exit_of(graph: nx.DiGraph, entry: str) -> str:
    return str(next(source for source, _, back in graph.in_edges(entry, data="back") if back))


def paths(p: Procedure, max_loops: int = 1) -> list[list[str]]:
    """Every activity sequence through the graph, one interleaving per combination of branches.

    The graph is played like a workflow net; at each step the enabled node made first (in
    depth-first order of the flow) moves, so each parallel block is walked one branch after the
    other, and every exclusive choice is tried both ways. A loop's back edge is taken at most
    ``max_loops`` times per entry into the loop (1: each loop once and twice). Sequences that
    repeat an earlier one are left out."""
    graph = to_graph(p)
    order = {node: index for index, node in enumerate(graph.nodes)}
    stack = [_State(tuple(sorted(graph.out_edges(START))), (), ())]
    found: dict[tuple[str, ...], None] = {}
    while stack:
        state = stack.pop()
        if state.marked == ((next(iter(graph.predecessors(END))), END),):
            found.setdefault(state.trace, None)
            continue
        stack.extend(reversed(list(_successors(graph, order, state, max_loops))))
    return [list(trace) for trace in found]


# DOT ------------------------------------------------------------------------------------------

_DOT_SHAPES: Final = {
    "start": 'shape=circle, label="", width=0.3',
    "end": 'shape=doublecircle, label="", width=0.3',
    "task": "shape=box, style=rounded",
    "xor-split": 'shape=diamond, label="X"',
    "xor-join": 'shape=diamond, label="X"',
    "loop-entry": 'shape=diamond, label="X"',
    "loop-exit": 'shape=diamond, label="X"',
    "and-split": 'shape=diamond, label="+"',
    "and-join": 'shape=diamond, label="+"',
    "subprocess": "shape=box, style=rounded",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(p: Procedure) -> str:
    """Graphviz DOT text of the whole graph, one cluster per lane, branches labelled in words
    (writing it needs no Graphviz)."""
    graph = to_graph(p)

    def node_line(node: str, data: dict[str, Any]) -> str:
        attrs = _DOT_SHAPES[data["kind"]]
        if data["kind"] == "task":
            attrs += f", label={_quote(data['label'])}"
        attrs += f", tooltip={_quote(data['label'] + (' ' + data['clause'] if data['clause'] else ''))}"
        return f"    {_quote(node)} [{attrs}];"

    lines = [f"digraph {_quote(p.id)} {{", "  rankdir=LR;", f"  label={_quote(p.title)};",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8];']
    lanes: dict[str | None, list[str]] = {}
    for node, data in graph.nodes(data=True):
        lanes.setdefault(data["role"], []).append(node_line(node, data))
    for role, node_lines in lanes.items():
        if role is None:
            lines.extend(line[2:] for line in node_lines)
            continue
        name = p.roles[role].name if role in p.roles else role
        lines.append(f"  subgraph {_quote('cluster_' + role)} {{")
        lines.append(f"    label={_quote(name)};")
        lines.append('    style=filled; fillcolor="#f4f4f4"; color="#bbbbbb";')
        lines.extend(node_lines)
        lines.append("  }")
    for source, target, data in graph.edges(data=True):
        attrs = []
        if data["label"]:
            attrs.append(f"label={_quote(data['label'])}")
        if data["back"]:
            attrs.append("style=dashed, constraint=false")
        tail = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# JSON -----------------------------------------------------------------------------------------


def _flow_json(block: Block | None) -> Any:
    if block is None:
        return None
    if isinstance(block, Task):
        return {"task": block.activity, "id": block.id, "role": block.role, "clause": block.clause}
    if isinstance(block, Sequence):
        return {"sequence": [_flow_json(c) for c in block.children], "id": block.id,
                "clause": block.clause}
    if isinstance(block, Parallel):
        return {"parallel": [_flow_json(c) for c in block.children], "id": block.id,
                "name": block.name, "clause": block.clause}
    if isinstance(block, Choice):
        branches: list[dict[str, Any]] = []
        for branch in block.branches:
            head: dict[str, Any] = (
                {"otherwise": True} if branch.when is None else {"when": dict(branch.when)}
            )
            branches.append({**head, "do": _flow_json(branch.body)})
        return {"choice": block.name, "id": block.id, "clause": block.clause,
                "decided_by": list(block.decided_by), "branches": branches}
    if isinstance(block, SubProcess):
        return {"subprocess": _flow_json(block.body), "id": block.id, "name": block.name,
                "clause": block.clause, "role": block.role}
    assert isinstance(block, Loop)
    return {"loop": _flow_json(block.body), "id": block.id, "name": block.name,
            "clause": block.clause, "repeat": block.repeat}


def _plain(value: Any) -> Any:
    """A JSON-ready copy: enums by value, tuples as lists, deadlines and the like as text."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k).lower() if isinstance(k, bool) else str(k): _plain(v)
                for k, v in value.items()}
    return str(value)


def _record(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj) if f.name not in skip}


def to_json(p: Procedure) -> str:
    """The procedure as JSON: roles, attributes, offences, activities, the flow tree and the
    rules (with their deadline ``within`` as text, e.g. "15 working days")."""
    document = {
        "procedure": {"id": p.id, "title": p.title, "source": p.source},
        "roles": {rid: _record(role, ("id",)) for rid, role in p.roles.items()},
        "attributes": {name: _record(attr, ("name",)) for name, attr in p.attributes.items()},
        "offences": {oid: _record(off, ("id",)) for oid, off in p.offences.items()},
        "activities": [_record(act) for act in p.activities.values()],
        "flow": _flow_json(p.flow),
        "rules": [{**_record(rule, ("trigger_occurrence",)),
                   "trigger_occurrence": str(rule.trigger_occurrence)} for rule in p.rules],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

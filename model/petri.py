"""The procedure as a pm4py Petri net (a workflow net), compiled straight from the block structure.

Compile rules, each block placed between an input and an output place:

- a task is one transition, named by the task id and labelled with its activity;
- a sequence chains its children through new places ``p_<sequence id>_<n>``;
- a choice puts one sub-net per branch between the same two places; a branch without steps is
  a silent transition ``tau_<choice id>_<branch number>``;
- a parallel block has a silent split ``tau_<id>_split`` and join ``tau_<id>_join``, with its
  own places before and after each branch;
- a loop enters its body through ``tau_<id>_enter`` (so a redo cannot pick another branch of an
  enclosing choice), then either redoes it (``tau_<id>_redo``) or leaves (``tau_<id>_exit``);
- a sub-process is its body (it only groups steps for the diagrams).

Block-structured nets built this way are sound workflow nets: one source place, one sink place,
and from every reachable marking the final marking can be reached. :func:`soundness` checks it
on the reachability graph (exact: the net has a few hundred reachable markings; pm4py's WOFLAN
takes minutes on it, in its minimal coverability tree). Silent transitions have the label None.
pm4py is imported inside the functions (it is slow to import).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from model.procedure import Block, Choice, Loop, Parallel, Procedure, Sequence, SubProcess, Task

if TYPE_CHECKING:
    from pm4py.objects.petri_net.obj import Marking, PetriNet

__all__ = ["Soundness", "check_sound", "net_soundness", "soundness", "to_petri_net",
           "write_pnml"]

MAX_STATES: Final = 1_000_000  # reachable markings explored before giving up (unbounded?)


class _NetBuilder:
    def __init__(self, name: str) -> None:
        from pm4py.objects.petri_net.obj import PetriNet
        from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

        self._petri_net = PetriNet
        self._arc = add_arc_from_to
        self.net = PetriNet(name)

    def place(self, name: str) -> Any:
        place = self._petri_net.Place(name)
        self.net.places.add(place)
        return place

    def transition(self, name: str, label: str | None, before: Any, after: Any) -> None:
        transition = self._petri_net.Transition(name, label)
        self.net.transitions.add(transition)
        self._arc(before, transition, self.net)
        self._arc(transition, after, self.net)

    def block(self, block: Block, before: Any, after: Any) -> None:
        """Add ``block`` between the places ``before`` and ``after``."""
        if isinstance(block, Task):
            self.transition(block.id, block.activity, before, after)
        elif isinstance(block, SubProcess):
            self.block(block.body, before, after)
        elif isinstance(block, Sequence):
            places = [before]
            places += [self.place(f"p_{block.id}_{n}") for n in range(1, len(block.children))]
            places.append(after)
            for index, child in enumerate(block.children):
                self.block(child, places[index], places[index + 1])
        elif isinstance(block, Choice):
            for number, branch in enumerate(block.branches, start=1):
                if branch.body is None:
                    self.transition(f"tau_{block.id}_{number}", None, before, after)
                else:
                    self.block(branch.body, before, after)
        elif isinstance(block, Parallel):
            split = self._petri_net.Transition(f"tau_{block.id}_split", None)
            join = self._petri_net.Transition(f"tau_{block.id}_join", None)
            self.net.transitions.update((split, join))
            self._arc(before, split, self.net)
            self._arc(join, after, self.net)
            for number, child in enumerate(block.children, start=1):
                start = self.place(f"p_{block.id}_{number}_start")
                end = self.place(f"p_{block.id}_{number}_end")
                self._arc(split, start, self.net)
                self._arc(end, join, self.net)
                self.block(child, start, end)
        else:
            assert isinstance(block, Loop)
            start = self.place(f"p_{block.id}_start")
            done = self.place(f"p_{block.id}_done")
            self.transition(f"tau_{block.id}_enter", None, before, start)
            self.block(block.body, start, done)
            self.transition(f"tau_{block.id}_redo", None, done, start)
            self.transition(f"tau_{block.id}_exit", None, done, after)


def to_petri_net(p: Procedure) -> tuple[PetriNet, Marking, Marking]:
    """The procedure as a workflow net with its initial marking (a token on ``source``) and its
    final marking (a token on ``sink``)."""
    from pm4py.objects.petri_net.obj import Marking

    builder = _NetBuilder(p.id)
    source = builder.place("source")
    sink = builder.place("sink")
    builder.block(p.flow, source, sink)
    return builder.net, Marking({source: 1}), Marking({sink: 1})


@dataclass(frozen=True)
class Soundness:
    """Whether the compiled net is a sound workflow net, the number of reachable markings, and
    what is wrong when it is not (in words)."""

    sound: bool
    states: int
    problems: tuple[str, ...]


def soundness(p: Procedure, max_states: int = MAX_STATES) -> Soundness:
    """Whether the procedure's compiled net is a sound workflow net (:func:`net_soundness`)."""
    net, initial, final = to_petri_net(p)
    return net_soundness(net, initial, final, max_states)


def net_soundness(net: PetriNet, initial: Marking, final: Marking,
                  max_states: int = MAX_STATES) -> Soundness:
    """Check a net on its reachability graph (van der Aalst's definition of a sound workflow net):

    - a workflow net: one place without incoming arcs (the source, marked initially), one
      without outgoing arcs (the sink, the final marking), every place and transition on a path
      from the source to the sink;
    - option to complete: from every reachable marking the final marking can be reached;
    - proper completion: no reachable marking puts a token on the sink beside others;
    - no dead transitions: every transition fires in some reachable marking.
    """
    places = sorted(net.places, key=lambda place: str(place.name))
    index = {place: i for i, place in enumerate(places)}
    transitions = sorted(net.transitions, key=lambda t: str(t.name))
    problems: list[str] = []
    sources = [pl for pl in places if not pl.in_arcs]
    sinks = [pl for pl in places if not pl.out_arcs]
    if len(sources) != 1 or len(sinks) != 1:
        problems.append(f"{len(sources)} source places and {len(sinks)} sink places, not one each")
    elif dict(initial) != {sources[0]: 1} or dict(final) != {sinks[0]: 1}:
        problems.append("markings other than one token on the source and one on the sink")
    nodes: list[Any] = [*places, *transitions]
    forward = _closure(nodes, sources, lambda n: [a.target for a in n.out_arcs])
    backward = _closure(nodes, sinks, lambda n: [a.source for a in n.in_arcs])
    off_path = [str(n.name) for n in nodes if n not in forward or n not in backward]
    if off_path:
        problems.append("nodes not on a path from the source to the sink: "
                        + ", ".join(sorted(off_path)))
    if problems:
        return Soundness(False, 0, tuple(problems))

    moves = [
        ({index[a.source]: a.weight for a in t.in_arcs},
         {index[a.target]: a.weight for a in t.out_arcs})
        for t in transitions
    ]
    start = tuple(initial.get(pl, 0) for pl in places)
    end = tuple(final.get(pl, 0) for pl in places)
    seen = {start: 0}
    edges: list[tuple[int, int]] = []
    fired: set[int] = set()
    queue = deque([start])
    while queue:
        marking = queue.popleft()
        for number, (pre, post) in enumerate(moves):
            if all(marking[i] >= w for i, w in pre.items()):
                after = list(marking)
                for i, w in pre.items():
                    after[i] -= w
                for i, w in post.items():
                    after[i] += w
                reached = tuple(after)
                fired.add(number)
                if reached not in seen:
                    if len(seen) >= max_states:
                        return Soundness(False, len(seen), (
                            f"more than {max_states:,} reachable markings (unbounded?)",))
                    seen[reached] = len(seen)
                    queue.append(reached)
                edges.append((seen[marking], seen[reached]))
    sink = index[sinks[0]]
    improper = [m for m in seen if m[sink] and m != end]
    if improper:
        problems.append(f"{len(improper)} reachable markings with a token on the sink and others")
    back: dict[int, list[int]] = {}
    for a, b in edges:
        back.setdefault(b, []).append(a)
    can_finish = {seen[end]} if end in seen else set()
    todo = list(can_finish)
    while todo:
        for a in back.get(todo.pop(), ()):
            if a not in can_finish:
                can_finish.add(a)
                todo.append(a)
    stuck = len(seen) - len(can_finish)
    if stuck:
        problems.append(f"{stuck} reachable markings from which the case cannot finish")
    dead = [str(t.name) for n, t in enumerate(transitions) if n not in fired]
    if dead:
        problems.append("transitions that can never fire: " + ", ".join(dead))
    return Soundness(not problems, len(seen), tuple(problems))


def _closure(nodes: list[Any], starts: list[Any], step: Any) -> set[Any]:
    found = set(starts)
    todo = list(starts)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in found:
                found.add(nxt)
                todo.append(nxt)
    return found


def check_sound(p: Procedure) -> bool:
    """Whether the compiled net is a sound workflow net (:func:`soundness`)."""
    return soundness(p).sound


def write_pnml(p: Procedure, path: Path | str) -> None:
    """Write the compiled net, with its markings, as a PNML file."""
    import pm4py

    net, initial, final = to_petri_net(p)
    pm4py.write_pnml(net, initial, final, str(path))

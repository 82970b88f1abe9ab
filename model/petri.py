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
and from every reachable marking the final marking can be reached. Silent transitions have the
label None. pm4py is imported inside the functions (it is slow to import).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.procedure import Block, Choice, Loop, Parallel, Procedure, Sequence, SubProcess, Task

if TYPE_CHECKING:
    from pm4py.objects.petri_net.obj import Marking, PetriNet

__all__ = ["check_sound", "to_petri_net", "write_pnml"]


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


def check_sound(p: Procedure) -> bool:
    """Whether the compiled net is a sound workflow net (pm4py's WOFLAN)."""
    import pm4py

    net, initial, final = to_petri_net(p)
    sound, _ = pm4py.check_soundness(net, initial, final)
    return bool(sound)


def write_pnml(p: Procedure, path: Path | str) -> None:
    """Write the compiled net, with its markings, as a PNML file."""
    import pm4py

    net, initial, final = to_petri_net(p)
    pm4py.write_pnml(net, initial, final, str(path))

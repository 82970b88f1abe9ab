"""pm4py's token replay and alignments on the procedure's net, for :mod:`conformance.fitness`:
the nets (the prefix net for open cases), the costs the alignments are given, and the events of
the variants as the DataFrame pm4py reads. pm4py is imported only here, when token replay is
asked for or a net is too large for :mod:`conformance.align`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.align import MOVE_COST

__all__ = ["ALIGNMENT_VARIANT", "Pm4pyNets", "costs", "pm4py_frame", "prefix_net"]

ALIGNMENT_VARIANT: Final = "Variants.VERSION_DIJKSTRA_LESS_MEMORY"
"""pm4py's alignments, used only on a net too large for :mod:`conformance.align`: its Dijkstra
variant that needs less memory found alignments with as many deviations as the default A* four
times faster (380 variants: 1.4 s against 5.6 s; the A* slows badly on long traces, 809 ms at
200 events), though not always the cheapest in the tie-breaking costs. Its ``fitness`` field is
wrong, so :mod:`conformance.fitness` computes fitness from the cost."""

_CASE: Final = "case:concept:name"
_ACTIVITY: Final = "concept:name"
_TIME: Final = "time:timestamp"


class Pm4pyNets:
    """A pm4py net with its markings, its prefix net and their alignment costs."""

    def __init__(self, net: Any, im: Any, fm: Any) -> None:
        self.net, self.im, self.fm = net, im, fm
        self.prefix_net, self.prefix_im, self.prefix_fm = prefix_net(net, im)
        self.costs = costs(net)
        self.prefix_costs = costs(self.prefix_net)

    def call(self, frame: pd.DataFrame, *, alignments: bool, is_open: bool, length: int,
             seconds: float | None = None) -> list[dict[str, Any]]:
        """pm4py's alignments (all traces of ``length`` steps) or token replay of the traces in
        ``frame``, on the prefix net when ``is_open``; ``seconds`` limits each alignment."""
        import pm4py

        net, im, fm = (
            (self.prefix_net, self.prefix_im, self.prefix_fm) if is_open
            else (self.net, self.im, self.fm)
        )
        if alignments:
            model_costs, sync_costs = self.prefix_costs if is_open else self.costs
            result = pm4py.conformance_diagnostics_alignments(
                frame, net, im, fm,
                multi_processing=False,  # crashes on 2 cores and was slower when it ran
                variant_str=ALIGNMENT_VARIANT,
                show_progress_bar=False,
                enable_best_worst_cost=False,  # its fitness is not used
                trace_cost_function=[MOVE_COST] * length,
                model_cost_function=model_costs,
                sync_cost_function=sync_costs,
                **({} if seconds is None else {"max_align_time": seconds,
                                               "max_align_time_trace": seconds}),
            )
        else:
            result = pm4py.conformance_diagnostics_token_based_replay(
                frame, net, im, fm,
                opt_parameters={"show_progress_bar": False},
            )
        return list(result)


def costs(net: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    """Model-move and synchronous-move costs for pm4py's alignments.

    A model move on a visible step costs ``MOVE_COST`` plus its rank among the net's visible
    transitions (by label, then name), a silent step 1, a synchronous move 0. The small extra
    breaks ties between equally good explanations the same way every run: pm4py's transitions
    hash by memory address, so with equal costs the explanation it returns (which of two
    swapped steps is "out of order") would change from run to run.
    """
    visible = sorted((t for t in net.transitions if t.label is not None),
                     key=lambda t: (str(t.label), str(t.name)))
    model = {t: 1 for t in net.transitions if t.label is None}
    model.update({t: MOVE_COST + rank for rank, t in enumerate(visible, start=1)})
    sync = {t: 0 for t in visible}
    return model, sync


def prefix_net(net: Any, im: Any) -> tuple[Any, Any, Any]:
    """A copy of ``net`` in which any place can be emptied by a silent step, with an empty final
    marking: a trace fits it when it is a prefix of a run of ``net`` (an open case so far)."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    prefix = copy.deepcopy(net)
    by_name = {p.name: p for p in prefix.places}
    for place in sorted(prefix.places, key=lambda p: str(p.name)):
        drain = PetriNet.Transition(f"drain:{place.name}", None)
        prefix.transitions.add(drain)
        petri_utils.add_arc_from_to(place, drain, prefix)
    start = Marking({by_name[p.name]: n for p, n in im.items()})
    return prefix, start, Marking()


def pm4py_frame(events: pd.DataFrame, rows: Mapping[Any, npt.NDArray[np.intp]],
                 cases: list[Any]) -> pd.DataFrame:
    """The events of ``cases`` (one per variant, in order) as a pm4py DataFrame.

    Case keys are zero-padded positions: pm4py groups by the case column with pandas' sorting, so
    its results come back in key order, i.e. in the order of ``cases``. Rows keep the log's order
    (case, time, file order), on which pm4py relies; times stay in UTC. ``rows`` gives each
    case's row positions in ``events``.
    """
    positions = [rows[case] for case in cases]
    picked = events.iloc[np.concatenate(positions)] if positions else events.iloc[:0]
    keys = np.repeat(np.array([f"{i:09d}" for i in range(len(cases))], dtype=object),
                     [len(p) for p in positions])
    return pd.DataFrame({
        _CASE: keys,
        _ACTIVITY: picked["activity"].to_numpy(dtype=object),
        _TIME: pd.to_datetime(picked["time_utc"], utc=True).reset_index(drop=True),
    })

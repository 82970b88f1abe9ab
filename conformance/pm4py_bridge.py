"""pm4py's token replay and alignments on the procedure's net, for :mod:`conformance.fitness`:
the nets (the prefix net for open cases), the costs the alignments are given, the events of the
variants as the DataFrame pm4py reads, and the verdicts made of pm4py's results. pm4py is imported only here, when token replay is
asked for or a net is too large for :mod:`conformance.align`."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.align import MOVE_COST
from conformance.verdicts import Method, Verdict, describe

__all__ = ["ALIGNMENT_VARIANT", "Pm4pyJudge", "Pm4pyNets", "costs", "pm4py_frame", "prefix_net"]

ALIGNMENT_VARIANT: Final = "Variants.VERSION_DIJKSTRA_LESS_MEMORY"
"""pm4py's alignments, used only on a net too large for :mod:`conformance.align`: its Dijkstra
variant that needs less memory found alignments with as many deviations as the default A* four
times faster (380 variants: 1.4 s against 5.6 s; the A* slows badly on long traces, 809 ms at
200 events), though not always the cheapest in the tie-breaking costs. Its ``fitness`` field is
wrong, so :mod:`conformance.fitness` computes fitness from the cost."""

_CHUNK: Final = 250  # variants per call to pm4py, so that progress can be reported
_TIMED_CHUNK: Final = 25  # variants per call under a time budget, so that it is kept to
_SKIP: Final = ">>"
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


class Pm4pyJudge:
    """Runs pm4py on distinct variants, in chunks, and turns its output into verdicts."""

    def __init__(self, net: Any, im: Any, fm: Any, labels: set[str], ends: set[str],
                 shortest: int, kept: pd.DataFrame) -> None:
        self.nets = Pm4pyNets(net, im, fm)
        self.kept = kept
        # each case's row positions in ``kept``, in the log's order
        self.rows: dict[Any, npt.NDArray[np.intp]] = dict(
            kept.groupby("case_id", sort=False).indices  # type: ignore[arg-type]
        )
        self.labels = labels
        self.ends = ends
        self.shortest = shortest

    def run(self, method: Method, variants: Sequence[tuple[str, ...]], which: list[int],
            first_case: np.ndarray, progress: Callable[[int, int], None] | None,
            deadline: float | None = None, clock: Callable[[], float] = time.monotonic,
            ) -> tuple[dict[int, Verdict], list[int]]:
        """Verdicts for the variants numbered ``which``, by ``method``, and the variants left
        unjudged when ``deadline`` (on ``clock``) passed (or whose alignment it cut off)."""
        verdicts: dict[int, Verdict] = {}
        late: list[int] = []
        groups: dict[tuple[bool, int], list[int]] = {}
        for index in which:
            trace = variants[index]
            if not trace:
                verdicts[index] = Verdict(1.0, True, "", method)  # only forbidden events
                continue
            is_open = not any(a in self.ends for a in trace)
            # Alignments get a log-move cost per position, so they go by trace length.
            length = len(trace) if method is Method.ALIGNMENTS else 0
            groups.setdefault((is_open, length), []).append(index)
        done, total = len(verdicts), len(which)
        if progress is not None and which:
            progress(done, total)
        size = _CHUNK if deadline is None else _TIMED_CHUNK
        for (is_open, length), members in sorted(groups.items()):
            for start in range(0, len(members), size):
                chunk = members[start : start + size]
                left = None if deadline is None else deadline - clock()
                if left is not None and left <= 0:
                    late.extend(chunk)
                    continue
                frame = pm4py_frame(self.kept, self.rows, [first_case[i] for i in chunk])
                results = self.pm4py(method, frame, is_open=is_open, length=length,
                                     seconds=left)
                if len(results) != len(chunk):
                    raise RuntimeError("pm4py returned a different number of results than traces")
                for index, result in zip(chunk, results, strict=True):
                    if result is None and left is not None:  # cut off by the time limit
                        late.append(index)
                        continue
                    verdicts[index] = self.verdict(method, result, variants[index],
                                                   is_open=is_open)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        return verdicts, sorted(late)

    def pm4py(self, method: Method, frame: pd.DataFrame, *, is_open: bool, length: int,
              seconds: float | None = None) -> list[dict[str, Any]]:
        return self.nets.call(frame, alignments=method is Method.ALIGNMENTS, is_open=is_open,
                              length=length, seconds=seconds)

    def verdict(self, method: Method, result: dict[str, Any] | None, trace: tuple[str, ...],
                *, is_open: bool) -> Verdict:
        if result is None:
            return Verdict(float("nan"), False, "could not be aligned", method)
        if method is Method.ALIGNMENTS:
            return self.from_alignment(result, trace, is_open=is_open)
        return self.from_replay(result, trace, is_open=is_open)

    def from_alignment(self, result: dict[str, Any], trace: tuple[str, ...], *,
                       is_open: bool) -> Verdict:
        moves: list[tuple[Any, Any]] = result["alignment"]
        logged = tuple(m[0] for m in moves if m[0] != _SKIP)
        if logged != trace:
            raise RuntimeError("pm4py returned alignments in an unexpected order")
        unexpected = [str(m[0]) for m in moves if m[1] == _SKIP]
        missing = [str(m[1]) for m in moves if m[0] == _SKIP and m[1] is not None]
        # Each log or model move costs MOVE_COST; silent steps and the tie-breaking extra on
        # model moves add far less (see conformance.pm4py_bridge.costs), so the cost counts the deviations.
        deviations = int(result["cost"]) // MOVE_COST
        if deviations != len(unexpected) + len(missing):
            raise RuntimeError("alignment cost and moves disagree")
        worst = len(trace) + (0 if is_open else self.shortest)
        value = 1.0 - deviations / worst if worst else 1.0
        return Verdict(max(0.0, value), deviations == 0,
                        describe(missing, unexpected, self.labels), Method.ALIGNMENTS)

    def from_replay(self, result: dict[str, Any], trace: tuple[str, ...], *,
                    is_open: bool) -> Verdict:
        out_of_turn = [str(t.label) for t in result["transitions_with_problems"] if t.label]
        outside = [a for a in trace if a not in self.labels]
        missing_tokens = int(result["missing_tokens"])
        consumed = int(result["consumed_tokens"])
        if is_open:
            # Steps still to come leave tokens behind: only tokens that were missing count.
            value = 1.0 - missing_tokens / consumed if consumed else 1.0
            fits = missing_tokens == 0
            missing: list[str] = []
        else:
            value = float(result["trace_fitness"])
            fits = bool(result["trace_is_fit"])
            missing = [] if fits else sorted(
                str(t.label) for t in result["enabled_transitions_in_marking"] if t.label
            )
        if outside:
            # pm4py's replay skips them: count each as a step the model cannot explain.
            value *= (len(trace) - len(outside)) / len(trace)
            fits = False
        text = describe(missing, [*out_of_turn, *outside], self.labels,
                         unexpected_word="done out of turn or unexpected")
        return Verdict(max(0.0, value), fits, text, Method.TOKEN_REPLAY)

"""Our exact alignments (conformance/align.py) against pm4py's, on the variants of a generated
log (bench/make_log.py) and on random perturbations of them: the same optimal cost as pm4py's
exact A* on every one, the same number of deviations (so the same fitness) as the variant
conformance/fitness.py used before (``VERSION_DIJKSTRA_LESS_MEMORY``, which is not always
optimal on the small tie-breaking costs), and every alignment of ours a valid one."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conformance.align import MOVE_COST, Aligner, Graph, TooLarge
from conformance.net import Replayer, compile_net, from_pm4py
from conformance.pm4py_bridge import costs, prefix_net
from model.petri import to_petri_net
from model.procedure import Kind, load_procedure

PROCEDURE = load_procedure()
FORBIDDEN = {a.name for a in PROCEDURE.activities.values() if a.kind is Kind.FORBIDDEN}
ENDS = {a.name for a in PROCEDURE.activities.values() if a.kind is Kind.END}
STEPS = sorted(t.activity for t in PROCEDURE.tasks())


def _generated_variants(cases: int, seed: int) -> list[tuple[str, ...]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.make_log import make_log

    events = make_log(cases, seed=seed, injection_rate=0.75).events
    events = events[~events["activity"].isin(FORBIDDEN)]
    traces = events.groupby("case_id", sort=False)["activity"].agg(tuple)
    return list(dict.fromkeys(traces.tolist()))


def _perturbed(traces: list[tuple[str, ...]], count: int, seed: int) -> list[tuple[str, ...]]:
    """Random edits of the traces: steps swapped, dropped, repeated, moved, inserted (some of
    them outside the model), segments reversed, the end cut off."""
    rng = random.Random(seed)
    out: list[tuple[str, ...]] = []
    for _ in range(count):
        trace = list(rng.choice(traces))
        for _ in range(rng.randint(1, 3)):
            n = len(trace)
            edit = rng.randrange(6)
            i = rng.randrange(n) if n else 0
            if edit == 0 and n > 1:
                j = rng.randrange(n)
                trace[i], trace[j] = trace[j], trace[i]
            elif edit == 1 and n > 1:
                del trace[i]
            elif edit == 2 and n:
                trace.insert(i, trace[i])
            elif edit == 3:
                trace.insert(i, rng.choice([*STEPS, "Coffee break"]))
            elif edit == 4 and n > 2:
                j = rng.randrange(i, n)
                trace[i:j + 1] = reversed(trace[i:j + 1])
            elif n > 1:
                trace = trace[: rng.randrange(1, n)]
        out.append(tuple(trace))
    return list(dict.fromkeys(out))


def _pm4py_costs(traces: list[tuple[str, ...]], *, is_open: bool, variant: str) -> list[int]:
    """pm4py's optimal alignment cost of each trace, with the costs conformance/fitness.py has
    always given it (on the prefix net for open cases)."""
    import pm4py

    net, im, fm = to_petri_net(PROCEDURE)
    if is_open:
        net, im, fm = prefix_net(net, im)
    model_costs, sync_costs = costs(net)
    out: dict[int, int] = {}
    by_length: dict[int, list[int]] = {}
    for number, trace in enumerate(traces):
        by_length.setdefault(len(trace), []).append(number)
    for length, numbers in sorted(by_length.items()):
        rows = [(f"{k:06d}", activity, pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(
            minutes=m)) for k, number in enumerate(numbers)
            for m, activity in enumerate(traces[number])]
        frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name",
                                            "time:timestamp"])
        results = pm4py.conformance_diagnostics_alignments(
            frame, net, im, fm, multi_processing=False,
            variant_str=variant, show_progress_bar=False,
            enable_best_worst_cost=False, trace_cost_function=[MOVE_COST] * length,
            model_cost_function=model_costs, sync_cost_function=sync_costs)
        for number, result in zip(numbers, results, strict=True):
            out[number] = int(result["cost"])
    return [out[n] for n in range(len(traces))]


def test_the_compiled_net_is_model_petri_s_net() -> None:
    assert compile_net(PROCEDURE) == from_pm4py(*to_petri_net(PROCEDURE))


@pytest.fixture(scope="module")
def traces() -> list[tuple[str, ...]]:
    real = [t for t in _generated_variants(500, seed=3) if t]
    return [*real[:150], *_perturbed(real, 150, seed=5)]


def _cut(trace: tuple[str, ...]) -> tuple[str, ...]:
    """The trace before its closure: an open case."""
    end = next((a for a in trace if a in ENDS), None)
    return trace if end is None else trace[: trace.index(end)]


# pm4py's exact A* on the prefix net of open cases is slow (about 0.25 s a trace): fewer of them.
@pytest.mark.parametrize(("is_open", "how_many"), [(False, None), (True, 50)])
def test_our_alignments_cost_what_pm4py_s_cost(traces: list[tuple[str, ...]], is_open: bool,
                                               how_many: int | None) -> None:
    if is_open:
        traces = [t for t in dict.fromkeys(_cut(t) for t in traces) if t]
    traces = traces[::max(1, len(traces) // how_many)] if how_many else traces
    aligner = Aligner(Graph(compile_net(PROCEDURE)))
    ours = [aligner.cost(t, is_open=is_open) for t in traces]
    exact = _pm4py_costs(traces, is_open=is_open,
                         variant="Variants.VERSION_STATE_EQUATION_A_STAR")
    assert len(traces) >= (how_many or 200)
    assert sum(c >= MOVE_COST for c in exact) > len(traces) // 3  # many do not fit
    assert ours == exact
    if not is_open:
        before = _pm4py_costs(traces, is_open=is_open,
                              variant="Variants.VERSION_DIJKSTRA_LESS_MEMORY")
        assert [c // MOVE_COST for c in ours] == [c // MOVE_COST for c in before]


def test_our_alignments_are_alignments(traces: list[tuple[str, ...]]) -> None:
    """The trace is the log side of the moves, the model side is a run of the net (or, for an
    open case, a prefix of one), and the cost counts the deviations."""
    net = compile_net(PROCEDURE)
    aligner = Aligner(Graph(net))
    replayer = Replayer(net)
    for trace in traces:
        for is_open in (False, True):
            alignment = aligner.align(trace, is_open=is_open)
            assert alignment.cost == aligner.cost(trace, is_open=is_open)
            assert tuple(log for log, _ in alignment.moves if log is not None) == trace
            run = tuple(model for _, model in alignment.moves if model is not None)
            assert replayer.fits(run, is_open=is_open)
            assert alignment.deviations == len(alignment.unexpected) + len(alignment.missing)
            assert all(log == model for log, model in alignment.moves
                       if log is not None and model is not None)


def test_a_net_too_large_is_refused() -> None:
    with pytest.raises(TooLarge):
        Graph(compile_net(PROCEDURE), max_markings=10)


def test_empty_costs_take_the_cheapest_way_out() -> None:
    graph = Graph(compile_net(PROCEDURE))
    tokens = np.array([bin(m).count("1") for m in graph.markings])
    assert (graph.empty_cost <= tokens).all()
    assert (graph.empty_cost < tokens).any()  # a silent join of three branches saves a step
    assert graph.empty_cost[graph.final] == 1


def test_the_batch_aligner_agrees_with_the_one_trace_at_a_time(
        traces: list[tuple[str, ...]]) -> None:
    from collections import Counter

    from conformance.align import BatchAligner, Variants

    graph = Graph(compile_net(PROCEDURE))
    single, batch = Aligner(graph), BatchAligner(graph)
    names = tuple(sorted({a for t in traces for a in t}))
    width = max(len(t) for t in traces)
    codes = np.zeros((len(traces), width), dtype=np.int32)
    for row, trace in enumerate(traces):
        codes[row, : len(trace)] = [names.index(a) for a in trace]
    variants = Variants(codes, np.array([len(t) for t in traces], dtype=np.intp), names)
    assert variants.trace(7) == traces[7]
    for is_open in (False, True):
        flags = np.full(len(traces), is_open)
        states, costs = batch.forward(variants, flags)
        explained = batch.explain(variants, np.arange(len(traces))[::-1], states, flags)[::-1]
        for trace, cost, (unexpected, missing) in zip(traces, costs.tolist(), explained,
                                                      strict=True):
            one = single.align(trace, is_open=is_open)
            assert cost == one.cost
            assert tuple(unexpected) == one.unexpected
            assert Counter(missing) == Counter(one.missing)

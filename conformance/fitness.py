"""Control-flow conformance: how well each case's sequence of steps fits the procedure's Petri net.

Reported beside the rules (CONTRACT §5, last paragraph). Two methods, both from pm4py:

``alignments``
    the best explanation of each trace as synchronous steps, steps the log has and the model
    does not ("unexpected") and steps the model needs and the log lacks ("missing"). Cost grows
    with the number of distinct variants, not cases, so each distinct variant is aligned once
    and the result is mapped back to its cases. Fitness is computed here from the alignment's
    cost (every log or model move costs the same, silent steps almost nothing):
    ``1 - deviations / (trace length + the model's shortest run)``, pm4py's own definition,
    because the Dijkstra variant's ``fitness`` field is wrong. Equally good explanations are
    told apart by a small extra cost per step, so the same log always gets the same text.
``token-replay``
    faster on many distinct variants, with a rougher explanation: a step done when the model did
    not allow it ("done out of turn") and the steps still enabled when the case ended
    ("missing"). pm4py's replay ignores activities outside the model; they are counted here.

``auto`` first replays every distinct variant exactly on the net (``replay``: a search over the
markings the trace can reach, silent steps included, so an activity at several places in the net,
such as ``Police notified``, is tried at each of them). A variant that replays fits, with fitness
1.0; this is fast (the reached states are memoised across variants) and sound. Only the variants
that do not fit are aligned, the most frequent first, up to ``max_alignment_variants``, for their
fitness and their explanation; any beyond the budget are judged by token replay, and each case
says which method judged it.

Aligning has a time budget too (``alignment_seconds``, default 20 s): a log of long, erratic
traces can make each alignment take seconds. The variants are aligned in small batches, each
trace with pm4py's own per-trace time limit set to what is left of the budget; once the budget
is spent, the variants not yet aligned (and any whose alignment was cut off) are judged by token
replay, which gets half as long again; what is left after that keeps the verdict of the exact
replay (it does not fit; its fitness is not measured). ``reason`` says how many and why. This is
the one place where a check's result can depend on the machine's speed, so the reason says so
whenever a budget ran out. (pm4py's token replay is not used to say "fits": on this net it
calls conforming referral cases unfit, because it may try the wrong ``Police notified``.)

The forbidden events ("Computer used", "Images downloaded or distributed") are left out: they are
never in the flow and are judged by the rules. An activity outside the model's vocabulary counts
as a deviation ("unexpected ... (not in the model)"), never silently as fitting.

A case without ``Case closed`` is open at the as-of time: it is judged on the steps so far (a
prefix of a run of the model), so steps still to come are not counted as missing. This uses a
copy of the net in which every place may be emptied by a silent step and the final marking is
empty.
"""

from __future__ import annotations

import copy
import enum
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.procedure import (
    Block,
    Choice,
    Kind,
    Loop,
    Parallel,
    Procedure,
    Sequence,
    SubProcess,
    Task,
)

if TYPE_CHECKING:
    from conformance.logio import EventLog

__all__ = [
    "CASE_COLUMNS",
    "DEFAULT_ALIGNMENT_SECONDS",
    "DEFAULT_MAX_ALIGNMENT_VARIANTS",
    "FitnessResult",
    "Method",
    "fitness",
]

DEFAULT_MAX_ALIGNMENT_VARIANTS: Final = 2_000
"""``auto`` aligns up to this many distinct variants; beyond, it replays tokens."""

ALIGNMENT_VARIANT: Final = "Variants.VERSION_DIJKSTRA_LESS_MEMORY"
"""pm4py's exact Dijkstra variant that needs less memory. On this model it found alignments of
the same cost as the default A* four times faster (380 variants: 1.4 s against 5.6 s), and the
A* slows badly on long traces (809 ms at 200 events). Its ``fitness`` field is wrong, so fitness
is computed here from the cost."""

DEFAULT_ALIGNMENT_SECONDS: Final = 20.0
"""The time budget for aligning; past it, the variants left are judged by token replay."""

_CHUNK: Final = 250  # variants per call to pm4py, so that progress can be reported
_TIMED_CHUNK: Final = 25  # variants per call under a time budget, so that it is kept to
_MOVE_COST: Final = 1_000_000  # the cost of a log or model move (pm4py's standard is 10,000)
_SKIP: Final = ">>"
_CASE: Final = "case:concept:name"
_ACTIVITY: Final = "concept:name"
_TIME: Final = "time:timestamp"

CASE_COLUMNS: Final = (
    "case_id", "fitness", "is_fit", "open", "deviations", "outside_model", "method",
)


class Method(enum.StrEnum):
    ALIGNMENTS = "alignments"
    TOKEN_REPLAY = "token-replay"
    AUTO = "auto"
    REPLAY = "replay"  # exact replay: what AUTO uses for the variants that fit


@dataclass(frozen=True)
class FitnessResult:
    """Per-case fitness against the model's Petri net.

    ``cases`` has one row per case: ``case_id``; ``fitness`` (0..1); ``is_fit``; ``open`` (no
    ``Case closed``: judged on the steps so far); ``deviations`` (readable text such as
    "missing: Computer secured; unexpected: Family informed", empty when the case fits);
    ``outside_model`` (how many of its events have an activity outside the model); ``method``
    (``replay``, ``alignments`` or ``token-replay``: what judged this case).
    """

    method: Method  # the method used for all cases first (never AUTO)
    requested: Method
    reason: str  # why this method, in a sentence
    cases: pd.DataFrame
    variants: int
    excluded: Mapping[str, int] = field(default_factory=dict)  # forbidden activity -> events
    outside_model: Mapping[str, int] = field(default_factory=dict)  # activity -> events

    @property
    def fit_cases(self) -> int:
        return int(self.cases["is_fit"].sum())

    @property
    def open_cases(self) -> int:
        return int(self.cases["open"].sum())

    @property
    def mean_fitness(self) -> float | None:
        """Mean fitness over cases; None when there are none."""
        if self.cases.empty:
            return None
        return float(self.cases["fitness"].mean())


def fitness(
    log: EventLog,
    procedure: Procedure,
    method: Method | str = Method.AUTO,
    *,
    max_alignment_variants: int = DEFAULT_MAX_ALIGNMENT_VARIANTS,
    alignment_seconds: float = DEFAULT_ALIGNMENT_SECONDS,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FitnessResult:
    """Fitness of every case of ``log`` against ``procedure``'s Petri net.

    ``progress(done, total)`` is called with the number of distinct variants judged so far (a
    second round, when ``auto`` aligns what token replay found unfit, starts again from 0).
    Aligning stops after ``alignment_seconds`` (measured with ``clock``); the variants left are
    judged by token replay.
    """
    from model.petri import to_petri_net

    requested = Method(method)
    forbidden = {a.name for a in procedure.activities.values() if a.kind is Kind.FORBIDDEN}
    ends = {a.name for a in procedure.activities.values() if a.kind is Kind.END}
    events = log.events
    case_ids = np.asarray(pd.unique(events["case_id"]), dtype=object)
    is_forbidden = events["activity"].isin(forbidden).to_numpy()
    excluded = _counts(events.loc[is_forbidden, "activity"])
    kept = events.loc[~is_forbidden, ["case_id", "activity", "time_utc"]]

    net, im, fm = to_petri_net(procedure)
    labels = {t.label for t in net.transitions if t.label is not None}
    outside = _counts(kept.loc[~kept["activity"].isin(labels), "activity"])

    codes, variants, first_case = _variants(kept, case_ids)

    judge = _Judge(net, im, fm, labels, ends, _shortest_run(procedure.flow), kept)
    everything = list(range(len(variants)))
    deadline = clock() + alignment_seconds
    replayer = _Replayer(net, im, fm)

    def replayed_only(index: int) -> _Verdict:
        trace = variants[index]
        fits = replayer.fits(trace, is_open=not any(a in ends for a in trace))
        return _Verdict(1.0, True, "", Method.REPLAY) if fits else _NOT_MEASURED

    verdicts: list[_Verdict]
    late: dict[Method, list[int]] = {}
    if requested is Method.AUTO:
        used = Method.REPLAY
        verdicts = [replayed_only(i) for i in everything]
        sizes = np.bincount(codes, minlength=len(variants)) if len(codes) else np.zeros(0)
        unfit = sorted((i for i in everything if verdicts[i] is _NOT_MEASURED),
                       key=lambda i: (-int(sizes[i]), i))
        aligned = sorted(unfit[:max_alignment_variants])
        replayed = sorted(unfit[max_alignment_variants:])
        reason = (f"exact replay of {len(variants):,} distinct variants; the "
                  f"{len(unfit):,} that do not fit the model were ")
        if not replayed:
            reason += "aligned to measure and explain their deviations"
        else:
            reason += (f"aligned, the {len(aligned):,} most frequent of them (the budget), and "
                       f"the other {len(replayed):,} judged by token replay "
                       "(--max-aligned-variants raises the budget)")
        found, late[Method.ALIGNMENTS] = judge.run(
            Method.ALIGNMENTS, variants, aligned, first_case, progress, deadline, clock)
        rest = sorted([*replayed, *late[Method.ALIGNMENTS]])
        more, late[Method.TOKEN_REPLAY] = judge.run(
            Method.TOKEN_REPLAY, variants, rest, first_case, progress,
            clock() + alignment_seconds / 2, clock)
        for index, verdict in (found | more).items():
            verdicts[index] = verdict
    else:
        used = requested
        reason = f"{used.value.replace('-', ' ')}, as asked, on {len(variants):,} distinct variants"
        found, late[used] = judge.run(used, variants, everything, first_case, progress, deadline,
                                      clock)
        if used is Method.ALIGNMENTS:
            more, late[Method.TOKEN_REPLAY] = judge.run(
                Method.TOKEN_REPLAY, variants, late[used], first_case, progress,
                clock() + alignment_seconds / 2, clock)
            found |= more
        verdicts = [found[i] if i in found else replayed_only(i) for i in everything]
    reason += _late_reason(late, alignment_seconds)

    fit = np.array([v.fitness for v in verdicts], dtype=np.float64)
    ok = np.array([v.is_fit for v in verdicts], dtype=np.bool_)
    how = np.array([v.method.value for v in verdicts], dtype=object)
    still_open = np.array([not any(a in ends for a in v) for v in variants], dtype=np.bool_)
    text = np.array([v.deviations for v in verdicts], dtype=object)
    n_outside = np.array([sum(a not in labels for a in v) for v in variants], dtype=np.int64)
    cases = pd.DataFrame(
        {
            "case_id": case_ids,
            "fitness": fit[codes],
            "is_fit": ok[codes],
            "open": still_open[codes],
            "deviations": text[codes],
            "outside_model": n_outside[codes],
            "method": how[codes],
        },
        columns=list(CASE_COLUMNS),
    )
    return FitnessResult(
        method=used,
        requested=requested,
        reason=reason,
        cases=cases,
        variants=len(variants),
        excluded=excluded,
        outside_model=outside,
    )


def _late_reason(late: Mapping[Method, list[int]], seconds: float) -> str:
    """What the time budget cut short, in a clause of the reason (empty when nothing)."""
    aligned_late = len(late.get(Method.ALIGNMENTS, []))
    replay_late = len(late.get(Method.TOKEN_REPLAY, []))
    if not aligned_late and not replay_late:
        return ""
    parts = []
    if aligned_late:
        parts.append(f"{aligned_late:,} variants were not aligned in time and were judged by "
                     "token replay instead")
    if replay_late:
        parts.append(f"{replay_late:,} variants were judged by exact replay only (fit or not, "
                     "their fitness not measured)")
    return (f"; the time budget for aligning ({seconds:g} s, --alignment-seconds raises it) ran "
            f"out: {' and '.join(parts)}; which variants were judged in time can differ between "
            "runs and machines")


@dataclass(frozen=True)
class _Verdict:
    fitness: float
    is_fit: bool
    deviations: str
    method: Method


def _variants(kept: pd.DataFrame, case_ids: np.ndarray
              ) -> tuple[npt.NDArray[np.intp], list[tuple[str, ...]], np.ndarray]:
    """Each case's variant number, the variants (activity sequences) in order of first
    appearance, and the first case of each variant (whose events, with their real times, go to
    pm4py). Within a case, ``kept`` is in the log's order; a case without events has the empty
    variant."""
    case_of = pd.Index(case_ids).get_indexer(kept["case_id"])
    activity_codes, names = pd.factorize(kept["activity"])
    order = np.argsort(case_of, kind="stable")  # a no-op on a log sorted by case
    case_of = case_of[order]
    activity_codes = activity_codes[order].astype(np.int32)
    starts = np.flatnonzero(np.r_[True, case_of[1:] != case_of[:-1]]) if len(case_of) else (
        np.zeros(0, dtype=np.intp))
    keys = [b""] * len(case_ids)
    for case, segment in zip(case_of[starts].tolist(), np.split(activity_codes, starts[1:]),
                             strict=True):
        keys[case] = segment.tobytes()
    numbers: dict[bytes, int] = {}
    codes = np.fromiter((numbers.setdefault(k, len(numbers)) for k in keys), dtype=np.intp,
                        count=len(keys))
    names_list = [str(n) for n in names]
    variants = [
        tuple(names_list[c] for c in np.frombuffer(key, dtype=np.int32).tolist())
        for key in numbers
    ]
    first = np.full(len(variants), -1, dtype=np.intp)
    seen = np.unique(codes, return_index=True)
    first[seen[0]] = seen[1]
    return codes, variants, np.asarray(case_ids, dtype=object)[first]


def _counts(values: pd.Series) -> dict[str, int]:
    """Counts per value, most frequent first, ties by name (deterministic)."""
    counted = Counter(str(v) for v in values)
    return dict(sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))


def _shortest_run(block: Block | None) -> int:
    """How many visible steps the shortest run through ``block`` takes."""
    if block is None:
        return 0
    if isinstance(block, Task):
        return 1
    if isinstance(block, (Sequence, Parallel)):
        return sum(_shortest_run(child) for child in block.children)
    if isinstance(block, Choice):
        return min(_shortest_run(branch.body) for branch in block.branches)
    if isinstance(block, (Loop, SubProcess)):
        return _shortest_run(block.body)
    raise TypeError(f"unknown block {type(block).__name__}")


def _describe(missing: Iterable[str], unexpected: Iterable[str], labels: set[str],
              *, unexpected_word: str = "unexpected") -> str:
    """'missing: A; unexpected: B; out of order: C' (a step both missing and unexpected)."""
    miss = Counter(sorted(missing))
    extra = Counter(sorted(unexpected))
    swapped = sorted(a for a in miss if a in extra)

    def names(counter: Counter[str], mark_outside: bool) -> str:
        out = []
        for name, n in counter.items():
            if name in swapped:
                continue
            text = name if n == 1 else f"{name} (×{n})"
            if mark_outside and name not in labels:
                text += " (not in the model)"
            out.append(text)
        return ", ".join(out)

    parts = []
    if text := names(miss, False):
        parts.append(f"missing: {text}")
    if text := names(extra, True):
        parts.append(f"{unexpected_word}: {text}")
    if swapped:
        parts.append("out of order: " + ", ".join(swapped))
    return "; ".join(parts)


class _Judge:
    """Runs pm4py on distinct variants, in chunks, and turns its output into verdicts."""

    def __init__(self, net: Any, im: Any, fm: Any, labels: set[str], ends: set[str],
                 shortest: int, kept: pd.DataFrame) -> None:
        self.net, self.im, self.fm = net, im, fm
        self.kept = kept
        # each case's row positions in ``kept``, in the log's order
        self.rows: dict[Any, npt.NDArray[np.intp]] = dict(
            kept.groupby("case_id", sort=False).indices  # type: ignore[arg-type]
        )
        self.prefix_net, self.prefix_im, self.prefix_fm = _prefix_net(net, im)
        self.costs = _costs(net)
        self.prefix_costs = _costs(self.prefix_net)
        self.labels = labels
        self.ends = ends
        self.shortest = shortest

    def run(self, method: Method, variants: list[tuple[str, ...]], which: list[int],
            first_case: np.ndarray, progress: Callable[[int, int], None] | None,
            deadline: float | None = None, clock: Callable[[], float] = time.monotonic,
            ) -> tuple[dict[int, _Verdict], list[int]]:
        """Verdicts for the variants numbered ``which``, by ``method``, and the variants left
        unjudged when ``deadline`` (on ``clock``) passed (or whose alignment it cut off)."""
        verdicts: dict[int, _Verdict] = {}
        late: list[int] = []
        groups: dict[tuple[bool, int], list[int]] = {}
        for index in which:
            trace = variants[index]
            if not trace:
                verdicts[index] = _Verdict(1.0, True, "", method)  # only forbidden events
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
                frame = _pm4py_frame(self.kept, self.rows, [first_case[i] for i in chunk])
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
        import pm4py

        net, im, fm = (
            (self.prefix_net, self.prefix_im, self.prefix_fm) if is_open
            else (self.net, self.im, self.fm)
        )
        if method is Method.ALIGNMENTS:
            model_costs, sync_costs = self.prefix_costs if is_open else self.costs
            result = pm4py.conformance_diagnostics_alignments(
                frame, net, im, fm,
                multi_processing=False,  # crashes on 2 cores and was slower when it ran
                variant_str=ALIGNMENT_VARIANT,
                show_progress_bar=False,
                enable_best_worst_cost=False,  # its fitness is not used: computed here
                trace_cost_function=[_MOVE_COST] * length,
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

    def verdict(self, method: Method, result: dict[str, Any] | None, trace: tuple[str, ...],
                *, is_open: bool) -> _Verdict:
        if result is None:
            return _Verdict(float("nan"), False, "could not be aligned", method)
        if method is Method.ALIGNMENTS:
            return self.from_alignment(result, trace, is_open=is_open)
        return self.from_replay(result, trace, is_open=is_open)

    def from_alignment(self, result: dict[str, Any], trace: tuple[str, ...], *,
                       is_open: bool) -> _Verdict:
        moves: list[tuple[Any, Any]] = result["alignment"]
        logged = tuple(m[0] for m in moves if m[0] != _SKIP)
        if logged != trace:
            raise RuntimeError("pm4py returned alignments in an unexpected order")
        unexpected = [str(m[0]) for m in moves if m[1] == _SKIP]
        missing = [str(m[1]) for m in moves if m[0] == _SKIP and m[1] is not None]
        # Each log or model move costs _MOVE_COST; silent steps and the tie-breaking extra on
        # model moves add far less (see _costs), so the cost counts the deviations.
        deviations = int(result["cost"]) // _MOVE_COST
        if deviations != len(unexpected) + len(missing):
            raise RuntimeError("alignment cost and moves disagree")
        worst = len(trace) + (0 if is_open else self.shortest)
        value = 1.0 - deviations / worst if worst else 1.0
        return _Verdict(max(0.0, value), deviations == 0,
                        _describe(missing, unexpected, self.labels), Method.ALIGNMENTS)

    def from_replay(self, result: dict[str, Any], trace: tuple[str, ...], *,
                    is_open: bool) -> _Verdict:
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
        text = _describe(missing, [*out_of_turn, *outside], self.labels,
                         unexpected_word="done out of turn or unexpected")
        return _Verdict(max(0.0, value), fits, text, Method.TOKEN_REPLAY)


def _costs(net: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    """Model-move and synchronous-move costs for pm4py's alignments.

    A model move on a visible step costs ``_MOVE_COST`` plus its rank among the net's visible
    transitions (by label, then name), a silent step 1, a synchronous move 0. The small extra
    breaks ties between equally good explanations the same way every run: pm4py's transitions
    hash by memory address, so with equal costs the explanation it returns (which of two
    swapped steps is "out of order") would change from run to run.
    """
    visible = sorted((t for t in net.transitions if t.label is not None),
                     key=lambda t: (str(t.label), str(t.name)))
    model = {t: 1 for t in net.transitions if t.label is None}
    model.update({t: _MOVE_COST + rank for rank, t in enumerate(visible, start=1)})
    sync = {t: 0 for t in visible}
    return model, sync


def _prefix_net(net: Any, im: Any) -> tuple[Any, Any, Any]:
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


def _pm4py_frame(events: pd.DataFrame, rows: Mapping[Any, npt.NDArray[np.intp]],
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


_NOT_MEASURED: Final = _Verdict(
    float("nan"), False, "does not fit the model (not explained: the time budget ran out)",
    Method.REPLAY)


class _Replayer:
    """Exact replay on a safe (1-bounded) net: the set of markings a trace can reach, firing
    silent transitions as needed. Reached sets are interned and each (set, activity) step is
    memoised, so variants that share a prefix share the work.

    A closed case's trace fits when the final marking is reachable after its last step; an open
    case's (no ``Case closed``) when the set is not empty: it is then a prefix of a run, since a
    sound net can complete from every marking it reaches."""

    def __init__(self, net: Any, im: Any, fm: Any) -> None:
        places = sorted(net.places, key=lambda p: str(p.name))
        index = {p: i for i, p in enumerate(places)}
        silent: list[tuple[frozenset[int], frozenset[int]]] = []
        visible: dict[str, list[tuple[frozenset[int], frozenset[int]]]] = {}
        for t in sorted(net.transitions, key=lambda t: str(t.name)):
            if any(a.weight != 1 for a in (*t.in_arcs, *t.out_arcs)):
                raise ValueError("exact replay needs arcs of weight 1")
            pre = frozenset(index[a.source] for a in t.in_arcs)
            post = frozenset(index[a.target] for a in t.out_arcs)
            if t.label is None:
                silent.append((pre, post))
            else:
                visible.setdefault(str(t.label), []).append((pre, post))
        self.silent = silent
        self.visible = visible
        self.final = frozenset(index[p] for p in fm)
        self.states: dict[frozenset[frozenset[int]], int] = {}
        self.sets: list[frozenset[frozenset[int]]] = []
        self.steps: dict[tuple[int, str], int] = {}
        self.empty = self._intern(frozenset())
        self.start = self._intern(self._closure([frozenset(index[p] for p in im)]))

    @staticmethod
    def _fire(marking: frozenset[int], pre: frozenset[int], post: frozenset[int]
              ) -> frozenset[int] | None:
        if not pre <= marking:
            return None
        rest = marking - pre
        if rest & post:
            raise ValueError("exact replay needs a safe net (a place would hold two tokens)")
        return rest | post

    def _closure(self, markings: Iterable[frozenset[int]]) -> frozenset[frozenset[int]]:
        seen = set(markings)
        todo = list(seen)
        while todo:
            marking = todo.pop()
            for pre, post in self.silent:
                after = self._fire(marking, pre, post)
                if after is not None and after not in seen:
                    seen.add(after)
                    todo.append(after)
        return frozenset(seen)

    def _intern(self, markings: frozenset[frozenset[int]]) -> int:
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
                for pre, post in self.visible.get(activity, ()):
                    after = self._fire(marking, pre, post)
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

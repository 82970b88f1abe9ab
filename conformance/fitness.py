"""Control-flow conformance: how well each case's sequence of steps fits the procedure's Petri net.

Reported beside the rules (CONTRACT §5, last paragraph). Two methods:

``alignments``
    the best explanation of each trace as synchronous steps, steps the log has and the model
    does not ("unexpected") and steps the model needs and the log lacks ("missing"). Each
    distinct variant is aligned once and the result is mapped back to its cases. The aligner is
    our own (:mod:`conformance.align`: exact, a dynamic programme over the net's reachable
    markings memoised across variants, microseconds a variant where pm4py's took about 8 ms);
    it gives the optimal cost pm4py's exact alignments give with the same costs (a test holds it
    to them). Every log or model move costs the same, silent steps almost nothing; fitness is
    ``1 - deviations / (trace length + the model's shortest run)``, pm4py's own definition.
    Equally good explanations are told apart by a small extra cost per model move (the step's
    rank), then by a fixed order, so the same log always gets the same text. On a net with more
    reachable markings than the aligner takes, pm4py's alignments are used instead.
``token-replay``
    pm4py's token-based replay, with a rougher explanation: a step done when the model did not
    allow it ("done out of turn") and the steps still enabled when the case ended ("missing").
    pm4py's replay ignores activities outside the model; they are counted here.

``auto`` first replays every distinct variant exactly on the net (``replay``: every marking the
trace can reach is tried, silent steps included, so an activity at several places in the net,
such as ``Police notified``, is tried at each of them; this is the aligner's first pass, all
variants at once: a variant replays when its cheapest alignment has no deviation, and on a net
too large for the aligner :class:`conformance.net.Replayer` does it). A variant that replays
fits, with fitness 1.0; this is fast (memoised across variants) and sound. The variants that
do not fit are aligned, the most frequent first, up to ``max_alignment_variants`` (100,000 by
default, so every one in practice); any beyond the budget are judged by token replay, and each
case says which method judged it. pm4py is imported only when token replay or its alignments are
needed (importing it takes about 1.5 s).

Aligning has a time budget too (``alignment_seconds``, default 20 s), checked before each
variant (and, for pm4py, per trace); once it is spent, the variants not yet aligned are judged by
token replay, which gets half as long again; what is left after that keeps the verdict of the
exact replay (it does not fit; its fitness is not measured). ``reason`` says how many and why.
This is the one place where a check's result can depend on the machine's speed, so the reason
says so whenever a budget ran out. (pm4py's token replay is not used to say "fits": on this net
it calls conforming referral cases unfit, because it may try the wrong ``Police notified``.)

The forbidden events ("Computer used", "Images downloaded or distributed") are left out: they are
never in the flow and are judged by the rules. An activity outside the model's vocabulary counts
as a deviation ("unexpected ... (not in the model)"), never silently as fitting.

A case without ``Case closed`` is open at the as-of time: it is judged on the steps so far (a
prefix of a run of the model), so steps still to come are not counted as missing. This uses a
copy of the net in which every place may be emptied by a silent step and the final marking is
empty.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from collections.abc import Sequence as SequenceOf
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.align import MOVE_COST, BatchAligner, Graph, Variants
from conformance.net import Net, Replayer, compile_net
from conformance.pm4py_bridge import Pm4pyJudge
from conformance.verdicts import NOT_MEASURED, Method, Verdict, describe
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

DEFAULT_MAX_ALIGNMENT_VARIANTS: Final = 100_000
"""``auto`` aligns up to this many distinct variants that do not fit; beyond, it replays tokens.
With our aligner this is rarely reached: the benchmark's log of 100,000 cases (bench/make_log.py)
has 29,345 distinct variants, 17,834 of them unfit."""


DEFAULT_ALIGNMENT_SECONDS: Final = 20.0
"""The time budget for aligning; past it, the variants left are judged by token replay."""

_MATRIX_CELLS: Final = 30_000_000  # cases x longest case: above, variants are found case by case
_ALIGN_CHUNK: Final = 1_000  # variants explained between two looks at the clock

CASE_COLUMNS: Final = (
    "case_id", "fitness", "is_fit", "open", "deviations", "outside_model", "method",
)


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
    requested = Method(method)
    forbidden = {a.name for a in procedure.activities.values() if a.kind is Kind.FORBIDDEN}
    ends = {a.name for a in procedure.activities.values() if a.kind is Kind.END}
    events = log.events
    case_codes, unique_cases = pd.factorize(events["case_id"])
    case_ids = np.asarray(unique_cases, dtype=object)
    is_forbidden = events["activity"].isin(forbidden).to_numpy()
    excluded = _counts(events.loc[is_forbidden, "activity"])
    kept = events.loc[~is_forbidden, ["case_id", "activity", "time_utc"]]

    net = compile_net(procedure)
    labels = set(net.labels)
    outside = _counts(kept.loc[~kept["activity"].isin(labels), "activity"])

    codes, variants, first_case, matrix = _variants(kept, case_ids, case_codes[~is_forbidden])

    judge = _Judges(procedure, net, labels, ends, _shortest_run(procedure.flow), kept, variants,
                    matrix, first_case, progress, clock)
    everything = list(range(len(variants)))
    deadline = clock() + alignment_seconds

    def replayed_only(index: int) -> Verdict:
        return Verdict(1.0, True, "", Method.REPLAY) if judge.fits(index) else NOT_MEASURED

    verdicts: list[Verdict]
    late: dict[Method, list[int]] = {}
    if requested is Method.AUTO:
        used = Method.REPLAY
        verdicts = [replayed_only(i) for i in everything]
        sizes = np.bincount(codes, minlength=len(variants)) if len(codes) else np.zeros(0)
        unfit = sorted((i for i in everything if verdicts[i] is NOT_MEASURED),
                       key=lambda i: (-int(sizes[i]), i))
        aligned = sorted(unfit[:max_alignment_variants])
        replayed = sorted(unfit[max_alignment_variants:])
        reason = (f"exact replay of {len(variants):,} distinct variants; the "
                  f"{len(unfit):,} that do not fit the model were ")
        if not replayed:
            reason += "given to the aligner to measure and explain their deviations"
        else:
            reason += (f"aligned, the {len(aligned):,} most frequent of them (the budget), and "
                       f"the other {len(replayed):,} judged by token replay "
                       "(--max-aligned-variants raises the budget)")
        found, late[Method.ALIGNMENTS] = judge.run(Method.ALIGNMENTS, aligned, deadline)
        rest = sorted([*replayed, *late[Method.ALIGNMENTS]])
        more, late[Method.TOKEN_REPLAY] = judge.run(
            Method.TOKEN_REPLAY, rest, clock() + alignment_seconds / 2)
        for index, verdict in (found | more).items():
            verdicts[index] = verdict
    else:
        used = requested
        reason = f"{used.value.replace('-', ' ')}, as asked, on {len(variants):,} distinct variants"
        found, late[used] = judge.run(used, everything, deadline)
        if used is Method.ALIGNMENTS:
            more, late[Method.TOKEN_REPLAY] = judge.run(
                Method.TOKEN_REPLAY, late[used], clock() + alignment_seconds / 2)
            found |= more
        verdicts = [found[i] if i in found else replayed_only(i) for i in everything]
    reason += judge.note + _late_reason(late, alignment_seconds)

    fit = np.array([v.fitness for v in verdicts], dtype=np.float64)
    ok = np.array([v.is_fit for v in verdicts], dtype=np.bool_)
    how = np.array([v.method.value for v in verdicts], dtype=object)
    still_open = judge.is_open
    text = np.array([v.deviations for v in verdicts], dtype=object)
    n_outside = judge.count(set(outside))
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


def _variants(kept: pd.DataFrame, case_ids: np.ndarray, case_of: npt.NDArray[np.intp]
              ) -> tuple[npt.NDArray[np.intp], SequenceOf[tuple[str, ...]], np.ndarray,
                         Variants | None]:
    """Each case's variant number, the variants (activity sequences) in order of first
    appearance, and the first case of each variant (whose events, with their real times, go to
    pm4py). Within a case, ``kept`` is in the log's order; a case without events has the empty
    variant. The cases' sequences are the rows of a matrix (padded with -1) whose distinct rows
    numpy finds, and the distinct rows are returned too (None when the matrix would be too large
    for memory, with a few very long cases: then the variants are found case by case).
    ``case_of``: the number (into ``case_ids``) of each row's case."""
    activity_codes, names = pd.factorize(kept["activity"])
    order = np.argsort(case_of, kind="stable")  # a no-op on a log sorted by case
    case_of = case_of[order]
    activity_codes = activity_codes[order].astype(np.int32)
    names_list = np.array([str(n) for n in names], dtype=object)
    lengths = np.bincount(case_of, minlength=len(case_ids)) if len(case_ids) else (
        np.zeros(0, dtype=np.intp))
    width = int(lengths.max()) if len(case_of) else 0
    if 0 < len(case_ids) * width <= _MATRIX_CELLS:
        starts = np.cumsum(lengths) - lengths
        matrix = np.full((len(case_ids), width), -1, dtype=np.int32)
        matrix[case_of, np.arange(len(case_of)) - starts[case_of]] = activity_codes
        rows = np.ascontiguousarray(matrix).view(np.dtype((np.void, 4 * width))).ravel()
        _, first_seen, inverse = np.unique(rows, return_index=True, return_inverse=True)
        by_appearance = np.argsort(first_seen)
        rank = np.empty_like(by_appearance)
        rank[by_appearance] = np.arange(len(by_appearance))
        codes = rank[inverse.ravel()].astype(np.intp)
        first = first_seen[by_appearance]
        distinct = Variants(np.maximum(matrix[first], 0),  # the padding becomes 0
                            lengths[first].astype(np.intp), tuple(names_list.tolist()))
        return codes, _Traces(distinct), np.asarray(case_ids, dtype=object)[first], distinct
    starts = np.flatnonzero(np.r_[True, case_of[1:] != case_of[:-1]]) if len(case_of) else (
        np.zeros(0, dtype=np.intp))
    keys = [b""] * len(case_ids)
    for case, segment in zip(case_of[starts].tolist(), np.split(activity_codes, starts[1:]),
                             strict=True):
        keys[case] = segment.tobytes()
    numbers: dict[bytes, int] = {}
    codes = np.fromiter((numbers.setdefault(k, len(numbers)) for k in keys), dtype=np.intp,
                        count=len(keys))
    variants = [tuple(names_list[np.frombuffer(key, dtype=np.int32)].tolist()) for key in numbers]
    first = np.full(len(variants), -1, dtype=np.intp)
    seen = np.unique(codes, return_index=True)
    first[seen[0]] = seen[1]
    return codes, variants, np.asarray(case_ids, dtype=object)[first], None


class _Traces(SequenceOf[tuple[str, ...]]):
    """The distinct variants of a matrix as tuples of steps, each made when asked for."""

    def __init__(self, matrix: Variants) -> None:
        self.matrix = matrix

    def __len__(self) -> int:
        return len(self.matrix.lengths)

    @overload
    def __getitem__(self, index: int) -> tuple[str, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> SequenceOf[tuple[str, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, ...] | SequenceOf[tuple[str, ...]]:
        if isinstance(index, slice):
            return [self.matrix.trace(i) for i in range(len(self))[index]]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.matrix.trace(index % len(self))


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


class _Judges:
    """Who judges the variants: our aligner (exact replay is an alignment without deviations;
    pm4py's alignments and our replay on a net too large for it) and pm4py's token replay,
    each made when first needed (pm4py is slow to import)."""

    def __init__(self, procedure: Procedure, net: Net, labels: set[str], ends: set[str],
                 shortest: int, kept: pd.DataFrame, variants: SequenceOf[tuple[str, ...]],
                 matrix: Variants | None, first_case: np.ndarray,
                 progress: Callable[[int, int], None] | None, clock: Callable[[], float]
                 ) -> None:
        self.procedure, self.net, self.labels, self.ends = procedure, net, labels, ends
        self.shortest, self.kept, self.variants = shortest, kept, variants
        self.first_case, self.progress, self.clock = first_case, progress, clock
        self.matrix = matrix  # None: too large; then made by classes of length from the tuples
        self.lengths = matrix.lengths if matrix is not None else np.fromiter(
            map(len, variants), dtype=np.intp, count=len(variants))
        self.is_open = self.count(ends) == 0
        self.note = ""  # a clause for the reason when pm4py aligned instead of us
        self.texts: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
        self._aligner: BatchAligner | None = None
        self._tried = False
        self._pm4py: Pm4pyJudge | None = None
        self._replayer: Replayer | None = None
        self._costs: npt.NDArray[np.int64] | None = None
        # length class -> (its variants as a matrix, their states, their numbers)
        self._groups: dict[int, tuple[Variants, npt.NDArray[np.int64], npt.NDArray[np.intp]]] = {}
        self._group_of = np.zeros(len(variants), dtype=np.intp)
        self._row_of = np.zeros(len(variants), dtype=np.intp)

    def aligner(self) -> BatchAligner | None:
        if not self._tried:
            self._tried = True
            try:
                self._aligner = BatchAligner(Graph(self.net))
            except ValueError as error:  # too large, or not safe
                self.note = f"; the alignments are pm4py's ({error})"
        return self._aligner

    def pm4py(self) -> Pm4pyJudge:
        if self._pm4py is None:
            from model.petri import to_petri_net

            net, im, fm = to_petri_net(self.procedure)
            self._pm4py = Pm4pyJudge(net, im, fm, self.labels, self.ends, self.shortest, self.kept)
        return self._pm4py

    def count(self, activities: set[str]) -> npt.NDArray[np.int64]:
        """How many steps of each variant are among ``activities``."""
        matrix = self.matrix
        if matrix is None or not matrix.names:
            return np.fromiter((sum(map(activities.__contains__, v)) for v in self.variants),
                               dtype=np.int64, count=len(self.variants))
        chosen = np.array([n in activities for n in matrix.names], dtype=bool)
        inside = np.arange(matrix.codes.shape[1])[None, :] < matrix.lengths[:, None]
        return np.asarray((chosen[matrix.codes] & inside).sum(axis=1), dtype=np.int64)

    def costs(self, aligner: BatchAligner) -> npt.NDArray[np.int64]:
        """Every variant's cheapest alignment cost (once), by classes of similar length."""
        if self._costs is None:
            matrix = self.matrix
            names = matrix.names if matrix is not None else tuple(
                sorted({a for v in self.variants for a in v}))
            number = {a: i for i, a in enumerate(names)}
            lengths = self.lengths
            group = np.array([n.bit_length() for n in lengths.tolist()], dtype=np.intp)
            self._costs = np.zeros(len(self.variants), dtype=np.int64)
            for g in np.unique(group).tolist():  # 0; 1; 2-3; 4-7 ... steps
                rows = np.flatnonzero(group == g)
                width = int(lengths[rows].max())
                if matrix is not None:
                    codes = np.ascontiguousarray(matrix.codes[rows, :width])
                else:
                    codes = np.zeros((len(rows), width), dtype=np.int32)
                    for row, index in enumerate(rows.tolist()):
                        codes[row, : lengths[index]] = [number[a] for a in self.variants[index]]
                batch = Variants(codes, lengths[rows], names)
                states, found = aligner.forward(batch, self.is_open[rows])
                self._costs[rows] = found
                self._groups[g] = (batch, states, rows)
                self._group_of[rows] = g
                self._row_of[rows] = np.arange(len(rows))
        return self._costs

    def fits(self, index: int) -> bool:
        """Whether variant ``index`` is a run of the model (a prefix of one, when open)."""
        aligner = self.aligner()
        if aligner is not None:
            return bool(self.costs(aligner)[index] < MOVE_COST)
        if self._replayer is None:
            self._replayer = Replayer(self.net)
        return self._replayer.fits(self.variants[index], is_open=bool(self.is_open[index]))

    def run(self, method: Method, which: list[int], deadline: float
            ) -> tuple[dict[int, Verdict], list[int]]:
        """Verdicts for the variants numbered ``which``, by ``method``, and the variants left
        unjudged when ``deadline`` (on the clock) passed."""
        if not which:
            return {}, []
        aligner = self.aligner() if method is Method.ALIGNMENTS else None
        if aligner is None:
            return self.pm4py().run(method, self.variants, which, self.first_case,
                                    self.progress, deadline, self.clock)
        costs = self.costs(aligner)
        verdicts: dict[int, Verdict] = {}
        total = len(which)
        if self.progress is not None:
            self.progress(0, total)
        for start in range(0, total, _ALIGN_CHUNK):
            if self.clock() >= deadline:
                return verdicts, sorted(which[start:])
            chunk = np.array(which[start : start + _ALIGN_CHUNK], dtype=np.intp)
            for g in np.unique(self._group_of[chunk]).tolist():
                members = chunk[self._group_of[chunk] == g]
                batch, states, rows = self._groups[g]
                explained = aligner.explain(batch, self._row_of[members], states,
                                            self.is_open[rows])
                for index, (unexpected, missing) in zip(members.tolist(), explained,
                                                         strict=True):
                    worst = int(self.lengths[index]) + (0 if self.is_open[index]
                                                        else self.shortest)
                    verdicts[index] = _aligned(int(costs[index]) // MOVE_COST, worst,
                                               unexpected, missing, self.labels, self.texts)
            if self.progress is not None:
                self.progress(min(start + _ALIGN_CHUNK, total), total)
        return verdicts, []


def _aligned(deviations: int, worst: int, unexpected: list[str], missing: list[str],
             labels: set[str], texts: dict[tuple[tuple[str, ...], tuple[str, ...]], str]
             ) -> Verdict:
    """The verdict of an alignment with ``deviations`` log and model moves, its fitness against
    the ``worst`` (the trace's length and, for a closed case, the model's shortest run).
    ``texts`` keeps the deviations in words by (missing, unexpected): many variants share them."""
    if deviations != len(unexpected) + len(missing):
        raise RuntimeError("alignment cost and moves disagree")
    value = 1.0 - deviations / worst if worst else 1.0
    key = (tuple(sorted(missing)), tuple(sorted(unexpected)))
    text = texts.get(key)
    if text is None:
        text = texts[key] = describe(missing, unexpected, labels)
    return Verdict(max(0.0, value), deviations == 0, text, Method.ALIGNMENTS)

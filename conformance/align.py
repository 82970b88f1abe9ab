"""Exact alignments of traces against a safe Petri net, by dynamic programming over the net's
reachability graph, memoised across traces.

An alignment explains a trace as synchronous moves (a step of the trace that the model makes at
that point, cost 0), log moves (a step the model cannot make there: ``MOVE_COST``) and model
moves (a step the model needs and the trace lacks: ``MOVE_COST`` plus the transition's rank,
by label then name, among the visible transitions; a silent transition costs 1). This is the
cost function :mod:`conformance.fitness` gave pm4py, whose exact alignments take about 8 ms per
distinct variant on the procedure's net; the same search done here takes microseconds per
variant, so every variant that does not fit can be aligned. pm4py is not used because it aligns
one trace at a time, each from scratch. A test compares both on real and perturbed variants: the
same optimal cost on every one.

How: the net's reachable markings are numbered once (:class:`Graph`: 524 on the procedure's
net); ``D[m, m']`` is the cheapest run of model moves and silent steps from ``m`` to ``m'``. An
alignment of the first ``i`` steps of a trace ends with the ``i``-th step's own move (a log move
or a synchronous one) at some marking ``k`` (the initial one, or one a visible transition leads
to), followed by model moves; ``U_i[k]`` is the cheapest such cost, so that
``V_i[m] = min_k U_i[k] + D[k, m]`` is the cheapest alignment of those steps that stops at ``m``.
The next step ``a`` gives ``U_{i+1}[k] = min(U_i[k] + MOVE_COST, min over transitions s -> k
labelled a of V_i[s])``. Entries that another entry dominates (``U[k'] + D[k', k] <= U[k]``) are
dropped, which leaves a few per step; ``U`` less its minimum depends only on the steps so far,
so those vectors are interned and each (vector, step) is computed once: traces that share a
prefix, or reach the same costs by other prefixes, share the work. A closed case ends on the
final marking; an open case (judged by :mod:`conformance.fitness` on the prefix net, where any
token may be removed by a silent step) ends on any marking, plus the cheapest way to empty it
(``Graph.empty_cost``): a run with removals in the middle costs the same as one that removes the
tokens at the end, so the prefix net's larger state space need not be built.

Equally cheap explanations are told apart the same way every run: the lowest-numbered marking
wins, and a synchronous move before a log move.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from conformance.net import Marking, Net, Transition, fire

__all__ = ["MAX_MARKINGS", "MOVE_COST", "Aligner", "Alignment", "BatchAligner", "Graph", "TooLarge",
           "Variants"]

MOVE_COST: Final = 1_000_000
"""The cost of a log move or a model move; the tie-breaking extras stay far below it."""

MAX_MARKINGS: Final = 5_000
"""Above this many reachable markings the aligner is not used (its distance table grows as the
square); :mod:`conformance.fitness` falls back on pm4py's alignments."""

_INF: Final = 1 << 60

Costs = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]


class TooLarge(ValueError):
    """The net has more reachable markings than the aligner takes."""


@dataclass(frozen=True)
class Alignment:
    """The cheapest alignment of a trace: its cost and its moves in order, each a pair (the
    trace's step or None, the model's step or None): ``(a, a)`` synchronous, ``(a, None)`` a log
    move, ``(None, b)`` a model move on a visible transition (silent steps are left out)."""

    cost: int
    moves: tuple[tuple[str | None, str | None], ...]

    @property
    def deviations(self) -> int:
        return self.cost // MOVE_COST

    @property
    def unexpected(self) -> tuple[str, ...]:
        """The log moves' steps."""
        return tuple(log for log, model in self.moves if model is None and log is not None)

    @property
    def missing(self) -> tuple[str, ...]:
        """The model moves' steps."""
        return tuple(model for log, model in self.moves if log is None and model is not None)


class Graph:
    """The reachability graph of a safe net and its model-move distances."""

    def __init__(self, net: Net, max_markings: int = MAX_MARKINGS) -> None:
        visible = sorted((t for t in net.transitions if t.label is not None),
                         key=lambda t: (str(t.label), t.name))
        rank = {t.name: r for r, t in enumerate(visible, start=1)}
        self.net = net
        self.markings: list[Marking] = [net.initial]
        number: dict[Marking, int] = {net.initial: 0}
        edges: list[tuple[int, int, Transition]] = []
        queue = deque([net.initial])
        while queue:
            marking = queue.popleft()
            for t in net.transitions:
                after = fire(marking, t)
                if after is None:
                    continue
                if after not in number:
                    if len(self.markings) >= max_markings:
                        raise TooLarge(f"the net has more than {max_markings:,} reachable markings")
                    number[after] = len(self.markings)
                    self.markings.append(after)
                    queue.append(after)
                edges.append((number[marking], number[after], t))
        self.final = number.get(net.final)
        # The cheapest model move between two markings (the first transition by name).
        moves: dict[tuple[int, int], tuple[int, Transition]] = {}
        for a, b, t in edges:
            cost = 1 if t.label is None else MOVE_COST + rank[t.name]
            if (a, b) not in moves or cost < moves[a, b][0]:
                moves[a, b] = (cost, t)
        self.moves = [(a, b, cost, t) for (a, b), (cost, t) in moves.items()]
        self.to, self.last = _distances(len(self.markings), self.moves)
        # Markings an alignment's step can end on: the initial one and visible targets.
        anchors = sorted({0} | {b for _, b, t in edges if t.label is not None})
        self.anchors: Indices = np.array(anchors, dtype=np.intp)
        self.anchor = {m: i for i, m in enumerate(anchors)}
        self.between: Costs = self.to[self.anchors][:, self.anchors].T.copy()  # [k, k']: k -> k'
        self.sync: dict[str, list[tuple[int, int]]] = {}  # label -> (source, anchor number)
        for a, b, t in edges:
            if t.label is not None:
                self.sync.setdefault(t.label, []).append((a, self.anchor[b]))
        self.empty_cost = self._empty_costs()

    def distance(self, a: int, b: int) -> int:
        return int(self.to[b, a])

    def path(self, a: int, b: int) -> list[Transition]:
        """The transitions of the cheapest run of model moves from marking ``a`` to ``b``."""
        out: list[Transition] = []
        while b != a:
            move = int(self.last[b, a])
            if move < 0:
                raise ValueError("no run of the net between the two markings")
            before, _, _, t = self.moves[move]
            out.append(t)
            b = before
        out.reverse()
        return out

    def _empty_costs(self) -> Costs:
        """For each marking, the cheapest way to empty it when every token may be removed at
        cost 1 and silent transitions fire at cost 1 (the prefix net's drains): a silent join
        of three branches empties three places for 2. Dijkstra from the empty marking over the
        reversed moves of every marking those moves reach."""
        silent = [(t.pre, t.post) for t in self.net.transitions if t.label is None]
        back: dict[Marking, list[Marking]] = {}
        seen = set(self.markings)
        todo = list(self.markings)
        while todo:
            marking = todo.pop()
            after = []
            rest = marking
            while rest:
                low = rest & -rest
                rest ^= low
                after.append(marking ^ low)
            after += [(marking ^ pre) | post for pre, post in silent if marking & pre == pre]
            for nxt in after:
                back.setdefault(nxt, []).append(marking)
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        cost = {0: 0}
        heap = [(0, 0)]
        while heap:
            spent, marking = heapq.heappop(heap)
            if spent > cost[marking]:
                continue
            for before in back.get(marking, ()):
                if spent + 1 < cost.get(before, _INF):
                    cost[before] = spent + 1
                    heapq.heappush(heap, (spent + 1, before))
        return np.array([cost[m] for m in self.markings], dtype=np.int64)


def _distances(size: int, moves: list[tuple[int, int, int, Transition]]
               ) -> tuple[Costs, npt.NDArray[np.int64]]:
    """``to[b, a]``, the cheapest cost of a run of moves from ``a`` to ``b``, and ``last[b, a]``,
    the number of its last move (-1 when ``a == b`` or there is none): Bellman-Ford for every
    source at once, one row per target, passes over the moves until nothing improves. Only a
    strictly cheaper run replaces a found one, so the runs are the same on every run."""
    to = np.full((size, size), _INF, dtype=np.int64)
    np.fill_diagonal(to, 0)
    last = np.full((size, size), -1, dtype=np.int64)
    changed = True
    while changed:
        changed = False
        for number, (a, b, cost, _) in enumerate(moves):
            through = to[a] + cost
            better = through < to[b]
            if better.any():
                to[b][better] = through[better]
                last[b][better] = number
                changed = True
    np.minimum(to, _INF, out=to)
    return to, last


@dataclass(frozen=True)
class _State:
    anchors: Indices  # numbers into Graph.anchors, ascending
    costs: Costs  # U at those anchors, the smallest 0


class Aligner:
    """Cheapest alignments of traces on ``graph``'s net, memoised across traces."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        anchors = graph.anchors
        self.to_final = (graph.to[graph.final, anchors].copy() if graph.final is not None
                         else np.full(len(anchors), _INF, dtype=np.int64))
        # For an open case: from each anchor, the cheapest marking to stop on and empty.
        ending = graph.to[:, anchors] + graph.empty_cost[:, None]
        self.stop = np.argmin(ending, axis=0)
        self.to_empty = ending[self.stop, np.arange(len(anchors))]
        self.tables: dict[str, tuple[Indices, Costs, Indices]] = {}
        self.states: list[_State] = []
        self.numbers: dict[bytes, int] = {}
        self.steps: dict[tuple[int, str], tuple[int, int]] = {}
        start = np.full(len(anchors), _INF, dtype=np.int64)
        start[graph.anchor[0]] = 0
        self.start = self._intern(start)[0]
        self.ends: dict[tuple[int, bool], tuple[int, int]] = {}
        self.back: dict[tuple[int, str, int], tuple[int, bool, tuple[str, ...]]] = {}

    def _table(self, activity: str) -> tuple[Indices, Costs, Indices] | None:
        """For a synchronous move on ``activity``: the anchors it reaches, and for every
        anchor (rows) and each of those (columns) the cheapest cost of model moves to the
        source of such a move and that source."""
        if activity not in self.graph.sync:
            return None
        table = self.tables.get(activity)
        if table is None:
            pairs = self.graph.sync[activity]
            targets = np.array(sorted({k for _, k in pairs}), dtype=np.intp)
            column = {k: i for i, k in enumerate(targets.tolist())}
            anchors = self.graph.anchors
            cost = np.full((len(anchors), len(targets)), _INF, dtype=np.int64)
            source = np.full((len(anchors), len(targets)), -1, dtype=np.intp)
            for a, k in pairs:
                reach = self.graph.to[a, anchors]  # from every anchor to the source a
                j = column[k]
                better = reach < cost[:, j]
                cost[better, j] = reach[better]
                source[better, j] = a
            table = self.tables[activity] = (targets, cost, source)
        return table

    def _intern(self, dense: Costs) -> tuple[int, int]:
        """The number of the state whose costs are ``dense`` (one per anchor), and its lowest
        cost, which is taken off; dominated entries are dropped."""
        kept = np.flatnonzero(dense < _INF)
        if not len(kept):
            raise ValueError("no marking of the net can explain the trace")
        costs = dense[kept]
        low = int(costs.min())
        if len(kept) > 1:
            # First against the cheapest entries only (few), then all that are left against
            # each other: an entry dominated by a dropped one is dominated by what dropped it.
            between = self.graph.between
            cheap = np.flatnonzero(costs < low + MOVE_COST)
            for judges in ((cheap,) if len(cheap) < len(kept) else ()) + (None,):
                rows = np.arange(len(kept)) if judges is None else judges
                via = between[kept[rows]][:, kept]
                via[np.arange(len(rows)), rows] = _INF  # not against itself
                via += costs[rows, None]
                alive = via.min(axis=0) > costs
                kept, costs = kept[alive], costs[alive]
        costs = costs - low
        key = kept.tobytes() + costs.tobytes()
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = len(self.states)
            self.states.append(_State(kept, costs))
        return number, low

    def step(self, state: int, activity: str) -> tuple[int, int]:
        """The state after one more step ``activity``, and the cost it adds."""
        key = (state, activity)
        found = self.steps.get(key)
        if found is None:
            table = self._table(activity)
            if table is None:  # no transition has that label: a log move, whatever the state
                found = (state, MOVE_COST)
            else:
                now = self.states[state]
                dense = np.full(len(self.graph.anchors), _INF, dtype=np.int64)
                dense[now.anchors] = now.costs + MOVE_COST
                targets, cost, _ = table
                synced = (now.costs[:, None] + cost[now.anchors]).min(axis=0)
                dense[targets] = np.minimum(dense[targets], synced)
                found = self._intern(dense)
            self.steps[key] = found
        return found

    def _end(self, state: int, is_open: bool) -> tuple[int, int]:
        """The anchor a trace in ``state`` ends on (then model moves), and what ending costs."""
        key = (state, is_open)
        found = self.ends.get(key)
        if found is None:
            now = self.states[state]
            total = now.costs + (self.to_empty if is_open else self.to_final)[now.anchors]
            best = int(np.argmin(total))
            if total[best] >= _INF:
                raise ValueError("the net cannot reach its final marking")
            found = self.ends[key] = (int(now.anchors[best]), int(total[best]))
        return found

    def cost(self, trace: tuple[str, ...], *, is_open: bool) -> int:
        """The cost of the cheapest alignment of ``trace``."""
        state, total = self.start, 0
        for activity in trace:
            state, added = self.step(state, activity)
            total += added
        return total + self._end(state, is_open)[1]

    def align(self, trace: tuple[str, ...], *, is_open: bool) -> Alignment:
        """The cheapest alignment of ``trace`` (a closed case ends on the final marking, an open
        one anywhere, see the module's docstring), with its moves."""
        graph = self.graph
        states = [self.start]
        total = 0
        for activity in trace:
            state, added = self.step(states[-1], activity)
            states.append(state)
            total += added
        anchor, ending = self._end(states[-1], is_open)
        at = int(graph.anchors[anchor])
        stop = int(self.stop[anchor]) if is_open else graph.final
        assert stop is not None  # _end has checked that the final marking is reachable
        backwards: list[tuple[str | None, str | None]] = [
            (None, t.label) for t in reversed(graph.path(at, stop)) if t.label is not None]
        for i in range(len(trace), 0, -1):
            activity = trace[i - 1]
            anchor, logged, needed = self._back(states[i - 1], activity, anchor)
            backwards.append((activity, None) if logged else (activity, activity))
            backwards.extend((None, label) for label in reversed(needed))
        return Alignment(total + ending, tuple(reversed(backwards)))

    def _back(self, state: int, activity: str, anchor: int) -> tuple[int, bool, tuple[str, ...]]:
        """One step back from ``anchor`` after the step ``activity`` taken in ``state``: the
        anchor before it, whether it was a log move, and the visible model moves in between."""
        key = (state, activity, anchor)
        found = self.back.get(key)
        if found is None:
            now = self.states[state]
            where = np.flatnonzero(now.anchors == anchor)
            logged = int(now.costs[where[0]]) + MOVE_COST if len(where) else _INF
            table = self._table(activity)
            synced, row, source = _INF, -1, -1
            if table is not None:
                targets, cost, sources = table
                column = np.flatnonzero(targets == anchor)
                if len(column):
                    via = now.costs + cost[now.anchors, column[0]]
                    row = int(np.argmin(via))
                    synced = int(via[row])
                    source = int(sources[now.anchors[row], column[0]])
            if synced <= logged and synced < _INF:
                before = int(now.anchors[row])
                path = self.graph.path(int(self.graph.anchors[before]), source)
                found = (before, False, tuple(str(t.label) for t in path if t.label is not None))
            elif logged < _INF:
                found = (anchor, True, ())
            else:
                raise ValueError("the alignment cannot be traced back")
            self.back[key] = found
        return found


@dataclass(frozen=True)
class Variants:
    """Traces as a matrix: ``codes[v, i]`` is the number (into ``names``) of step ``i`` of trace
    ``v``, ``lengths[v]`` its length (the rest of the row is padding)."""

    codes: npt.NDArray[np.int32]
    lengths: npt.NDArray[np.intp]
    names: tuple[str, ...]

    def trace(self, v: int) -> tuple[str, ...]:
        return tuple(self.names[c] for c in self.codes[v, : self.lengths[v]].tolist())


def _lookup(keys: npt.NDArray[np.int64], table: dict[int, int], compute: Callable[[int], int]
            ) -> npt.NDArray[np.int64]:
    """``table[key]`` for every key, computing (and keeping) the ones not there yet, each
    distinct key once."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    values = np.fromiter(
        (table[k] if k in table else table.setdefault(k, compute(k)) for k in distinct.tolist()),
        dtype=np.int64, count=len(distinct))
    return values[inverse]


class BatchAligner(Aligner):
    """:class:`Aligner` run on many traces at once: one step of every trace per position,
    each distinct (state, step) looked up once (numpy does the rest), so that the work in
    Python grows with the distinct states, not with the events."""

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self._moves: dict[int, int] = {}  # (state, step) key -> next state * 2**24 + added
        self._ends: dict[int, int] = {}
        self._backs: dict[int, int] = {}
        self._needed: list[tuple[str, ...]] = []  # model moves of a step back, by number
        self._needed_number: dict[tuple[str, ...], int] = {}

    def _use(self, names: tuple[str, ...]) -> None:
        """The lookup tables are keyed by step numbers: start them again for other names."""
        if getattr(self, "_names", None) != names:
            self._names = names
            self._moves.clear()
            self._ends.clear()
            self._backs.clear()

    def forward(self, variants: Variants, is_open: npt.NDArray[np.bool_]
                ) -> tuple[npt.NDArray[np.int64], Costs]:
        """The state of every trace after each of its steps (``states[v, i]`` after ``i``
        steps) and the cost of each trace's cheapest alignment."""
        count, width = variants.codes.shape
        names = variants.names
        self._use(names)
        per_name = len(names)
        states = np.zeros((count, width + 1), dtype=np.int64)
        states[:, 0] = self.start
        total = np.zeros(count, dtype=np.int64)
        added_bits = 1 << 40  # costs added per step stay far below (a few moves of MOVE_COST)

        def move(key: int) -> int:
            state, code = divmod(key, per_name)
            after, added = self.step(state, names[code])
            return after * added_bits + added

        for i in range(width):
            live = np.flatnonzero(variants.lengths > i)
            packed = _lookup(states[live, i] * per_name + variants.codes[live, i], self._moves,
                             move)
            states[:, i + 1] = states[:, i]
            states[live, i + 1] = packed // added_bits
            total[live] += packed % added_bits
        last = states[np.arange(count), variants.lengths]
        ending = _lookup(last * 2 + is_open, self._ends,
                         lambda key: self._end(key // 2, bool(key % 2))[1])
        return states, total + ending

    def explain(self, variants: Variants, rows: npt.NDArray[np.intp],
                states: npt.NDArray[np.int64], is_open: npt.NDArray[np.bool_]
                ) -> list[tuple[list[str], list[str]]]:
        """For the traces ``rows`` (numbers into ``variants`` and ``states``, from
        :meth:`forward`), the steps of their cheapest alignments' log moves and model moves."""
        codes, lengths, names = variants.codes[rows], variants.lengths[rows], variants.names
        self._use(names)
        states = states[rows]
        is_open = is_open[rows]
        anchors = len(self.graph.anchors)
        per_name = len(names)
        count = len(rows)
        last = states[np.arange(count), lengths]
        anchor = np.fromiter((self._end(s, o)[0] for s, o in zip(last.tolist(), is_open.tolist(),
                                                                 strict=True)),
                             dtype=np.int64, count=count)
        unexpected: list[list[str]] = [[] for _ in range(count)]
        missing: list[list[str]] = [[] for _ in range(count)]
        for v, (a, o) in enumerate(zip(anchor.tolist(), is_open.tolist(), strict=True)):
            at = int(self.graph.anchors[a])
            stop = int(self.stop[a]) if o else self.graph.final
            assert stop is not None
            missing[v].extend(str(t.label) for t in self.graph.path(at, stop)
                              if t.label is not None)

        def back(key: int) -> int:
            rest, to = divmod(key, anchors)
            state, code = divmod(rest, per_name)
            before, logged, needed = self._back(state, names[code], to)
            number = self._needed_number.setdefault(needed, len(self._needed))
            if number == len(self._needed):
                self._needed.append(needed)
            return (number * anchors + before) * 2 + logged

        for i in range(codes.shape[1] - 1, -1, -1):
            live = np.flatnonzero(lengths > i)
            if not len(live):
                continue
            keys = (states[live, i] * per_name + codes[live, i]) * anchors + anchor[live]
            packed = _lookup(keys, self._backs, back)
            logged = packed % 2
            rest = packed // 2
            anchor[live] = rest % anchors
            needed = rest // anchors
            for v in live[logged == 1].tolist():
                unexpected[v].append(names[codes[v, i]])
            moved = np.fromiter((bool(t) for t in self._needed), dtype=bool,
                                count=len(self._needed))[needed]
            for v, n in zip(live[moved].tolist(), needed[moved].tolist(), strict=True):
                missing[v].extend(self._needed[n])
        for v in range(count):
            unexpected[v].reverse()
        return list(zip(unexpected, missing, strict=True))

"""Where each shape and flow of the procedure's diagrams goes: the layout that the BPMN writer
(:mod:`model.bpmn`) and the PNG picture (:mod:`model.picture`) share, so that both show the same
pages, lanes, shapes and routes. No Graphviz is needed.

A page is the overview (each sub-process collapsed to one shape), a sub-process drawn in full,
or (``flat=True``) the whole flow on one wide page. For each page:

- lanes are horizontal bands in the order the roles are listed in the procedure file;
- each node gets a column by the longest path to it from the start (loops' back edges left out),
  so every edge runs left to right except a loop's back edge; nodes in the same column and lane
  are stacked on separate tracks, so no two shapes overlap;
- edges are routed orthogonally: out of the right side of a node, down or up in the free channel
  between two columns, into the left side of the next; an edge whose straight run would cross
  a shape runs along a free band between two tracks instead. A loop's back edge leaves the
  bottom of its exclusive split and enters the bottom of its join.
- names of events and splits are written below them (a loop's split: above), conditions beside
  their flows where they meet no shape, name or other condition.

>>> from model.procedure import load_procedure
>>> overview = layout(load_procedure())
>>> overview.page is None, overview.node("start").kind
(True, 'start')
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import networkx as nx

from model.graph import JOIN_KINDS, SPLIT_KINDS, page_graph, pages, to_graph
from model.procedure import Procedure

__all__ = [
    "EXTERNAL_LABEL_KINDS",
    "LABELLED_INSIDE",
    "LABEL_CHAR_WIDTH",
    "Box",
    "EdgePath",
    "LaneBand",
    "Layout",
    "NodeShape",
    "label_lines",
    "layout",
    "page_layouts",
]

# Sizes (bpmn.io defaults for shapes) -------------------------------------------------------

TASK_SIZE: Final = (100.0, 80.0)
GATEWAY_SIZE: Final = (50.0, 50.0)
EVENT_SIZE: Final = (36.0, 36.0)
POOL_HEADER: Final = 30.0  # the band on the left of a pool with its name
LANE_HEADER: Final = 30.0  # the band on the left of a lane with its name
LEFT_MARGIN: Final = 30.0  # between a lane's header and the first column
RIGHT_MARGIN: Final = 40.0
GAP: Final = 48.0  # between two columns
WIDE_GAP: Final = 180.0  # after a column with an exclusive split: room for the conditions
ROW: Final = 130.0  # height of a track
LANE_PAD: Final = 6.0  # above the first and below the last track of a lane
ORIGIN: Final = (20.0, 20.0)
LABEL_CHARS: Final = 20  # characters per line of a label, at least
LABEL_LINE: Final = 14.0  # height of a line of a label (bpmn.io draws them at 11 px)
LABEL_CHAR_WIDTH: Final = 6.2
CHANNEL_STEP: Final = 8.0  # between vertical runs of different edges in one channel
BAND_STEPS: Final = (0.0, -8.0, 8.0, -16.0, 16.0)  # runs along one band, apart
BAND_INSET: Final = 17.0  # the bands along a lane's top and bottom, from its lines
EXTERNAL_LABEL_KINDS: Final = frozenset({"start", "end", "xor-split", "and-split", "loop-exit"})
LABELLED_INSIDE: Final = frozenset({"task", "subprocess"})
"""Nodes whose name is written beside them; joins would repeat their split's name, so they show
none."""


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        """Whether the interiors of the two boxes meet (touching edges do not count)."""
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)

    def crossed_by(self, a: tuple[float, float], b: tuple[float, float], margin: float = 3.0) -> bool:
        """Whether the axis-parallel segment a-b passes through this box (grown by ``margin``)."""
        x0, x1 = sorted((a[0], b[0]))
        y0, y1 = sorted((a[1], b[1]))
        return (x0 < self.right + margin and self.x - margin < x1
                and y0 < self.bottom + margin and self.y - margin < y1)


@dataclass(frozen=True)
class NodeShape:
    """A flow node of the graph placed on the diagram."""

    id: str  # the graph's node id
    kind: str  # as in model.graph.NODE_KINDS
    label: str
    role: str
    column: int
    track: int
    box: Box
    label_box: Box | None  # where an event's or a split's name is written


@dataclass(frozen=True)
class LaneBand:
    role: str
    name: str
    tracks: int
    box: Box


@dataclass(frozen=True)
class EdgePath:
    source: str
    target: str
    condition: str | None  # as attribute expressions
    label: str | None  # the condition in words: what the diagrams write beside the flow
    default: bool
    back: bool
    waypoints: tuple[tuple[float, float], ...]
    label_box: Box | None  # where the label is written


@dataclass(frozen=True)
class Layout:
    title: str
    page: str | None  # the sub-process drawn (None: the overview, or the flat diagram)
    pool: Box
    lanes: tuple[LaneBand, ...]
    nodes: tuple[NodeShape, ...]
    edges: tuple[EdgePath, ...]

    def node(self, node_id: str) -> NodeShape:
        for shape in self.nodes:
            if shape.id == node_id:
                return shape
        raise KeyError(f"no node '{node_id}' in the layout")


def label_lines(text: str, chars: int = LABEL_CHARS) -> list[str]:
    """A label wrapped the way the layout sizes it (and the picture draws it)."""
    return textwrap.wrap(text, chars, break_long_words=False, break_on_hyphens=False) or [""]


def _label_size(text: str, chars: int = LABEL_CHARS) -> tuple[float, float]:
    lines = label_lines(text, chars)
    return max(len(line) for line in lines) * LABEL_CHAR_WIDTH + 10, len(lines) * LABEL_LINE


def _size(kind: str) -> tuple[float, float]:
    if kind in LABELLED_INSIDE:
        return TASK_SIZE
    if kind in ("start", "end"):
        return EVENT_SIZE
    return GATEWAY_SIZE


# Layout ------------------------------------------------------------------------------------


def _columns(graph: nx.DiGraph, order: Mapping[str, int]) -> dict[str, int]:
    forward = nx.DiGraph()
    forward.add_nodes_from(graph.nodes)
    forward.add_edges_from((u, v) for u, v, back in graph.edges(data="back") if not back)
    column: dict[str, int] = {}
    for node in nx.lexicographical_topological_sort(forward, key=order.__getitem__):
        column[node] = max((column[pred] + 1 for pred in forward.predecessors(node)), default=0)
    return column


def _lanes(p: Procedure, graph: nx.DiGraph) -> list[str]:
    used = {data["role"] for _, data in graph.nodes(data=True) if data["role"] is not None}
    listed = [role for role in p.roles if role in used]
    return listed + sorted(used - set(listed))


def _tracks(graph: nx.DiGraph, order: Mapping[str, int], column: Mapping[str, int],
            lane_of: Mapping[str, str]) -> dict[str, int]:
    """Stack nodes of one lane and column on separate tracks, keeping a node on the track of its
    predecessor in the same lane where it can."""
    track: dict[str, int] = {}
    taken: set[tuple[str, int, int]] = set()
    for node in sorted(graph.nodes, key=lambda n: (column[n], order[n])):
        lane = lane_of[node]
        same_lane = [track[pred] for pred in graph.predecessors(node)
                     if pred in track and lane_of[pred] == lane]
        wanted = same_lane[0] if same_lane else 0
        candidates = sorted(range(len(graph) + 1), key=lambda t: (abs(t - wanted), t))
        chosen = next(t for t in candidates if (lane, column[node], t) not in taken)
        taken.add((lane, column[node], chosen))
        track[node] = chosen
    return track


Point = tuple[float, float]


@dataclass(frozen=True)
class _Plan:
    """A route before the channels' x are fixed: straight, through one channel, or through
    a channel after the source, along a band, and through a channel before the target."""

    start: Point
    end: Point
    channels: tuple[tuple[int, tuple[str, str]], ...] = ()
    band: float | None = None


class _Router:
    """Orthogonal routes for the edges of a placed graph."""

    def __init__(self, shapes: Mapping[str, NodeShape], column_right: list[float],
                 gaps: list[float], bands: list[float], lines: list[float]) -> None:
        self.shapes = shapes
        self.lines = lines  # the y of the lanes' borders: no run along them
        self.column_right = column_right
        self.gaps = gaps
        self.bands = bands
        self.obstacles = [s.box for s in shapes.values()]
        self.obstacles += [s.label_box for s in shapes.values() if s.label_box is not None]
        self.band_runs: list[tuple[float, float, float]] = []  # y, x from, x to
        # channel index -> the edge groups running through it, in the order first used
        self.groups: dict[int, list[tuple[str, str]]] = {}

    def rough_x(self, index: int) -> float:
        return self.column_right[index] + self.gaps[index] / 2

    def channel(self, index: int, key: tuple[str, str]) -> tuple[int, tuple[str, str]]:
        keys = self.groups.setdefault(index, [])
        if key not in keys:
            keys.append(key)
        return index, key

    def channel_x(self, index: int, key: tuple[str, str]) -> float:
        keys = self.groups[index]
        position = keys.index(key)
        if self.gaps[index] > GAP:  # a wide channel: vertical runs near its left side
            return self.column_right[index] + 20 + position * CHANNEL_STEP
        spread = min(CHANNEL_STEP, (self.gaps[index] - 24) / max(len(keys) - 1, 1))
        return self.rough_x(index) + (position - (len(keys) - 1) / 2) * spread

    def free(self, points: list[Point], ends: tuple[str, str]) -> bool:
        skip = [self.shapes[n].box for n in ends]
        skip += [b for b in (self.shapes[n].label_box for n in ends) if b is not None]
        return not any(
            box.crossed_by(a, b)
            for a, b in itertools.pairwise(points)
            for box in self.obstacles
            if box not in skip
        )

    def band_free(self, y: float, x0: float, x1: float) -> bool:
        return not any(abs(y - used) < 6 and x0 < to + 6 and fro - 6 < x1
                       for used, fro, to in self.band_runs)

    def plan(self, source: str, target: str) -> _Plan:
        s, t = self.shapes[source], self.shapes[target]
        start = (s.box.right, s.box.cy)
        end = (t.box.x, t.box.cy)
        ends = (source, target)
        if start[1] == end[1] and self.free([start, end], ends):
            return _Plan(start, end)
        after, before = s.column, t.column - 1
        x_after, x_before = self.rough_x(after), self.rough_x(before)
        options = [
            ((after, ("out", source)), [start, (x_after, start[1]), (x_after, end[1]), end]),
            ((before, ("in", target)), [start, (x_before, start[1]), (x_before, end[1]), end]),
        ]
        if t.kind in JOIN_KINDS and s.kind not in SPLIT_KINDS:
            options.reverse()
        for (index, key), rough in options:
            if self.free(rough, ends):
                return _Plan(start, end, (self.channel(index, key),))
        candidates = sorted(
            ((band + step, abs(step)) for band in self.bands for step in BAND_STEPS
             if all(abs(band + step - line) >= 9 for line in self.lines)),
            key=lambda c: (abs(c[0] - start[1]) + abs(c[0] - end[1]) + 4 * c[1], c[0]),
        )
        for y, _ in candidates:
            rough = [start, (x_after, start[1]), (x_after, y), (x_before, y),
                     (x_before, end[1]), end]
            if self.free(rough, ends) and self.band_free(y, x_after, x_before):
                self.band_runs.append((y, x_after, x_before))
                return _Plan(start, end, (self.channel(after, ("out", source)),
                                          self.channel(before, ("in", target))), y)
        # nothing is free: accept a crossing rather than fail
        return _Plan(start, end, (self.channel(after, ("out", source)),))

    def points(self, plan: _Plan) -> list[Point]:
        sy, ey = plan.start[1], plan.end[1]
        xs = [self.channel_x(index, key) for index, key in plan.channels]
        if not xs:
            points = [plan.start, plan.end]
        elif plan.band is None:
            points = [plan.start, (xs[0], sy), (xs[0], ey), plan.end]
        else:
            points = [plan.start, (xs[0], sy), (xs[0], plan.band), (xs[-1], plan.band),
                      (xs[-1], ey), plan.end]
        return _simplify(points)


def _simplify(points: list[Point]) -> list[Point]:
    out: list[Point] = []
    for point in points:
        if out and out[-1] == point:
            continue
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if (a[0] == b[0] == point[0]) or (a[1] == b[1] == point[1]):
                out[-1] = point
                continue
        out.append(point)
    return out


Segment = tuple[Point, Point]


def _flow_label(points: list[Point], text: str, taken: list[Box], segments: list[Segment],
                *, below: bool = False, one_line: bool = False) -> Box:
    """A box for a flow's condition that meets no shape, name, other condition or other flow if
    it can: beside the flow's first vertical run, or above (below) its longest horizontal run,
    as wide as the run allows, at its start or further along it. The box is added to
    ``taken``. ``segments`` are the other flows' runs."""
    candidates: list[Box] = []
    runs = [(a, b) for a, b in itertools.pairwise(points) if a[1] == b[1]]
    if runs:
        run = max(reversed(runs), key=lambda r: abs(r[1][0] - r[0][0]))
        length = abs(run[1][0] - run[0][0])
        widths = [len(text)] if one_line else [
            max(LABEL_CHARS, int((length - 18) / LABEL_CHAR_WIDTH)), LABEL_CHARS]
        left, right = sorted((run[0][0], run[1][0]))
        for chars in dict.fromkeys(widths):
            width, height = _label_size(text, chars)
            xs = [min(left + 4, right - 4 - width)]
            x = xs[0] + 16.0
            while x <= right - 4 - width:
                xs.append(x)
                x += 16.0
            for x in xs:
                above = Box(x, run[0][1] - height - 2, width, height)
                under = Box(x, run[0][1] + 3, width, height)
                candidates += [under, above] if below else [above, under]
    if len(points) >= 3 and points[1][0] == points[2][0]:
        (x, y0), (_, y1) = points[1], points[2]
        width, height = _label_size(text, LABEL_CHARS + 6)
        if abs(y1 - y0) >= height + 4:
            candidates.insert(0 if len(points) == 6 else len(candidates),
                              Box(x + 5, (y0 + y1) / 2 - height / 2, width, height))
    if not candidates:
        width, height = _label_size(text)
        candidates.append(Box(points[0][0] + 4, points[0][1] - height - 2, width, height))

    def clear(box: Box) -> bool:
        return not any(box.overlaps(t) for t in taken)

    def uncrossed(box: Box) -> bool:
        return not any(box.crossed_by(a, b, margin=1.0) for a, b in segments)

    chosen = next((box for box in candidates if clear(box) and uncrossed(box)),
                  next((box for box in candidates if clear(box)), candidates[0]))
    taken.append(chosen)
    return chosen


def _back_route(shapes: Mapping[str, NodeShape], exit_node: str, entry_node: str) -> list[Point]:
    """A loop's back edge: down from the exclusive split, left below the loop's body, and up
    into the join."""
    exit_shape, entry_shape = shapes[exit_node], shapes[entry_node]
    low, high = sorted((entry_shape.box.cy, exit_shape.box.cy))
    inside = [s.box.bottom for s in shapes.values()
              if entry_shape.column <= s.column <= exit_shape.column
              and s.box.y < high and low < s.box.bottom]
    y = max(inside) + 10
    return [(exit_shape.box.cx, exit_shape.box.bottom), (exit_shape.box.cx, y),
            (entry_shape.box.cx, y), (entry_shape.box.cx, entry_shape.box.bottom)]


def layout(p: Procedure, page: str | None = None, *, flat: bool = False) -> Layout:
    """Place every node, lane and edge of one page of the procedure's diagram (see the module
    text): the overview (``page`` None), a sub-process, or with ``flat`` the whole flow."""
    if flat:
        graph, title = to_graph(p), p.title
    else:
        graph = page_graph(p, page)
        if page is None:
            title = p.title
        else:
            sub = p.subprocess(page)
            title = f"{sub.name} ({sub.clause})"
    order = {node: index for index, node in enumerate(graph.nodes)}
    lanes = _lanes(p, graph)
    lane_of = {node: data["role"] or lanes[0] for node, data in graph.nodes(data=True)}
    column = _columns(graph, order)
    track = _tracks(graph, order, column, lane_of)
    columns = max(column.values()) + 1

    widths = [0.0] * columns
    for node, data in graph.nodes(data=True):
        widths[column[node]] = max(widths[column[node]], _size(data["kind"])[0])
    named_split = {column[u] for u, _, cond in graph.edges(data="label")
                   if cond and graph.nodes[u]["kind"] == "xor-split"}
    gaps = [WIDE_GAP if c in named_split else GAP for c in range(columns)]
    left: list[float] = []
    x = ORIGIN[0] + POOL_HEADER + LANE_HEADER + LEFT_MARGIN
    for c in range(columns):
        left.append(x)
        x += widths[c] + gaps[c]
    pool_width = x - gaps[-1] + RIGHT_MARGIN - ORIGIN[0]

    tracks_of = {lane: 1 + max(track[n] for n in graph.nodes if lane_of[n] == lane)
                 for lane in lanes}
    lane_top: dict[str, float] = {}
    y = ORIGIN[1]
    bands: list[float] = []
    for lane in lanes:
        lane_top[lane] = y
        # runs between tracks, and near (not on) the lane's top and bottom lines
        height = 2 * LANE_PAD + tracks_of[lane] * ROW
        bands += [y + BAND_INSET, y + height - BAND_INSET]
        bands += [y + LANE_PAD + k * ROW for k in range(1, tracks_of[lane])]
        y += 2 * LANE_PAD + tracks_of[lane] * ROW
    pool = Box(ORIGIN[0], ORIGIN[1], pool_width, y - ORIGIN[1])
    lane_bands = tuple(
        LaneBand(lane, p.roles[lane].name if lane in p.roles else lane, tracks_of[lane],
                 Box(ORIGIN[0] + POOL_HEADER, lane_top[lane], pool_width - POOL_HEADER,
                     2 * LANE_PAD + tracks_of[lane] * ROW))
        for lane in lanes)

    shapes: dict[str, NodeShape] = {}
    for node, data in graph.nodes(data=True):
        width, height = _size(data["kind"])
        c = column[node]
        cx = left[c] + widths[c] / 2
        cy = lane_top[lane_of[node]] + LANE_PAD + track[node] * ROW + ROW / 2
        box = Box(cx - width / 2, cy - height / 2, width, height)
        label_box = None
        if data["kind"] in EXTERNAL_LABEL_KINDS:
            lw, lh = _label_size(data["label"])
            # a loop's back edge runs below its exclusive split: write the name above it
            top = box.y - 4 - lh if data["kind"] == "loop-exit" else box.bottom + 4
            label_box = Box(cx - lw / 2, top, lw, lh)
        shapes[node] = NodeShape(node, data["kind"], data["label"], lane_of[node], c,
                                 track[node], box, label_box)

    lines = [band.box.y for band in lane_bands] + [pool.bottom]
    router = _Router(shapes, [left[c] + widths[c] for c in range(columns)], gaps, bands, lines)
    back_routes: dict[tuple[str, str], tuple[list[Point], Box | None]] = {}
    for source, target, data in graph.edges(data=True):
        if data["back"]:
            points = _back_route(shapes, source, target)
            label = (_flow_label(points, data["label"], router.obstacles, [], below=True,
                                 one_line=True)
                     if data["label"] else None)
            back_routes[source, target] = (points, label)
            router.obstacles.append(
                Box(points[2][0], points[1][1] - 1, points[1][0] - points[2][0], 2))
    plans = {(source, target): router.plan(source, target)
             for source, target, back in graph.edges(data="back") if not back}
    routes = {edge: back_routes[edge][0] if edge in back_routes else router.points(plans[edge])
              for edge in graph.edges}
    taken = list(router.obstacles)  # where a condition must not be written
    edges: list[EdgePath] = []
    for source, target, data in graph.edges(data=True):
        points = routes[source, target]
        if data["back"]:
            label = back_routes[source, target][1]
        else:
            others = [seg for edge, route in routes.items() if edge != (source, target)
                      for seg in itertools.pairwise(route)]
            label = (_flow_label(points, data["label"], taken, others)
                     if data["label"] else None)
        edges.append(EdgePath(source, target, data["condition"], data["label"], data["default"],
                              data["back"], tuple(points), label))
    return Layout(title, None if flat else page, pool, lane_bands, tuple(shapes.values()),
                  tuple(edges))


def page_layouts(p: Procedure) -> tuple[Layout, ...]:
    """The layouts of every page: the overview, then each sub-process (outer ones first)."""
    return tuple(layout(p, page.id) for page in pages(p))


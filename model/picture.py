"""A swimlane picture of the procedure (SVG or PNG) drawn with matplotlib from the BPMN layout.

The picture uses :func:`model.bpmn.layout`, so it shows the same lanes, shapes and routes as the
BPMN diagram: lanes as labelled bands, tasks as rounded boxes, exclusive gateways as diamonds
with an X, parallel ones with a +, events as circles, and each branch's condition beside its
flow. One unit of the layout is one pixel of the PNG. SVG output is byte-for-byte reproducible.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Final, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Polygon, Rectangle

from model.bpmn import LABEL_CHAR_WIDTH, Box, EdgePath, Layout, NodeShape, label_lines, layout
from model.procedure import Procedure

__all__ = ["draw"]

DPI: Final = 100.0
TASK_FONT: Final = 7.5  # points: about 10 px at 100 dpi
LABEL_FONT: Final = 6.5
LANE_FONT: Final = 8.0
TASK_CHARS: Final = 15  # characters per line of a task's name
INK: Final = "#222222"
LANE_FILLS: Final = ("#f7f9fc", "#eef2f8")
GATEWAY_MARK: Final = {"and-split": "+", "and-join": "+"}


def _lane_header(ax: Axes, box: Box, text: str, size: float) -> None:
    ax.add_patch(Rectangle((box.x, box.y), 30, box.height, facecolor="#dde4ee",
                             edgecolor=INK, linewidth=0.8))
    name = "\n".join(textwrap.wrap(text, max(8, int(box.height / (size * 0.9)))))
    ax.text(box.x + 15, box.cy, name, rotation=90, ha="center", va="center",
              fontsize=size, color=INK)


def _node(ax: Axes, shape: NodeShape) -> None:
    box = shape.box
    if shape.kind == "task":
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.width, box.height,
                                    boxstyle="round,pad=0,rounding_size=10", facecolor="white",
                                    edgecolor=INK, linewidth=1.2))
        name = "\n".join(textwrap.wrap(shape.label, TASK_CHARS, break_long_words=False))
        ax.text(box.cx, box.cy, name, ha="center", va="center", fontsize=TASK_FONT,
                color=INK, linespacing=1.1)
    elif shape.kind in ("start", "end"):
        ax.add_patch(Circle((box.cx, box.cy), box.width / 2, facecolor="white",
                            edgecolor=INK, linewidth=3.0 if shape.kind == "end" else 1.2))
    else:
        corners = [(box.cx, box.y), (box.right, box.cy), (box.cx, box.bottom), (box.x, box.cy)]
        ax.add_patch(Polygon(corners, closed=True, facecolor="white", edgecolor=INK,
                             linewidth=1.2))
        ax.text(box.cx, box.cy, GATEWAY_MARK.get(shape.kind, "X"), ha="center",
                va="center", fontsize=15, fontweight="bold", color=INK)
    if shape.label_box is not None:
        _label(ax, shape.label_box, shape.label, centred=True)


def _label(ax: Axes, box: Box, text: str, *, centred: bool = False) -> None:
    chars = max(1, round((box.width - 10) / LABEL_CHAR_WIDTH))
    lines = "\n".join(label_lines(text, chars))
    x = box.cx if centred else box.x
    ax.text(x, box.y, lines, ha="center" if centred else "left", va="top",
              fontsize=LABEL_FONT, color="#333333", linespacing=1.05)


def _edge(ax: Axes, edge: EdgePath) -> None:
    xs = [x for x, _ in edge.waypoints]
    ys = [y for _, y in edge.waypoints]
    ax.plot(xs, ys, color=INK, linewidth=1.0,
              solid_joinstyle="miter", solid_capstyle="butt")
    ax.annotate("", xy=edge.waypoints[-1], xytext=edge.waypoints[-2],
                  arrowprops={"arrowstyle": "-|>,head_length=0.6,head_width=0.3",
                              "color": INK, "linewidth": 1.0, "shrinkA": 0, "shrinkB": 0})
    if edge.default:  # the default flow's slash, near its start
        (x0, y0), (x1, y1) = edge.waypoints[0], edge.waypoints[1]
        if y0 == y1:
            mx = x0 + (8 if x1 > x0 else -8)
            ax.plot([mx - 4, mx + 4], [y0 + 5, y0 - 5], color=INK, linewidth=1.0)
    if edge.label_box is not None and edge.condition:
        _label(ax, edge.label_box, edge.condition)


def _figure(placed: Layout) -> Figure:
    pool = placed.pool
    margin = 10.0
    width = pool.width + 2 * margin
    height = pool.height + 2 * margin
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(pool.x - margin, pool.right + margin)
    ax.set_ylim(pool.bottom + margin, pool.y - margin)  # y grows downwards, as in BPMN
    ax.set_axis_off()
    ax.add_patch(Rectangle((pool.x, pool.y), pool.width, pool.height, facecolor="white",
                           edgecolor=INK, linewidth=1.2))
    _lane_header(ax, pool, placed.title, LANE_FONT)
    for index, lane in enumerate(placed.lanes):
        box = lane.box
        ax.add_patch(Rectangle((box.x, box.y), box.width, box.height,
                               facecolor=LANE_FILLS[index % 2], edgecolor=INK, linewidth=0.8))
        _lane_header(ax, box, lane.name, LANE_FONT)
    for edge in placed.edges:
        _edge(ax, edge)
    for shape in placed.nodes:
        _node(ax, shape)
    return fig


def draw(p: Procedure, path: Path | str, format: Literal["svg", "png"] = "svg") -> None:
    """Draw the procedure's swimlane picture to ``path`` as SVG or PNG."""
    if format not in ("svg", "png"):
        raise ValueError(f"a picture format 'svg' or 'png' (got '{format}')")
    fig = _figure(layout(p))
    with matplotlib.rc_context({"svg.hashsalt": "lscb", "svg.fonttype": "path",
                                "path.simplify": False}):
        metadata: dict[str, str | None] = (
            {"Date": None, "Creator": None} if format == "svg" else {"Software": None}
        )
        fig.savefig(Path(path), format=format, dpi=DPI, metadata=metadata)

"""A swimlane picture of the procedure (SVG, PNG or PDF) drawn with matplotlib from the BPMN layout.

The picture uses :func:`model.layout.layout`, so it shows the same pages, lanes, shapes and routes
as the BPMN diagram: lanes as labelled bands, tasks as rounded boxes, a sub-process as a rounded
box with a [+] marker (drawn in full on its own page), exclusive gateways as diamonds with an X,
parallel ones with a +, events as circles, and each branch's condition in words beside its flow.
SVG and PNG show one page (the overview by default); PDF has every page, the overview first,
each on a page of its own size. One unit of the layout is one pixel of the PNG. SVG output is
byte-for-byte reproducible.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Final, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Polygon, Rectangle

from model.layout import (
    LABEL_CHAR_WIDTH,
    Box,
    EdgePath,
    Layout,
    NodeShape,
    label_lines,
    layout,
    page_layouts,
)
from model.procedure import Procedure

__all__ = ["FORMATS", "draw"]

FORMATS: Final = ("svg", "png", "pdf")
DPI: Final = 100.0
TASK_FONT: Final = 8.5  # points: about 12 px at 100 dpi, as bpmn.io writes task names
LABEL_FONT: Final = 7.5  # about 10 px
LANE_FONT: Final = 9.0
TITLE_FONT: Final = 11.0
TASK_CHARS: Final = 14  # characters per line of a task's name
INK: Final = "#222222"
LANE_FILLS: Final = ("#f7f9fc", "#eef2f8")
GATEWAY_MARK: Final = {"and-split": "+", "and-join": "+"}


def _fitted(text: str, length: float, size: float, lines: int = 2) -> tuple[str, float]:
    """``text`` wrapped to at most ``lines`` lines of ``length`` pixels, at ``size`` points or
    the largest smaller size (down to 6.5) at which it fits."""
    while True:
        char = size * DPI / 72 * 0.6  # the average width of a character, in pixels
        wrapped = textwrap.wrap(text, max(4, int((length - 8) / char)))
        if len(wrapped) <= lines or size <= 6.5:
            return "\n".join(wrapped), size
        size -= 0.5


def _lane_header(ax: Axes, box: Box, text: str, size: float) -> None:
    ax.add_patch(Rectangle((box.x, box.y), 30, box.height, facecolor="#dde4ee",
                             edgecolor=INK, linewidth=0.8))
    name, fitted = _fitted(text, box.height, size)
    ax.text(box.x + 15, box.cy, name, rotation=90, ha="center", va="center",
              fontsize=fitted, color=INK, linespacing=1.0)


def _node(ax: Axes, shape: NodeShape) -> None:
    box = shape.box
    if shape.kind in ("task", "subprocess"):
        collapsed = shape.kind == "subprocess"
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.width, box.height,
                                    boxstyle="round,pad=0,rounding_size=10",
                                    facecolor="#fff8e6" if collapsed else "white",
                                    edgecolor=INK, linewidth=1.6 if collapsed else 1.2))
        name = "\n".join(textwrap.wrap(shape.label, TASK_CHARS, break_long_words=False))
        middle = box.cy - 6 if collapsed else box.cy
        ax.text(box.cx, middle, name, ha="center", va="center", fontsize=TASK_FONT,
                color=INK, linespacing=1.1)
        if collapsed:  # the [+] marker of a collapsed sub-process
            ax.add_patch(Rectangle((box.cx - 7, box.bottom - 16), 14, 14, facecolor="white",
                                   edgecolor=INK, linewidth=1.0))
            ax.plot([box.cx - 4, box.cx + 4], [box.bottom - 9, box.bottom - 9], color=INK,
                    linewidth=1.0)
            ax.plot([box.cx, box.cx], [box.bottom - 13, box.bottom - 5], color=INK,
                    linewidth=1.0)
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
    if edge.label_box is not None and edge.label:
        _label(ax, edge.label_box, edge.label)


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


def draw(p: Procedure, path: Path | str, format: Literal["svg", "png", "pdf"] = "svg",
         page: str | None = None) -> None:
    """Draw the procedure's swimlane picture to ``path``: one page (the overview when ``page`` is
    None, else the sub-process of that id) as SVG or PNG, or every page as a PDF."""
    if format not in FORMATS:
        raise ValueError(f"a picture format 'svg', 'png' or 'pdf' (got '{format}')")
    if format == "pdf":
        if page is not None:
            raise ValueError("a PDF has every page; choose a page only for SVG or PNG")
        from matplotlib.backends.backend_pdf import PdfPages

        with matplotlib.rc_context({"path.simplify": False}), PdfPages(
            Path(path), metadata={"Creator": None, "Producer": None, "CreationDate": None}
        ) as pdf:
            for placed in page_layouts(p):
                pdf.savefig(_figure(placed))
        return
    fig = _figure(layout(p, page))
    with matplotlib.rc_context({"svg.hashsalt": "lscb", "svg.fonttype": "path",
                                "path.simplify": False}):
        metadata: dict[str, str | None] = (
            {"Date": None, "Creator": None} if format == "svg" else {"Software": None}
        )
        fig.savefig(Path(path), format=format, dpi=DPI, metadata=metadata)

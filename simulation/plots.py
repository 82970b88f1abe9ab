"""Plots of a simulation or a sweep (matplotlib, drawn off screen).

The ``*_figure`` functions return matplotlib Figures (not attached to pyplot, so they need no
display and are freed like any object); ``plot_result`` and ``plot_sweep`` write them as PNG
files, and ``png_bytes`` gives the same bytes without a file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from simulation.results import SimulationResult
from simulation.whatif import SweepResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "RESULT_FIGURES",
    "bottlenecks_figure",
    "compliance_figure",
    "plot_result",
    "plot_sweep",
    "png_bytes",
    "queues_figure",
    "result_figure",
    "save_png",
    "sweep_figures",
    "utilisation_figure",
]

_METADATA: Final = {"Software": None}  # keep the files the same from one run to the next


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def png_bytes(figure: Figure) -> bytes:
    """A figure as PNG at 100 dpi, without the software version stamp (the same figure gives
    the same bytes); what ``save_png`` writes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata=_METADATA)
    return buffer.getvalue()


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` as PNG (``png_bytes``); returns ``path``."""
    figure.savefig(path, format="png", dpi=100, metadata=_METADATA)
    return path


def compliance_figure(result: SimulationResult) -> Figure:
    """Compliance per rule: the mean over the replications with its 95% confidence interval,
    dark bars for rules of severity violation, light for warnings (rules never judged are left
    out)."""
    table = result.compliance.dropna(subset=["compliance"]).iloc[::-1]
    fig = _figure(9, 0.35 * max(len(table), 4) + 1.2)
    ax = fig.subplots()
    y = np.arange(len(table))
    values = table["compliance"].to_numpy() * 100
    low = np.nan_to_num(values - table["ci_low"].to_numpy() * 100)
    high = np.nan_to_num(table["ci_high"].to_numpy() * 100 - values)
    colours = ["#b2182b" if s == "violation" else "#ef8a62" for s in table["severity"]]
    ax.barh(y, values, color=colours, xerr=[low, high], capsize=3)
    ax.set_yticks(y, table["rule_id"])
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"cases that met the rule (%), 95% confidence interval over "
                  f"{result.replications} replications")
    ax.set_title(f"Compliance per rule: {result.scenario.name}")
    return fig


def _by_role(result: SimulationResult, column: str) -> dict[str, pd.DataFrame]:
    util = result.utilisation
    if util.empty:
        return {}
    return {str(role): frame for role, frame in util.groupby("role", sort=True)
            if frame[column].notna().any()}


def utilisation_figure(result: SimulationResult) -> Figure:
    """Utilisation per role over time: the busy share of its on-duty time per timeline bin
    (this procedure's steps and other work), the mean of the replications."""
    fig = _figure(9, 4.5)
    ax = fig.subplots()
    for role, frame in _by_role(result, "utilisation").items():
        ax.plot(frame["bin_start_utc"].dt.tz_convert(None), frame["utilisation"] * 100,
                label=role)
    ax.set_ylabel("busy share of on-duty time (%)")
    ax.set_title(f"Utilisation per role ({result.scenario.timeline_days}-day bins, mean of "
                 f"{result.replications} replications)")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def queues_figure(result: SimulationResult) -> Figure:
    """Queues per role over time: above, the time-average number of jobs waiting; below, the
    mean wait of this procedure's steps (for a diary, to the slot)."""
    fig = _figure(9, 7)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for role, frame in _by_role(result, "mean_queue").items():
        top.plot(frame["bin_start_utc"].dt.tz_convert(None), frame["mean_queue"], label=role)
    top.set_ylabel("jobs waiting (time average)")
    top.set_title("Queue length per role")
    top.legend(loc="upper right", fontsize="small")
    for role, frame in _by_role(result, "procedure_wait_hours").items():
        bottom.plot(frame["bin_start_utc"].dt.tz_convert(None), frame["procedure_wait_hours"],
                    label=role)
    bottom.set_ylabel("hours")
    bottom.set_title("Mean wait of this procedure's steps (a diary: to the slot)")
    bottom.legend(loc="upper right", fontsize="small")
    return fig


def bottlenecks_figure(result: SimulationResult) -> Figure:
    """Where the late cases waited: per missed deadline, the share of the late cases' time
    spent waiting for each role (a note instead when no deadline was missed)."""
    table = result.bottlenecks
    fig = _figure(9, 4.5)
    ax = fig.subplots()
    if table.empty:
        ax.text(0.5, 0.5, "No deadline was missed", ha="center", va="center")
        ax.set_axis_off()
    else:
        pivot = table.pivot_table(index="rule_id", columns="role", values="share",
                                  aggfunc="sum").fillna(0.0) * 100
        left = np.zeros(len(pivot))
        y = np.arange(len(pivot))
        for role in pivot.columns:
            ax.barh(y, pivot[role].to_numpy(), left=left, label=role)
            left += pivot[role].to_numpy()
        ax.set_yticks(y, pivot.index)
        ax.set_xlabel("share of the late cases' time spent waiting for the role (%)")
        ax.set_title("Where the late cases waited")
        ax.legend(loc="lower right", fontsize="small")
    return fig


RESULT_FIGURES: Final[Mapping[str, Callable[[SimulationResult], Figure]]] = {
    "compliance": compliance_figure,
    "utilisation": utilisation_figure,
    "queues": queues_figure,
    "bottlenecks": bottlenecks_figure,
}
"""The figures of a simulation result by name (``plot_result`` writes NAME.png of each)."""


def result_figure(result: SimulationResult, name: str) -> Figure:
    """The figure ``name`` (one of RESULT_FIGURES) of ``result``; KeyError naming the figures
    when there is none by that name."""
    try:
        draw = RESULT_FIGURES[name]
    except KeyError:
        raise KeyError(f"no figure '{name}'; the figures are: "
                       + ", ".join(sorted(RESULT_FIGURES))) from None
    return draw(result)


def plot_result(result: SimulationResult, out: Path) -> list[Path]:
    """compliance.png, utilisation.png, queues.png and bottlenecks.png in ``out``."""
    return [save_png(draw(result), out / f"{name}.png") for name, draw in RESULT_FIGURES.items()]


def sweep_figures(result: SweepResult, rule_id: str) -> list[tuple[str, Figure]]:
    """Heatmaps of compliance with ``rule_id`` over the first two varied fields of the sweep:
    one per combination of values of any further fields, each with its name
    (``heatmap_<rule>`` and ``_<field>-<value>`` per further field, the name ``plot_sweep``
    gives its file)."""
    table = result.table[result.table["rule_id"] == rule_id]
    fields = list(result.fields)
    rows_field = fields[0]
    cols_field = fields[1] if len(fields) > 1 else None
    rest = fields[2:]
    groups = [((), table)] if not rest else list(table.groupby(rest, sort=True))
    figures = []
    for values, frame in groups:
        key = values if isinstance(values, tuple) else (values,)
        suffix = "".join(f"_{f.split('.')[-1]}-{v}" for f, v in zip(rest, key, strict=True))
        if cols_field is None:
            grid = frame.set_index(rows_field)[["compliance"]]
            grid.columns = [""]
        else:
            grid = frame.pivot_table(index=rows_field, columns=cols_field, values="compliance",
                                     aggfunc="mean", sort=True)
        note = (" (" + ", ".join(f"{f} = {v}" for f, v in zip(rest, key, strict=True)) + ")"
                if rest else "")
        figures.append((f"heatmap_{rule_id}{suffix}",
                        _heatmap(grid, rows_field, cols_field or "", rule_id,
                                 result.replications, note)))
    return figures


def plot_sweep(result: SweepResult, rule_id: str, out: Path) -> list[Path]:
    """A heatmap of compliance with ``rule_id`` over the first two varied fields (one file per
    value of any further fields)."""
    return [save_png(figure, out / f"{name}.png")
            for name, figure in sweep_figures(result, rule_id)]


def _heatmap(grid: pd.DataFrame, rows: str, cols: str, rule_id: str, replications: int,
             note: str) -> Figure:
    data = grid.to_numpy(dtype=float) * 100
    fig = _figure(1.6 + 1.1 * max(data.shape[1], 2), 1.4 + 0.6 * max(data.shape[0], 2))
    ax = fig.subplots()
    image = ax.imshow(data, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(data.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(data.shape[0]), [str(i) for i in grid.index])
    ax.set_xlabel(cols)
    ax.set_ylabel(rows)
    for (i, j), value in np.ndenumerate(data):
        if not math.isnan(value):
            ax.text(j, i, f"{value:.0f}%", ha="center", va="center", fontsize="small")
    fig.colorbar(image, ax=ax, label="compliance (%)")
    ax.set_title(f"{rule_id}{note}\nmean of {replications} replications", fontsize="small")
    return fig

"""Plots of a simulation or a sweep (matplotlib, drawn off screen into PNG files)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.results import SimulationResult
from simulation.sweep import SweepResult

__all__ = ["plot_result", "plot_sweep"]

_METADATA = {"Software": None}  # keep the files the same from one run to the next


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_result(result: SimulationResult, out: Path) -> list[Path]:
    """compliance.png, utilisation.png, queues.png and bottlenecks.png in ``out``."""
    return [
        _compliance(result, out / "compliance.png"),
        _utilisation(result, out / "utilisation.png"),
        _queues(result, out / "queues.png"),
        _bottlenecks(result, out / "bottlenecks.png"),
    ]


def _compliance(result: SimulationResult, path: Path) -> Path:
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
    fig.savefig(path, dpi=100, metadata=_METADATA)
    return path


def _by_role(result: SimulationResult, column: str) -> dict[str, pd.DataFrame]:
    util = result.utilisation
    if util.empty:
        return {}
    return {str(role): frame for role, frame in util.groupby("role", sort=True)
            if frame[column].notna().any()}


def _utilisation(result: SimulationResult, path: Path) -> Path:
    fig = _figure(9, 4.5)
    ax = fig.subplots()
    for role, frame in _by_role(result, "utilisation").items():
        ax.plot(frame["bin_start_utc"].dt.tz_convert(None), frame["utilisation"] * 100,
                label=role)
    ax.set_ylabel("busy share of on-duty time (%)")
    ax.set_title(f"Utilisation per role ({result.scenario.timeline_days}-day bins, mean of "
                 f"{result.replications} replications)")
    ax.legend(loc="lower right", fontsize="small")
    fig.savefig(path, dpi=100, metadata=_METADATA)
    return path


def _queues(result: SimulationResult, path: Path) -> Path:
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
    fig.savefig(path, dpi=100, metadata=_METADATA)
    return path


def _bottlenecks(result: SimulationResult, path: Path) -> Path:
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
    fig.savefig(path, dpi=100, metadata=_METADATA)
    return path


def plot_sweep(result: SweepResult, rule_id: str, out: Path) -> list[Path]:
    """A heatmap of compliance with ``rule_id`` over the first two varied fields (one file per
    value of any further fields)."""
    table = result.table[result.table["rule_id"] == rule_id]
    fields = list(result.fields)
    rows_field = fields[0]
    cols_field = fields[1] if len(fields) > 1 else None
    rest = fields[2:]
    groups = [((), table)] if not rest else list(table.groupby(rest, sort=True))
    paths = []
    for values, frame in groups:
        key = values if isinstance(values, tuple) else (values,)
        suffix = "".join(f"_{f.split('.')[-1]}-{v}" for f, v in zip(rest, key, strict=True))
        path = out / f"heatmap_{rule_id}{suffix}.png"
        if cols_field is None:
            grid = frame.set_index(rows_field)[["compliance"]]
            grid.columns = [""]
        else:
            grid = frame.pivot_table(index=rows_field, columns=cols_field, values="compliance",
                                     aggfunc="mean", sort=True)
        _heatmap(grid, rows_field, cols_field or "", rule_id, result.replications, path,
                 " (" + ", ".join(f"{f} = {v}" for f, v in zip(rest, key, strict=True)) + ")"
                 if rest else "")
        paths.append(path)
    return paths


def _heatmap(grid: pd.DataFrame, rows: str, cols: str, rule_id: str, replications: int,
             path: Path, note: str) -> None:
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
    fig.savefig(path, dpi=100, metadata=_METADATA)

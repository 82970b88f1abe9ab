"""A validation's result: its tables, their text and JSON, one error per measure, two
validations side by side, and the files ``lscb validate --out`` writes.

``simulation.calibration.validate`` computes a ``Validation`` (and re-exports what is here);
this module only presents one: ``Validation.text()`` (terminal tables in plain words),
``to_json()``, ``scores`` (each measure reduced to one error, lower is better), ``compare`` (a
calibrated scenario's errors beside the default's), ``write_validation`` (CSV tables,
``validation.json``, PNG plots) and ``load_json`` (for reports).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = [
    "DISTANCES",
    "Validation",
    "compare",
    "load_json",
    "scores",
    "write_validation",
]

DISTANCES: Final = {
    "ngram": "control flow: 3-gram distribution distance (0 = the same, 1 = nothing shared)",
    "absolute": "absolute event distribution (hours)",
    "circadian": "circadian event distribution (hours of the week's days)",
    "relative": "relative event distribution: events by time since case start (hours)",
    "cycle_time": "cycle time distribution (days)",
    "arrivals": "case arrival distribution (hours)",
    "wip": "work in progress: open cases over the days (days; the package's measure, computed "
           "here on daily counts)",
}


@dataclass(frozen=True)
class Validation:
    """A scenario against a log. Tables (pandas DataFrames):

    ``compliance``: rule_id, severity, log_judged, log_compliance, sim_mean (pooled over the
    replications), sim_low, sim_high (95% interval for a log of log_judged cases), inside. ``timeliness``: rule_id, deadline, log_cases,
    log_median, sim_cases (per replication), sim_median, wasserstein (working days).
    ``bands``: rule_id, band, log_share, sim_share, sim_low, sim_high. ``flow``: measure, log,
    sim_mean, sim_low, sim_high. ``distances``: measure, description, value (mean over the
    replications), low, high (smallest and largest), reference (between two replications).
    """

    scenario: str
    log: str
    start: date
    horizon_days: int
    replications: int
    seed: int
    compliance: pd.DataFrame
    timeliness: pd.DataFrame
    bands: pd.DataFrame
    flow: pd.DataFrame
    distances: pd.DataFrame

    def text(self) -> str:
        """The comparison as terminal tables, in plain words."""
        end = self.start + timedelta(days=self.horizon_days - 1)
        out = [f"Validation of {self.scenario}",
               f"against {self.log}: cases that began {self.start} to {end}; "
               f"{self.replications} simulated replications (seed {self.seed})", ""]
        out.append("Compliance per rule: the log, and where 95% of simulated logs fall")
        rows = []
        for r in self.compliance.itertuples():
            if not r.log_judged and not _finite(r.sim_mean):
                continue
            rows.append([r.rule_id, f"{r.log_judged:,}", _pct(r.log_compliance),
                         _pct(r.sim_mean), f"{_pct(r.sim_low)}-{_pct(r.sim_high)}",
                         "yes" if r.inside else ("no" if r.inside is False else "-")])
        out += _table(["rule", "cases", "log", "simulated", "95% interval", "inside"], rows)
        if not self.timeliness.empty:
            out += ["", "Working days from trigger to step (deadline rules)"]
            rows = [[t.rule_id, t.deadline, f"{t.log_cases:,}", _num(t.log_median),
                     _num(t.sim_median), _num(t.wasserstein)]
                    for t in self.timeliness.itertuples()]
            out += _table(["rule", "deadline", "cases", "log median", "simulated median",
                           "Wasserstein"], rows)
        if not self.bands.empty:
            out += ["", "Bands of working days (share of the cases judged)"]
            rows = [[b.rule_id, b.band, _pct(b.log_share), _pct(b.sim_share),
                     f"{_pct(b.sim_low)}-{_pct(b.sim_high)}"] for b in self.bands.itertuples()]
            out += _table(["rule", "band", "log", "simulated", "95% interval"], rows)
        out += ["", "Cases and work in progress"]
        rows = [[f.measure, _num(f.log), _num(f.sim_mean), f"{_num(f.sim_low)}-{_num(f.sim_high)}"]
                for f in self.flow.itertuples()]
        out += _table(["measure", "log", "simulated", "range"], rows)
        out += ["", "Distances between the log and the simulated logs (log-distance-measures)"]
        rows = [[d.measure, _num(d.value), f"{_num(d.low)}-{_num(d.high)}", _num(d.reference)]
                for d in self.distances.itertuples()]
        out += _table(["measure", "mean", "range", "two runs of the scenario"], rows)
        return "\n".join(out) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "log": self.log, "start": self.start.isoformat(),
            "horizon_days": self.horizon_days, "replications": self.replications,
            "seed": self.seed,
            "compliance": _records(self.compliance), "timeliness": _records(self.timeliness),
            "bands": _records(self.bands), "flow": _records(self.flow),
            "distances": _records(self.distances), "scores": scores(self),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, (np.floating, float)):
                v = float(v)
                clean[str(k)] = v if math.isfinite(v) else None
            elif isinstance(v, (np.integer,)):
                clean[str(k)] = int(v)
            elif isinstance(v, (np.bool_,)):
                clean[str(k)] = bool(v)
            elif v is pd.NA:
                clean[str(k)] = None
            else:
                clean[str(k)] = v
        out.append(clean)
    return out


def _finite(x: Any) -> bool:
    return x is not None and x is not pd.NA and math.isfinite(float(x))


def _pct(x: Any) -> str:
    return "-" if x is None or x != x else f"{100 * float(x):.1f}%"


def _num(x: Any) -> str:
    if x is None or x != x:
        return "-"
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return out


# ------------------------------------------------------------------------- comparing


def scores(v: Validation) -> dict[str, float]:
    """One error per measure (lower is better)."""
    c = v.compliance[v.compliance["log_judged"] > 0]
    gap = (c["log_compliance"] - c["sim_mean"]).abs().dropna()
    out = {
        "compliance: mean gap (percentage points)": float(100 * gap.mean())
        if len(gap) else math.nan,
        "compliance: rules outside the simulated interval": float(
            (c["inside"] == False).sum()),  # noqa: E712 (a nullable column)
        "timeliness: mean Wasserstein (working days)": float(v.timeliness["wasserstein"].mean())
        if not v.timeliness.empty else math.nan,
        "bands: mean gap (percentage points)": float(
            100 * (v.bands["log_share"] - v.bands["sim_share"]).abs().mean())
        if not v.bands.empty else math.nan,
    }
    flow = v.flow.set_index("measure")
    begun: Any = flow.loc["cases begun"]
    out["cases begun: relative gap"] = float(abs(begun["sim_mean"] - begun["log"]) / begun["log"])
    wip: Any = flow.loc["cases open per day: mean gap to the log", "sim_mean"]
    out["cases open per day: mean gap"] = float(wip)
    for measure, value in zip(v.distances["measure"], v.distances["value"], strict=True):
        out[f"distance: {measure}"] = float(value)
    return out


def compare(candidate: Validation, baseline: Validation, names: tuple[str, str] = (
        "calibrated", "default")) -> pd.DataFrame:
    """The two validations' errors side by side: measure, the two, and which is closer."""
    a, b = scores(candidate), scores(baseline)
    rows = []
    for key in a:
        x, y = a[key], b.get(key, math.nan)
        better = "-" if x != x or y != y else (names[0] if x < y else (
            names[1] if y < x else "equal"))
        rows.append({"measure": key, names[0]: x, names[1]: y, "closer": better})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------- files


def write_validation(v: Validation, out: Path | str, *, plots: bool = True,
                     baseline: Validation | None = None) -> list[Path]:
    """Write the tables as CSV, ``validation.json`` and (``plots``) PNG figures into ``out``."""
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("compliance", "timeliness", "bands", "flow", "distances"):
        path = target / f"validation_{name}.csv"
        getattr(v, name).to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
        written.append(path)
    payload = v.to_json()
    if baseline is not None:
        payload["baseline"] = baseline.to_json()
        payload["comparison"] = _records(compare(v, baseline))
    path = target / "validation.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(path)
    if plots:
        written += _plots(v, target)
    return written


def _plots(v: Validation, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    c = v.compliance[v.compliance["log_judged"] > 0].reset_index(drop=True)
    if not c.empty:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(c) + 1.5))
        y = np.arange(len(c))
        err = np.vstack([(c["sim_mean"] - c["sim_low"]).fillna(0).clip(lower=0),
                         (c["sim_high"] - c["sim_mean"]).fillna(0).clip(lower=0)])
        ax.errorbar(100 * c["sim_mean"], y, xerr=100 * err, fmt="o", color="tab:blue",
                    label="simulated (95% interval)")
        ax.plot(100 * c["log_compliance"], y, "D", color="tab:red", label="the log")
        ax.set_yticks(y, c["rule_id"])
        ax.set_xlabel("compliance (%)")
        ax.invert_yaxis()
        ax.legend(loc="lower left", fontsize=8)
        ax.set_title("Compliance: the log against the simulated logs")
        fig.tight_layout()
        path = out / "validation_compliance.png"
        fig.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    if not v.bands.empty:
        rules = list(dict.fromkeys(v.bands["rule_id"]))
        fig, axes = plt.subplots(len(rules), 1, figsize=(7, 2.2 * len(rules)), squeeze=False)
        for ax, rule in zip(axes[:, 0], rules, strict=True):
            b = v.bands[v.bands["rule_id"] == rule].reset_index(drop=True)
            x = np.arange(len(b))
            ax.bar(x - 0.2, 100 * b["log_share"], 0.4, label="the log", color="tab:red")
            ax.bar(x + 0.2, 100 * b["sim_share"], 0.4, label="simulated", color="tab:blue")
            ax.set_xticks(x, b["band"])
            ax.set_ylabel("% of cases")
            ax.set_title(f"{rule}: working days from trigger to step", fontsize=9)
        axes[0, 0].legend(fontsize=8)
        fig.tight_layout()
        path = out / "validation_bands.png"
        fig.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written


def load_json(path: Path) -> Mapping[str, Any]:
    """A validation written by ``write_validation`` (for reports)."""
    loaded: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded

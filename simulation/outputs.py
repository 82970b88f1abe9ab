"""The files a run writes into a folder (``lscb simulate --out DIR``, docs/scenario.md).

The first replication's event log (the contract's schema, so ``lscb check`` judges it) and its
ground truth, the compliance, utilisation, bottleneck and timeliness tables as CSV, the summary
as JSON and, unless asked not to, the figures as PNG. Everything is deterministic: the same
scenario and seed write the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from model.procedure import Procedure
from simulation import plots as plotting
from simulation.results import SimulationResult, summary, write_event_log

__all__ = ["output_names", "write_outputs"]


def _frame_to_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6g")


def output_names(*, plots: bool = True) -> tuple[str, ...]:
    """The names of the files :func:`write_outputs` may write (the event log and ground truth
    only when the first replication was kept), so that a command can check them first.

    >>> output_names(plots=False)[:3]
    ('event_log.csv', 'ground_truth.csv', 'compliance.csv')
    """
    tables = ("event_log.csv", "ground_truth.csv", "compliance.csv", "utilisation.csv",
              "bottlenecks.csv", "delays.csv", "timeliness.csv", "marginal.csv", "summary.json")
    figures = tuple(f"{name}.png" for name in plotting.RESULT_FIGURES) if plots else ()
    return tables + figures


def write_outputs(result: SimulationResult, out: Path, procedure: Procedure, *,
                  plots: bool = True) -> list[Path]:
    """Write the run's files into ``out`` (created if needed); return their paths.

    Parameters
    ----------
    result
        What ``simulation.run`` gave.
    out
        The folder (the caller checks it is usable before the run; see ``lscb.safeoutput``).
    procedure
        The procedure simulated (the log's attribute columns follow it).
    plots
        Also draw the figures (matplotlib is imported only then).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import simulation
    >>> from model.procedure import load_procedure
    >>> procedure = load_procedure()
    >>> short = simulation.load_scenario(None, procedure).with_values(
    ...     {"horizon_days": 10, "warm_up_days": 0, "drain_days": 60}, procedure)
    >>> result = simulation.run(short, procedure, replications=1, seed=2, workers=1)
    >>> paths = write_outputs(result, Path(tempfile.mkdtemp()), procedure, plots=False)
    >>> [p.name for p in paths][:3]
    ['event_log.csv', 'ground_truth.csv', 'compliance.csv']
    """
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    first = result.first
    if first is not None:
        write_event_log(first, out / "event_log.csv", procedure)
        _frame_to_csv(first.ground_truth, out / "ground_truth.csv")
        written += [out / "event_log.csv", out / "ground_truth.csv"]
    _frame_to_csv(result.compliance, out / "compliance.csv")
    util = result.utilisation.copy()
    if not util.empty:
        util["bin_start_utc"] = util["bin_start_utc"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    _frame_to_csv(util, out / "utilisation.csv")
    _frame_to_csv(result.bottlenecks, out / "bottlenecks.csv")
    _frame_to_csv(result.delays, out / "delays.csv")
    _frame_to_csv(result.timeliness, out / "timeliness.csv")
    written += [out / n for n in ("compliance.csv", "utilisation.csv", "bottlenecks.csv",
                                  "delays.csv", "timeliness.csv")]
    if not result.marginal.empty:
        _frame_to_csv(result.marginal, out / "marginal.csv")
        written.append(out / "marginal.csv")
    (out / "summary.json").write_text(json.dumps(summary(result), indent=2, sort_keys=True)
                                      + "\n", encoding="utf-8")
    written.append(out / "summary.json")
    if plots:
        written += plotting.plot_result(result, out)
    return written

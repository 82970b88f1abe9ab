"""The simulator's figures (simulation/plots.py): returned as matplotlib Figures, and the PNG
files are those figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from model.procedure import Procedure, load_procedure
from simulation import plots
from simulation.results import SimulationResult
from simulation.runner import run
from simulation.scenario import Scenario, load_scenario
from simulation.whatif import SweepResult, sweep

RULE = "icpc-within-15-working-days"


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def scenario(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure).with_values(
        {"horizon_days": 30, "warm_up_days": 7, "drain_days": 60}, procedure)


@pytest.fixture(scope="module")
def result(scenario: Scenario, procedure: Procedure) -> SimulationResult:
    return run(scenario, procedure, replications=2, seed=3)


@pytest.fixture(scope="module")
def grid(scenario: Scenario, procedure: Procedure) -> SweepResult:
    return sweep(scenario, procedure, {"roles.conference_chair.headcount": [2, 4],
                                       "demand": [1.0, 1.33], "roles.lado.headcount": [2, 3]},
                 replications=1, seed=3)


def test_result_figures_are_figures_and_the_files_are_their_pngs(
        result: SimulationResult, tmp_path: Path) -> None:
    paths = plots.plot_result(result, tmp_path)
    assert [p.name for p in paths] == [f"{name}.png" for name in plots.RESULT_FIGURES]
    for path in paths:
        figure = plots.result_figure(result, path.stem)
        assert isinstance(figure, Figure)
        data = plots.png_bytes(figure)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.read_bytes() == data, path.name
    compliance = plots.compliance_figure(result)
    assert compliance.axes[0].get_title() == f"Compliance per rule: {result.scenario.name}"
    assert len(plots.queues_figure(result).axes) == 2


def test_unknown_figure_names_the_figures(result: SimulationResult) -> None:
    with pytest.raises(KeyError, match="no figure 'waits'; the figures are: bottlenecks, "
                                       "compliance, queues, utilisation"):
        plots.result_figure(result, "waits")


def test_sweep_figures_one_per_value_of_further_fields(grid: SweepResult, tmp_path: Path
                                                       ) -> None:
    figures = plots.sweep_figures(grid, RULE)
    assert [name for name, _ in figures] == [f"heatmap_{RULE}_headcount-2",
                                             f"heatmap_{RULE}_headcount-3"]
    paths = plots.plot_sweep(grid, RULE, tmp_path)
    assert [p.stem for p in paths] == [name for name, _ in figures]
    for path, (_name, figure) in zip(paths, figures, strict=True):
        assert path.read_bytes() == plots.png_bytes(figure)
    title = figures[0][1].axes[0].get_title()
    assert "(roles.lado.headcount = 2)" in title and "mean of 1 replications" in title

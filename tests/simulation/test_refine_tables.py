"""The lag tables the calibration's search scales: their means as the scenario reads them."""

from __future__ import annotations

import pytest

from simulation.calibration.refine import _scaled, _table_mean


def test_an_empirical_lag_weighs_its_values() -> None:
    table = {"distribution": "empirical", "values": [1.0, 3.0], "weights": [3.0, 1.0],
             "unit": "hours"}
    assert _table_mean(table) == pytest.approx(1.5)  # not 2.0, the values' plain mean


@pytest.mark.parametrize("table, mean", [
    ({"distribution": "exponential", "mean": 4.0, "unit": "hours"}, 4.0),
    ({"distribution": "lognormal", "mean": 4.0, "sd": 2.0, "unit": "hours"}, 4.0),
    ({"distribution": "triangular", "low": 1.0, "mode": 2.0, "high": 6.0, "unit": "hours"}, 3.0),
    ({"distribution": "uniform", "low": 1.0, "high": 5.0, "unit": "hours"}, 3.0),
    ({"distribution": "fixed", "value": 2.5, "unit": "hours"}, 2.5),
])
def test_scaling_a_table_scales_its_mean(table: dict[str, object], mean: float) -> None:
    assert _table_mean(table) == pytest.approx(mean)
    assert _table_mean(_scaled(table, 2.0)) == pytest.approx(2 * mean)


def test_a_table_the_reader_refuses_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a distribution table"):
        _table_mean({"distribution": "exponential", "unit": "hours"})

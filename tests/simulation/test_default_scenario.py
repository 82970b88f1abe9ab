"""The built-in scenario, re-earned: a ledger entry for every number, consistent with the figures
it cites, one number fitted, and a validation against figures it was not fitted to."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from model.calendar import WorkingCalendar
from model.procedure import Procedure, load_procedure
from simulation.calibration.ledger import load_ledger
from simulation.published import (
    BANDS,
    FIFTEEN_DAY_SHARE,
    band_shares,
    check_published,
)
from simulation.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
FITTED = 'tasks."Section 47 enquiry completed".lag.mean'


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def default(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure)


def test_every_number_has_a_ledger_entry(default: Scenario) -> None:
    ledger = load_ledger(default)
    assert ledger.uncovered == ()
    for entry in ledger:
        value = ledger.value(entry.field)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if entry.kind == "assumed" and number and not entry.source.startswith("a run setting"):
            assert entry.range is not None, f"{entry.field}: an assumption needs a range"
            assert entry.range[0] <= value <= entry.range[1], entry.field
        assert entry.source.strip(), entry.field


def test_one_number_is_fitted_and_it_says_to_what(default: Scenario) -> None:
    ledger = load_ledger(default)
    estimated = [e for e in ledger if e.kind == "estimated"]
    assert [e.field for e in estimated] == [FITTED]
    fit = estimated[0]
    assert fit.n is not None and fit.n > 500
    assert fit.interval is not None and fit.interval[0] <= ledger.value(FITTED) <= fit.interval[1]
    assert "78.5%" in fit.source and "C4" in fit.source
    # the published bands add up to the published 15-day share and to the whole
    assert BANDS[0][3] + BANDS[1][3] == pytest.approx(FIFTEEN_DAY_SHARE, abs=0.0015)
    assert sum(b[3] for b in BANDS) == pytest.approx(1.0, abs=0.002)


def test_the_chairs_other_bookings_agree_with_the_figures_cited(default: Scenario) -> None:
    """About 500 initial conferences and 1,000 reviews a year, less this procedure's own
    initial conferences, over the working days of the scenario's year."""
    text = (ROOT / "simulation" / "default_scenario.toml").read_text(encoding="utf-8")
    assert "about 500 ICPCs and 1,000 review" in text
    calendar = WorkingCalendar()
    start = default.start
    working = calendar.working_days_between(start - timedelta(days=1),
                                            start + timedelta(days=364))
    assert working == 254 and start == date(2024, 4, 1)
    ours = 0.0  # expected initial conferences of this procedure's cases a year
    for route in default.routes.values():
        a = route.attributes
        # contract v2: a strategy discussion leads to a Section 47 enquiry only when
        # section_47_needed, and a conference follows when children are at continuing risk
        ours += (route.annual_volume * a.get("strategy_discussion_needed", 0.0)
                 * a.get("section_47_needed", 1.0) * a.get("children_at_continuing_risk", 0.0))
    assert 20 < ours < 60
    expected = (500 + 1000 - ours) / working
    diary = default.roles["conference_chair"].diary
    assert diary is not None
    assert diary.background_per_working_day == pytest.approx(expected, abs=0.005)  # to 2 places


def test_band_shares() -> None:
    shares = band_shares([0, 10, 11, 15, 16, 20, 21, 60])
    assert shares.tolist() == [0.25, 0.25, 0.25, 0.25]
    assert np.isnan(band_shares([])).all()


def test_the_validation_table_on_a_short_run(default: Scenario, procedure: Procedure) -> None:
    small = default.with_values({"horizon_days": 60, "warm_up_days": 28, "drain_days": 90},
                                procedure)
    check = check_published(small, procedure, replications=2, workers=1)
    table = check.table.set_index("measure")
    assert list(table["role"]).count("fitted") == 1
    assert table.loc["within 15 working days", "role"] == "fitted"
    shares = [table.loc[label, "simulated"] for label, *_ in BANDS]
    assert sum(shares) == pytest.approx(1.0)
    assert table.loc["within 15 working days", "simulated"] == pytest.approx(
        shares[0] + shares[1])
    assert len(check.durations) == check.per_replication["conferences"].sum() > 0
    for label, *_, published in BANDS:
        within = table.loc[label, "within"]
        assert bool(within) == (abs(table.loc[label, "simulated"] - published) <= 0.05)
    text = check.text()
    assert "0-10 working days" in text and "Section 47 enquiry to conference" in text
    again = check_published(small, procedure, replications=2, workers=1)
    assert again.table.equals(check.table)


def test_the_documented_validation_is_the_measured_one() -> None:
    """docs/scenario.md shows the table that bench/validate_default.py measured."""
    measured = json.loads((ROOT / "bench" / "results" / "validate_default.json")
                          .read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    for row in measured["table"]:
        simulated = row["simulated"]
        if simulated is None or math.isnan(simulated):
            continue
        assert f"{100 * simulated:.1f}%" in doc, row["measure"]
    for miss in measured["misses"]:
        assert miss.split(":")[0] in doc


def test_the_fit_meets_its_target_on_a_line(default: Scenario, procedure: Procedure) -> None:
    """The fit on a short run: the fitted mean's line crosses the target, its interval holds it,
    and every mean it tried is listed."""
    from simulation.published import fit_lag_mean

    small = default.with_values({"horizon_days": 60, "warm_up_days": 28, "drain_days": 60},
                                procedure)
    fit = fit_lag_mean(small, procedure, FITTED.removesuffix(".mean"), replications=2,
                       workers=1, coarse=2, grid=3, width=1.5)
    assert len(fit.steps) == 2 + 3 + 1
    assert fit.interval[0] <= fit.mean <= fit.interval[1]
    assert fit.steps["mean"].iloc[-1] == fit.mean
    tried = fit.steps.iloc[2:5].sort_values("mean")
    assert tried["within_15"].iloc[0] >= tried["within_15"].iloc[-1]  # longer, fewer in time

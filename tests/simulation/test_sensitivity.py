"""The sensitivity analysis: one at a time and variance-based, on a known function and on the
simulator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.errors import InputError
from model.procedure import Procedure, load_procedure
from simulation.scenario import Scenario, load_scenario
from simulation.sensitivity import (
    MIN_GLOBAL_POINTS,
    Assumption,
    analyse,
    assumptions_of,
    runs_needed,
    sensitivity,
    tornado_figure,
    write_outputs,
)


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def default(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure)


X1 = Assumption("roles.x.headcount", 3.0, 1.0, 5.0, integer=True)
X2 = Assumption("tasks.y.work", 10.0, 5.0, 20.0, integer=False)


def known(points: Sequence[Mapping[str, float]], replications: int = 4) -> list[pd.DataFrame]:
    """Rule 'a' rises with x1 (0.1 a person), not with x2; rule 'b' is always 0.9; each
    replication has its own offset, the same at every point (common random numbers)."""
    out = []
    for point in points:
        x1 = point.get(X1.field, X1.value)
        rows = []
        for r in range(replications):
            noise = 0.01 * (r - 1.5)
            rows.append({"replication": r, "rule_id": "a", "compliance": 0.3 + 0.1 * x1 + noise})
            rows.append({"replication": r, "rule_id": "b", "compliance": 0.9})
        out.append(pd.DataFrame(rows))
    return out


def test_one_at_a_time_finds_what_moves_each_rule() -> None:
    result = analyse([X1, X2], known, name="known", replications=4)
    oat = result.one_at_a_time.set_index(["rule_id", "field"])
    assert oat.loc[("a", X1.field), "compliance_low"] == pytest.approx(0.4)
    assert oat.loc[("a", X1.field), "compliance_high"] == pytest.approx(0.8)
    assert oat.loc[("a", X1.field), "swing"] == pytest.approx(0.4)
    # common random numbers: the paired change has no noise, so its interval is a point
    assert oat.loc[("a", X1.field), "change_high_ci_low"] == pytest.approx(0.2)
    assert oat.loc[("a", X2.field), "swing"] == pytest.approx(0.0)
    assert oat.loc[("b", X1.field), "swing"] == pytest.approx(0.0)
    # the rule's rows come largest swing first
    first = result.one_at_a_time[result.one_at_a_time["rule_id"] == "a"].iloc[0]
    assert first["field"] == X1.field
    assert result.runs == 5 * 4  # base and two ends of two assumptions, 4 replications each


def test_findings_say_what_holds_and_what_flips() -> None:
    result = analyse([X1, X2], known, replications=4, targets={"a": 0.55, "b": 0.85})
    findings = result.findings.set_index(["rule_id", "kind"])
    assert not findings.loc[("a", "level"), "holds"]  # 40% to 80%: more than 5 points
    assert findings.loc[("a", "level"), "driver"] == X1.field
    assert findings.loc[("b", "level"), "holds"]
    target_a = findings.loc[("a", "target")]
    assert not target_a["holds"] and "flips" in target_a["text"] and X1.field in target_a["text"]
    assert findings.loc[("b", "target"), "holds"]
    assert "FLIPS" in result.text() and "holds" in result.text()


def test_a_target_inside_the_scenarios_own_interval_is_not_established() -> None:
    result = analyse([X1, X2], known, replications=4, targets={"a": 0.6})
    finding = result.findings.set_index(["rule_id", "kind"]).loc[("a", "target")]
    assert not finding["holds"] and "not established" in finding["text"]
    single = analyse([X1], lambda p: known(p, 1), replications=1, targets={"b": 0.5})
    assert "one run: no interval" in single.findings.iloc[-1]["text"]


def test_variance_based_analysis_ranks_the_assumption_that_matters() -> None:
    result = analyse([X1, X2], lambda p: known(p, 1), replications=1, budget=64, seed=3)
    assert result.global_method == "rbd-fast" and result.global_points == 64
    g = result.global_indices.set_index(["rule_id", "field"])
    assert g.loc[("a", X1.field), "S1"] > 0.8
    assert abs(g.loc[("a", X2.field), "S1"]) < 0.2
    assert np.isnan(g.loc[("b", X1.field), "S1"])  # no variance to split
    assert result.runs == 5 + 64


def test_sobol_gives_total_indices_when_the_budget_allows() -> None:
    needed = runs_needed(2, 1, "sobol")
    result = analyse([X1, X2], lambda p: known(p, 1), replications=1, budget=needed * 4,
                     method="sobol")
    g = result.global_indices.set_index(["rule_id", "field"])
    assert g.loc[("a", X1.field), "ST"] > 0.8
    assert g.loc[("a", X2.field), "ST"] == pytest.approx(0.0, abs=0.05)


def test_a_budget_too_small_is_said_not_spent() -> None:
    result = analyse([X1, X2], lambda p: known(p, 2), replications=2, budget=MIN_GLOBAL_POINTS)
    assert result.global_indices.empty and result.global_points == 0
    assert any(str(2 * MIN_GLOBAL_POINTS) in note for note in result.notes)


def test_the_default_scenario_names_its_assumptions(default: Scenario) -> None:
    found = assumptions_of(default)
    assert len(found) >= 40
    by_field = {a.field: a for a in found}
    chairs = by_field["roles.conference_chair.headcount"]
    assert chairs.integer and chairs.low <= chairs.value <= chairs.high
    for a in found:
        assert a.low <= a.value <= a.high and a.low < a.high, a.field
    # the fitted number is an estimate, not an assumption: it is not moved
    assert 'tasks."Section 47 enquiry completed".lag.mean' not in by_field
    with pytest.raises(InputError, match=r"roles\.nobody\.headcount"):
        assumptions_of(default, ["roles.nobody.headcount"])


def test_the_simulator_end_to_end(default: Scenario, procedure: Procedure,
                                  tmp_path: Path) -> None:
    small = default.with_values({"horizon_days": 40, "warm_up_days": 14, "drain_days": 90},
                                procedure)
    fields = ["roles.conference_chair.headcount", 'slips.skip."Information shared"']
    result = sensitivity(small, procedure, replications=1, fields=fields, workers=1,
                         targets={"icpc-within-15-working-days": 0.785})
    assert [a.field for a in result.assumptions] == fields
    oat = result.one_at_a_time.set_index(["rule_id", "field"])
    icpc = oat.loc[("icpc-within-15-working-days", fields[0])]
    assert icpc["compliance_low"] <= icpc["compliance_high"]  # more chairs, no fewer on time
    # skipping "Information shared" breaks only the rules about it
    shared = oat.loc[("information-shared-before-strategy-discussion", fields[1])]
    assert shared["compliance_high"] < shared["compliance_low"]
    assert oat.loc[("icpc-within-15-working-days", fields[1]), "swing"] == pytest.approx(0.0)
    again = sensitivity(small, procedure, replications=1, fields=fields, workers=1)
    pd.testing.assert_frame_equal(result.one_at_a_time, again.one_at_a_time)
    written = write_outputs(result, tmp_path)
    names = {p.name for p in written}
    assert {"one_at_a_time.csv", "findings.csv", "tornado_icpc-within-15-working-days.png"} <= names
    assert tornado_figure(result, "icpc-within-15-working-days").axes


def _small_file(tmp_path: Path) -> Path:
    text = (Path(__file__).resolve().parents[2] / "simulation" / "default_scenario.toml"
            ).read_text(encoding="utf-8")
    path = tmp_path / "small.toml"
    path.write_text(text.replace("horizon_days = 365", "horizon_days = 40"), encoding="utf-8")
    return path


def test_lscb_sensitivity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lscb.cli import main
    from lscb.commands.sensitivity import _METHODS
    from simulation.sensitivity import METHODS

    assert _METHODS == METHODS
    path = _small_file(tmp_path)
    out = tmp_path / "out"
    assert main(["sensitivity", "--scenario", str(path), "--field",
                 "roles.conference_chair.headcount", "--replications", "1", "--workers", "1",
                 "--quiet", "--target", "icpc-within-15-working-days=78.5%", "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Sensitivity of" in printed and "1 assumptions" in printed
    assert "icpc-within-15-working-days" in printed and ("FLIPS" in printed or "holds" in printed)
    assert (out / "tornado_icpc-within-15-working-days.png").stat().st_size > 0
    assert main(["sensitivity", "--scenario", str(path), "--ledger"]) == 0
    ledger = capsys.readouterr().out
    assert "roles.conference_chair.headcount = 5  [assumed]  (range 4-6)" in ledger
    assert "[estimated]" in ledger


def test_lscb_sensitivity_bad_options(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from lscb.cli import main

    path = _small_file(tmp_path)
    assert main(["sensitivity", "--scenario", str(path), "--field", "roles.nobody.headcount",
                 "--quiet"]) == 2
    assert "roles.nobody.headcount" in capsys.readouterr().err
    assert main(["sensitivity", "--scenario", str(path), "--target", "no-such-rule=50%",
                 "--budget", "-1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no-such-rule" in err and "--budget" in err

"""Bottlenecks that are queues: late cases' time split into queueing, diary waits, time outside
working hours and the steps' own time; the marginal value of one more person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lscb.cli import main
from model.procedure import Procedure, Task, load_procedure, walk
from simulation import run
from simulation.delays import BOTTLENECKS, COMPONENTS
from simulation.delays import duty_table as _duty_table
from simulation.delays import split_case as _split_case
from simulation.runner import marginal_values
from simulation.scenario import Scenario, load_scenario

DAY = 1440.0
OFFICE = _duty_table((np.array([540.0, DAY + 540.0]), np.array([1020.0, DAY + 1020.0])))


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def default(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure)


def short(scenario: Scenario, procedure: Procedure, **values: Any) -> Scenario:
    base = {"horizon_days": 60, "warm_up_days": 14, "drain_days": 120, "replications": 2}
    return scenario.with_values({**base, **values}, procedure)


# ------------------------------------------------------------------------- one case, by hand


def test_a_wait_is_split_by_who_is_on_duty() -> None:
    """Trigger at 08:00 on day 0, deadline 10:30 on day 1. One step: an elapsed lag of an hour,
    then a queue for the police from 09:00 to 10:00 the next day (on duty in office hours),
    then an hour of work, of which the half hour before the deadline counts."""
    step = ("s", 480.0, 540.0, -1.0, 540.0, DAY + 600.0, DAY + 660.0, 60.0,
            (("queue", "police", 540.0, DAY + 600.0),))
    parts = _split_case([step], "s", DAY + 660.0, 480.0, DAY + 630.0,
                        {"": OFFICE, "police": OFFICE})
    assert parts[("step duration", "")] == pytest.approx(60 + 30)
    assert parts[("queueing", "police")] == pytest.approx(480 + 60)  # 09:00-17:00, 09:00-10:00
    assert parts[("outside working hours", "")] == pytest.approx(16 * 60)  # 17:00 to 09:00
    assert sum(parts.values()) == pytest.approx(DAY + 150)  # the whole window


def test_a_diary_wait_and_booking_notice() -> None:
    """A booked step: notice from 10:00 to 09:00 the next day (office time is the step's own),
    then the diary from 09:00 to 13:00, then a two-hour meeting; the deadline at 12:00."""
    step = ("icpc", 0.0, 600.0, -1.0, DAY + 540.0, DAY + 780.0, DAY + 900.0, 120.0,
            (("diary", "conference_chair", DAY + 540.0, DAY + 780.0),))
    parts = _split_case([step], "icpc", DAY + 900.0, 600.0, DAY + 720.0,
                        {"": OFFICE, "conference_chair": OFFICE})
    assert parts[("step duration", "")] == pytest.approx(420)  # 10:00-17:00 of notice
    assert parts[("diary", "conference_chair")] == pytest.approx(180)  # 09:00-12:00
    assert ("queueing", "conference_chair") not in parts
    assert sum(parts.values()) == pytest.approx(DAY + 120)


def test_the_chain_follows_the_branch_that_finished_last() -> None:
    """Two parallel steps before the late one: only the one that ended last is on the chain;
    the other's long queue is not counted."""
    a = ("a", 0.0, 0.0, -1.0, 0.0, 10.0, 300.0, 290.0, (("queue", "lado", 0.0, 10.0),))
    b = ("b", 0.0, 0.0, -1.0, 0.0, 250.0, 260.0, 10.0, (("queue", "police", 0.0, 250.0),))
    late = ("c", 300.0, 400.0, -1.0, 400.0, 400.0, 500.0, 100.0, ())
    always = _duty_table((np.array([0.0]), np.array([10 * DAY])))
    parts = _split_case([a, b, late], "c", 500.0, 0.0, 450.0,
                        {"": always, "lado": always, "police": always})
    assert parts.get(("queueing", "police"), 0.0) == 0.0
    assert parts[("queueing", "lado")] == pytest.approx(10)
    assert parts[("step duration", "")] == pytest.approx(290 + 100 + 50)
    assert sum(parts.values()) == pytest.approx(450)


# ------------------------------------------------------------------------- simulated


def test_a_short_handed_role_is_a_bottleneck_and_one_more_person_helps(
        default: Scenario, procedure: Procedure) -> None:
    # many workplace concerns for one LADO busy with other work
    scenario = short(default, procedure, **{"roles.lado.headcount": 1,
                                            "roles.lado.background.share": 0.5,
                                            "routes.workplace.annual_volume": 300})
    result = run(scenario, procedure, replications=4, workers=1, keep_first=False,
                 marginal=True)
    delays = result.delays
    assert set(delays["component"]) <= set(COMPONENTS)
    # every late case's window is accounted for, component by component
    for _, frame in delays.groupby("rule_id"):
        assert frame["share"].sum() == pytest.approx(1.0, abs=1e-6)
    lado = delays[(delays["rule_id"] == "lado-same-day") & (delays["component"] == "queueing")]
    assert set(lado["role"]) == {"lado"} and float(lado["share"].iloc[0]) > 0.1
    assert set(result.bottlenecks["component"]) <= set(BOTTLENECKS)
    marginal = result.marginal.set_index(["rule_id", "role"])
    gain = marginal.loc[("lado-same-day", "lado")]
    assert gain["change"] > 0.1  # a second LADO helps: by about 30 points here
    assert gain["ci_low"] < gain["change"] < gain["ci_high"]
    assert gain["with_one_more"] == pytest.approx(gain["compliance"] + gain["change"])
    # the same seeds give the same answer
    again = marginal_values(result, procedure, roles=["lado"], workers=1)
    row = again.set_index(["rule_id", "role"]).loc[("lado-same-day", "lado")]
    assert row["change"] == pytest.approx(gain["change"])


def test_long_steps_without_queues_are_not_bottlenecks(default: Scenario,
                                                       procedure: Procedure) -> None:
    """Everyone unlimited and conference chairs to spare, but an enquiry that always takes 20
    working days: every conference is late, and none of it is a bottleneck."""
    roles: dict[str, Any] = {r: {"headcount": "unlimited"} for r in procedure.roles
                             if r != "conference_chair"}
    roles["conference_chair"] = {
        "headcount": 40, "diary": {"slots": ["09:30", "13:30"], "slot_minutes": 60}}
    activities = {b.activity for b in walk(procedure.flow) if isinstance(b, Task)}
    tasks: dict[str, Any] = {name: {"work": 5} for name in activities}
    tasks["Section 47 enquiry completed"] = {
        "work": 30, "lag": {"distribution": "fixed", "value": 20, "unit": "working days"}}
    tasks["Initial child protection conference held"] = {"booking": {"lead_working_days": 1}}
    scenario = short(default, procedure, roles=roles, tasks=tasks, slips={})
    result = run(scenario, procedure, replications=2, workers=1, keep_first=False,
                 marginal=True)
    icpc = result.delays[result.delays["rule_id"] == "icpc-within-15-working-days"]
    assert not icpc.empty
    assert set(icpc["component"]) <= {"step duration", "outside working hours"}
    assert result.bottlenecks[
        result.bottlenecks["rule_id"] == "icpc-within-15-working-days"].empty
    chairs = result.marginal[(result.marginal["rule_id"] == "icpc-within-15-working-days")]
    assert (chairs["change"].abs() < 1e-9).all()  # more chairs change nothing


def test_lscb_simulate_reports_bottlenecks_and_marginal_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], default: Scenario,
        procedure: Procedure) -> None:
    text = (Path(__file__).resolve().parents[2] / "simulation" / "default_scenario.toml"
            ).read_text(encoding="utf-8")
    text = text.replace("horizon_days = 365", "horizon_days = 45")
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["simulate", "--scenario", str(path), "--replications", "2", "--workers",
                 "1", "--quiet", "--out", str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "Where the late cases' time went" in printed
    assert "only queueing for people and waiting for a diary slot are bottlenecks" in printed
    assert "One more person in a role" in printed
    assert (out / "delays.csv").stat().st_size > 0 and (out / "marginal.csv").exists()
    assert main(["simulate", "--scenario", str(path), "--replications", "2", "--workers",
                 "1", "--quiet", "--no-marginal"]) == 0
    assert "One more person in a role" not in capsys.readouterr().out

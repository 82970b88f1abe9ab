"""The simulator judges with the checker's settings (CheckConfig): the ICPC clock, closures and
the rest, from a scenario's [checking] section or from run(check_config=...); and its public
front door (simulation.run)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simulation
from conformance import CheckConfig
from model.calendar import LONDON, CalendarConfig, WorkingCalendar
from model.errors import InputError
from model.procedure import Procedure, load_procedure
from model.rules import Occurrence, Rule, TriggerOccurrence
from simulation.clock import Clock
from simulation.engine import simulate
from simulation.results import judge_replication
from simulation.scenario import Hours, Scenario, load_scenario, parse_scenario
from simulation.truth import clock_start

ICPC = "icpc-within-15-working-days"
S47 = "Section 47 enquiry started"
STRATEGY = "Strategy discussion held"
CONFERENCE = "Initial child protection conference held"


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def default(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure)


@pytest.fixture(scope="module")
def repeats(procedure: Procedure, default: Scenario) -> Scenario:
    """Strategy discussions often held again, and in half the cases the Section 47 enquiry
    started before the first of them (an order slip), so that the two readings of the ICPC
    clock start it at different discussions. (The model itself holds every discussion before
    the enquiry starts, where the two readings agree.)"""
    slip = {"activity": S47, "before": STRATEGY, "probability": 0.5}
    return default.with_values({"horizon_days": 60, "warm_up_days": 14, "drain_days": 120,
                                "loops.strategy-discussions": 0.6, "slips.order": [slip],
                                f'slips.skip."{CONFERENCE}"': 0.2,
                                "routes.referral.attributes.children_at_continuing_risk": 0.8},
                               procedure)


# ------------------------------------------------------------------------- the ICPC clock


def _first(trace: list[tuple[str, int]], name: str) -> int | None:
    return next((t for a, t in trace if a == name), None)


def test_icpc_clock_section_47_start_judges_from_the_discussion_before_the_enquiry(
        procedure: Procedure, repeats: Scenario) -> None:
    s47 = CheckConfig(icpc_clock="section-47-start")
    by_default = simulation.run(repeats, procedure, replications=2, seed=5, workers=1)
    by_s47 = simulation.run(repeats, procedure, replications=2, seed=5, workers=1,
                            check_config=s47)
    assert by_default.first is not None and by_s47.first is not None
    assert by_s47.check_config == s47 and by_default.check_config == CheckConfig()
    # The same caseload (first come, first served: no deadline changes anyone's queue) ...
    pd.testing.assert_frame_equal(by_default.first.events, by_s47.first.events)
    # ... judged the same on every other rule, and differently on the ICPC's.
    per0, per1 = (r.per_replication.set_index(["replication", "rule_id"])
                  for r in (by_default, by_s47))
    others = [i for i in per0.index if i[1] != ICPC]
    pd.testing.assert_frame_equal(per0.loc[others], per1.loc[others])
    assert per1.xs(ICPC, level="rule_id")["violated"].sum() > \
        per0.xs(ICPC, level="rule_id")["violated"].sum()
    # The result's counts are the checker's judgement of the log with the same settings.
    summary = judge_replication(by_s47.first, procedure, s47).summary().set_index("rule_id")
    assert (summary.loc[ICPC, ["satisfied", "violated", "pending"]].to_numpy()
            == per1.loc[(0, ICPC), ["satisfied", "violated", "pending"]].to_numpy()).all()
    # Case by case: the clock starts at the last discussion before the enquiry started (the
    # first discussion when none was before it); by default, at the last before the ICPC.
    events = by_s47.first.events
    results = judge_replication(by_s47.first, procedure, s47).results
    judged = results[(results["rule_id"] == ICPC) & results["trigger_time"].notna()]
    differ = 0
    for case_id, started in zip(judged["case_id"], judged["trigger_time"], strict=True):
        trace = events[events["case_id"] == case_id]
        opened = trace.loc[trace["activity"] == S47, "time_utc"].min()
        talks = trace.loc[trace["activity"] == STRATEGY, "time_utc"]
        before = talks[talks <= opened]
        assert started == (before.max() if len(before) else talks.min()), case_id
        held = trace.loc[trace["activity"] == CONFERENCE, "time_utc"].min()
        differ += bool(talks[talks <= held].max() != started)
    assert differ >= 3
    # The ground truth of the injected slips (worked out by the simulator from the rules'
    # definitions, with the same settings) is found by the checker, skipped ICPCs included.
    for result, config in ((by_default, CheckConfig()), (by_s47, s47)):
        assert result.first is not None
        truth = result.first.ground_truth
        expected = {(c, r) for c, ids in zip(truth["case_id"], truth["rule_ids"], strict=True)
                    for r in ids.split(";") if r}
        assert any(r == ICPC for _, r in expected)
        judged = judge_replication(result.first, procedure, config).results
        violated = judged[judged["status"] == "violated"]
        assert expected <= set(zip(violated["case_id"], violated["rule_id"], strict=True))


def test_a_scenario_file_sets_the_icpc_clock(procedure: Procedure, repeats: Scenario) -> None:
    in_file = repeats.with_values({"checking.icpc_clock": "section-47-start"}, procedure)
    assert in_file.checking == CheckConfig(icpc_clock="section-47-start")
    from_file = simulation.run(in_file, procedure, replications=1, seed=5, workers=1)
    given = simulation.run(repeats, procedure, replications=1, seed=5, workers=1,
                           check_config=CheckConfig(icpc_clock="section-47-start"))
    pd.testing.assert_frame_equal(from_file.compliance, given.compliance)
    # run(check_config=...) wins over the file's section
    overridden = simulation.run(in_file, procedure, replications=1, seed=5, workers=1,
                                check_config=CheckConfig())
    assert overridden.check_config == CheckConfig()
    assert overridden.rule(ICPC)["compliance"] > from_file.rule(ICPC)["compliance"]


def _rule(procedure: Procedure, rule_id: str) -> Rule:
    return next(r for r in procedure.rules if r.id == rule_id)


@pytest.mark.parametrize(("occurrence", "occ", "expected"), [
    (TriggerOccurrence(Occurrence.FIRST), {STRATEGY: [1, 5, 9]}, 1),
    (TriggerOccurrence(Occurrence.LAST_BEFORE_RESPONSE), {STRATEGY: [1, 5, 9]}, 9),
    (TriggerOccurrence(Occurrence.LAST_BEFORE_RESPONSE), {STRATEGY: [1, 5, 9], CONFERENCE: [7]},
     5),
    (TriggerOccurrence(Occurrence.LAST_BEFORE, S47), {STRATEGY: [1, 5, 9], S47: [3]}, 1),
    (TriggerOccurrence(Occurrence.LAST_BEFORE, S47), {STRATEGY: [4, 5], S47: [3]}, 4),
    (TriggerOccurrence(Occurrence.LAST_BEFORE, S47), {STRATEGY: [1, 5]}, 5),
    (TriggerOccurrence(Occurrence.FIRST), {S47: [3]}, None),
])
def test_clock_start_reads_the_trigger_occurrence_as_the_checker_does(
        procedure: Procedure, occurrence: TriggerOccurrence, occ: dict[str, list[int]],
        expected: int | None) -> None:
    assert clock_start(_rule(procedure, ICPC), occurrence, occ) == expected


# ------------------------------------------------------------------------- closures


def _weekdays(first: date, n: int) -> list[date]:
    days = [first + timedelta(days=i) for i in range(n * 2)]
    return [d for d in days if d.weekday() < 5][:n]


def test_a_closure_in_checking_is_a_day_off_for_the_staff_and_the_checker(
        procedure: Procedure, default: Scenario) -> None:
    scenario = default.with_values({"horizon_days": 60, "warm_up_days": 14, "drain_days": 90,
                                    "routes.workplace.annual_volume": 150}, procedure)
    closed = _weekdays(scenario.start + timedelta(days=14), 10)
    with_closures = scenario.with_values(
        {"checking.calendar.extra_closures": [d.isoformat() for d in closed]}, procedure)
    assert with_closures.checking.calendar.extra_closures == tuple(closed)

    def office_work_on(rep_events: pd.DataFrame) -> int:
        """Steps done by a LADO or a chair (office hours, no out-of-hours cover) on the days
        that are closed."""
        people = rep_events["resource"].str.match(r"(lado|conference_chair)-\d\d$")
        days = rep_events["time_utc"].dt.tz_convert(LONDON).dt.date
        return int((people & days.isin(closed)).sum())

    assert all(with_closures.role(r).hours is Hours.OFFICE for r in ("lado", "conference_chair"))
    open_rep = simulate(scenario, procedure, seed=2)
    closed_rep = simulate(with_closures, procedure, seed=2)
    assert office_work_on(open_rep.events) >= 3  # so the next line could fail
    assert office_work_on(closed_rep.events) == 0
    # The simulator's calendar is the checker's: the closed days are not working days ...
    clock = Clock(with_closures.start, 120, with_closures.checking.calendar)
    assert not any(clock.working[(d - clock.first_date).days] for d in closed)
    # ... and a run is judged with them.
    result = simulation.run(with_closures, procedure, replications=1, seed=2, workers=1)
    assert result.check_config.calendar.extra_closures == tuple(closed)
    assert result.first is not None
    summary = judge_replication(result.first, procedure, with_closures.checking).summary()
    pd.testing.assert_frame_equal(
        summary.reset_index(drop=True),
        result.per_replication.drop(columns="replication").reset_index(drop=True))


def test_timeliness_counts_the_checkers_working_days(procedure: Procedure,
                                                     default: Scenario) -> None:
    """The timeliness quartiles count working days as the project's calendar does: those in
    (the trigger's date, the step's date]."""
    scenario = default.with_values({"horizon_days": 30, "warm_up_days": 0, "drain_days": 90},
                                   procedure)
    result = simulation.run(scenario, procedure, replications=1, seed=3, workers=1)
    assert result.first is not None
    config = CheckConfig()
    results = judge_replication(result.first, procedure, config).results
    rows = results[(results["rule_id"] == ICPC)
                   & results["status"].isin(["satisfied", "violated"])]
    calendar = WorkingCalendar(CalendarConfig())
    days = [calendar.working_days_between(a.tz_convert(LONDON).date(),
                                          b.tz_convert(LONDON).date())
            for a, b in zip(rows["trigger_time"], rows["evidence_time"], strict=True)]
    timeliness = result.timeliness.set_index("rule_id").loc[ICPC]
    assert timeliness["cases"] == len(days) > 0
    assert timeliness["median"] == pd.Series(days).median()


# ------------------------------------------------------------------------- the [checking] section


def test_checking_section_problems_are_reported_with_the_others(procedure: Procedure) -> None:
    data: dict[str, Any] = {
        "scenario": {"start": date(2024, 4, 1), "horizon_days": 0},
        "routes": {"referral": {"annual_volume": 10}},
        "checking": {"icpc_clock": "sometime", "as_of": "2024-06-30", "colour": "blue",
                     "calendar": {"extra_closures": ["27/12/2024"], "same_day": "working"}},
    }
    with pytest.raises(InputError) as caught:
        parse_scenario(data, "x.toml", procedure)
    wheres = [p.where for p in caught.value.problems]
    assert wheres == ["field 'scenario.horizon_days'", "field 'checking.as_of'",
                      "key 'checking.colour'", "key 'checking.icpc_clock'",
                      "key 'checking.calendar.extra_closures'"]
    text = str(caught.value)
    assert "judged as of its last event" in text and "'sometime'" in text
    with pytest.raises(InputError, match=r"field 'checking': expected a table \[checking\]"):
        parse_scenario({**data, "scenario": {"start": date(2024, 4, 1)}, "checking": 3},
                       "x.toml", procedure)


def test_check_settings_with_an_as_of_time_are_refused(procedure: Procedure,
                                                       default: Scenario) -> None:
    config = CheckConfig(as_of=pd.Timestamp("2024-06-30T17:00:00+01:00"))
    with pytest.raises(InputError, match=r"as_of: expected no as-of time .*found "
                                         r"2024-06-30T16:00:00\+00:00"):
        simulation.run(default, procedure, replications=1, check_config=config)


# ------------------------------------------------------------------------- the front door

SMALL = """
[scenario]
name = "small"
start = 2024-04-01
horizon_days = 15
warm_up_days = 0
drain_days = 60
replications = 2
seed = 4

[routes.referral]
annual_volume = 200

[checking]
icpc_clock = "section-47-start"

[checking.calendar]
extra_closures = [2024-04-08]
"""


def test_run_takes_a_scenario_file_and_the_built_in_procedure(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    result = simulation.run(path, workers=1)
    assert result.scenario.name == "small" and result.replications == 2
    assert result.seed == 4
    assert result.check_config.icpc_clock == "section-47-start"
    assert result.check_config.calendar.extra_closures == (date(2024, 4, 8),)
    again = simulation.run(str(path), replications=1, seed=9, workers=1)
    assert again.replications == 1 and again.seed == 9
    with pytest.raises(InputError, match="no such file"):
        simulation.run(tmp_path / "missing.toml")


def test_the_public_api_is_listed_and_light() -> None:
    for name in ("run", "SimulationResult", "Scenario", "load_scenario",
                 "default_scenario_path", "sweep", "SweepResult"):
        assert name in simulation.__all__ and hasattr(simulation, name), name
    code = ("import sys, simulation; heavy = [m for m in ('pm4py', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == ""

"""The caseload simulator: scenario validation, queueing theory, the model's paths, slips,
reproducibility and the command line."""

from __future__ import annotations

import math
import re
from datetime import date, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from lscb.cli import main
from lscb.commands.simulate import report
from model import contract
from model.calendar import LONDON
from model.errors import InputError
from model.procedure import Procedure, Task, load_procedure, walk
from simulation.clock import Clock, Schedule
from simulation.engine import simulate
from simulation.results import judge_replication, write_event_log
from simulation.runner import run
from simulation.scenario import Scenario, default_scenario_path, load_scenario, parse_scenario
from simulation.whatif import find_target, parse_values, sweep


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def default(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure)


def short(scenario: Scenario, procedure: Procedure, **values: Any) -> Scenario:
    """The scenario over a short horizon (tests must be fast)."""
    base = {"horizon_days": 45, "warm_up_days": 14, "drain_days": 120, "replications": 2}
    return scenario.with_values({**base, **values}, procedure)


def ample(procedure: Procedure, default: Scenario, **values: Any) -> Scenario:
    """Everyone unlimited and always on duty, short fixed delays, arrivals in the daytime, no
    slips: nothing should ever be late."""
    roles: dict[str, Any] = {
        r: {"headcount": "unlimited", "hours": "always"}
        for r in procedure.roles if r != "conference_chair"
    }
    roles["conference_chair"] = {
        "headcount": 40,
        "diary": {"slots": ["09:30", "13:30"], "slot_minutes": 60,
                  "background_per_working_day": 0},
    }
    activities = {b.activity for b in walk(procedure.flow) if isinstance(b, Task)}
    tasks: dict[str, Any] = {name: {"work": 5, "lag": 5} for name in activities}
    days = {"distribution": "fixed", "unit": "working days"}
    tasks["Access to children assessed"] = {"work": 30, "lag": {**days, "value": 1}}
    tasks["Section 47 enquiry completed"] = {"work": 30, "lag": {**days, "value": 3}}
    tasks["Case closed"] = {"work": 5, "lag": {**days, "value": 1}}
    tasks["Initial child protection conference held"] = {"booking": {"lead_working_days": 1}}
    hours = [0] * 9 + [1] * 6 + [0] * 9
    data = dict(default.data)
    routes = {rid: {**body, "hours": hours} for rid, body in data["routes"].items()}
    return short(default, procedure, roles=roles, tasks=tasks, routes=routes, slips={},
                 **values)


# ------------------------------------------------------------------------- the scenario file


def test_default_scenario_is_valid_and_documented(default: Scenario) -> None:
    assert default.routes["referral"].annual_volume == 233
    assert default.roles["lado"].headcount == 2
    assert default.roles["conference_chair"].diary is not None
    text = default_scenario_path().read_text(encoding="utf-8")
    assert "3,890 referrals" in text and "78.5%" in text  # the calibration's sources
    doc = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"
    documented = set(re.findall(r"`([a-z_]+)`", doc.read_text(encoding="utf-8")))
    for field in ("horizon_days", "warm_up_days", "annual_volume", "weekday", "hours", "months",
                  "surges", "headcount", "out_of_hours", "absence_rate", "leave_days_per_year",
                  "background", "diary", "slots", "lag", "work", "extra_roles", "booking",
                  "dispatch", "skip", "order", "forbidden"):
        assert field in documented, field


def test_every_mistake_is_reported_at_once(tmp_path: Path, procedure: Procedure) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
[scenario]
start = "not a date"
horizon_days = -5
dispatch = "random"

[roles.lado]
headcount = 0
hours = "sometimes"

[roles.wizard]
headcount = 2

[routes.referral]
annual_volume = 100
attributes = { youth_produced_imagery = 0.5, alleged_is_child = 0.2, not_an_attribute = true }

[tasks."Made up"]
work = 5

[tasks."Family informed"]
work = { distribution = "triangular", low = 5, mode = 2, high = 9 }

[loops]
strategy-discussions = 1.5
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="problem") as caught:
        load_scenario(path, procedure)
    wheres = [p.where for p in caught.value.problems]
    for expected in ("scenario.start", "scenario.horizon_days", "scenario.dispatch",
                     "roles.lado.headcount", "roles.lado.hours", "roles.wizard",
                     "routes.referral.attributes.not_an_attribute",
                     "routes.referral.attributes.alleged_is_child", 'tasks."Made up"',
                     'tasks."Family informed".work', "loops.strategy-discussions"):
        assert f"field '{expected}'" in wheres, expected
    message = str(caught.value)
    assert "11 problem(s)" in message
    assert "found 'not a date'" in message  # a scenario is configuration: values are shown


def test_problems_show_the_values_found(procedure: Procedure) -> None:
    data: dict[str, Any] = {
        "scenario": {"start": "01/04/2024", "dispatch": "lifo", "demand": "high",
                     "name": "x" * 100},
        "calendar": {"open": "9am"},
        "routes": {"referral": {"annual_volume": 10}},
        "roles": {"lado": {"hours": "nights"}},
        "tasks": {"Family informed": {
            "work": {"distribution": "normal", "mean": 3},
            "lag": {"distribution": "fixed", "value": 3, "unit": "weeks"},
            "extra_roles": ["ladoo"]}},
        "slips": {"order": [{"activity": "Family informed", "before": "Nope",
                             "probability": 0.1}]},
    }
    with pytest.raises(InputError) as caught:
        parse_scenario(data, "values.toml", procedure)
    found = {p.where: p.found for p in caught.value.problems}
    assert found == {
        "field 'scenario.start'": "'01/04/2024'",
        "field 'scenario.dispatch'": "'lifo'",
        "field 'scenario.demand'": "'high'",
        "field 'calendar.open'": "'9am'",
        "field 'roles.lado.hours'": "'nights'",
        "field 'tasks.\"Family informed\".work.distribution'": "'normal'",
        "field 'tasks.\"Family informed\".lag.unit'": "'weeks'",
        "field 'tasks.\"Family informed\".extra_roles'": "'ladoo'",
        "field 'slips.order[0].before'": "'Nope'",
    }
    expected = {p.where: p.expected for p in caught.value.problems}
    assert "conference_chair" in expected["field 'tasks.\"Family informed\".extra_roles'"]
    assert "'Family informed'" in expected["field 'slips.order[0].before'"]
    long = {"scenario": {"start": date(2024, 4, 1), "demand": "y" * 100, "name": 7},
            "routes": data["routes"]}
    with pytest.raises(InputError) as caught:
        parse_scenario(long, "x", procedure)
    assert [p.found for p in caught.value.problems] == ["7", "'" + "y" * 40 + "'..."]


def test_a_field_with_a_problem_is_not_compared_with_others(procedure: Procedure) -> None:
    """No follow-on problems: an invalid field's substitute is not compared with anything."""
    data = {"scenario": {"start": date(2024, 4, 1)},
            "calendar": {"open": "9am", "close": "08:00"},
            "routes": {"referral": {"annual_volume": 10}},
            "roles": {"lado": {"headcount": 2.5, "out_of_hours": 3}}}
    with pytest.raises(InputError) as caught:
        parse_scenario(data, "x", procedure)
    assert [(p.where, p.found) for p in caught.value.problems] == [
        ("field 'calendar.open'", "'9am'"), ("field 'roles.lado.headcount'", "2.5")]
    data["roles"] = {"lado": {"headcount": 2, "out_of_hours": 3}}  # a real comparison stays
    data["calendar"] = {"open": "09:00", "close": "08:00"}
    with pytest.raises(InputError) as caught:
        parse_scenario(data, "x", procedure)
    assert [str(p) for p in caught.value.problems] == [  # the role's hours are the calendar's
        "field 'calendar.close': expected a time after calendar.open (09:00); found 08:00",
        "field 'roles.lado.out_of_hours': expected at most the headcount (2); found 3"]


def test_a_scenario_needs_a_route_with_cases(procedure: Procedure) -> None:
    head = {"scenario": {"start": date(2024, 4, 1)}}
    with pytest.raises(InputError, match=r"field 'routes': expected at least one .*found no "
                                         r"route"):
        parse_scenario(head, "x", procedure)
    zero = {**head, "routes": {"a": {"annual_volume": 0}, "b": {"annual_volume": 0}}}
    with pytest.raises(InputError, match="found only volumes of 0"):
        parse_scenario(zero, "x", procedure)
    one = {**head, "routes": {"a": {"annual_volume": 0}, "b": {"annual_volume": 5}}}
    assert parse_scenario(one, "x", procedure).routes["b"].annual_volume == 5
    # Background work alone is a scenario too (the Erlang C test below is one), unless there
    # is none of it either.
    busy = {"police": {"headcount": 2, "background": {"share": 0.5, "job": 60}}}
    assert parse_scenario({**head, "roles": busy}, "x", procedure).routes == {}
    with pytest.raises(InputError, match="found no route"):
        parse_scenario({"scenario": {**head["scenario"], "background_demand": 0},
                        "roles": busy}, "x", procedure)


def test_toml_syntax_error_gives_the_line(tmp_path: Path, procedure: Procedure) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[scenario]\nseed = 1\nhorizon_days = = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3, column \d+: expected valid TOML"):
        load_scenario(path, procedure)


def test_with_values_validates_and_replaces(default: Scenario, procedure: Procedure) -> None:
    changed = default.with_values({"roles.lado.headcount": 1, "demand": 1.33,
                                   'tasks."Family informed".work': 90}, procedure)
    assert changed.roles["lado"].headcount == 1
    assert changed.demand == 1.33
    assert changed.tasks["Family informed"].work.a == 90
    assert default.roles["lado"].headcount == 2  # the original is untouched
    with pytest.raises(InputError, match=r"roles\.lado\.headcount"):
        default.with_values({"roles.lado.headcount": -1}, procedure)


def test_parse_values() -> None:
    assert parse_values("1..4") == [1, 2, 3, 4]
    assert parse_values("1, 1.33") == [1, 1.33]
    assert parse_values("fcfs,edf") == ["fcfs", "edf"]
    with pytest.raises(ValueError, match="lo <= hi"):
        parse_values("5..2")


# ------------------------------------------------------------------------- time


def test_clock_follows_london_time_and_bank_holidays() -> None:
    clock = Clock(date(2024, 3, 29), 10)  # Good Friday; the clocks go forward on 31 March
    assert clock.working[:5] == [False, False, False, False, True]  # Fri, Sat, Sun, Mon (BH)
    assert clock.midnight[3] - clock.midnight[2] == 23 * 60  # Sunday 31 March has 23 hours
    nine = clock.local(4, time(9, 0))
    assert clock.iso_local([nine]) == ["2024-04-02T09:00:00+01:00"]
    assert clock.add_working_days(0, 1) == 4  # the next working day after Good Friday


def test_the_clocks_working_days_count_as_the_calendar_does() -> None:
    """``Clock.add_working_days`` counts in the clock's own list of working days: the same day
    as the checker's calendar gives, for every day and count, and the clock's last day beyond
    it (two years with bank holidays, Christmas, and a closure)."""
    from model.calendar import CalendarConfig

    config = CalendarConfig(extra_closures=(date(2024, 8, 14),))
    clock = Clock(date(2023, 12, 20), 400, config)
    for day in range(clock.n_days):
        for n in range(25):
            due = clock.calendar.add_working_days(clock.dates[day], n)
            assert clock.add_working_days(day, n) == min((due - clock.first_date).days,
                                                         clock.n_days - 1)


def test_schedule_counts_only_on_duty_minutes() -> None:
    office = Schedule([540.0, 1980.0], [1020.0, 2460.0])  # two days of 09:00-17:00
    assert office.advance(960.0, 120.0) == 1980.0 + 60.0  # 16:00 + 2 h = 10:00 next day
    assert office.next_on(1100.0) == 1980.0
    assert office.on_duty(600.0) and not office.on_duty(1020.0)
    worked = office.worked_until(np.array([0.0, 600.0, 1500.0, 3000.0]))
    assert worked.tolist() == [0.0, 60.0, 480.0, 960.0]


def test_arrivals_follow_the_volume_and_profiles(procedure: Procedure,
                                                 default: Scenario) -> None:
    weekdays_only = [1, 1, 1, 1, 1, 0, 0]  # a bank holiday takes Sunday's weight: none either
    scenario = ample(procedure, default).with_values(
        {"horizon_days": 365, "warm_up_days": 0, "routes.referral.annual_volume": 1500,
         "routes.referral.weekday": weekdays_only, "routes.workplace.annual_volume": 0,
         "routes.youth_imagery.annual_volume": 0}, procedure)
    rep = simulate(scenario, procedure, seed=1)
    arrivals = rep.cases["arrival_utc"].dt.tz_convert(LONDON)
    assert abs(len(arrivals) - 1500) < 4 * math.sqrt(1500)
    assert set(arrivals.dt.hour) <= set(range(9, 15))  # the hour-of-day profile, local time
    clock = Clock(scenario.start, 366)
    days = [(d.date() - scenario.start).days for d in arrivals]
    assert all(clock.working[d] for d in days)  # no weekend, no bank holiday


# ------------------------------------------------------------------------- queueing theory

ERLANG = """
[scenario]
start = 2024-01-08
horizon_days = 5
warm_up_days = 1
drain_days = 0
replications = 30
seed = 11
timeline_days = 1

[roles.police]
headcount = 5
hours = "always"
background = { share = 0.8, job = { distribution = "exponential", mean = 1.0 } }
"""


def _ci(values: np.ndarray) -> tuple[float, float]:
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, len(values) - 1)) * float(values.std(ddof=1)) / math.sqrt(
        len(values))
    return mean - half, mean + half


def test_one_role_reproduces_erlang_c_and_littles_law(procedure: Procedure) -> None:
    """lambda = 4, mu = 1, c = 5: P(wait > 0) = 0.5541 and mean wait 0.5541 (Erlang C)."""
    scenario = parse_scenario(__import__("tomllib").loads(ERLANG), "erlang", procedure)
    result = run(scenario, procedure, workers=2, keep_first=False)
    assert "No case arrived" in report(result, procedure)  # background work alone
    queues = result.queues[result.queues["role"] == "police"]
    assert len(queues) == 30
    rate = queues["arrivals_per_minute"].to_numpy()
    assert abs(rate.mean() - 4.0) < 0.02
    lam, mu, c = 4.0, 1.0, 5
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert abs(p_wait - 0.5541) < 1e-4
    low, high = _ci(queues["waited_share"].to_numpy())
    assert low <= p_wait <= high, (low, high)
    low, high = _ci(queues["mean_wait_minutes"].to_numpy())
    assert low <= p_wait / (c * mu - lam) <= high, (low, high)
    # Little's law on the simulated queue: time-average queue length = arrival rate x wait.
    little = queues["arrivals_per_minute"] * queues["mean_wait_minutes"]
    assert np.allclose(queues["mean_queue"], little, rtol=0.02)


# ------------------------------------------------------------------------- the model's paths


def test_traces_without_slips_fit_the_petri_net(procedure: Procedure, default: Scenario) -> None:
    import pm4py

    from model.petri import to_petri_net

    scenario = short(default, procedure, slips={}, horizon_days=90)
    rep = simulate(scenario, procedure, seed=3)
    assert rep.ground_truth.empty
    frame = rep.events.rename(columns={"case_id": "case:concept:name",
                                       "activity": "concept:name",
                                       "time_utc": "time:timestamp"})
    net, im, fm = to_petri_net(procedure)
    # alignments: exact, where token replay guesses among transitions with the same label
    fitness = pm4py.fitness_alignments(frame, net, im, fm)
    assert rep.cases.shape[0] > 50
    assert fitness["percFitTraces"] == 100.0
    assert fitness["average_trace_fitness"] == 1.0
    # the routes all occur, and so do the loop and each outcome of the enquiry
    activities = set(rep.events["activity"])
    for name in ("Outcome 21 recorded", "Initial child protection conference held",
                 "Child identification investigation continued", "Concern identified"):
        assert name in activities
    repeats = rep.events[rep.events["activity"] == "Strategy discussion held"].groupby(
        "case_id").size()
    assert (repeats > 1).any()


def test_ample_staff_and_no_slips_miss_no_deadline(procedure: Procedure,
                                                   default: Scenario) -> None:
    rep = simulate(ample(procedure, default), procedure, seed=5)
    results = judge_replication(rep, procedure).results
    assert len(rep.cases) > 30
    statuses = set(results["status"])
    assert "violated" not in statuses and "pending" not in statuses
    assert (results["status"] == "satisfied").sum() > 100
    icpc = results[(results["rule_id"] == "icpc-within-15-working-days")
                   & (results["status"] == "satisfied")]
    assert len(icpc) > 0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000),
       p=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
       repeat=st.floats(0.0, 0.9))
def test_every_path_of_the_model_keeps_every_rule(procedure: Procedure, default: Scenario,
                                                  seed: int, p: list[float],
                                                  repeat: float) -> None:
    """Whatever the case attributes and however often strategy discussions repeat, with ample
    staff and no slips the checker finds nothing wrong: the model's paths obey its rules."""
    names = ["whistleblowing_used", "concern_about_line_manager", "section_47_needed",
             "strategy_discussion_needed", "children_at_continuing_risk",
             "adult_in_contact_with_children"]
    values: dict[str, Any] = {f"routes.workplace.attributes.{n}": v for n, v in zip(
        names, p, strict=True)}
    values.update({f"routes.referral.attributes.{n}": v for n, v in zip(names[2:], p[2:],
                                                                         strict=True)})
    values["routes.referral.attributes.alleged_is_child"] = p[0]
    values["loops.strategy-discussions"] = repeat
    values["loops.review-discussions"] = repeat
    values["routes.referral.attributes.further_evidence_after_enquiry"] = p[1]
    scenario = ample(procedure, default, horizon_days=30).with_values(values, procedure)
    rep = simulate(scenario, procedure, seed=seed)
    results = judge_replication(rep, procedure).results
    assert not (results["status"] == "violated").any()


def test_injected_slips_are_all_found_and_explain_every_deviation(
    procedure: Procedure, default: Scenario
) -> None:
    slips = {
        "skip": {"Access details provided to police": 0.3, "LADO contacted": 0.2,
                 "Information shared": 0.2, "Police notified": 0.1,
                 "Initial child protection conference held": 0.3},
        "order": [
            {"activity": "Family informed",
             "before": "Concerns discussed with police and social care", "probability": 0.2},
            {"activity": "Employee actions agreed", "before": "LADO contacted",
             "probability": 0.2},
        ],
        "forbidden": [
            {"activity": "Computer used", "after": "Computer secured", "probability": 0.3},
            {"activity": "Images downloaded or distributed", "probability": 0.05},
        ],
    }
    scenario = ample(procedure, default, horizon_days=120)
    scenario = scenario.with_values({"slips": slips, "routes.workplace.annual_volume": 150},
                                    procedure)
    rep = simulate(scenario, procedure, seed=9)
    truth = rep.ground_truth
    assert set(truth["slip"]) == {"skip", "order", "forbidden"}
    expected = {(c, r) for c, ids in zip(truth["case_id"], truth["rule_ids"], strict=True)
                for r in ids.split(";") if r}
    assert len(expected) > 40
    results = judge_replication(rep, procedure).results
    violated = set(zip(results.loc[results["status"] == "violated", "case_id"],
                       results.loc[results["status"] == "violated", "rule_id"], strict=True))
    assert expected - violated == set()  # the checker finds every slip its rules can see
    assert violated - expected == set()  # and, with ample staff, nothing else is wrong
    for rule in ("secured-computer-not-used", "discuss-before-informing-family",
                 "employee-actions-after-lado", "lado-same-day", "no-image-handling"):
        assert any(r == rule for _, r in expected), rule


# ------------------------------------------------------------------------- reproducibility


def test_same_seed_same_log_byte_for_byte(tmp_path: Path, procedure: Procedure,
                                          default: Scenario) -> None:
    scenario = short(default, procedure)
    paths = []
    for name, seed in (("a", 4), ("b", 4), ("c", 5)):
        path = tmp_path / f"{name}.csv"
        write_event_log(simulate(scenario, procedure, seed=seed), path, procedure)
        paths.append(path.read_bytes())
    assert paths[0] == paths[1]
    assert paths[0] != paths[2]
    header = paths[0].split(b"\n", 1)[0].decode()
    assert header.startswith("case_id,activity,timestamp,resource,role,"
                             "concern_about_line_manager,children_at_continuing_risk")
    first_row = paths[0].split(b"\n")[1].decode()
    assert re.search(r",20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+0[01]:00,", first_row)


def test_a_run_leaves_the_cycle_collector_as_it_found_it(procedure: Procedure,
                                                       default: Scenario) -> None:
    """A run pauses Python's cycle collector for its own speed: it is back on afterwards, left
    off when the caller had turned it off, and back on after a run that fails."""
    import gc

    scenario = short(default, procedure, horizon_days=5, drain_days=20)
    assert gc.isenabled()
    simulate(scenario, procedure, seed=1)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(scenario, procedure, seed=1)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(TypeError):
        simulate(scenario, procedure, seed="not a seed")  # type: ignore[arg-type]
    assert gc.isenabled()


def test_children_at_risk_is_written_only_after_the_enquiry(procedure: Procedure,
                                                            default: Scenario) -> None:
    rep = simulate(short(default, procedure), procedure, seed=2)
    completed = set(rep.events.loc[rep.events["activity"] == "Section 47 enquiry completed",
                                   "case_id"])
    known = set(rep.cases.index[rep.cases["children_at_continuing_risk"].notna()])
    assert known == completed and known
    youth = rep.cases[rep.cases["route"] == "youth_imagery"]
    assert youth["alleged_is_child"].all()


def test_edf_serves_deadlines_first(procedure: Procedure, default: Scenario) -> None:
    """With one LADO busy with other work, earliest deadline first puts the same-day contact
    ahead of the queue and meets it more often than first come first served."""
    values = {"roles.lado.headcount": 1, "routes.workplace.annual_volume": 120,
              "horizon_days": 90}
    met = {}
    for policy in ("fcfs", "edf"):
        scenario = short(default, procedure, dispatch=policy, **values)
        met[policy] = run(scenario, procedure, replications=2, workers=1,
                          keep_first=False).rule("lado-same-day")["compliance"]
    assert met["edf"] > met["fcfs"] + 0.05, met


# ------------------------------------------------------------------------- command line


def _small_file(tmp_path: Path, **replace: str) -> Path:
    text = default_scenario_path().read_text(encoding="utf-8")
    values = {"horizon_days": "30", "warm_up_days": "7", "drain_days": "90",
              "replications": "2", **replace}
    for key, value in values.items():
        text = re.sub(rf"(?m)^{key} = \S+", f"{key} = {value}", text)
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_simulate_writes_a_log_that_check_judges(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    status = main(["simulate", "--scenario", str(_small_file(tmp_path)), "--workers", "1",
                   "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "icpc-within-15-working-days" in printed and "95% CI" in printed
    assert "Bottlenecks" in printed or "no deadline was missed" in printed
    for name in ("event_log.csv", "ground_truth.csv", "compliance.csv", "utilisation.csv",
                 "bottlenecks.csv", "summary.json", "compliance.png", "utilisation.png",
                 "queues.png", "bottlenecks.png"):
        assert (out / name).stat().st_size > 0, name
    assert main(["check", str(out / "event_log.csv")]) in (0, 1)
    compliance = pd.read_csv(out / "compliance.csv")
    assert len(compliance) == len(contract.RULE_IDS) == 20


def test_cli_bad_scenario_exits_2_with_every_problem(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _small_file(tmp_path, horizon_days="-1", dispatch='"soonest"')
    assert main(["simulate", "--scenario", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "scenario.horizon_days" in err and "scenario.dispatch" in err
    assert "2 problem(s)" in err


def test_sweep_and_target(tmp_path: Path, procedure: Procedure, default: Scenario) -> None:
    scenario = short(default, procedure, horizon_days=60)
    grid: dict[str, list[Any]] = {"roles.conference_chair.headcount": [2, 6],
                                  "demand": [1.0, 1.33]}
    result = sweep(scenario, procedure, grid, replications=2, workers=2)
    icpc = result.table[result.table["rule_id"] == "icpc-within-15-working-days"]
    assert len(icpc) == 4
    by = icpc.set_index(["roles.conference_chair.headcount", "demand"])["compliance"]
    assert by[(6, 1.0)] > by[(2, 1.0)]  # more chairs, more conferences on time
    from simulation.plots import plot_sweep

    paths = plot_sweep(result, "icpc-within-15-working-days", tmp_path)
    assert paths[0].stat().st_size > 0
    found = find_target(scenario, procedure, "roles.conference_chair.headcount", [4, 2, 3],
                        "icpc-within-15-working-days", 0.5, replications=2, workers=2)
    assert found.value is not None
    assert found.compliance >= 0.5 and found.ci_low <= found.compliance <= found.ci_high
    tried = list(found.tried["roles.conference_chair.headcount"])
    assert tried == sorted(tried) and tried[-1] == found.value


def test_cli_help_shows_a_single_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    printed = " ".join(capsys.readouterr().out.split())
    assert "95% confidence interval" in printed and "%%" not in printed


@pytest.mark.parametrize("command", ["simulate", "sweep"])
def test_cli_bad_out_fails_before_simulating(tmp_path: Path, command: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def no_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("simulated although --out is unusable")

    for name in ("simulation.run", "simulation.runner.run", "simulation.sweep",
                 "simulation.whatif.sweep"):
        monkeypatch.setattr(name, no_run)
    plain = tmp_path / "results.txt"
    plain.write_text("not a directory", encoding="utf-8")
    extra = ["--vary", "demand=1"] if command == "sweep" else []
    for out, what in ((plain, "an existing file"), (plain / "sub", "a path through the file")):
        assert main([command, "--out", str(out), "--quiet", *extra]) == 2
        err = capsys.readouterr().err
        assert "option --out: expected a folder" in err and f"'{out}', {what}" in err, err


def test_unreachable_dask_scheduler_is_an_input_error(procedure: Procedure, default: Scenario,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("simulation.runner._CONNECT_SECONDS", 0.2)
    from simulation.runner import Job, execute

    with pytest.raises(InputError, match=r"(?s)scheduler at tcp://127\.0\.0\.1:1 could not be "
                                         r"reached.*dask scheduler"):
        execute([Job(default, procedure, 1, 0)], scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize(("options", "message"), [
    (["--vary", "demand=1", "--vary", "scenario.demand=2"],
     "--vary scenario.demand: expected each field once"),
    (["--vary", "demand=abc"], "field 'scenario.demand': expected a number; found 'abc'"),
    (["--vary", "roles.lado.headcount=3..1"], "lo <= hi; found '3..1'"),
    (["--vary", "demand=1", "--target", "lado-same-dy=0.8"],
     "did you mean 'lado-same-day'?); found 'lado-same-dy'"),
    (["--vary", "demand=1", "--target", "lado-same-day=180"],
     "a share between 0 and 1 or a percentage like 85%; found 180"),
    (["--vary", "demand=1", "--rule", "nope"], "--rule: expected a rule of the procedure: "),
])
def test_cli_sweep_problems_show_what_was_given(options: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--quiet", *options]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "found 'nope'" in err or "--rule" not in options

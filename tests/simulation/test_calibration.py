"""Calibration: the ledger of a scenario, estimating a scenario from an event log, recovering a
known truth, and validating a scenario against a log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model.errors import InputError
from model.procedure import Procedure, load_procedure
from simulation.calibration.ledger import (
    Entry,
    field_key,
    ledger_problems,
    ledger_table,
    ledger_toml,
    load_ledger,
    split_field,
    write_ledger_csv,
)
from simulation.scenario import Scenario, default_scenario_path, load_scenario


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def default(procedure: Procedure) -> Scenario:
    return load_scenario(None, procedure)


LEDGER = """
[ledger."roles.lado.headcount"]
kind = "estimated"
source = "the log: people recorded in the role lado"
n = 120
interval = [2, 2]

[ledger.'tasks."Family informed".lag']
kind = "assumed"
source = "assumption: no data"

[ledger."demand"]
kind = "assumed"
source = "assumption"
range = [0.5, 2]

[ledger."roles.police.headcount"]
kind = "published"
source = "the force's annual report"
"""


def without_ledger() -> str:
    """The default scenario's text without its own ledger (the tables at its end)."""
    lines = default_scenario_path().read_text(encoding="utf-8").splitlines(keepends=True)
    cut = next((i for i, line in enumerate(lines) if line.startswith("[ledger.")), len(lines))
    return "".join(lines[:cut])


def with_ledger(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(without_ledger() + extra, encoding="utf-8")
    return path


# ------------------------------------------------------------------------- the ledger


def test_field_paths_round_trip() -> None:
    assert split_field('tasks."Family informed".lag.mean') == (
        "tasks", "Family informed", "lag", "mean")
    assert split_field("demand") == ("scenario", "demand")
    assert field_key(("tasks", "Family informed", "work")) == 'tasks."Family informed".work'


def test_a_scenario_with_a_ledger_loads_and_the_ledger_reads(
        tmp_path: Path, procedure: Procedure) -> None:
    path = with_ledger(tmp_path, LEDGER)
    scenario = load_scenario(path, procedure)  # the simulator accepts the file
    ledger = load_ledger(scenario)
    assert list(ledger.entries) == ["roles.lado.headcount", 'tasks."Family informed".lag',
                                    "scenario.demand", "roles.police.headcount"]
    lag = ledger.entry_for('tasks."Family informed".lag.mode')
    assert lag is not None and lag.kind == "assumed"  # the table's entry covers its parts
    assert ledger.entry_for("roles.lado.absence_rate") is None
    assert "roles.lado.absence_rate" in ledger.uncovered
    assert "scenario.seed" not in ledger.uncovered  # a run setting needs no entry
    assert [e.field for e in ledger.ranged()] == ["scenario.demand"]
    assert load_ledger(path).entries == ledger.entries  # from the file, the same

    table = ledger_table(ledger)
    assert list(table.columns[:3]) == ["field", "kind", "value"]
    assert table.loc[0, "value"] == "2" and table.loc[0, "n"] == 120
    assert (table["kind"] == "unrecorded").sum() == len(ledger.uncovered)
    out = write_ledger_csv(ledger, tmp_path / "ledger.csv")
    assert out.read_text(encoding="utf-8").splitlines()[0] == (
        "field,kind,value,source,n,interval_low,interval_high,range_low,range_high,note")


def test_ledger_text_round_trips(tmp_path: Path, procedure: Procedure) -> None:
    entries = [
        Entry("roles.lado.headcount", "estimated", 'people "seen" in the log', 40, (2, 3),
              note="two people"),
        Entry('tasks."Family informed".lag.mode', "assumed", "assumption", range=(0.5, 2)),
    ]
    text = ledger_toml(entries)
    assert text == ledger_toml(entries)  # deterministic
    ledger = load_ledger(load_scenario(with_ledger(tmp_path, "\n" + text), procedure))
    assert list(ledger) == [
        Entry("roles.lado.headcount", "estimated", 'people "seen" in the log', 40, (2.0, 3.0),
              note="two people"),
        Entry('tasks."Family informed".lag.mode', "assumed", "assumption", range=(0.5, 2.0)),
    ]


def test_every_problem_of_a_ledger_is_named(tmp_path: Path, procedure: Procedure) -> None:
    bad = """
[ledger."roles.lado.headcont"]
kind = "guessed"
source = ""

[ledger."roles.police.headcount"]
kind = "assumed"
source = "assumption"
range = [1, 5]

[ledger."roles.lado.background"]
kind = "estimated"
source = "the log"

[ledger."scenario.dispatch"]
kind = "assumed"
source = "assumption"
range = [1, 2]
colour = "red"
"""
    with pytest.raises(InputError) as caught:
        load_scenario(with_ledger(tmp_path, bad), procedure)
    message = str(caught.value)
    assert "problem(s) in the scenario" in message
    for expected in [
        "field 'ledger.\"roles.lado.headcont\"': expected the path of a field written in this"
        " scenario file",
        "field 'ledger.\"roles.lado.headcont\".kind': expected \"estimated\", \"published\" or"
        " \"assumed\"; found 'guessed'",
        "field 'ledger.\"roles.lado.headcont\".source': expected a text",
        "field 'ledger.\"roles.police.headcount\".range': expected a range containing the value"
        " (10); found [1, 5]",
        "field 'ledger.\"roles.lado.background\".n': expected the sample size",
        "field 'ledger.\"scenario.dispatch\".range': expected a range only for a number",
        "field 'ledger.\"scenario.dispatch\".colour': expected one of kind, source",
    ]:
        assert expected in message
    assert len(caught.value.problems) == 7


def test_a_changed_value_sheds_its_entry(tmp_path: Path, procedure: Procedure) -> None:
    """A sweep or a sensitivity run may move a number outside its recorded interval: the
    changed scenario drops the entry instead of failing."""
    scenario = load_scenario(with_ledger(tmp_path, LEDGER), procedure)
    changed = scenario.with_values({"roles.lado.headcount": 5, "demand": 3.0}, procedure)
    assert list(load_ledger(changed).entries) == ['tasks."Family informed".lag',
                                                  "roles.police.headcount"]
    assert ledger_problems(dict(scenario.data)) == []


# ------------------------------------------------------------------------- recovery


# The truth: the default county with changes a partnership would care about.
TRUTH = {
    "roles.lado.headcount": 1,  # fewer LADOs
    "routes.referral.annual_volume": 350,  # a demand surge (233 a year in the default)
    'tasks."Police notified".lag': {"distribution": "exponential", "mean": 240},  # slower police
    'tasks."Access to children assessed".lag': {
        "distribution": "triangular", "low": 2, "mode": 4, "high": 8, "unit": "working days"},
    'tasks."Section 47 enquiry completed".lag': {  # slower enquiries
        "distribution": "triangular", "low": 8, "mode": 10, "high": 13, "unit": "working days"},
    "routes.referral.attributes.strategy_discussion_needed": 0.75,  # more strategy discussions
    "horizon_days": 300,
    "replications": 1,
}


@pytest.fixture(scope="module")
def recovery(tmp_path_factory: pytest.TempPathFactory, procedure: Procedure,
             default: Scenario) -> dict[str, Any]:
    from simulation.calibration.calibrate import calibrate_file, read_event_log
    from simulation.engine import simulate
    from simulation.results import write_event_log

    truth = default.with_values(TRUTH, procedure)
    folder = tmp_path_factory.mktemp("recovery")
    path = folder / "truth_log.csv"
    rep = simulate(truth, procedure)
    write_event_log(rep, path, procedure)
    calibration = calibrate_file(path, procedure)
    return {"truth": truth, "path": path, "calibration": calibration,
            "log": read_event_log(path, procedure), "rep": rep}


def _estimate(calibration: Any, field: str) -> Any:
    import tomllib

    from simulation.calibration.ledger import lookup

    return lookup(tomllib.loads(calibration.scenario_text), field)


def test_calibration_recovers_the_truth(recovery: dict[str, Any], procedure: Procedure) -> None:
    calibration = recovery["calibration"]
    delays = calibration.delays.set_index("activity")

    def lag(activity: str, unit: str) -> float:
        assert delays.at[activity, "unit"] == unit, activity
        return float(delays.at[activity, "mean"])

    youth = recovery["truth"].routes["youth_imagery"].annual_volume
    assert youth == 100  # the default's, as the comment below says
    rows = [
        # parameter, truth, estimate, tolerance (absolute)
        ("LADOs (headcount)", 1, _estimate(calibration, "roles.lado.headcount"), 0),
        ("police (headcount)", 10, _estimate(calibration, "roles.police.headcount"), 0),
        ("referrals a year", 350.0, _estimate(calibration, "routes.referral.annual_volume"),
         0.15 * 350),
        # not changed by TRUTH: the default's volume, read from the truth (version 2 of the
        # model refitted the default scenario, 80 a year became 100)
        ("youth imagery cases a year", youth,
         _estimate(calibration, "routes.youth_imagery.annual_volume"), 0.3 * youth),
        ("referral: strategy discussion needed", 0.75,
         _estimate(calibration, "routes.referral.attributes.strategy_discussion_needed"), 0.08),
        ("referral: children at continuing risk", 0.35,
         _estimate(calibration, "routes.referral.attributes.children_at_continuing_risk"), 0.1),
        ("access to children assessed: lag (working days)", 14 / 3,
         lag("Access to children assessed", "working days"), 0.15 * 14 / 3),
        ("Section 47 completed: lag (working days)", 31 / 3,
         lag("Section 47 enquiry completed", "working days"), 0.1 * 31 / 3),
        ("repeat strategy discussions", 0.15,
         _estimate(calibration, "loops.strategy-discussions"), 0.07),
    ]
    print("\nparameter | truth | estimate | tolerance")
    for name, true, estimate, tolerance in rows:
        print(f"{name} | {true:.4g} | {float(estimate):.4g} | ±{tolerance:.3g}")
    for name, true, estimate, tolerance in rows:
        assert abs(float(estimate) - true) <= tolerance + 1e-9, name
    # Police on duty at night: an elapsed lag of 4 hours. Under version 2 of the model "Police
    # notified" opens a referral, so its lag is measured on the workplace cases alone (about 20),
    # whose delays also hold the wait for the manager's office hours when the lag ends at night
    # or before a weekend. The calibration finds the lag's mean by simulating its estimate (the
    # mean whose simulated delay matches the log's mean delay; the quantile-by-quantile
    # correction assumed for other lags had given 6.9 hours on this log). With so few cases the
    # estimate is rough: over six seeds of this truth it came out at 1.7 to 6.4 hours (within
    # 65% of the truth each time, within 50% in four), and its interval, from the log mean's
    # interval with the larger of the log's and the simulation's sd, held the truth in five
    # (the sixth ended at 3.99 hours).
    police = delays.loc["Police notified"]
    tolerance = 0.65 * 4.0
    print(f"police notified: lag (hours) | 4 | {float(police['mean']):.4g} "
          f"(95% {float(police['mean_low']):.3g}-{float(police['mean_high']):.3g}, "
          f"n {int(police['n'])}) | ±{tolerance:.3g}, and the interval must contain the truth")
    assert police["unit"] == "hours"
    assert abs(float(police["mean"]) - 4.0) <= tolerance
    assert float(police["mean_low"]) <= 4.0 <= float(police["mean_high"])
    assert int(police["n"]) < 60  # few cases: the ledger's n says so
    entry = load_ledger(calibration.scenario(procedure)).entry_for('tasks."Police notified".lag')
    assert entry is not None and entry.n == int(police["n"])
    assert "found by simulating the estimate" in entry.note
    assert f"95% interval {float(police['mean_low']):g}-" in entry.note
    # every field of the calibrated scenario has its entry, and the simulator takes the file
    ledger = load_ledger(calibration.scenario(procedure))
    assert ledger.uncovered == ()
    kinds = {e.kind for e in ledger}
    assert kinds == {"estimated", "assumed"}


def test_calibration_is_deterministic_and_reads_steps_without_attributes(
        recovery: dict[str, Any], procedure: Procedure, tmp_path: Path) -> None:
    import pandas as pd

    from simulation.calibration.calibrate import calibrate_file

    again = calibrate_file(recovery["path"], procedure)
    assert again.scenario_text == recovery["calibration"].scenario_text
    # A log without the attribute: the branch is read from the steps that occurred
    frame = pd.read_csv(recovery["path"], dtype=str, keep_default_na=False)
    stripped = tmp_path / "no_attribute.csv"
    frame.drop(columns=["strategy_discussion_needed", "youth_produced_imagery",
                        "workplace_concern"]).to_csv(stripped, index=False)
    calibration = calibrate_file(stripped, procedure, refine=False)
    branch = calibration.branches.set_index("what").loc[
        "routes.referral.attributes.strategy_discussion_needed"]
    assert branch["method"] == "the steps at the gateway 'strategy'"
    assert abs(branch["probability"] - 0.75) <= 0.08
    # Version 2 of the model shows youth_produced_imagery in the steps only when Outcome 21 is
    # recorded, so a referral about a child that shares indecent images, without an adult in
    # contact with children, cannot be told from a youth imagery case without Outcome 21:
    # exactly those referrals are left out (and said so); every other one is placed as with
    # the attribute's column (its offence tells many apart: youth imagery is images only).
    cases = frame.drop_duplicates("case_id")
    untold = cases[(cases["youth_produced_imagery"] == "false")
                   & (cases["workplace_concern"] == "false")
                   & (cases["alleged_is_child"] == "true") & (cases["outcome_21_used"] == "false")
                   & (cases["adult_in_contact_with_children"] == "false")
                   & (cases["offence"] == "indecent-images")]
    youth_untold = cases[(cases["youth_produced_imagery"] == "true")
                         & (cases["outcome_21_used"] == "false")]
    assert len(untold) > 0 and len(youth_untold) > 0
    arrivals = calibration.arrivals.set_index("route")
    full = recovery["calibration"].arrivals.set_index("route")
    assert arrivals.loc["referral", "cases"] == full.loc["referral", "cases"] - len(untold)
    assert arrivals.loc["youth_imagery", "cases"] == (
        full.loc["youth_imagery", "cases"] - len(youth_untold))
    assert arrivals.loc["workplace", "cases"] == full.loc["workplace", "cases"]
    assert (f"{len(untold) + len(youth_untold):,} case(s) matched more than one route"
            in " ".join(calibration.notes))


def test_the_calibrated_scenario_reproduces_the_log_and_beats_the_default(
        recovery: dict[str, Any], procedure: Procedure, default: Scenario) -> None:
    from simulation.calibration.validate import compare, validate

    calibration = recovery["calibration"]
    log = recovery["log"]
    ours = validate(calibration.scenario(procedure), log, procedure, replications=5, seed=7,
                    workers=2)
    baseline = validate(default, log, procedure, replications=5, seed=7, workers=2)
    print("\n" + ours.text())
    table = compare(ours, baseline)
    print(table.to_string())
    judged = ours.compliance[ours.compliance["log_judged"] >= 10]
    outside = judged[judged["inside"] == False]  # noqa: E712
    assert outside.empty, outside.to_string()
    worse = table[table["closer"] == "default"]
    assert worse.empty, worse.to_string()


def test_the_distances_are_the_packages(recovery: dict[str, Any], procedure: Procedure,
                                        default: Scenario) -> None:
    """The whole-array measures give the log-distance-measures package's own figures."""
    from simulation.calibration.distances import distances as measured
    from simulation.calibration.distances import package_distances, prepare
    from simulation.engine import simulate

    log = recovery["log"].events
    first = log[log["case_id"].isin(log["case_id"].unique()[:60])]
    other = simulate(default.with_values({"horizon_days": 40, "replications": 1}, procedure),
                     procedure, 3, 0).events
    ours = measured(prepare(first), prepare(other))
    theirs = package_distances(first, other)
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        assert value == pytest.approx(theirs[key], rel=1e-9, abs=1e-12), key
    assert measured(prepare(first), prepare(first)) == dict.fromkeys(ours, 0.0)


def test_holdout_calibrates_on_the_first_months_and_validates_on_the_rest(
        recovery: dict[str, Any], procedure: Procedure, tmp_path: Path) -> None:
    import json
    from datetime import timedelta

    from simulation.calibration.validate import holdout, write_validation

    log = recovery["log"]
    start = recovery["calibration"].start
    cut = start + timedelta(days=200)
    calibration, validation = holdout(log, procedure, cut, replications=3, seed=3, workers=2,
                                      source="truth_log.csv", refine=1)
    assert calibration.start == start and calibration.as_of.tz_convert("Europe/London").date() == cut
    assert calibration.start + timedelta(days=calibration.horizon_days) <= cut
    assert validation.start >= cut  # validated only on cases it was not fitted to
    assert "cases from" in validation.log
    written = write_validation(validation, tmp_path / "out")
    names = {p.name for p in written}
    assert {"validation.json", "validation_compliance.csv", "validation_compliance.png"} <= names
    payload = json.loads((tmp_path / "out" / "validation.json").read_text(encoding="utf-8"))
    assert payload["replications"] == 3 and "scores" in payload
    text = validation.text()
    assert "Compliance per rule" in text and "icpc-within-15-working-days" in text


def test_start_events_separate_working_from_waiting(recovery: dict[str, Any],
                                                    procedure: Procedure) -> None:
    """With start events (a log with lifecycle transitions), each step's work is estimated from
    start to complete, its lag runs to the start, and the people's busy share is reported."""
    import pandas as pd

    from simulation.calibration.calibrate import calibrate

    log = recovery["log"]
    events = log.events
    chosen = events[events["activity"] == "Family informed"]
    starts = pd.DataFrame({"case_id": chosen["case_id"].astype(str).to_numpy(),
                           "activity": chosen["activity"].to_numpy(),
                           "time_utc": (chosen["time_utc"] - pd.Timedelta(minutes=45)).to_numpy()})
    calibration = calibrate(log, procedure, starts=starts, refine=0)
    ledger = load_ledger(calibration.scenario(procedure))
    work = ledger.entries['tasks."Family informed".work']
    assert work.kind == "estimated" and "start event to its complete event" in work.source
    worked = _estimate(calibration, 'tasks."Family informed".work')
    mean = worked if isinstance(worked, (int, float)) else None
    if mean is None:  # a distribution: its mean is at most the 45 minutes (office time only)
        import tomllib

        from simulation.scenario import parse_scenario

        spec = parse_scenario(tomllib.loads(calibration.scenario_text), "x", procedure)
        mean = spec.task("Family informed").work.mean()
    assert 30 <= mean <= 45
    lag = ledger.entries['tasks."Family informed".lag']
    assert "'s start event" in lag.source
    busy = calibration.resources.set_index("role").loc["social_care", "busy_share"]
    assert 0 < busy < 0.05


# The referral route's steps with a lag in working days and hundreds of delays in the truth log.
REFERRAL_STEPS = ("Family informed", "Statutory assessment started", "Information shared",
                  "Strategy discussion held", "Access to children assessed",
                  "Section 47 enquiry completed")


def test_start_events_do_not_take_the_work_off_the_lags_twice(
        recovery: dict[str, Any], procedure: Procedure, tmp_path: Path) -> None:
    """With start events a step's delays in the log run to its start, so the simulations that
    correct the lags measure theirs to the simulated step's start too: the same truth log with
    and without its start events gives the same lags. Measured to the simulated completions
    (before this was fixed) the correction took each step's work off a second time: the lags
    from the log with start events came out lower by 0.07 to 0.32 working days for these steps,
    0.14 to 0.19 on average over three seeds of the truth (0.17 on this one: 0.21 for access to
    children assessed, 0.26 for the Section 47 enquiry completed); fixed, 0.005 to 0.045 on
    average and at most 0.084 for either of those two."""
    import numpy as np

    from simulation.calibration.calibrate import calibrate_file

    path = tmp_path / "truth_with_starts.csv"
    _write_with_starts(recovery["rep"], recovery["path"], path)
    calibration = calibrate_file(path, procedure)
    ledger = load_ledger(calibration.scenario(procedure))
    plain = recovery["calibration"].delays.set_index("activity")
    started = calibration.delays.set_index("activity")
    print("\nstep | without start events | with them (working days)")
    differences = []
    for activity in REFERRAL_STEPS:
        assert "'s start event" in ledger.entries[f'tasks."{activity}".lag'].source, activity
        assert started.at[activity, "unit"] == plain.at[activity, "unit"] == "working days"
        without, with_starts = float(plain.at[activity, "mean"]), float(started.at[activity, "mean"])
        print(f"{activity} | {without:.3f} | {with_starts:.3f}")
        differences.append(with_starts - without)
    assert abs(float(np.mean(differences))) <= 0.08, differences
    for activity, truth, tolerance in (
            ("Access to children assessed", 14 / 3, 0.15 * 14 / 3),
            ("Section 47 enquiry completed", 31 / 3, 0.1 * 31 / 3)):
        without, with_starts = float(plain.at[activity, "mean"]), float(started.at[activity, "mean"])
        assert abs(with_starts - without) <= 0.12, activity
        assert abs(without - truth) <= tolerance and abs(with_starts - truth) <= tolerance, activity


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory, procedure: Procedure,
            default: Scenario) -> dict[str, Any]:
    """A log with lifecycle transitions: the simulation's complete events, and a start event
    for each step when its work began (the simulator records it; its log writer does not)."""
    from simulation.engine import simulate
    from simulation.results import write_event_log

    truth = default.with_values({"horizon_days": 150, "replications": 1}, procedure)
    rep = simulate(truth, procedure)
    folder = tmp_path_factory.mktemp("started")
    plain = folder / "complete_only.csv"
    write_event_log(rep, plain, procedure)
    path = folder / "with_starts.csv"
    merged = _write_with_starts(rep, plain, path)
    return {"rep": rep, "truth": truth, "path": path, "plain": plain, "merged": merged}


def _write_with_starts(rep: Any, plain: Path, path: Path) -> Any:
    """Write to ``path`` the log at ``plain`` (written from ``rep``) with lifecycle transitions:
    its complete events, and a start event for each step when its work began (the simulator
    records it; its log writer does not). Returns the events merged with their steps."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(plain, dtype=str, keep_default_na=False)
    events = rep.events.assign(k=rep.events.groupby(["case_id", "task_id"]).cumcount())
    steps = rep.steps.assign(k=rep.steps.groupby(["case_id", "task_id"]).cumcount())
    merged = events.merge(steps, on=["case_id", "task_id", "k"], how="left")
    assert len(merged) == len(frame)
    has = merged["work_start"].notna().to_numpy()
    start_ns = rep.origin_ns + np.round(merged["work_start"].to_numpy()[has] * 60) * 1_000_000_000
    starts = frame[has].copy()
    starts["timestamp"] = pd.DatetimeIndex(pd.to_datetime(start_ns.astype("int64"), utc=True)
                                           ).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    both = pd.concat([frame.assign(**{"lifecycle:transition": "complete"}),
                      starts.assign(**{"lifecycle:transition": "start"})], ignore_index=True)
    both.to_csv(path, index=False)
    return merged


def test_a_log_with_start_events_separates_working_from_waiting(
        started: dict[str, Any], procedure: Procedure) -> None:
    """``lscb calibrate`` on a log with start and complete events: each role's working time
    (start to complete) and waiting (the enabling step to the start) and its busy share are
    read from the file and match what the simulator recorded."""
    import numpy as np
    import pandas as pd

    from model.calendar import WorkingCalendar
    from simulation.calibration.calibrate import calibrate_file, read_event_log
    from simulation.calibration.fitting import working_minutes

    truth = started["truth"]
    calibration = calibrate_file(started["path"], procedure, refine=0)
    plain = calibrate_file(started["plain"], procedure, refine=0)
    log = read_event_log(started["path"], procedure, starts=True)
    assert log.events["start_utc"].notna().mean() > 0.99  # each complete found its start
    assert "start_utc" not in read_event_log(started["path"], procedure).events  # as check
    merged = started["merged"]
    merged = merged.assign(first=merged.groupby("case_id").cumcount() == 0)
    merged = merged[merged["work_start"].notna()]
    rep = started["rep"]

    def utc(minutes: pd.Series) -> pd.Series:
        return pd.Series(pd.to_datetime((rep.origin_ns + minutes.to_numpy() * 6e10
                                         ).astype("int64"), utc=True))

    day = (truth.office_close.hour - truth.office_open.hour) * 60.0

    def office(minutes: pd.Series) -> np.ndarray:
        return working_minutes(utc(minutes), WorkingCalendar(), truth.office_open,
                               truth.office_close)

    resources = calibration.resources.set_index("role")
    print("\nrole | working minutes (truth, estimate) | waiting working days (truth, estimate) "
          "| busy share (truth, estimate)")
    for role in ("social_care", "police", "lado"):
        mine = merged[merged["role"] == role]
        work_truth = float(np.mean(office(mine["end"]) - office(mine["work_start"])))
        # waiting: from the step that enabled it (the simulator's start of the step) to the
        # start of its work; the first step of a case has none
        enabled = mine[~mine["first"]]
        wait_truth = float(np.mean(office(enabled["work_start"]) - office(enabled["start"]))) / day
        headcount = truth.role(role).headcount
        working_days = np.busday_count(
            np.datetime64(calibration.start),
            np.datetime64(calibration.as_of.tz_convert("Europe/London").date())
            + np.timedelta64(1, "D"), busdaycal=WorkingCalendar().busdaycalendar)
        busy_truth = float(mine["work_own"].sum()) / (headcount * working_days * day)
        row = resources.loc[role]
        print(f"{role} | {work_truth:.1f}, {row['work_minutes']:.1f} | {wait_truth:.3f}, "
              f"{row['wait_working_days']:.3f} | {busy_truth:.4f}, {row['busy_share']:.4f}")
        assert row["started"] > 0 and row["waited"] > 0
        assert row["work_minutes"] == pytest.approx(work_truth, rel=0.02)
        assert row["wait_working_days"] == pytest.approx(wait_truth, rel=0.15, abs=0.02)
        # the simulator's on-duty minutes over the whole headcount; the estimate counts office
        # minutes from start to complete over the people the log names: close, not the same
        assert row["busy_share"] == pytest.approx(busy_truth, rel=0.25)
        assert not np.isfinite(plain.resources.set_index("role").at[role, "busy_share"])
    # each step's work is estimated from its start and complete events, and its lag runs to
    # the start; without start events both stay as the base scenario says
    ledger = load_ledger(calibration.scenario(procedure))
    work = ledger.entries['tasks."Family informed".work']
    assert work.kind == "estimated" and "start event to its complete event" in work.source
    assert "'s start event" in ledger.entries['tasks."Family informed".lag'].source
    assert 'tasks."Family informed".work' not in load_ledger(plain.scenario(procedure)).entries \
        or load_ledger(plain.scenario(procedure)).entries[
            'tasks."Family informed".work'].kind != "estimated"
    assert not any("no start events" in n for n in calibration.notes)
    assert any("no start events" in n for n in plain.notes)

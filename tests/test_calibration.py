"""Calibration: the ledger of a scenario, estimating a scenario from an event log, recovering a
known truth, and validating a scenario against a log."""

from __future__ import annotations

from pathlib import Path

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


def with_ledger(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(default_scenario_path().read_text(encoding="utf-8") + extra,
                    encoding="utf-8")
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

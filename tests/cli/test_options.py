"""The option groups that commands share (lscb/options.py): one definition, and the settings they
give reach the library that uses them.

The simulator's commands take the checker's judging settings (``--config``, ``--icpc-clock``,
``--closure`` ...) and pass them to ``simulation.run`` / ``sweep`` / ``find_target`` as a
``CheckConfig``; the report commands pass them to their notebooks.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import simulation
from lscb.cli import build_parser, main
from lscb.commands.report import PARAMETERS, parameters_for
from model.calendar import SameDay

SETTINGS = ["--icpc-clock", "section-47-start", "--closure", "2024-12-27", "--closure",
            "2024-12-30", "--same-day", "working"]


def _options(*command: str) -> dict[str, tuple[str, ...]]:
    """The option strings of ``lscb COMMAND`` and what each option stores (its dest)."""
    parser = build_parser()
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return {a.dest: tuple(a.option_strings) for a in parser._actions if a.option_strings}


JUDGING = ("config", "close_of_business", "same_day", "day_counting", "ignore_bank_holidays",
           "closure", "immediately", "icpc_clock")
READING = ("mapping", "case_column", "activity_column", "timestamp_column", "resource_column",
           "timestamp_format", "delimiter", "encoding")


@pytest.mark.parametrize("command", [("check",), ("report", "audit"), ("simulate",), ("sweep",),
                                     ("report", "scenario")])
def test_every_judging_command_has_the_same_settings(command: tuple[str, ...]) -> None:
    reference = _options("check")
    options = _options(*command)
    assert {d: options.get(d) for d in JUDGING} == {d: reference[d] for d in JUDGING}


@pytest.mark.parametrize("command", [("check",), ("report", "audit"), ("pseudonymise",)])
def test_every_command_that_reads_a_log_reads_it_the_same_way(command: tuple[str, ...]) -> None:
    reference = _options("check")
    options = _options(*command)
    assert {d: options.get(d) for d in READING} == {d: reference[d] for d in READING}
    if command != ("pseudonymise",):
        for dest in ("as_of", "rules", "no_contract_rules"):
            assert options[dest] == reference[dest]


class _Stop(Exception):
    """Raised by the stand-in for the simulator once it has seen its arguments."""


def _capture(monkeypatch: pytest.MonkeyPatch, name: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs, args=args)
        raise _Stop

    monkeypatch.setattr(simulation, name, stand_in)
    return seen


@pytest.mark.parametrize(("command", "function"), [
    (["simulate"], "run"),
    (["sweep", "--vary", "demand=1,1.2"], "sweep"),
    (["sweep", "--vary", "demand=1,1.2", "--target", "lado-same-day=80%"], "find_target"),
])
def test_the_simulator_judges_with_the_command_lines_settings(
        monkeypatch: pytest.MonkeyPatch, command: list[str], function: str) -> None:
    seen = _capture(monkeypatch, function)
    with pytest.raises(_Stop):
        main([*command, "--replications", "1", *SETTINGS])
    config = seen["check_config"]
    assert config.icpc_clock == "section-47-start"
    assert config.calendar.extra_closures == (date(2024, 12, 27), date(2024, 12, 30))
    assert config.calendar.same_day is SameDay.WORKING


def test_without_settings_the_scenario_judges_with_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture(monkeypatch, "run")
    with pytest.raises(_Stop):
        main(["simulate", "--replications", "1"])
    assert seen["check_config"] is None


def test_a_config_file_replaces_the_scenarios_section_and_options_go_on_top(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "check.toml"
    config.write_text('icpc_clock = "section-47-start"\n[calendar]\nclose_of_business = "16:00"\n'
                      'extra_closures = ["2024-12-24"]\n', encoding="utf-8")
    seen = _capture(monkeypatch, "run")
    with pytest.raises(_Stop):
        main(["simulate", "--config", str(config), "--closure", "2024-12-27"])
    judged = seen["check_config"]
    assert judged.icpc_clock == "section-47-start"
    assert judged.calendar.close_of_business.hour == 16
    assert judged.calendar.extra_closures == (date(2024, 12, 27),)


def test_a_bad_setting_stops_the_simulator_before_it_runs(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    seen = _capture(monkeypatch, "run")
    assert main(["simulate", "--closure", "soon"]) == 2
    assert "option --closure" in capsys.readouterr().err
    assert seen == {}


def test_the_report_commands_pass_the_settings_to_their_notebooks(tmp_path: Path) -> None:
    parser = build_parser()
    scenario = parser.parse_args(["report", "scenario", *SETTINGS])
    values = parameters_for("scenario", scenario)
    assert set(values) == set(PARAMETERS["scenario"])
    assert values["check_settings"] == {"same_day": "working",
                                        "extra_closures": ["2024-12-27", "2024-12-30"],
                                        "icpc_clock": "section-47-start"}
    rules = tmp_path / "local.yaml"
    audit = parser.parse_args(["report", "audit", "log.csv", "--as-of", "2024-06-30",
                               "--rules", str(rules), "--case-column", "Ref", "--delimiter",
                               ";", "--ignore-bank-holidays", "--no-contract-rules"])
    values = parameters_for("audit", audit)
    assert set(values) == set(PARAMETERS["audit"])
    assert values["as_of"] == "2024-06-30"
    assert values["check_settings"] == {"bank_holidays": False}
    assert values["log_columns"] == {"case_column": "Ref", "delimiter": ";"}
    assert values["rules_paths"] == [str(rules.resolve())]
    assert values["contract_rules"] is False

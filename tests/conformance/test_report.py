"""The outputs of a check (conformance/report.py): summary text, JSON, CSV and HTML."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from conformance.config import CheckConfig
from conformance.engine import judge
from conformance.fitness import fitness
from conformance.logio import ReadOptions, read_log
from conformance.report import (
    DEVIATION_COLUMNS,
    TIMELINE_CAP,
    CheckReport,
    compliance_figure,
    judgement_months,
    lateness_band,
    lateness_figure,
    lateness_text,
    monthly_figure,
    monthly_rates,
    neutralise_csv_cells,
    png_bytes,
    summary_text,
    timeline_cases,
    timeline_svg,
    to_html,
    to_json,
    write_outputs,
)
from model.procedure import load_procedure

EVERY_RULE = Path(__file__).parents[1] / "data" / "check" / "every_rule.csv"


def report_of(path: Path, *, as_of: str | None = None, with_fitness: bool = False,
              method: str = "auto") -> CheckReport:
    procedure = load_procedure()
    options = ReadOptions(
        vocabulary=frozenset(procedure.activities),
        attributes=procedure.boolean_attributes,
        as_of=pd.Timestamp(as_of).to_pydatetime() if as_of else None,
    )
    log = read_log(path, options)
    judgement = judge(log, procedure.rules, CheckConfig())
    result = fitness(log, procedure, method) if with_fitness else None
    return CheckReport(log, judgement, result, "" if with_fitness else "not asked for")


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("hours", "days", "band"), [
    (0.2, 0, "< 1 h"),
    (0.99, 1, "< 1 h"),
    (5.0, 0, "same day"),
    (20.0, 1, "1 working day"),
    (50.0, 2, "2-5 working days"),
    (120.0, 5, "2-5 working days"),
    (150.0, 6, "6-15 working days"),
    (400.0, 15, "6-15 working days"),
    (500.0, 16, "> 15 working days"),
    (float("nan"), pd.NA, ""),
    (None, None, ""),
])
def test_lateness_bands_keep_minutes_apart_from_weeks(hours: float | None, days: object,
                                                      band: str) -> None:
    assert lateness_band(hours, days) == band


def test_date_only_lateness_is_never_minutes() -> None:
    # a date-only event the day after the deadline is a microsecond "late" by the clock
    assert lateness_band(1e-9, 0, True) == "same day"
    assert lateness_band(1e-9, 1, True) == "1 working day"


def test_lateness_in_words() -> None:
    assert lateness_text(40 / 60, 0) == "40 minutes late"
    assert lateness_text(1 / 60, 0) == "1 minute late"
    assert lateness_text(5.5, 0) == "5.5 hours late"
    assert lateness_text(300.0, 12) == "12 working days late"
    assert lateness_text(30.0, 1, done=False) == "not done: 1 working day past the deadline"
    assert lateness_text(None, None) == ""


def test_formula_cells_are_neutralised_but_numbers_are_not() -> None:
    frame = pd.DataFrame({
        "case_id": ['=HYPERLINK("x")', "+1", "-2", "@A1", "\tx", "\rx", "ok", None],
        "late_hours": [-3.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "late_working_days": pd.array([-1, 0, 1, 2, 3, 4, 5, None], dtype="Int64"),
    })
    out = neutralise_csv_cells(frame)
    assert out["case_id"].tolist()[:7] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@A1", "'\tx", "'\rx", "ok"]
    assert pd.isna(out["case_id"].iloc[7])
    assert out["late_hours"].tolist() == frame["late_hours"].tolist()
    assert out["late_working_days"].tolist()[:2] == [-1, 0]
    assert frame["case_id"].iloc[0] == '=HYPERLINK("x")'  # the input is left alone


def test_json_is_the_contract_object_in_a_fixed_order() -> None:
    report = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00")
    first, second = to_json(report), to_json(report_of(EVERY_RULE, as_of="2024-03-01T12:00:00"))
    assert json.dumps(first) == json.dumps(second)
    assert list(first) == ["as_of", "cases", "deviations", "events", "source", "summary",
                           "fitness", "fitness_note", "warnings"]
    assert list(first["deviations"][0]) == list(DEVIATION_COLUMNS)
    assert first["fitness"] is None and first["fitness_note"] == "not asked for"
    assert first["events"] == 66 and first["source"] == "every_rule.csv"
    row = next(r for r in first["summary"] if r["rule_id"] == "child-alleged-procedure")
    assert (row["satisfied"], row["violated"], row["compliance"]) == (0, 1, 0.0)
    assert report.exit_status == 1


def test_compliance_without_judged_cases_is_unknown_not_zero(tmp_path: Path) -> None:
    log = write(tmp_path, "case_id,activity,timestamp\nA,Case closed,2024-01-08T09:00:00\n")
    report = report_of(log)
    icpc = report.summary.set_index("rule_id").loc["icpc-within-15-working-days"].to_dict()
    assert icpc["not_applicable"] == 1 and math.isnan(icpc["compliance"])
    assert next(r for r in to_json(report)["summary"]
                if r["rule_id"] == "icpc-within-15-working-days")["compliance"] is None
    assert report.exit_status == 0
    assert "Control-flow fitness: not computed (not asked for)." in summary_text(report)


def test_outputs_are_deterministic(tmp_path: Path) -> None:
    report = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00", with_fitness=True)
    first = write_outputs(tmp_path / "a", report)
    second = write_outputs(tmp_path / "b", report_of(EVERY_RULE, as_of="2024-03-01T12:00:00",
                                                     with_fitness=True))
    assert [p.name for p in first] == ["deviations.csv", "cases.csv", "summary.json",
                                       "report.html"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_personal_data_columns_are_named_but_never_copied(tmp_path: Path) -> None:
    log = write(tmp_path, (
        "case_id,activity,timestamp,child_name,email,alleged_is_child\n"
        "A,Police notified,2024-01-08T09:00:00,Jane Doe,jane@example.org,false\n"
        "A,Outcome 21 recorded,2024-01-09T09:00:00,Jane Doe,jane@example.org,false\n"
        "A,Case closed,2024-01-10T09:00:00,Jane Doe,jane@example.org,false\n"
    ))
    report = report_of(log, with_fitness=True)
    assert report.exit_status == 1
    caveat = next(c for c in report.caveats if c.kind == "personal_data")
    assert "'child_name'" in caveat.message and "'email'" in caveat.message
    for path in write_outputs(tmp_path / "out", report):
        text = path.read_text(encoding="utf-8")
        assert "Jane" not in text and "example.org" not in text, path.name
    assert "child_name" not in (tmp_path / "out" / "cases.csv").read_text(encoding="utf-8")


def test_caveats_name_what_could_not_be_judged(tmp_path: Path) -> None:
    log = write(tmp_path, (
        "case_id,activity,timestamp,adult_in_contact_with_children\n"
        "A,Police notified,2024-01-08T09:00:00,true\n"
        "A,Case closed,2024-01-09T09:00:00,false\n"
        "B,Police notified,2024-01-08,\n"
        "B,Social care notified,2024-01-08,\n"
        "B,Family informed,2024-01-09,\n"
        "B,Concerns discussed with police and social care,2024-01-09,\n"
        "B,Tea,2024-01-09,\n"
    ))
    report = report_of(log)
    kinds = {c.kind: c for c in report.caveats}
    assert "disagree about 'adult_in_contact_with_children'" in kinds["attribute_conflict"].message
    assert kinds["attribute_conflict"].count == 1
    assert "allegations-procedure-when-working-with-children: 2 cases could not be judged" in (
        kinds["not_assessable"].message)
    assert "'Tea' (1 event)" in kinds["unknown_activity"].message
    assert kinds["date_only"].count >= 1
    text = summary_text(report)
    for caveat in report.caveats:
        assert caveat.message in text


def test_html_escapes_log_values_and_caps_the_timelines(tmp_path: Path) -> None:
    rows = ["case_id,activity,timestamp"]
    cases = [f"case-{n:02d}" for n in range(TIMELINE_CAP + 4)] + ["<script>alert(1)</script>"]
    for n, case in enumerate(cases):
        rows.append(f"{case},Images downloaded or distributed,2024-01-08T09:{n:02d}:00")
    report = report_of(write(tmp_path, "\n".join(rows) + "\n"))
    page = to_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('<svg class="timeline"') == TIMELINE_CAP
    assert "5 more deviating cases not drawn" in page


def test_token_replay_verdicts_come_with_a_caveat() -> None:
    report = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00", with_fitness=True,
                       method="token-replay")
    caveat = next(c for c in report.caveats if c.kind == "token_replay")
    assert "--fitness alignments" in caveat.message
    assert caveat.count == int((~report.fitness.cases["is_fit"]).sum())  # type: ignore[union-attr]
    aligned = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00", with_fitness=True)
    assert "token_replay" not in {c.kind for c in aligned.caveats}


def test_reader_warnings_are_said_once_and_not_beside_their_caveats(tmp_path: Path) -> None:
    log = write(tmp_path, (
        "case_id,activity,timestamp,child_name,alleged_is_child\n"
        "A,Police notified,2024-01-08T09:00:00,Jane Doe,false\n"
        "A,Police notified,2024-01-08T09:00:00,Jane Doe,false\n"
        "A,Tea,2024-01-09T09:00:00,Jane Doe,true\n"
        "A,Case closed,2024-01-10T09:00:00,Jane Doe,false\n"
        "B,Police notified,2024-10-27T01:30:00,Jane Doe,false\n"
        "B,Case closed,2024-11-05T09:00:00,Jane Doe,false\n"
    ))
    report = report_of(log, as_of="2024-11-01T12:00:00")
    assert len(report.log.warnings) == 6  # every kind below, from the reader
    kinds = [c.kind for c in report.caveats]
    for kind in ("unknown_activity", "after_as_of", "attribute_conflict", "personal_data"):
        assert kinds.count(kind) == 1, kind
    read = [c.message for c in report.caveats if c.kind == "log_warning"]
    # Said by the caveats above, from the log's structured fields: not repeated.
    for column in ("'activity'", "'alleged_is_child'", "'child_name'"):
        assert not [m for m in read if column in m], column
    assert not [m for m in read if "as-of" in m]
    # The others as the reader wrote them, once each.
    assert len(read) == 2
    assert "column 'timestamp': expected unambiguous local times" in read[0]
    assert "expected each event once" in read[1]
    twice = replace(report.log, warnings=report.log.warnings * 2)
    again = CheckReport(twice, report.judgement)
    assert [c.message for c in again.caveats] == [c.message for c in report.caveats]


def test_charts_are_public_figures_or_none(tmp_path: Path) -> None:
    report = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00")
    figure = compliance_figure(report.summary)
    assert figure is not None
    data = png_bytes(figure)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_bytes(compliance_figure(report.summary)) == data  # type: ignore[arg-type]
    assert lateness_figure(report.deviations) is not None
    whole, note = monthly_figure(report)
    assert whole is not None and note == ""
    latest, note = monthly_figure(report, months=1)
    assert latest is not None and note == "The latest 1 of 2 months are shown."
    nothing = report_of(write(tmp_path, "case_id,activity,timestamp\n"
                                        "A,Case closed,2024-01-08T09:00:00\n"))
    assert lateness_figure(nothing.deviations) is None
    judged_none = nothing.summary.assign(satisfied=0, violated=0)
    assert compliance_figure(judged_none) is None


def test_monthly_rates_by_trigger_month(tmp_path: Path) -> None:
    report = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00")
    rates = monthly_rates(report)
    assert list(rates.columns) == ["2024-01", "2024-03"]
    order = [r.id for r in report.judgement.rules]
    assert list(rates.index) == [r for r in order if r in set(rates.index)]
    assert ((rates >= 0) & (rates <= 1) | rates.isna()).all().all()
    results = report.judgement.results
    months = judgement_months(results, report.log.events)
    assert months.dropna().isin(rates.columns).all()
    # One month only: the month's rate is the rule's compliance.
    january = report_of(write(tmp_path, "\n".join(
        line for line in EVERY_RULE.read_text(encoding="utf-8").splitlines()
        if line.split(",", 1)[0] in ("case_id", "W1", "W2", "W3")) + "\n"))
    rates = monthly_rates(january)
    assert list(rates.columns) == ["2024-01"]
    summary = january.summary.set_index("rule_id")["compliance"].dropna()
    assert rates["2024-01"].to_dict() == pytest.approx(summary.to_dict())


def test_timeline_cases_latest_first_up_to_a_limit() -> None:
    report = report_of(EVERY_RULE, as_of="2024-03-01T12:00:00")
    every, more = timeline_cases(report)
    assert (sorted(every), more) == (["R2", "R3", "W2", "W3"], 0)
    assert every[0] == "R2"  # its ICPC came 6 working days late: the latest
    two, more = timeline_cases(report, 2)
    assert (two, more) == (every[:2], 2)
    events = report.log.events
    svg = timeline_svg("R2", events[events["case_id"] == "R2"],
                       report.deviations[report.deviations["case_id"] == "R2"])
    assert svg.startswith('<svg class="timeline"') and "icpc-within-15-working-days" in svg

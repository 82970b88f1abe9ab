"""Pseudonymisation: keyed, stable pseudonyms; nothing identifying in the output."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import pytest

from conformance.logio import ReadOptions, read_log
from conformance.pseudonymise import new_key_file, pseudonym, pseudonymise_log
from model.errors import InputError

HEADER = "case_id,activity,timestamp,resource,role,alleged_is_child,Surname,note"
ROWS = [
    "CASE-0001,Concern identified,2024-06-01T09:00:00,Alice Example,employee,true,Smithson,x",
    "CASE-0001,Line manager informed,2024-06-01T23:30:00Z,Bob Example,employee,true,Smithson,x",
    "CASE-0002,Concern identified,2024-06-03,Alice Example,employee,,Jones,x",
    "CASE-0002,Case closed,2024-01-15T09:00:00.250+00:00,,manager,no,Jones,x",
]
IDENTIFYING = ["CASE-0001", "CASE-0002", "Alice", "Bob", "Smithson", "Jones", "Surname"]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "secret.key"
    new_key_file(path)
    return path


def test_new_key_file_is_32_private_bytes_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    new_key_file(path)
    first = path.read_bytes()
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(InputError, match="expected a path where no file exists yet"):
        new_key_file(path)
    assert path.read_bytes() == first
    other = tmp_path / "other.key"
    new_key_file(other)
    assert other.read_bytes() != first


def test_short_or_missing_key_is_refused(tmp_path: Path, source: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"0123456789")
    with pytest.raises(InputError, match="expected a key of at least 16 bytes; found 10 bytes"):
        pseudonymise_log(source, short, tmp_path / "out.csv")
    with pytest.raises(InputError, match="expected a readable key file"):
        pseudonymise_log(source, tmp_path / "absent.key", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_output_has_the_contract_schema_and_no_identifying_values(
    tmp_path: Path, source: Path, key: Path
) -> None:
    out = tmp_path / "out.csv"
    summary = pseudonymise_log(source, key, out)
    assert (summary.cases, summary.events, summary.resources, summary.output) == (2, 4, 2, out)
    assert summary.dropped_columns == ("Surname",)
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        "case_id,activity,timestamp,resource,role,concern_about_line_manager,"
        "children_at_continuing_risk,adult_in_contact_with_children,alleged_is_child"
    )
    for value in IDENTIFYING:
        assert value not in text
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["case_id"].str.fullmatch(r"c-[0-9a-f]{16}").all()
    assert set(frame["resource"]) - {""} <= {
        pseudonym(key.read_bytes(), "r", "Alice Example"),
        pseudonym(key.read_bytes(), "r", "Bob Example"),
    }
    assert "2024-06-02T00:30:00+01:00" in frame["timestamp"].tolist()  # 23:30 UTC in summer
    assert "2024-06-03" in frame["timestamp"].tolist()  # date-only stays a date
    assert "2024-01-15T09:00:00.250000+00:00" in frame["timestamp"].tolist()


def test_output_reads_back_to_the_same_log(tmp_path: Path, source: Path, key: Path) -> None:
    out = tmp_path / "out.csv"
    pseudonymise_log(source, key, out)
    before, after = read_log(source), read_log(out)
    assert sorted(after.events["time_utc"]) == sorted(before.events["time_utc"])
    assert after.events["date_only"].sum() == before.events["date_only"].sum() == 1
    assert sorted(after.events["activity"]) == sorted(before.events["activity"])
    case_key = key.read_bytes()
    ids = {pseudonym(case_key, "c", c): c for c in before.cases.index}
    for pseudo, original in ids.items():
        assert after.cases.loc[pseudo].equals(before.cases.loc[original])
    assert after.personal_data_columns == ()


def test_same_key_same_pseudonyms_other_key_others(tmp_path: Path, source: Path, key: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    pseudonymise_log(source, key, first)
    pseudonymise_log(source, key, second)
    assert first.read_bytes() == second.read_bytes()
    other_key = tmp_path / "other.key"
    new_key_file(other_key)
    third = tmp_path / "c.csv"
    pseudonymise_log(source, other_key, third)
    ids = set(pd.read_csv(first, dtype=str)["case_id"])
    assert ids.isdisjoint(set(pd.read_csv(third, dtype=str)["case_id"]))


def test_case_and_resource_pseudonyms_differ_for_the_same_text() -> None:
    key = bytes(range(32))
    assert pseudonym(key, "c", "X1").removeprefix("c-") != pseudonym(key, "r", "X1").removeprefix(
        "r-"
    )


def test_a_role_column_holding_personal_data_is_dropped(tmp_path: Path, key: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case_id,activity,timestamp,role\nA,Case closed,2024-06-01,someone@example.org\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    summary = pseudonymise_log(path, key, out)
    assert summary.dropped_columns == ("role",)
    assert "role" not in out.read_text(encoding="utf-8").splitlines()[0]
    assert "example.org" not in out.read_text(encoding="utf-8")


def test_the_input_is_never_overwritten(source: Path, key: Path) -> None:
    with pytest.raises(InputError, match="expected an output path other than the input"):
        pseudonymise_log(source, key, source)


def test_invalid_input_is_reported(tmp_path: Path, key: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("case_id,activity,timestamp\nA,,2024-06-01\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'activity'"):
        pseudonymise_log(path, key, tmp_path / "out.csv", ReadOptions())

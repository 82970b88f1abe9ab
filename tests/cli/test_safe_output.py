"""The one output writer (lscb/safeoutput.py): what it refuses, and that an interrupted run
leaves the old outputs or the new ones, never a mix (subprocesses interrupted by signals)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lscb.safeoutput import JOURNAL, OutputGuard, plan_file, plan_folder, recover
from model.errors import InputError

NAMES = ("a.csv", "b.csv", "c.json")


def _messages(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    return "\n".join(str(p) for p in excinfo.value.problems)


def _set(folder: Path, tag: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        (folder / name).write_text(_content(tag, name), encoding="utf-8")


def _content(tag: str, name: str) -> str:
    return f"{tag} {name}\n" * 2000


def _state(folder: Path) -> str:
    """'old', 'new', or a description of the mix (and of any leftovers)."""
    tags = set()
    for name in NAMES:
        text = (folder / name).read_text(encoding="utf-8") if (folder / name).exists() else ""
        tags.add("old" if text == _content("old", name) else
                 "new" if text == _content("new", name) else f"other:{name}")
    left = sorted(p.name for p in folder.iterdir() if p.name not in NAMES)
    return "+".join(sorted(tags)) + (f" leftovers {left}" if left else "")


# ----------------------------------------------------------------- refusals


def test_an_output_that_is_the_input_is_refused_even_with_force(tmp_path: Path) -> None:
    log = tmp_path / "cases.csv"
    log.write_text("case_id\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        plan_folder(tmp_path, ["cases.csv", "summary.json"], OutputGuard(inputs=[log], force=True))
    assert "the input file" in _messages(excinfo)
    assert log.read_text(encoding="utf-8") == "case_id\n"
    with pytest.raises(InputError):
        plan_file(log, OutputGuard(inputs=[log], force=True))


def test_a_hard_link_or_symbolic_link_to_the_input_is_the_input(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("x\n", encoding="utf-8")
    hard = tmp_path / "hard.csv"
    os.link(log, hard)
    with pytest.raises(InputError) as excinfo:
        plan_file(hard, OutputGuard(inputs=[log], force=True))
    assert "the input file" in _messages(excinfo)
    # the input given through a symbolic link, the output by its real name
    link = tmp_path / "via-link.csv"
    link.symlink_to(log)
    with pytest.raises(InputError) as excinfo:
        plan_file(log, OutputGuard(inputs=[link], force=True))
    assert "the input file" in _messages(excinfo)


def test_the_key_file_is_never_an_output_even_before_it_exists(tmp_path: Path) -> None:
    key = tmp_path / "secret.key"
    with pytest.raises(InputError) as excinfo:
        plan_file(key, OutputGuard(keys=[key], force=True))
    assert "the key file" in _messages(excinfo)
    key.write_bytes(b"k" * 32)
    with pytest.raises(InputError):
        plan_file(tmp_path / "." / "secret.key", OutputGuard(keys=[key], force=True))


def test_an_output_that_is_a_symbolic_link_is_refused_even_with_force(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    with pytest.raises(InputError) as excinfo:
        plan_file(link, OutputGuard(force=True))
    assert "symbolic link" in _messages(excinfo)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.csv").symlink_to(target)
    with pytest.raises(InputError) as excinfo:
        plan_folder(folder, NAMES, OutputGuard(force=True))
    assert "symbolic link" in _messages(excinfo)
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_an_output_folder_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with pytest.raises(InputError) as excinfo:
        plan_folder(link, NAMES, OutputGuard())
    assert "symbolic link" in _messages(excinfo)
    assert list(real.iterdir()) == []


def test_existing_outputs_are_listed_and_kept_without_force(tmp_path: Path) -> None:
    _set(tmp_path, "old")
    with pytest.raises(InputError) as excinfo:
        plan_folder(tmp_path, NAMES, OutputGuard())
    text = _messages(excinfo)
    assert all(name in text for name in NAMES) and "--force" in text
    assert _state(tmp_path) == "old"
    with pytest.raises(InputError) as excinfo:
        plan_file(tmp_path / "a.csv", OutputGuard())
    assert "--force" in _messages(excinfo)


def test_force_replaces_by_renaming_so_a_hard_link_elsewhere_keeps_its_content(
        tmp_path: Path) -> None:
    _set(tmp_path / "out", "old")
    elsewhere = tmp_path / "elsewhere.csv"
    os.link(tmp_path / "out" / "a.csv", elsewhere)
    plan = plan_folder(tmp_path / "out", NAMES, OutputGuard(force=True))
    with plan.staging() as staging:
        for name in NAMES:
            (staging / name).write_text(_content("new", name), encoding="utf-8")
    assert _state(tmp_path / "out") == "new"
    assert elsewhere.read_text(encoding="utf-8") == _content("old", "a.csv")
    assert plan.written == tuple(tmp_path / "out" / n for n in NAMES)


def test_a_folder_where_a_file_is_and_a_file_where_a_folder_is_are_refused(
        tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(InputError):
        plan_folder(tmp_path / "file", NAMES, OutputGuard())
    with pytest.raises(InputError):
        plan_folder(tmp_path / "file" / "below", NAMES, OutputGuard())
    (tmp_path / "dir" / "a.csv").mkdir(parents=True)
    with pytest.raises(InputError) as excinfo:
        plan_folder(tmp_path / "dir", NAMES, OutputGuard(force=True))
    assert "a folder" in _messages(excinfo)
    with pytest.raises(InputError):
        plan_file(tmp_path / "dir", OutputGuard(force=True))


def test_planning_creates_nothing(tmp_path: Path) -> None:
    plan_folder(tmp_path / "new" / "deeper", NAMES, OutputGuard())
    plan_file(tmp_path / "other" / "x.csv", OutputGuard())
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- in-process failures


def test_a_failure_during_the_work_leaves_the_old_set_and_no_leftovers(tmp_path: Path) -> None:
    _set(tmp_path, "old")
    plan = plan_folder(tmp_path, NAMES, OutputGuard(force=True))
    with pytest.raises(ZeroDivisionError), plan.staging() as staging:
        (staging / "a.csv").write_text(_content("new", "a.csv"), encoding="utf-8")
        _ = 1 / 0
    assert _state(tmp_path) == "old"


def test_a_file_is_written_beside_its_destination_then_renamed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    renames: list[tuple[Path, Path]] = []
    real_link = os.link

    def spy(source: str | Path, target: str | Path) -> None:
        renames.append((Path(source), Path(target)))
        real_link(source, target)

    monkeypatch.setattr(os, "link", spy)
    out = tmp_path / "sub" / "out.csv"
    plan = plan_file(out, OutputGuard())
    with plan.staging() as temporary:
        temporary.write_text("new\n", encoding="utf-8")
        assert not out.exists()
    assert out.read_text(encoding="utf-8") == "new\n"
    assert len(renames) == 1 and renames[0][0].parent == out.parent
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.csv"]
    with pytest.raises(RuntimeError), plan_file(
            tmp_path / "sub" / "y.csv", OutputGuard()).staging() as temporary:
        temporary.write_text("partial", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.csv"]


def test_a_file_that_appears_during_the_work_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with pytest.raises(InputError), plan_file(out, OutputGuard()).staging() as temporary:
        temporary.write_text("mine\n", encoding="utf-8")
        out.write_text("someone else's\n", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "someone else's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


# ----------------------------------------------------------------- interrupted processes

_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from lscb.safeoutput import OutputGuard, plan_folder

    folder, pause = Path(sys.argv[1]), sys.argv[2]
    names = ("a.csv", "b.csv", "c.json")
    plan = plan_folder(folder, names, OutputGuard(force=True))
    real_replace = os.replace
    renamed = 0

    def replace(source, target):
        global renamed
        real_replace(source, target)
        if Path(target).parent == folder and Path(target).name in names:
            renamed += 1
            if pause == f"rename{renamed}":
                print("READY", flush=True)
                time.sleep(1)  # the signal arrives now, and is held until the set is done

    os.replace = replace
    try:
        with plan.staging() as staging:
            for index, name in enumerate(names):
                if pause == f"file{index}":
                    print("READY", flush=True)
                    time.sleep(20)
                (staging / name).write_text(f"new {name}\\n" * 2000, encoding="utf-8")
            if pause == "before-commit":
                print("READY", flush=True)
                time.sleep(20)
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(130)
    print("DONE", flush=True)
    """
)


def _run_interrupted(folder: Path, pause: str, signum: int) -> tuple[int, str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(folder), pause],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "READY", child.stderr.read() if child.stderr else line
    child.send_signal(signum)
    out, err = child.communicate(timeout=60)
    return child.returncode, line + out + err


@pytest.mark.parametrize("pause", ["file0", "file1", "file2", "before-commit"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_during_the_work_the_old_outputs_stay(
        tmp_path: Path, pause: str, signum: int) -> None:
    _set(tmp_path, "old")
    status, output = _run_interrupted(tmp_path, pause, signum)
    assert status != 0, output
    if signum == signal.SIGTERM:
        recover(tmp_path)  # a killed process cannot clean up: the next run removes its staging
    assert _state(tmp_path) == "old", output


@pytest.mark.parametrize("pause", ["rename1", "rename2"])
def test_interrupted_while_renaming_the_set_is_completed_first(tmp_path: Path, pause: str) -> None:
    _set(tmp_path, "old")
    status, output = _run_interrupted(tmp_path, pause, signal.SIGINT)
    assert status == 130 and "INTERRUPTED" in output, output  # the Ctrl-C still counts
    assert _state(tmp_path) == "new", output


@pytest.mark.parametrize("pause", ["rename1", "rename2"])
def test_killed_while_renaming_the_next_run_completes_the_set(tmp_path: Path, pause: str) -> None:
    _set(tmp_path, "old")
    status, output = _run_interrupted(tmp_path, pause, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert (tmp_path / JOURNAL).exists()  # the mark of an incomplete set
    plan = plan_folder(tmp_path, ["other.txt"], OutputGuard())
    with plan.staging() as staging:  # any later write to the folder completes it first
        (staging / "other.txt").write_text("x", encoding="utf-8")
    (tmp_path / "other.txt").unlink()
    assert _state(tmp_path) == "new", output

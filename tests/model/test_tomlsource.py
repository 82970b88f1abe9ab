"""model.tomlsource.read_toml: the one TOML reader, and its messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from model.errors import InputError
from model.tomlsource import read_toml


def test_reads_a_table_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_bytes("\ufeffname = 'x'\n[part]\nn = 3\n".encode())
    assert read_toml(path, what="a test file") == {"name": "x", "part": {"n": 3}}


def test_a_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("a = 1\nb = = 2\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_toml(path, what="a test file")
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}: not valid TOML")
    [problem] = caught.value.problems
    assert problem.where == "line 2, column 5"
    assert problem.expected == "valid TOML"
    assert problem.found.startswith("a syntax error (")


def test_bytes_that_are_not_utf8_are_named_by_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b"name = 'caf\xe9'\n")
    with pytest.raises(InputError) as caught:
        read_toml(path, what="a test file")
    [problem] = caught.value.problems
    assert problem.where == "byte 12"
    assert problem.found == "bytes that are not UTF-8"


@pytest.mark.parametrize(("make", "found"), [
    (lambda p: p / "missing.toml", "no such file"),
    (lambda p: p, "a folder"),
])
def test_missing_files_and_folders(tmp_path: Path, make: Callable[[Path], Path], found: str
                                   ) -> None:
    with pytest.raises(InputError) as caught:
        read_toml(make(tmp_path), what="a scenario file")
    [problem] = caught.value.problems
    assert problem.found == found
    assert "a scenario file" in problem.expected

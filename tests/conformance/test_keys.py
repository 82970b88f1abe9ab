"""Pseudonymisation keys (conformance/keys.py): recognisable, private, never half-written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conformance.keys import HEADER, KEY_BYTES, key_file_bytes, new_key, read_key, write_new_key
from model.errors import InputError


def test_a_new_key_has_the_header_and_mode_600_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    key = new_key()
    write_new_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines[0] == HEADER and len(lines[1]) == 2 * KEY_BYTES
    found = read_key(path)
    assert found.key == key and found.warnings == ()
    assert new_key() != key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.key"]  # no temporary file left


def test_a_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    write_new_key(path, new_key())
    before = path.read_bytes()
    with pytest.raises(InputError, match="never overwritten"):
        write_new_key(path, new_key())
    assert path.read_bytes() == before
    link = tmp_path / "link.key"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="never overwritten"):
        write_new_key(link, new_key())


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"case_id,activity,timestamp\nA,Case closed,2024-01-01\n", "without that first line"),
        (b"", "without that first line"),
        (os.urandom(32), "binary data"),
        (b"\x00" * 32, "without that first line"),
        ((HEADER + "\n" + "ab" * 10 + "\n").encode(), "cut short"),
        ((HEADER + "\n" + "zz" * 32 + "\n").encode(), "cut short"),
        ((HEADER + "\n" + "ab" * 32 + "\nmore\n").encode(), "a larger file"),
        ((HEADER + "\n" + "ab" * 32 + "\n\n").encode(), "cut short"),
        (b"x" * 10_000_000, "a larger file"),
    ],
)
def test_any_other_file_is_refused_as_a_key(tmp_path: Path, content: bytes, found: str) -> None:
    path = tmp_path / "not-a-key"
    path.write_bytes(content)
    with pytest.raises(InputError, match=found):
        read_key(path)


def test_a_missing_key_or_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no readable file"):
        read_key(tmp_path / "absent.key")
    with pytest.raises(InputError, match="no readable file"):
        read_key(tmp_path)


def test_a_key_readable_by_others_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(key_file_bytes(bytes(range(32))))
    path.chmod(0o644)
    found = read_key(path)
    assert found.key == bytes(range(32))
    assert len(found.warnings) == 1 and "chmod 600" in found.warnings[0].found


def test_windows_line_ends_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(key_file_bytes(bytes(range(32))).replace(b"\n", b"\r\n"))
    path.chmod(0o600)
    assert read_key(path).key == bytes(range(32))

"""Pseudonymisation keys: files that look like keys, readable by their owner only.

A key file is two lines of text::

    # lscb pseudonymisation key v1: keep it secret, and apart from the data
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

the header, then 32 random bytes in hexadecimal. Nothing else is accepted as a key (a log, a
mapping file or an empty file given by mistake would otherwise make pseudonyms that anyone
holding that file could recompute). ``--new-key`` writes one with mode 0600 (owner read and
write) by a temporary name and a hard link, so a key is never half-written and never replaces a
file; a key readable by others is a warning.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Final

from model.errors import InputError, Problem

__all__ = [
    "HEADER",
    "KEY_BYTES",
    "KeyFile",
    "key_file_bytes",
    "new_key",
    "new_key_problems",
    "read_key",
    "write_new_key",
]

HEADER: Final = "# lscb pseudonymisation key v1: keep it secret, and apart from the data"
KEY_BYTES: Final = 32
_LINE: Final = re.compile(r"[0-9a-f]{64}")
_MAX_SIZE: Final = len(HEADER) + 2 * KEY_BYTES + 4  # CRLF line ends allowed
_EXPECTED: Final = (
    f"a key file made by 'lscb pseudonymise --new-key': the line '{HEADER}', then "
    f"{2 * KEY_BYTES} hexadecimal digits"
)


class KeyFile:
    """A key read from a file, with the warnings about it (loose permissions)."""

    def __init__(self, key: bytes, warnings: tuple[Problem, ...] = ()) -> None:
        self.key = key
        self.warnings = warnings


def new_key() -> bytes:
    """32 random bytes from the operating system's secure source."""
    return secrets.token_bytes(KEY_BYTES)


def key_file_bytes(key: bytes) -> bytes:
    """The content of a key file holding ``key``."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key is {KEY_BYTES} bytes")
    return f"{HEADER}\n{key.hex()}\n".encode("ascii")


def read_key(path: Path | str) -> KeyFile:
    """The key in ``path``; ``InputError`` unless the file is a key file (header and length)."""
    path = Path(path)
    source = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError
        with path.open("rb") as handle:
            data = handle.read(_MAX_SIZE + 1)
    except OSError:
        raise InputError(source, [Problem(
            path.name, "a readable key file (make one with --new-key)", "no readable file")]
        ) from None
    if len(data) > _MAX_SIZE:
        raise InputError(source, [Problem(path.name, _EXPECTED, "a larger file")])
    try:
        lines = data.decode("ascii").splitlines()
    except UnicodeDecodeError:
        raise InputError(source, [Problem(path.name, _EXPECTED, "binary data")]) from None
    if not lines or lines[0] != HEADER:
        raise InputError(source, [Problem(path.name, _EXPECTED, "a file without that first line")])
    if len(lines) != 2 or _LINE.fullmatch(lines[1]) is None:
        raise InputError(source, [Problem(
            f"{path.name}, line 2", f"{2 * KEY_BYTES} hexadecimal digits (0-9, a-f), alone",
            "something else (the key was cut short or changed)")])
    warnings: list[Problem] = []
    if os.name == "posix" and info.st_mode & 0o077:
        warnings.append(Problem(
            path.name, "a key readable by its owner only (mode 600)",
            f"mode {stat.S_IMODE(info.st_mode):03o}: other users can read it; "
            f"run 'chmod 600 {path}'", topic="key-permissions"))
    return KeyFile(bytes.fromhex(lines[1]), tuple(warnings))


def new_key_problems(path: Path | str, option: str = "--key-file") -> list[Problem]:
    """What stops a new key from being written at ``path`` (nothing is created)."""
    path = Path(path)
    where = f"option {option}"
    if path.is_symlink() or path.exists():
        return [Problem(where, "a path where no file exists yet (with --new-key)",
                        f"'{path}', an existing file or link (a key is never overwritten: the "
                        "pseudonyms made with it would no longer match)")]
    folder = path.parent
    if not folder.is_dir():
        return [Problem(where, "a key file in an existing folder", f"'{folder}', no such folder")]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [Problem(where, "a folder the key can be written into",
                        f"'{folder}': no permission to write there")]
    return []


def write_new_key(path: Path | str, key: bytes) -> None:
    """Write ``key`` to the new file ``path`` with mode 0600; never replaces a file.

    Written in full under a temporary name, then linked to ``path`` (which fails if ``path``
    exists), so the key file is complete or absent."""
    path = Path(path)
    problems = new_key_problems(path)
    if problems:
        raise InputError(str(path), problems)
    temporary = path.with_name(f".lscb-tmp-{os.getpid()}-{secrets.token_hex(6)}-{path.name}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(key_file_bytes(key))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise InputError(str(path), new_key_problems(path)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()

"""Where commands write: output folders and files are checked before any work is done, so that
a long run does not end in a traceback because its destination cannot be written."""

from __future__ import annotations

import os
from pathlib import Path

from model.errors import InputError, Problem


def output_directory(path: Path | str, option: str = "--out") -> Path:
    """Create ``path`` as a folder (with its parents) or check that it is one; an InputError
    naming the option and the path otherwise."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(str(target), [Problem(
            f"option {option}", "a folder to write into", f"a file that already exists at {target}")])
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(target), [Problem(
            f"option {option}", "a folder that can be created",
            f"it cannot be created ({exc.strerror or exc})")]) from None
    if not os.access(target, os.W_OK):
        raise InputError(str(target), [Problem(
            f"option {option}", "a folder this user may write into", "no permission to write")])
    return target


def output_file(path: Path | str, option: str = "--out") -> Path:
    """Check that ``path`` can be written as a file: its folder exists (or is created) and it is
    not a folder itself."""
    target = Path(path)
    if target.is_dir() or str(path).endswith(("/", os.sep)):
        raise InputError(str(target), [Problem(
            f"option {option}", "a file name to write", f"a folder ({target})")])
    output_directory(target.parent if str(target.parent) else Path("."), option)
    return target

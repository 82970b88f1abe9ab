"""Where commands write: output folders and files are checked before any work is done, so that
a long run does not end in a traceback because its destination cannot be written."""

from __future__ import annotations

import os
from pathlib import Path

from model.errors import InputError, Problem

_EXPECTED = "a folder to write into, or a path where one can be created"


def output_directory_problems(path: Path | str, option: str = "--out") -> list[Problem]:
    """What stops ``path`` from being a folder to write into; nothing is created.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as work:
    ...     (Path(work) / "notes.txt").write_text("x")
    ...     output_directory_problems(Path(work) / "new" / "folder")
    ...     [p.found for p in output_directory_problems(Path(work) / "notes.txt" / "out")]
    1
    []
    ["'.../notes.txt/out', a path through the file '.../notes.txt'"]
    """
    out = Path(path)
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        what = "an existing file" if existing == out else f"a path through the file '{existing}'"
        return [Problem(f"option {option}", _EXPECTED, f"'{out}', {what}")]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Problem(f"option {option}", _EXPECTED,
                        f"'{out}': no permission to write in '{existing}'")]
    return []


def output_directory(path: Path | str, option: str = "--out") -> Path:
    """Create ``path`` as a folder (with its parents) or check that it is one; an InputError
    naming the option and the path otherwise.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as work:
    ...     output_directory(Path(work) / "run" / "1").is_dir()
    True
    """
    target = Path(path)
    problems = output_directory_problems(target, option)
    if problems:
        raise InputError(str(target), problems)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(target), [Problem(
            f"option {option}", _EXPECTED, f"'{target}': {exc.strerror or exc}")]) from None
    return target


def output_file(path: Path | str, option: str = "--out") -> Path:
    """Check that ``path`` can be written as a file: not a folder, and its folder exists or is
    created.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as work:
    ...     output_file(Path(work) / "reports" / "audit.html").parent.is_dir()
    True
    >>> output_file(tempfile.gettempdir())
    Traceback (most recent call last):
    model.errors.InputError: ...: 1 problem(s) found
      - option --out: expected a file name to write; found a folder (...)
    """
    target = Path(path)
    if target.is_dir() or str(path).endswith(("/", os.sep)):
        raise InputError(str(target), [Problem(
            f"option {option}", "a file name to write", f"a folder ('{target}')")])
    output_directory(target.parent, option)
    return target

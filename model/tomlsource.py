"""The project's one TOML reader: a scenario, a check configuration, any TOML file we read.

``read_toml(path, what="a scenario file")`` returns the file's top-level table as a dict, or
raises ``InputError`` with one ``Problem`` that says what went wrong in plain English: no file
at the path, a file that cannot be read, bytes that are not UTF-8 (with the byte offset), or a
TOML syntax error (with its line and column, as ``tomllib`` reports them).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Final

from model.errors import InputError, Problem

__all__ = ["read_toml", "toml_syntax_problem"]

_AT: Final = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def toml_syntax_problem(exc: tomllib.TOMLDecodeError) -> Problem:
    """A ``Problem`` for a TOML syntax error: where (line and column) and what ``tomllib`` saw."""
    message = str(exc)
    line = getattr(exc, "lineno", None)  # Python 3.14 and later carry these
    column = getattr(exc, "colno", None)
    match = _AT.search(message)
    if line is None and match and match[1]:
        line, column = int(match[1]), int(match[2])
    if line is not None:
        where = f"line {line}, column {column}" if column is not None else f"line {line}"
    elif match:
        where = "the end of the file"
    else:
        where = "the file"
    reason = _AT.sub("", message).strip() or "a syntax error"
    reason = reason[0].lower() + reason[1:]
    return Problem(where, "valid TOML", f"a syntax error ({reason})")


def read_toml(path: Path | str, *, what: str) -> dict[str, Any]:
    """Read a TOML file into a dict; any failure is an ``InputError`` naming file, line, column.

    Parameters
    ----------
    path
        The file to read.
    what
        What the file should be, in words for an error message ("a scenario file",
        "a check configuration file").

    Raises
    ------
    InputError
        When there is no file at ``path``, it cannot be read, is not UTF-8 or is not valid
        TOML. The error's ``source`` is ``str(path)``.
    """
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(
            source, [Problem("the file", f"{what} at this path", "no such file")]
        ) from None
    except IsADirectoryError:
        raise InputError(source, [Problem("the file", what, "a folder")]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            source, [Problem("the file", f"{what} that can be read", f"an error ({reason})")]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            source,
            [Problem(f"byte {exc.start + 1}", f"{what} in UTF-8 text", "bytes that are not UTF-8")],
        ) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors write
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            source, [toml_syntax_problem(exc)], summary=f"{source}: not valid TOML"
        ) from None

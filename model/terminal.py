"""Text that reaches a terminal: control characters shown escaped, never obeyed.

A log, a rules file or a scenario may hold any characters, and a terminal obeys some of them:
ESC starts a sequence that can recolour, move the cursor, retitle the window or rewrite what was
printed before; a carriage return or backspace hides what came before it; a newline starts a
line that looks like the program's own output; Unicode bidirectional overrides reorder what is
shown. ``shown`` is the one function that makes such text safe to print: every character in
those classes is written as a visible escape (``\\x1b``, ``\\n``, ``\\u202e``), everything else
is left as it is, so names in other alphabets stay readable.

``shown(text)`` escapes newlines, tabs and carriage returns too: use it on a value taken from a
file. ``terminal_text(text)`` keeps newlines, tabs and carriage returns (with which a progress
bar redraws itself): use it on a whole message or report that the program laid out itself (its
values already passed through ``shown``); it is what the ``lscb`` command applies to everything
it writes to standard output and standard error, so that no escape sequence gets through even
where a value was not passed through ``shown``.
"""

from __future__ import annotations

import re
from typing import Final, TextIO

__all__ = ["EscapingStream", "shown", "terminal_text"]

# C0 controls, DEL, C1 controls; Unicode line and paragraph separators; the bidirectional
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the directional marks that
# can be used in the same way (U+200E, U+200F, U+061C), and zero-width characters that hide text.
_DANGEROUS: Final = (
    "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\u061c\ufeff"
)
_ANY: Final = re.compile(f"[{_DANGEROUS}]")
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# Everything dangerous except tab, newline and carriage return: the layout of a message.
_LAYOUT_SAFE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\u061c\ufeff]"
)


def shown(value: object) -> str:
    """``str(value)`` with every control character escaped, newlines and tabs included."""
    text = value if isinstance(value, str) else str(value)
    if _ANY.search(text) is None:
        return text
    return _ANY.sub(_escape, text)


def terminal_text(text: str) -> str:
    """``text`` with every control character escaped except the newlines, tabs and carriage
    returns that lay it out."""
    if _LAYOUT_SAFE.search(text) is None:
        return text
    return _LAYOUT_SAFE.sub(_escape, text)


class EscapingStream:
    """A text stream that passes everything written to it through ``terminal_text``.

    Wraps ``sys.stdout`` or ``sys.stderr`` for the length of a command, so that no value from
    a file can reach the terminal raw, whichever code printed it. Progress bars that move the
    cursor with escape sequences are given the stream underneath (``raw``)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(terminal_text(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:
        return str(getattr(self.raw, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)

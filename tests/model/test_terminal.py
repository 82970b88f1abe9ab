"""Safe text on terminals (model/terminal.py): control characters from files are shown escaped."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from model.terminal import EscapingStream, shown, terminal_text


def test_escape_sequences_newlines_and_bidi_overrides_are_shown_escaped() -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07Evil\nLine\rOver\x08\u202eright\u2028\x9b"
    assert shown(hostile) == (
        "\\x1b[2J\\x1b]0;owned\\x07Evil\\nLine\\rOver\\x08\\u202eright\\u2028\\x9b"
    )
    assert terminal_text("a\tb\nc\x1b[31m\r\x08") == "a\tb\nc\\x1b[31m\r\\x08"


def test_ordinary_text_in_any_alphabet_is_unchanged() -> None:
    for text in ("Strategy discussion held", "Síofra Ní Bhriain", "Łódź", "§7.1 ¶2", "日本語", ""):
        assert shown(text) == text
        assert terminal_text(text) == text


@given(st.text())
def test_nothing_a_terminal_obeys_is_left(text: str) -> None:
    out = shown(text)
    assert all(ord(c) >= 32 and not 0x7F <= ord(c) <= 0x9F for c in out)
    assert not any(c in out for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    layout = terminal_text(text)
    assert "\x1b" not in layout and "\x08" not in layout


def test_the_stream_escapes_everything_written_through_it() -> None:
    raw = io.StringIO()
    stream = EscapingStream(raw)
    print("activity '\x1b[31mred'", file=stream)  # type: ignore[arg-type]
    stream.write("second\x1b]0;title\x07\n")
    assert raw.getvalue() == "activity '\\x1b[31mred'\nsecond\\x1b]0;title\\x07\n"

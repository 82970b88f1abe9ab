"""The project's exceptions: one root, and input errors that list every problem at once."""

from __future__ import annotations

from dataclasses import dataclass

from model.terminal import shown


class LscbError(Exception):
    """Root of every error this project raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is, what was expected, what was found.

    ``where`` is already human-readable ("line 12, field 'within'", "row 7, column
    'timestamp'"); ``found`` must never carry a raw value from a log that could be
    personal data: describe it instead ("an empty value", "text that is not a date").
    """

    where: str
    expected: str
    found: str
    topic: str = (
        ""  # what a warning is about, for code that restates it (e.g. "unknown-activities")
    )

    def __str__(self) -> str:
        # Each part is one line; a value from a file in it (a column name, a key) may hold any
        # character, so control characters are shown escaped (model.terminal).
        return f"{shown(self.where)}: expected {shown(self.expected)}; found {shown(self.found)}"


class InputError(LscbError):
    """A file (or option) cannot be used. Carries every problem found, not just the first."""

    def __init__(self, source: str, problems: list[Problem], *, summary: str = "") -> None:
        self.source = source
        self.problems = list(problems)
        head = summary or f"{source}: {len(self.problems)} problem(s) found"
        lines = [head] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))

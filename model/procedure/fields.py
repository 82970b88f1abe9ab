"""Reading the fields of a procedure file with their line marks, collecting every problem.

:class:`Fields` is the base of the procedure's readers (:mod:`model.procedure.flowreader`,
:mod:`model.procedure.reader`) and the sink of its checks (:mod:`model.procedure.checks`): each
problem names the line (from the marks :mod:`model.yamlsource` keeps on every mapping and list)
and the field, what was expected and what was found, and reading goes on so that a file's
problems are reported all at once.

>>> from model.yamlsource import read_yaml
>>> fields = Fields("procedure.yaml")
>>> fields.text(read_yaml("procedure.yaml", "id: x\\nname: 3\\n"), "name")
''
>>> print(fields.problems[0])
line 2, field 'name': expected a non-empty text; found 3
"""

from __future__ import annotations

from typing import Any

from model.errors import Problem
from model.yamlsource import LineDict, kind_of, line_of

__all__ = ["Fields"]


class Fields:
    """The problems found so far in the file ``source``, and the typed reading of its fields."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []


    def bad(self, container: Any, key: Any, expected: str, found: str) -> None:
        where = f"line {line_of(container, key)}"
        if isinstance(key, str):
            where += f", field '{key}'"
        self.problems.append(Problem(where, expected, found))

    def text(self, container: LineDict, key: str, *, required: bool = True) -> str:
        value = container.get(key)
        if value is None:
            if required:
                self.bad(container, None, f"a field '{key}'", "none")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.bad(container, key, "a non-empty text", repr(value))
            return ""
        return value

    def only(self, container: LineDict, allowed: set[str], what: str) -> None:
        for key in container:
            if key not in allowed:
                self.bad(
                    container,
                    key,
                    f"one of the fields of {what}: " + ", ".join(sorted(allowed)),
                    f"an unknown field '{key}'",
                )

    def mapping(self, data: LineDict, key: str) -> LineDict:
        value = data.get(key)
        if not isinstance(value, LineDict):
            self.bad(
                data,
                key if key in data else None,
                f"a mapping under '{key}'",
                kind_of(value),
            )
            return LineDict()
        return value

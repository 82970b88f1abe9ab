"""Naming a scenario's fields, and showing their values in messages.

A field is named by its dotted path in the file ('roles.lado.headcount', 'tasks."Family
informed".work'); the fields of the ``[scenario]`` table also go by their short names
('demand', 'dispatch', 'seed', ...). ``describe`` shows a value found in a scenario or on the
command line: a scenario is configuration, not personal data, so its values may be repeated.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Final

__all__ = ["SHORT_PATHS", "describe", "field_keys"]

SHORT_PATHS: Final = frozenset({
    "name", "description", "start", "horizon_days", "warm_up_days", "drain_days",
    "replications", "seed", "dispatch", "demand", "background_demand", "timeline_days",
})
"""The fields of the ``[scenario]`` table, which may be named without 'scenario.'."""

_SHOWN: Final = 40  # characters of a value shown in a message
_PART: Final = re.compile(r'"([^"]*)"|([^.]+)')


def field_keys(path: str) -> tuple[str, ...]:
    """The keys of a field path as ``Scenario.with_values`` reads it.

    Parameters
    ----------
    path
        A dotted path; a part in double quotes may contain dots. A field of the ``[scenario]``
        table may be given by its name alone.

    Returns
    -------
    tuple of str
        The keys from the top of the file down.

    Examples
    --------
    >>> field_keys("demand") == field_keys("scenario.demand")
    True
    >>> field_keys('tasks."Family informed".work')
    ('tasks', 'Family informed', 'work')
    """
    keys = [m.group(1) if m.group(1) is not None else m.group(2) for m in _PART.finditer(path)]
    if len(keys) == 1 and keys[0] in SHORT_PATHS:
        return ("scenario", keys[0])
    return tuple(keys)


def describe(value: Any) -> str:
    """Show a value found in a scenario or on the command line in a message.

    Text is quoted, long values are cut short, TOML's types are named as TOML names them.

    Examples
    --------
    >>> describe("lifo")
    "'lifo'"
    >>> describe(True), describe(2.50), describe([])
    ('true', '2.5', 'an empty list')
    >>> describe("x" * 50)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'..."
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _cut(str(value))
    if isinstance(value, float):
        return _cut(f"{value:g}")
    if isinstance(value, str):
        return "an empty text" if not value else _quote(value)
    if isinstance(value, list):
        if not value:
            return "an empty list"
        return _cut("[" + ", ".join(_item(v) for v in value) + "]")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (date, time)):
        return value.isoformat()
    return type(value).__name__


def _item(value: Any) -> str:
    return repr(value) if isinstance(value, str) else describe(value)


def _quote(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else repr(text[:_SHOWN]) + "..."


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."

"""Reading one value of a scenario file: numbers, probabilities, times, dates, weights, lags.

``FieldReader`` is the base of the scenario reader (``simulation.scenario.reader``). Each method
reads one field, and on a problem records a ``Problem(where="field 'roles.lado.headcount'",
expected, found)`` and returns a harmless substitute, so that reading goes on and every problem
of a file is reported at once. ``ok`` tells whether a field (or anything inside it) had a
problem: only fields without one are compared with each other, so no problem follows from
another.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any, Final

from model.errors import Problem
from simulation.scenario.fields import describe
from simulation.scenario.parts import DISTRIBUTIONS, Delay, Distribution, LagUnit

__all__ = ["MISSING", "FieldReader"]

MISSING: Final = object()
"""What ``dict.get`` gives for a key the file does not have (``None`` could be a value)."""

_TIME: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


class FieldReader:
    """Reads the fields of one file and collects their problems in ``problems``."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.invalid: set[str] = set()  # the paths of the fields with a problem

    def bad(self, path: str, expected: str, found: str) -> None:
        self.problems.append(Problem(f"field '{path}'", expected, found))
        self.invalid.add(path)

    def ok(self, *paths: str) -> bool:
        """No problem was found in these fields (nor inside them): only then are they compared
        with each other, never a default put in place of a value with a problem."""
        return not any(
            bad == path or bad.startswith((f"{path}.", f"{path}["))
            for path in paths for bad in self.invalid
        )

    def table(self, data: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key, MISSING)
        if value is MISSING:
            return {}
        if not isinstance(value, dict):
            self.bad(path, "a table", describe(value))
            return {}
        return value

    def only(self, data: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.bad(where, "one of " + ", ".join(allowed), "an unknown field")

    def number(
        self, data: Mapping[str, Any], key: str, path: str, default: float | None = None, *,
        low: float | None = 0.0, high: float | None = None, low_open: bool = False,
        high_open: bool = False, integer: bool = False,
    ) -> float:
        value = data.get(key, MISSING)
        fallback = default if default is not None else (low if low is not None else 0.0)
        if value is MISSING:
            if default is None:
                self.bad(path, "a value (this field is required)", "none")
            return fallback
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or not math.isfinite(float(value)):
            self.bad(path, "a whole number" if integer else "a number", describe(value))
            return fallback
        number = float(value)
        too_low = low is not None and (number <= low if low_open else number < low)
        too_high = high is not None and (number >= high if high_open else number > high)
        if too_low or too_high:
            bounds = []
            if low is not None:
                bounds.append(f"{'more than' if low_open else 'at least'} {low:g}")
            if high is not None:
                bounds.append(f"{'less than' if high_open else 'at most'} {high:g}")
            noun = "a whole number " if integer else "a number "
            self.bad(path, noun + " and ".join(bounds), describe(value))
            return fallback
        return number

    def integer(self, data: Mapping[str, Any], key: str, path: str, default: int | None = None,
                *, low: int = 0, high: int | None = None) -> int:
        return int(self.number(data, key, path, None if default is None else float(default),
                               low=low, high=None if high is None else float(high), integer=True))

    def probability(self, value: Any, path: str, *, allow_bool: bool = False) -> float:
        if allow_bool and isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            0.0 <= float(value) <= 1.0
        ):
            expected = "true, false or a probability from 0 to 1" if allow_bool else \
                "a probability from 0 to 1"
            self.bad(path, expected, describe(value))
            return 0.0
        return float(value)

    def text(self, data: Mapping[str, Any], key: str, path: str, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            self.bad(path, "a text", describe(value))
            return default
        return value

    def clock_time(self, data: Mapping[str, Any], key: str, path: str, default: time) -> time:
        value = data.get(key, MISSING)
        if value is MISSING:
            return default
        return self.time_value(value, path) or default

    def time_value(self, value: Any, path: str) -> time | None:
        if isinstance(value, time):
            return value.replace(second=0, microsecond=0)
        if isinstance(value, str):
            match = _TIME.fullmatch(value.strip())
            if match:
                return time(int(match.group(1)), int(match.group(2)))
        self.bad(path, "a time of day such as \"09:00\"", describe(value))
        return None

    def date_value(self, data: Mapping[str, Any], key: str, path: str) -> date | None:
        value = data.get(key, MISSING)
        if value is MISSING:
            self.bad(path, "a date such as 2024-04-01 (this field is required)", "none")
            return None
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.bad(path, "a date such as 2024-04-01", describe(value))
        return None

    def weights(self, data: Mapping[str, Any], key: str, path: str, n: int) -> tuple[float, ...]:
        value = data.get(key, MISSING)
        if value is MISSING:
            return (1.0,) * n
        if not isinstance(value, list) or len(value) != n:
            found = f"a list of {len(value)}" if isinstance(value, list) else describe(value)
            self.bad(path, f"a list of {n} weights", found)
            return (1.0,) * n
        out: list[float] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not (
                math.isfinite(float(item)) and float(item) >= 0
            ):
                self.bad(path, f"a list of {n} weights, each a number of at least 0",
                         "a list with " + describe(item))
                return (1.0,) * n
            out.append(float(item))
        if sum(out) <= 0:
            self.bad(path, "weights with a positive total", "all zero")
            return (1.0,) * n
        return tuple(out)

    def distribution(self, value: Any, path: str, *, unit: bool = False) -> Delay | None:
        """A number (fixed) or a table {distribution = ..., parameters [, unit]}."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(float(value)) or float(value) < 0:
                self.bad(path, "a number of at least 0", describe(value))
                return None
            return Delay(Distribution("fixed", float(value)))
        if not isinstance(value, dict):
            self.bad(path, "a number or a table such as {distribution = \"exponential\", "
                     "mean = 30}", describe(value))
            return None
        kind = value.get("distribution", MISSING)
        params = {
            "fixed": ("value",), "exponential": ("mean",), "lognormal": ("mean", "sd"),
            "triangular": ("low", "mode", "high"), "uniform": ("low", "high"),
            "empirical": ("values", "weights"),
        }
        if kind not in DISTRIBUTIONS:
            self.bad(f"{path}.distribution", "one of " + ", ".join(map(repr, DISTRIBUTIONS)),
                     "none" if kind is MISSING else describe(kind))
            return None
        allowed = ["distribution", *params[str(kind)]] + (["unit"] if unit else [])
        self.only(value, allowed, path)
        lag_unit = LagUnit.MINUTES
        if unit and "unit" in value:
            try:
                lag_unit = LagUnit(value["unit"])
            except ValueError:
                self.bad(f"{path}.unit", "one of " + ", ".join(repr(u.value) for u in LagUnit),
                         describe(value["unit"]))
        before = len(self.problems)

        def num(key: str, *, positive: bool = False) -> float:
            return self.number(value, key, f"{path}.{key}", low=0.0, low_open=positive)

        if kind == "fixed":
            dist = Distribution("fixed", num("value"))
        elif kind == "exponential":
            dist = Distribution("exponential", num("mean", positive=True))
        elif kind == "lognormal":
            dist = Distribution("lognormal", num("mean", positive=True), num("sd"))
        elif kind == "triangular":
            low, mode, high = num("low"), num("mode"), num("high")
            if len(self.problems) == before and not low <= mode <= high:
                self.bad(path, "low <= mode <= high", f"{low:g}, {mode:g}, {high:g}")
            dist = Distribution("triangular", low, mode, high)
        elif kind == "uniform":
            low, high = num("low"), num("high")
            if len(self.problems) == before and not low <= high:
                self.bad(path, "low <= high", f"{low:g}, {high:g}")
            dist = Distribution("uniform", low, high)
        else:
            values = value.get("values", MISSING)
            weights = value.get("weights", MISSING)
            if not isinstance(values, list) or not values or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) >= 0
                for v in values
            ):
                self.bad(f"{path}.values", "a non-empty list of numbers of at least 0",
                         "none" if values is MISSING else describe(values))
                return None
            wts: tuple[float, ...] = ()
            if weights is not MISSING:
                wts = self.weights(value, "weights", f"{path}.weights", len(values))
            dist = Distribution("empirical", values=tuple(float(v) for v in values), weights=wts)
        if len(self.problems) != before:
            return None
        return Delay(dist, lag_unit)

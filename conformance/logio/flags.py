"""Case-attribute values (flags) as councils write them, and how a message names a value.

``parse_flags(values, value_map)`` reads a column of yes/no values: the built-in words
(``true``/``false``, ``yes``/``no``, ``y``/``n``, ``t``/``f``, ``1``/``0``, any case) and,
per column, a mapping file's own words (``"Not recorded": unknown``, ``"Y - confirmed": true``).
An empty value is unknown. Anything else is reported, by value, so the user can map it.

``quote_values`` names what could not be read ("'Not recorded' (lines 4, 9)") for a message,
unless the column holds personal data, when only the lines are given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.text import stripped_text

__all__ = ["FLAG_WORDS", "UNKNOWN", "flag_value", "parse_category", "parse_flags",
           "quote_values"]

_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "f"})
FLAG_WORDS: Final = "true, false, yes, no, y, n, t, f, 1, 0 (any case) or an empty value"
UNKNOWN: Final = "unknown"
_MAX_QUOTED: Final = 5  # distinct values quoted in one message
_MAX_LENGTH: Final = 40  # characters of one quoted value


def flag_value(target: object) -> bool | str | None:
    """What a mapping file's right-hand side means: True, False, None (unknown), or the
    text of a value that is none of these (for an error message)."""
    if isinstance(target, bool):
        return target
    if target is None:
        return None
    text = str(target).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in (UNKNOWN, "", "null", "none", "na", "n/a"):
        return None
    return str(target)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_category(values: pd.Series, categories: Sequence[str]
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """A categorical case attribute's values (such as the offence) as the index of the value in
    ``categories`` (a float; NaN = empty, unknown), and a mask of values that are none of them
    (letter case, surrounding and repeated spaces do not matter)."""
    codes, uniques = pd.factorize(stripped_text(values))
    wanted = {_fold(c): float(i) for i, c in enumerate(categories)}
    lookup = np.array([wanted.get(_fold(str(u)), np.nan) for u in uniques] + [np.nan])
    bad = np.array([str(u) != "" and _fold(str(u)) not in wanted for u in uniques] + [False])
    out: npt.NDArray[np.float64] = lookup[codes]
    bad_out: npt.NDArray[np.bool_] = bad[codes]
    return out, bad_out


def parse_flags(values: pd.Series, value_map: Mapping[str, bool | None] | None = None
                ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Values as 1.0 / 0.0 / NaN (unknown) and a mask of values that are not flags.

    ``value_map`` (local word -> True, False or None) is matched ignoring case and repeated
    spaces and is looked at before the built-in words."""
    if isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool:
        numbers = values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(numbers, dtype=np.float64), np.zeros(len(values), dtype=np.bool_)
    text = stripped_text(values)
    codes, uniques = pd.factorize(text)
    local = {_fold(k): v for k, v in (value_map or {}).items()}
    lookup: list[float] = []
    bad: list[bool] = []
    for unique in uniques:
        folded = _fold(str(unique))
        if folded in local:
            meaning = local[folded]
            lookup.append(np.nan if meaning is None else 1.0 if meaning else 0.0)
            bad.append(False)
        elif folded in _TRUE:
            lookup.append(1.0)
            bad.append(False)
        elif folded in _FALSE or folded == "":
            lookup.append(0.0 if folded else np.nan)
            bad.append(False)
        else:
            lookup.append(np.nan)
            bad.append(True)
    table = np.asarray([*lookup, np.nan], dtype=np.float64)
    bad_table = np.asarray([*bad, False], dtype=bool)
    flags: npt.NDArray[np.float64] = table[codes]
    bad_out: npt.NDArray[np.bool_] = bad_table[codes]
    return flags, bad_out


def quote_values(texts: pd.Series, mask: npt.NDArray[np.bool_], personal: bool = False) -> str:
    """'the text '31/02/2024'' or 'texts such as 'N/K', 'Maybe' (3 different)' for the rows
    in ``mask``; a neutral description when the column holds personal data."""
    if personal:
        return "values in a column that looks like personal data (not shown)"
    chosen = texts[mask] if len(texts) == len(mask) else texts
    distinct = list(dict.fromkeys(str(v) for v in chosen))
    shown = []
    for value in distinct[:_MAX_QUOTED]:
        clipped = value if len(value) <= _MAX_LENGTH else value[: _MAX_LENGTH - 1] + "…"
        shown.append(repr(clipped))
    if len(distinct) == 1:
        return f"the text {shown[0]}"
    more = f", ... ({len(distinct):,} different)" if len(distinct) > _MAX_QUOTED else ""
    return "the texts " + ", ".join(shown) + more

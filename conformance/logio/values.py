"""Values of a log: timestamps (ISO 8601 or a given format; naive ones are Europe/London wall
time), yes/no case attributes, and text (one dtype, ``TEXT``, under pandas 2.3 and 3) with
surrounding spaces removed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from model.calendar import LONDON
from model.errors import InputError, Problem

_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})


_FALSE: Final = frozenset({"false", "0", "no", "n", "f"})


FLAG_WORDS: Final = "true, false, yes, no, y, n, t, f, 1, 0 (any case) or an empty value"


OLDEST_YEAR: Final = 1900


NEWEST_YEAR: Final = 2199


_DATE_RE: Final = r"\d{4}-\d{2}-\d{2}"


_NAIVE_RE: Final = _DATE_RE + r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"


_OFFSET_RE: Final = _NAIVE_RE + r"\s?(?:Z|[+-]\d{2}(?::?\d{2})?)"


ISO_EXPECTED: Final = (
    "an ISO 8601 date-time (such as 2024-05-01T09:30:00, optionally with an offset "
    "such as Z or +01:00) or a date (2024-05-01)"
)


TEXT: Final = pd.StringDtype(na_value=np.nan)
"""The dtype of every column of text: pandas' ``str`` (pandas 3's default), where a missing
value stays missing (NaN). It is named rather than written ``dtype="str"`` or ``astype(str)``
because under pandas 2.3 those mean NumPy strings, which turn a missing value into the text
'None' or 'nan'; named, it is the same dtype under pandas 2.3 and 3."""


def as_text(
    values: pd.Series | pd.Index | ExtensionArray | npt.NDArray[Any] | Sequence[object],
) -> pd.Series:
    """``values`` as a column of text (``TEXT``): missing values (None, NaN, NA) stay missing,
    other values become their text.

    >>> as_text(["a", None, 12]).tolist()
    ['a', nan, '12']
    """
    if isinstance(values, pd.Series):
        return values if values.dtype == TEXT else values.astype(TEXT)
    return pd.Series(values, dtype=TEXT)


def stripped_text(values: pd.Series) -> pd.Series:
    """Values as text with surrounding spaces removed; missing becomes ''."""
    return as_text(values).fillna("").str.strip()


@dataclass(frozen=True)
class Times:
    ns: npt.NDArray[np.int64]  # UTC nanoseconds since the epoch (only where valid)
    valid: npt.NDArray[np.bool_]
    date_only: npt.NDArray[np.bool_]
    empty: npt.NDArray[np.bool_]
    unparseable: npt.NDArray[np.bool_]
    out_of_range: npt.NDArray[np.bool_]
    ambiguous: int  # wall times in the repeated hour (read as BST)
    nonexistent: int  # wall times in the skipped hour (moved forward)


def _localise(naive: pd.Series) -> tuple[pd.Series, int, int]:
    """Europe/London wall-clock times to UTC, counting the DST-ambiguous and -skipped ones."""
    local = naive.dt.tz_localize(LONDON, ambiguous="NaT", nonexistent="NaT")
    odd = (local.isna() & naive.notna()).to_numpy()
    ambiguous = nonexistent = 0
    if odd.any():
        wall = naive[odd]
        first = np.ones(len(wall), dtype=bool)  # True = daylight time: the first reading
        fixed = wall.dt.tz_localize(LONDON, ambiguous=first, nonexistent="shift_forward")
        nonexistent = int((fixed.dt.tz_localize(None) != wall).sum())
        ambiguous = len(wall) - nonexistent
        local = local.where(~odd, fixed)
    return local.dt.tz_convert("UTC"), ambiguous, nonexistent


def _to_ns(
    parsed_utc: pd.Series,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """UTC nanoseconds, a valid mask and an out-of-range mask for parsed UTC times."""
    valid = parsed_utc.notna().to_numpy()
    years = parsed_utc.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    in_range = valid & (years >= OLDEST_YEAR) & (years <= NEWEST_YEAR)
    naive = parsed_utc.dt.tz_localize(None).where(in_range)
    ns = naive.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view(np.int64)
    return ns, in_range, valid & ~in_range


_TIME_DIRECTIVES: Final = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R")


def parse_times(values: pd.Series, fmt: str | None, source: str) -> Times:
    n = len(values)
    ns = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    date_only = np.zeros(n, dtype=bool)
    out_of_range = np.zeros(n, dtype=bool)
    ambiguous = nonexistent = 0

    def store(mask: npt.NDArray[np.bool_], parsed_utc: pd.Series) -> None:
        part_ns, part_ok, part_oor = _to_ns(parsed_utc)
        where = np.flatnonzero(mask)
        ns[where[part_ok]] = part_ns[part_ok]
        valid[where[part_ok]] = True
        out_of_range[where[part_oor]] = True

    def store_naive(mask: npt.NDArray[np.bool_], parsed: pd.Series) -> None:
        nonlocal ambiguous, nonexistent
        utc, amb, non = _localise(parsed)
        ambiguous += amb
        nonexistent += non
        store(mask, utc)

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        empty = values.isna().to_numpy()
        store(~empty, values[~empty].dt.tz_convert("UTC"))
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        empty = values.isna().to_numpy()
        store_naive(~empty, values[~empty])
    else:
        text = stripped_text(values)
        empty = (text == "").to_numpy()
        if fmt is not None:
            zoned = "%z" in fmt or "%Z" in fmt
            try:
                parsed = pd.to_datetime(text[~empty], format=fmt, errors="coerce", utc=zoned)
            except ValueError:
                raise InputError(
                    source,
                    [
                        Problem(
                            "option timestamp_format",
                            "a strptime format such as %Y/%m/%d %H:%M:%S",
                            "a format that cannot be used",
                        )
                    ],
                ) from None
            if zoned:
                store(~empty, parsed)
            else:
                store_naive(~empty, parsed)
            date_only[:] = not any(d in fmt for d in _TIME_DIRECTIVES)
        else:
            naive = text.str.fullmatch(_NAIVE_RE).to_numpy(dtype=bool)
            if naive.any():
                store_naive(naive, pd.to_datetime(text[naive], format="ISO8601", errors="coerce"))
            rest = ~naive & ~empty
            if rest.any():
                rest_text = text[rest]
                dates = np.zeros(n, dtype=bool)
                dates[rest] = rest_text.str.fullmatch(_DATE_RE).to_numpy(dtype=bool)
                offsets = np.zeros(n, dtype=bool)
                offsets[rest] = rest_text.str.fullmatch(_OFFSET_RE).to_numpy(dtype=bool)
                if dates.any():
                    store_naive(
                        dates, pd.to_datetime(text[dates], format="%Y-%m-%d", errors="coerce")
                    )
                    date_only |= dates
                if offsets.any():
                    store(
                        offsets,
                        pd.to_datetime(text[offsets], format="ISO8601", errors="coerce", utc=True),
                    )
        failed = ~empty & ~valid & ~out_of_range
        if failed.any():
            out_of_range[failed] = _well_formed_far_dates(text[failed], fmt)
    unparseable = ~empty & ~valid & ~out_of_range
    return Times(
        ns, valid, date_only & valid, empty, unparseable, out_of_range, ambiguous, nonexistent
    )


_FAR_YEAR: Final = r"0\d{3}|1[0-8]\d{2}|2[2-9]\d{2}|[3-9]\d{3}"  # outside 1900-2199


def _well_formed_far_dates(text: pd.Series, fmt: str | None) -> npt.NDArray[np.bool_]:
    """Which of ``text`` (timestamps that did not parse) are well formed, with a year outside
    ``OLDEST_YEAR``..``NEWEST_YEAR``: out of range rather than unreadable.

    pandas 2 parses text into nanoseconds only, a range ending in 1677 and 2262, and gives up on
    dates beyond it that pandas 3 reads; this finds them under both. An ISO 8601 value is parsed
    again with its year replaced by one inside the range that has the same leap day (the year
    is its first four digits); a value in a given format that has a far-off year in it is
    parsed by ``datetime.strptime``.
    """
    far = np.zeros(len(text), dtype=bool)
    if fmt is None:
        iso = text.str.fullmatch(f"{_NAIVE_RE}|{_OFFSET_RE}|{_DATE_RE}").to_numpy(dtype=bool)
        years = text[iso].str.slice(0, 4).astype(np.int64).to_numpy()
        outside = (years < OLDEST_YEAR) | (years > NEWEST_YEAR)
        leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
        proxy = np.where(leap, "2000", "2001") + text[iso].str.slice(4)
        parsed = pd.to_datetime(proxy, format="ISO8601", errors="coerce", utc=True)
        far[iso] = outside & parsed.notna().to_numpy()
    elif "%Y" in fmt:
        for i in np.flatnonzero(text.str.contains(_FAR_YEAR).to_numpy(dtype=bool)):
            try:
                year = datetime.strptime(text.iloc[i], fmt).year
            except ValueError:
                continue
            far[i] = year < OLDEST_YEAR or year > NEWEST_YEAR
    return far


def parse_flags(values: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Case-attribute values as 1.0 / 0.0 / NaN (unknown), and a mask of unreadable ones."""
    if isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool:
        numbers = values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(numbers, dtype=np.float64), np.zeros(len(values), dtype=np.bool_)
    codes, uniques = pd.factorize(stripped_text(values).str.lower())
    lookup = np.array(
        [1.0 if u in _TRUE else 0.0 if u in _FALSE else np.nan for u in uniques] + [np.nan]
    )
    bad = np.array([u != "" and u not in _TRUE and u not in _FALSE for u in uniques] + [False])
    flags_out: npt.NDArray[np.float64] = lookup[codes]
    bad_out: npt.NDArray[np.bool_] = bad[codes]
    return flags_out, bad_out


def as_utc(value: pd.Timestamp | datetime | str) -> pd.Timestamp:
    """An instant as a UTC timestamp in nanoseconds; a naive one is Europe/London wall time (in
    the repeated hour the first, British Summer Time, reading; in the skipped hour moved
    forward)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("ns")

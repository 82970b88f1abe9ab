"""Timestamps as councils write them: ISO 8601, ``dd/mm/yyyy`` with or without a time, Excel's
own dates, and a day and month whose order the whole column decides.

``parse_timestamps(values, spec)`` reads one column. What it guarantees:

* ISO 8601 (``2024-05-01T09:30``, ``2024-05-01 09:30:00+01:00``, ``2024-05-01``) is read as
  the contract says (CONTRACT §3): without an offset, Europe/London wall-clock time.
* Without formats (the default, also called ``auto``; the old value ``mixed`` means the same),
  a date written with slashes, dots or dashes and a four-digit year last (``09/12/2024``,
  ``9.12.2024``) may carry a time (``09/12/2024 14:05``, ``09/12/2024 14:05:30``) or not, row
  by row; so may ``9 Dec 2024`` and ``09-Dec-2024 14:05``. Which number is the day is decided
  once for the whole column, never row by row: a first number over 12 proves day-first, a
  second number over 12 proves month-first. ``order="auto"`` (the default) reads day-first,
  the way England and Wales write dates, unless the column proves month-first; a column in
  which both orders are proven stops with the rows of the smaller group named. An explicit
  ``order`` ("day-first", "month-first") is followed, and rows that contradict it are errors.
* With formats (strptime, tried in order on each row), a row is read by the first format
  that fits; a format without a time directive makes a date-only event.
* A date without a time is ``date_only``: known to the day, standing for local midnight.

Nothing here knows about files: positions for messages are the caller's business. The result
says which rows could not be read, which contradicted the order, and how the order was
decided (``order_note``, a sentence for the reader of the summary).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.text import stripped_text
from model.calendar import LONDON

__all__ = [
    "AUTOMATIC_FORMATS",
    "DATE_ORDERS",
    "ISO_EXPECTED",
    "NEWEST_YEAR",
    "OLDEST_YEAR",
    "FormatError",
    "Times",
    "TimestampSpec",
    "parse_timestamps",
    "timestamp_spec",
]

OLDEST_YEAR: Final = 1900
NEWEST_YEAR: Final = 2199
DATE_ORDERS: Final = ("auto", "day-first", "month-first")
AUTOMATIC_FORMATS: Final = ("auto", "mixed")  # format values that mean "read it automatically"

ISO_EXPECTED: Final = (
    "an ISO 8601 date-time (such as 2024-05-01T09:30:00, optionally with an offset such as Z "
    "or +01:00), a date (2024-05-01), or a UK date such as 01/05/2024 or 01/05/2024 09:30"
)

# [0-9] and a space, not \d and \s: pandas then runs them in pyarrow (RE2), ten times faster.
_DATE_RE: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_NAIVE_RE: Final = _DATE_RE + r"[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
_OFFSET_RE: Final = _NAIVE_RE + r" ?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
_TIME_PART: Final = r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?)?"
_NUMERIC_RE: Final = re.compile(
    r"^(?P<first>\d{1,2})(?P<sep>[/.\-])(?P<second_field>\d{1,2})(?P=sep)(?P<year>\d{4})" + _TIME_PART + "$"
)
_NAMED_RE: Final = re.compile(
    r"^(?P<day>\d{1,2})[ \-/]+(?P<month_name>[A-Za-z]{3,9})\.?[ \-/,]+(?P<year>\d{4})" + _TIME_PART + "$"
)
_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME_DIRECTIVES: Final = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R")

Bools = npt.NDArray[np.bool_]


class FormatError(ValueError):
    """A timestamp format or date order that cannot be used (``expected``/``found``)."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(found)
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class TimestampSpec:
    """How to read a timestamp column: strptime ``formats`` tried in order (empty: automatic)
    and, for automatic reading, the ``order`` of day and month (``DATE_ORDERS``)."""

    formats: tuple[str, ...] = ()
    order: str = "auto"

    def __post_init__(self) -> None:
        if self.order not in DATE_ORDERS:
            raise FormatError("one of " + ", ".join(DATE_ORDERS), f"{self.order!r}")

    def describe(self) -> str:
        if self.formats:
            return " or ".join(self.formats)
        return {"auto": "automatic (day-first unless the data prove otherwise)",
                "day-first": "automatic, day first", "month-first": "automatic, month first"}[
            self.order
        ]


def timestamp_spec(formats: str | Sequence[str] | None = None, order: str | None = None
                   ) -> TimestampSpec:
    """A spec from option values: one format, several, ``auto``/``mixed`` (automatic) or None.

    Raises ``FormatError`` for a format pandas cannot use or an unknown order."""
    if formats is None:
        listed: list[str] = []
    elif isinstance(formats, str):
        listed = [formats]
    else:
        listed = list(formats)
    cleaned: list[str] = []
    for fmt in listed:
        if not isinstance(fmt, str) or not fmt.strip():
            raise FormatError("a strptime format such as %d/%m/%Y %H:%M", "an empty format")
        if fmt.strip().lower() in AUTOMATIC_FORMATS:
            if len(listed) > 1:
                raise FormatError(
                    "either 'auto' alone or a list of strptime formats",
                    f"{fmt.strip()!r} together with other formats",
                )
            return TimestampSpec((), order or "auto")
        if "%" not in fmt:
            raise FormatError(
                "a strptime format such as %d/%m/%Y %H:%M (or 'auto')",
                f"{fmt!r}, which has no % directive",
            )
        try:
            pd.to_datetime(pd.Series(["2024-01-01"]), format=fmt, errors="coerce")
        except ValueError:
            raise FormatError(
                "a strptime format such as %d/%m/%Y %H:%M", f"{fmt!r}, which cannot be used"
            ) from None
        cleaned.append(fmt)
    return TimestampSpec(tuple(cleaned), order or "auto")


@dataclass(frozen=True)
class Times:
    """One column of timestamps, read. Masks have one entry per row."""

    ns: npt.NDArray[np.int64]  # UTC nanoseconds since the epoch (where ``valid``)
    valid: Bools
    date_only: Bools
    empty: Bools
    unparseable: Bools  # text that is no timestamp the spec reads
    out_of_range: Bools  # a date before OLDEST_YEAR or after NEWEST_YEAR
    contradicting: Bools  # a dd/mm date whose numbers contradict the column's order
    ambiguous: int  # wall times in the repeated hour (read as BST)
    nonexistent: int  # wall times in the skipped hour (moved forward)
    order: str = ""  # "day-first" or "month-first" when numeric dates were read
    order_note: str = ""  # how the order was decided, in a sentence
    proof_row: int = -1  # a row whose numbers prove the order used (-1: none)
    contradiction: str = ""  # what the contradicting rows were measured against


def _localise(naive: pd.Series) -> tuple[pd.Series, int, int]:
    """Europe/London wall-clock times to UTC, counting the DST-ambiguous and -skipped ones.

    Each distinct wall time is localised once (pandas localises to a ``ZoneInfo`` value by
    value, some ten microseconds each; a log repeats its dates and times many times)."""
    codes, distinct = pd.factorize(naive)  # a missing time: -1
    wall = pd.Series(distinct)
    local = wall.dt.tz_localize(LONDON, ambiguous="NaT", nonexistent="NaT")
    odd = (local.isna() & wall.notna()).to_numpy()
    moved = np.zeros(len(wall), dtype=bool)  # in the skipped hour (moved forward)
    if odd.any():
        skewed = wall[odd]
        first = np.ones(len(skewed), dtype=bool)  # True = daylight time: the first reading
        fixed = skewed.dt.tz_localize(LONDON, ambiguous=first, nonexistent="shift_forward")
        moved[odd] = (fixed.dt.tz_localize(None) != skewed).to_numpy()
        local = local.where(~odd, fixed)
    present = codes[codes >= 0]
    nonexistent = int(moved[present].sum())
    ambiguous = int(odd[present].sum()) - nonexistent
    utc = pd.api.extensions.take(local.dt.tz_convert("UTC").array, codes, allow_fill=True)
    return pd.Series(utc, index=naive.index), ambiguous, nonexistent


def _to_ns(parsed_utc: pd.Series) -> tuple[npt.NDArray[np.int64], Bools, Bools]:
    """UTC nanoseconds, a valid mask and an out-of-range mask for parsed UTC times."""
    valid = parsed_utc.notna().to_numpy()
    years = parsed_utc.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    in_range = valid & (years >= OLDEST_YEAR) & (years <= NEWEST_YEAR)
    naive = parsed_utc.dt.tz_localize(None).where(in_range)
    ns = naive.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view(np.int64)
    return ns, in_range, valid & ~in_range


def _text(values: pd.Series) -> pd.Series:
    return stripped_text(values)


class _Store:
    """Collects parsed parts of a column into whole-column arrays."""

    def __init__(self, n: int) -> None:
        self.ns = np.zeros(n, dtype=np.int64)
        self.valid = np.zeros(n, dtype=bool)
        self.out_of_range = np.zeros(n, dtype=bool)
        self.date_only = np.zeros(n, dtype=bool)
        self.ambiguous = 0
        self.nonexistent = 0

    def utc(self, mask: Bools, parsed_utc: pd.Series) -> None:
        part_ns, part_ok, part_oor = _to_ns(parsed_utc)
        where = np.flatnonzero(mask)
        self.ns[where[part_ok]] = part_ns[part_ok]
        self.valid[where[part_ok]] = True
        self.out_of_range[where[part_oor]] = True

    def naive(self, mask: Bools, parsed: pd.Series) -> None:
        utc, amb, non = _localise(parsed)
        self.ambiguous += amb
        self.nonexistent += non
        self.utc(mask, utc)


def parse_timestamps(values: pd.Series, spec: TimestampSpec = TimestampSpec()) -> Times:
    """Read one column of timestamps (text, or datetimes already typed) as ``spec`` says."""
    n = len(values)
    store = _Store(n)
    none = np.zeros(n, dtype=bool)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        empty = values.isna().to_numpy()
        store.utc(~empty, values[~empty].dt.tz_convert("UTC"))
        return _result(store, empty, none)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        empty = values.isna().to_numpy()
        store.naive(~empty, values[~empty])
        return _result(store, empty, none)
    text = _text(values)
    empty = (text == "").to_numpy()
    if spec.formats:
        _with_formats(text, empty, spec.formats, store)
        return _result(store, empty, none, text=text, formats=spec.formats)
    rest = _iso(text, empty, store)
    if not rest.any():
        return _result(store, empty, none, text=text)
    return _uk(text, rest, empty, spec.order, store)


_FAR_YEAR: Final = r"0[0-9]{3}|1[0-8][0-9]{2}|2[2-9][0-9]{2}|[3-9][0-9]{3}"  # not 1900-2199


def _well_formed_far_dates(text: pd.Series, formats: Sequence[str]) -> Bools:
    """Which of ``text`` (timestamps that did not parse) are well formed, with a year outside
    ``OLDEST_YEAR``..``NEWEST_YEAR``: out of range rather than unreadable.

    pandas 2 parses text into nanoseconds only (1677 to 2262) and gives up on dates beyond
    that pandas 3 reads; this finds them under both. An ISO 8601 value is parsed again with
    its year replaced by one inside the range with the same leap day; a value in a given format
    with a far-off year in it is parsed by ``datetime.strptime``."""
    from datetime import datetime

    far = np.zeros(len(text), dtype=bool)
    if not formats:
        iso = text.str.fullmatch(f"{_NAIVE_RE}|{_OFFSET_RE}|{_DATE_RE}").to_numpy(dtype=bool)
        years = text[iso].str.slice(0, 4).astype(np.int64).to_numpy()
        outside = (years < OLDEST_YEAR) | (years > NEWEST_YEAR)
        leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
        proxy = np.where(leap, "2000", "2001") + text[iso].str.slice(4)
        parsed = pd.to_datetime(proxy, format="ISO8601", errors="coerce", utc=True)
        far[iso] = outside & parsed.notna().to_numpy()
        return far
    for i in np.flatnonzero(text.str.contains(_FAR_YEAR).to_numpy(dtype=bool)):
        for fmt in formats:
            if "%Y" not in fmt:
                continue
            try:
                year = datetime.strptime(text.iloc[i], fmt).year
            except ValueError:
                continue
            far[i] = year < OLDEST_YEAR or year > NEWEST_YEAR
            break
    return far


def _result(store: _Store, empty: Bools, contradicting: Bools, *, order: str = "",
            note: str = "", proof: int = -1, against: str = "",
            text: pd.Series | None = None, formats: Sequence[str] = ()) -> Times:
    valid = store.valid
    failed = ~empty & ~valid & ~store.out_of_range & ~contradicting
    if text is not None and failed.any():
        store.out_of_range[failed] = _well_formed_far_dates(text[failed], formats)
    unparseable = ~empty & ~valid & ~store.out_of_range & ~contradicting
    return Times(
        ns=store.ns, valid=valid, date_only=store.date_only & valid, empty=empty,
        unparseable=unparseable, out_of_range=store.out_of_range, contradicting=contradicting,
        ambiguous=store.ambiguous, nonexistent=store.nonexistent, order=order, order_note=note,
        proof_row=proof, contradiction=against,
    )


def _with_formats(text: pd.Series, empty: Bools, formats: Sequence[str], store: _Store) -> None:
    todo = ~empty
    for fmt in formats:
        if not todo.any():
            break
        zoned = "%z" in fmt or "%Z" in fmt
        try:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=zoned)
        except ValueError:
            raise FormatError(
                "a strptime format such as %d/%m/%Y %H:%M", f"{fmt!r}, which cannot be used"
            ) from None
        hit = np.zeros(len(text), dtype=bool)
        hit[np.flatnonzero(todo)[parsed.notna().to_numpy()]] = True
        if not hit.any():
            continue
        got = parsed[parsed.notna().to_numpy()]
        if zoned:
            store.utc(hit, got)
        else:
            store.naive(hit, got)
        if not any(d in fmt for d in _TIME_DIRECTIVES):
            store.date_only |= hit
        todo &= ~hit


def _iso(text: pd.Series, empty: Bools, store: _Store) -> Bools:
    """Read the ISO 8601 rows; return the mask of rows left to read another way."""
    n = len(text)
    naive = text.str.fullmatch(_NAIVE_RE).to_numpy(dtype=bool)
    if naive.any():
        store.naive(naive, _iso_times(text[naive], "ISO8601", utc=False))
    rest = ~naive & ~empty
    if not rest.any():
        return rest
    rest_text = text[rest]
    dates = np.zeros(n, dtype=bool)
    dates[rest] = rest_text.str.fullmatch(_DATE_RE).to_numpy(dtype=bool)
    offsets = np.zeros(n, dtype=bool)
    offsets[rest] = rest_text.str.fullmatch(_OFFSET_RE).to_numpy(dtype=bool)
    if dates.any():
        store.naive(dates, _iso_times(text[dates], "%Y-%m-%d", utc=False))
        store.date_only |= dates
    if offsets.any():
        store.utc(offsets, _iso_times(text[offsets], "ISO8601", utc=True))
    return rest & ~dates & ~offsets


def _iso_times(text: pd.Series, fmt: str, *, utc: bool) -> pd.Series:
    """``pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)`` for text that one of the
    ISO 8601 patterns above matched, read by pyarrow's ISO 8601 cast when it reads every value
    (some fifty times faster). pyarrow reads the same instants where it reads a value at all;
    it refuses the values pandas leaves unread (31 February, hour 24, second 60, an offset of
    25 hours, a year pandas cannot hold in nanoseconds) and a space before the offset, which
    pandas reads: then pandas reads the whole part, as before."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        stamps = pc.cast(pa.array(text.array), pa.timestamp("ns", tz="UTC" if utc else None))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        stamps = None
    if stamps is None or stamps.null_count:
        return pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
    ns = np.asarray(pc.cast(stamps, pa.int64()), dtype=np.int64)
    parsed = pd.Series(ns.view("datetime64[ns]"), index=text.index, name=text.name)
    return parsed.dt.tz_localize("UTC") if utc else parsed


def _numbers(parts: pd.DataFrame, column: str) -> npt.NDArray[np.int64]:
    return pd.to_numeric(parts[column], errors="coerce").fillna(0).to_numpy(dtype=np.int64)


def _uk(text: pd.Series, rest: Bools, empty: Bools, order: str, store: _Store) -> Times:
    """Read numeric (dd/mm/yyyy) and named-month dates, deciding the order from the column."""
    n = len(text)
    rest_index = np.flatnonzero(rest)
    numeric = text.iloc[rest_index].str.extract(_NUMERIC_RE)
    matched = numeric["first"].notna().to_numpy()
    num_rows = rest_index[matched]
    parts = numeric[matched]
    a = _numbers(parts, "first")
    b = _numbers(parts, "second_field")
    proves_dmy = (a > 12) & (b <= 12)
    proves_mdy = (b > 12) & (a <= 12)
    contradicting = np.zeros(n, dtype=bool)
    note = ""
    proof = -1
    against = ""
    if order == "auto":
        n_dmy, n_mdy = int(proves_dmy.sum()), int(proves_mdy.sum())
        if n_mdy and not n_dmy:
            used = "month-first"
            proof = int(num_rows[np.argmax(proves_mdy)])
            note = ("read month first (mm/dd/yyyy): the column has dates whose second number "
                    "is over 12 and none whose first number is")
        elif n_dmy:
            used = "day-first"
            proof = int(num_rows[np.argmax(proves_dmy)])
            note = ("read day first (dd/mm/yyyy): the column has dates whose first number is "
                    "over 12")
            if n_mdy:
                if n_mdy > n_dmy:
                    used = "month-first"
                    proof = int(num_rows[np.argmax(proves_mdy)])
                    note = "read month first (mm/dd/yyyy): most dates that prove an order do"
                    contradicting[num_rows[proves_dmy]] = True
                    against = "month first, as most dates that prove an order are"
                else:
                    contradicting[num_rows[proves_mdy]] = True
                    against = "day first, as most dates that prove an order are"
        else:
            used = "day-first"
            note = ("read day first (dd/mm/yyyy), the way England and Wales write dates: no "
                    "date in the column proves the order; say order 'month-first' if that is "
                    "wrong")
    else:
        used = order
        wrong = proves_mdy if order == "day-first" else proves_dmy
        contradicting[num_rows[wrong]] = True
        other = proves_dmy if order == "day-first" else proves_mdy
        if other.any():
            proof = int(num_rows[np.argmax(other)])
        note = f"read {used.replace('-', ' ')} as configured"
        against = f"{used.replace('-', ' ')}, as configured"
    day, month = (a, b) if used == "day-first" else (b, a)
    readable = ~contradicting[num_rows] & (a <= 31) & (b <= 31)
    _compose(num_rows[readable], parts[readable], day[readable], month[readable], store)

    left = rest.copy()
    left[num_rows] = False
    if left.any():
        left_index = np.flatnonzero(left)
        named = text.iloc[left_index].str.extract(_NAMED_RE)
        hit = named["day"].notna().to_numpy()
        if hit.any():
            named_parts = named[hit]
            month_numbers = np.asarray(
                named_parts["month_name"].str.lower().map(_MONTHS).fillna(0), dtype=np.int64
            )
            _compose(left_index[hit], named_parts, _numbers(named_parts, "day"), month_numbers,
                     store)
    return _result(store, empty, contradicting, order=used if len(num_rows) else "",
                   note=note if len(num_rows) else "", proof=proof, against=against, text=text)


def _compose(rows: npt.NDArray[np.intp], parts: pd.DataFrame, day: npt.NDArray[np.int64],
             month: npt.NDArray[np.int64], store: _Store) -> None:
    """Local date-times from their parts; impossible dates (31/02) stay unread."""
    if not len(rows):
        return
    has_time = parts["hour"].notna().to_numpy()
    fraction = parts["fraction"].fillna("").str.ljust(6, "0").replace("000000", "0")
    frame = pd.DataFrame(
        {
            "year": _numbers(parts, "year"),
            "month": month,
            "day": day,
            "hour": _numbers(parts, "hour"),
            "minute": _numbers(parts, "minute"),
            "second": _numbers(parts, "second"),
            "microsecond": pd.to_numeric(fraction, errors="coerce").fillna(0).to_numpy(np.int64),
        }
    )
    bad = (
        (frame["month"] < 1) | (frame["month"] > 12) | (frame["day"] < 1) | (frame["day"] > 31)
        | (frame["hour"] > 23) | (frame["minute"] > 59) | (frame["second"] > 59)
    ).to_numpy()
    frame.loc[bad, "month"] = 0  # makes the row NaT below
    parsed = pd.to_datetime(frame, errors="coerce")
    mask = np.zeros(len(store.valid), dtype=bool)
    mask[rows] = True
    store.naive(mask, pd.Series(parsed.to_numpy(), index=range(len(rows))))
    only = np.zeros(len(store.valid), dtype=bool)
    only[rows[~has_time]] = True
    store.date_only |= only

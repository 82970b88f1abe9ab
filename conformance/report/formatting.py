"""The words, numbers and times every output of a check shares: the lateness bands, the column
order of the deviations, ISO 8601 and local times, JSON-ready values. (HTML is escaped by the
templates that show them: ``conformance.report.templating``.)

Times are shown in Europe/London local time (``model.calendar.LONDON``).
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import pandas as pd

from model.calendar import LONDON

STATUS_LABELS: Final = {
    "satisfied": "satisfied",
    "violated": "violated",
    "pending": "pending",
    "not_applicable": "not applicable",
    "not_assessable": "not assessable",
}


LATENESS_BANDS: Final = (
    "< 1 h", "same day", "1 working day", "2-5 working days", "6-15 working days",
    "> 15 working days",
)


DEVIATION_COLUMNS: Final = (
    "case_id", "rule_id", "title", "clause", "severity", "basis", "message",
    "trigger_activity", "trigger_time", "deadline", "evidence_activity", "evidence_time",
    "late_working_days", "late_hours", "lateness", "date_only",
)


TIMELINE_CAP: Final = 30  # deviating cases drawn as timelines in the HTML report


TABLE_CAP: Final = 2_000  # deviation rows listed in the HTML report (all are in the CSV)


HEATMAP_MONTHS: Final = 60  # months shown in the per-month chart (the latest ones)


NS_PER_HOUR: Final = 3_600 * 1_000_000_000


def lateness_band(late_hours: Any, late_working_days: Any, date_only: Any = False) -> str:
    """The band of a missed deadline: '< 1 h', 'same day' (late, but less than a working day),
    '1 working day', '2-5 working days', '6-15 working days', '> 15 working days'; '' when the
    rule has no deadline (an order or absence rule). When the judgement rests on date-only
    data the hours are not known, so it is never '< 1 h'."""
    hours = number_or_none(late_hours)
    days = number_or_none(late_working_days)
    if hours is None and days is None:
        return ""
    if hours is not None and hours < 1 and not date_only:
        return LATENESS_BANDS[0]
    if days is None or days < 1:
        return LATENESS_BANDS[1]
    if days == 1:
        return LATENESS_BANDS[2]
    if days <= 5:
        return LATENESS_BANDS[3]
    if days <= 15:
        return LATENESS_BANDS[4]
    return LATENESS_BANDS[5]


def lateness_bands(late_hours: Any, late_working_days: Any, date_only: Any) -> list[str]:
    """``lateness_band`` for whole columns at once (a check may report 100,000s of rows).

    >>> lateness_bands([0.5, 0.5, 30.0, None, 400.0], [0, 0, 1, None, 20], [False, True, 0, 0, 0])
    ['< 1 h', 'same day', '1 working day', '', '> 15 working days']
    """
    hours = pd.to_numeric(pd.Series(late_hours, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    days = pd.to_numeric(pd.Series(late_working_days, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    only = np.array([bool(v) for v in date_only], dtype=bool)  # as lateness_band reads it
    no_hours, no_days = np.isnan(hours), np.isnan(days)
    with np.errstate(invalid="ignore"):
        conditions = [
            no_hours & no_days,
            ~no_hours & (hours < 1) & ~only,
            no_days | (days < 1),
            days == 1,
            days <= 5,
            days <= 15,
        ]
    chosen = np.select(conditions, ["", *LATENESS_BANDS[:5]], default=LATENESS_BANDS[5])
    return [str(band) for band in chosen.tolist()]


def lateness_text(late_hours: Any, late_working_days: Any, done: bool = True) -> str:
    """'12 minutes late', '5.5 hours late', '3 working days late'; for a step never done,
    'not done: N working days past the deadline'."""
    hours = number_or_none(late_hours)
    days = number_or_none(late_working_days)
    if hours is None and days is None:
        return ""
    if days is not None and days >= 1:
        amount = f"{int(days)} working day{'s' if days != 1 else ''}"
    elif hours is not None and hours < 1:
        minutes = max(1, round(hours * 60))
        amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
    elif hours is not None:
        amount = f"{hours:.1f} hours"
    else:
        amount = "less than a working day"
    return f"{amount} late" if done else f"not done: {amount} past the deadline"


def number_or_none(value: Any) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def iso(value: Any) -> str | None:
    """ISO 8601 in Europe/London with its offset; None for a missing time."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return str(stamp.tz_convert(LONDON).isoformat())


def iso_texts(values: pd.Series) -> list[str | None]:
    """``iso`` for a whole column at once (vectorised: a check may report 100,000s of rows)."""
    stamps = pd.to_datetime(values, utc=True)
    if len(stamps) == 0:
        return []
    missing = stamps.isna().to_numpy()
    naive = stamps.dt.tz_convert(LONDON).dt.tz_localize(None)
    offset_minutes = (
        (naive - stamps.dt.tz_localize(None)) // pd.Timedelta(minutes=1)
    ).fillna(0).astype("int64").to_numpy()
    wall = naive.to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(wall, unit="us")
    whole_second = (naive.dt.microsecond.fillna(0).to_numpy() == 0)
    text = np.where(whole_second, text.astype("U19"), text)
    signs = {m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
             for m in np.unique(offset_minutes).tolist()}
    zones = np.array([signs[m] for m in offset_minutes.tolist()], dtype="U6")
    joined = np.char.add(text.astype(str), zones)
    return [None if gone else str(t) for t, gone in zip(joined.tolist(), missing.tolist(),
                                                         strict=True)]


def shown(value: Any, *, date_only: bool = False) -> str:
    """A time for people: '2024-03-05 16:30' local, or '2024-03-05' when known to the day."""
    if value is None or value is pd.NaT:
        return ""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return ""
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    local = stamp.tz_convert(LONDON)
    return local.strftime("%Y-%m-%d") if date_only else local.strftime("%Y-%m-%d %H:%M")


def plain(value: Any) -> Any:
    """A JSON-ready value: None for missing, ISO text for times, Python numbers."""
    if isinstance(value, pd.Timestamp):
        return iso(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else round(float(value), 4)
    return str(value)


def plain_column(values: pd.Series) -> list[Any]:
    """``plain`` for a whole column, fast for the common dtypes."""
    if pd.api.types.is_bool_dtype(values.dtype) and not values.hasnans:
        return [bool(v) for v in values.tolist()]
    if pd.api.types.is_float_dtype(values.dtype):
        rounded = values.astype(float).round(4)
        return [None if math.isnan(v) else v for v in rounded.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype):
        return [None if v is None or v is pd.NA else int(v)
                for v in values.astype(object).tolist()]
    if not (isinstance(values.dtype, pd.DatetimeTZDtype)
            or pd.api.types.is_datetime64_dtype(values.dtype)):
        # Text (the common case, and the slow one value by value): missing values become None
        # at once; only a column holding other kinds of values goes value by value.
        items: list[Any] = list(values.astype(object).where(values.notna(), None))
        if all(type(v) is str or v is None for v in items):
            return items
    return [plain(v) for v in values.tolist()]


def percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}%"

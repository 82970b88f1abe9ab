"""An ``EventLog`` built from frames already in the reader's schema (``log_from_frame``, for the
simulator and tests): no file, no checks of values, only the schema's types and order."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.schema import EventLog
from conformance.logio.values import TEXT, as_text, as_utc
from model.calendar import LONDON

__all__ = ["log_from_frame"]


def log_from_frame(
    events: pd.DataFrame,
    cases: pd.DataFrame | None = None,
    as_of: pd.Timestamp | datetime | str | None = None,
    source: str = "<frame>",
) -> EventLog:
    """An ``EventLog`` built from frames already in the reader's schema (for simulators, tests).

    ``events`` needs ``case_id``, ``activity`` and ``time_utc`` (aware, or naive = Europe/London
    wall time); ``date_only`` (default False), ``source_row`` (default: the row order),
    ``resource`` and ``role`` are optional. ``cases`` is indexed by case id with boolean columns
    (NA = unknown); by default every attribute of every case is unknown. ``as_of`` defaults to
    the latest event time. The events are sorted by case (in order of first appearance), time
    and file order.
    """
    times = pd.Series(pd.to_datetime(events["time_utc"])).reset_index(drop=True)
    if times.dt.tz is None:
        times = times.dt.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    n = len(events)
    frame = pd.DataFrame(
        {
            "case_id": as_text(events["case_id"]).array,
            "activity": as_text(events["activity"]).array,
            "time_utc": times.dt.tz_convert(UTC).dt.as_unit("ns").array,
            "date_only": (
                events["date_only"].to_numpy(dtype=bool)
                if "date_only" in events
                else np.zeros(n, dtype=bool)
            ),
            "source_row": (
                events["source_row"].to_numpy(dtype=np.int64)
                if "source_row" in events
                else np.arange(n, dtype=np.int64)
            ),
        }
    )
    for column in ("resource", "role"):
        values = events[column].to_numpy() if column in events else [pd.NA] * n
        frame[column] = as_text(values).array
    case_order, ids = pd.factorize(frame["case_id"])
    order = np.lexsort((frame["source_row"].to_numpy(), _utc_ns(frame["time_utc"]), case_order))
    frame = frame.iloc[order].reset_index(drop=True)
    index = pd.Index(ids, dtype=TEXT, name="case_id")
    if cases is None:
        table = pd.DataFrame(index=index)
    else:
        table = cases.copy()
        table.index = pd.Index(table.index.astype(TEXT), name="case_id")
        table = table.reindex(index)
        for name in table.columns:  # true/false columns; a categorical one stays text
            try:
                table[name] = table[name].astype("boolean")
            except (TypeError, ValueError):
                table[name] = as_text(table[name])
    if as_of is not None:
        stamp = as_utc(as_of)
    elif n:
        stamp = pd.Timestamp(frame["time_utc"].max())
    else:
        stamp = pd.Timestamp("1970-01-01", tz=UTC)
    return EventLog(
        source=source,
        events=frame,
        cases=table,
        as_of=stamp,
        warnings=(),
        unknown_activities={},
        attribute_conflicts=pd.DataFrame({"case_id": [], "attribute": []}, dtype=TEXT),
        personal_data_columns=(),
        excluded_after_as_of=0,
    )


def _utc_ns(values: pd.Series) -> npt.NDArray[np.int64]:
    """``int64`` UTC nanoseconds of an aware datetime column."""
    return np.asarray(pd.DatetimeIndex(values).tz_convert(UTC).as_unit("ns").asi8, dtype=np.int64)

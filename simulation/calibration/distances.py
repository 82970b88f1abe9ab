"""The log distance measures of Chapela-Campa et al. (2023), computed on whole arrays.

The ``log-distance-measures`` package defines the measures that business-process-simulation
research reports (and Simod prints); its code walks the cases one by one in Python, which takes
minutes for twenty simulated logs of 10,000 cases. These functions compute the same
definitions with numpy and ``scipy.stats.wasserstein_distance`` (the package's default metric),
for logs of complete events (start = end), and ``tests/test_calibration.py`` checks that they
give the package's own figures:

- ``ngram``: the 3-gram distribution distance of the control flow (each case's activities in
  time order, padded with two empty symbols at each end; the sum of the absolute differences of
  the n-gram counts over the sum of the counts: 0 = the same, 1 = nothing shared);
- ``absolute``: events by absolute hour from the earlier log's first hour (Wasserstein, hours);
- ``circadian``: events by hour of the day, compared weekday by weekday and averaged (a weekday
  with events in one log only counts 23);
- ``relative``: events by whole hours since their case's first event (hours);
- ``cycle_time``: cases by whole days from first to last event (days);
- ``arrivals``: cases by the absolute hour of their first event (hours).

A log here is a ``Prepared`` log: case codes, activities and local wall-clock times (ns), sorted
by case and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.calendar import LONDON

__all__ = ["MEASURES", "Prepared", "distances", "prepare"]

MEASURES: Final = ("ngram", "absolute", "circadian", "relative", "cycle_time", "arrivals")
_HOUR: Final = 3_600_000_000_000
_DAY: Final = 24 * _HOUR

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Prepared:
    """A log reduced to what the measures read."""

    case: IntArray  # case code of each event (cases numbered in order of appearance)
    activity: npt.NDArray[np.object_]  # activity name of each event
    t: IntArray  # local wall-clock time (ns) of each event
    starts: IntArray  # index of each case's first event
    ends: IntArray  # one past each case's last event


def prepare(events: pd.DataFrame) -> Prepared:
    """From an event frame with case_id, activity and time_utc (aware) columns."""
    local = pd.DatetimeIndex(events["time_utc"]).tz_convert(LONDON).tz_localize(None)
    t = local.as_unit("ns").asi8
    codes, _ = pd.factorize(events["case_id"].astype(str), sort=False)
    order = np.lexsort((t, codes))
    case = codes[order].astype(np.int64)
    t = t[order]
    activity = events["activity"].astype(str).to_numpy(dtype=object)[order]
    boundaries = np.flatnonzero(np.diff(case)) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64)
    ends = np.concatenate([boundaries, [len(case)]]).astype(np.int64)
    return Prepared(case, activity, t, starts, ends)


def _wasserstein(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    from scipy import stats

    return float(stats.wasserstein_distance(np.asarray(a, dtype=float),
                                            np.asarray(b, dtype=float)))


def _ngrams(log: Prepared, codes: dict[str, int], n: int) -> dict[int, int]:
    k = len(codes) + 1
    acts = np.fromiter((codes[a] for a in log.activity), dtype=np.int64, count=len(log.activity))
    lengths = log.ends - log.starts
    # each case padded with n-1 zeros at both ends, cases laid end to end
    padded_len = lengths + 2 * (n - 1)
    offsets = np.concatenate([[0], np.cumsum(padded_len)[:-1]])
    total = int(padded_len.sum())
    seq = np.zeros(total, dtype=np.int64)
    positions = np.repeat(offsets + (n - 1), lengths) + (
        np.arange(len(acts)) - np.repeat(log.starts, lengths))
    seq[positions] = acts
    windows = lengths + n - 1  # windows per case
    first = np.repeat(offsets, windows) + (np.arange(int(windows.sum()))
                                           - np.repeat(np.cumsum(windows) - windows, windows))
    key = np.zeros(len(first), dtype=np.int64)
    for j in range(n):
        key = key * k + seq[first + j]
    values, counts = np.unique(key, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def _ngram_distance(a: Prepared, b: Prepared, n: int = 3) -> float:
    labels = sorted(set(a.activity.tolist()) | set(b.activity.tolist()))
    codes = {label: i + 1 for i, label in enumerate(labels)}
    ca, cb = _ngrams(a, codes, n), _ngrams(b, codes, n)
    keys = set(ca) | set(cb)
    diff = sum(abs(ca.get(key, 0) - cb.get(key, 0)) for key in keys)
    return float(diff / (sum(ca.values()) + sum(cb.values())))


def _circadian(a: Prepared, b: Prepared) -> float:
    def split(log: Prepared) -> tuple[IntArray, IntArray]:
        days = log.t // _DAY
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        hour = (log.t - days * _DAY) // _HOUR
        return weekday, hour

    wa, ha = split(a)
    wb, hb = split(b)
    out = []
    for day in range(7):
        x, y = ha[wa == day], hb[wb == day]
        if len(x) and len(y):
            out.append(_wasserstein(x, y))
        elif not len(x) and not len(y):
            out.append(0.0)
        else:
            out.append(23.0)
    return float(np.mean(out))


def distances(a: Prepared, b: Prepared) -> dict[str, float]:
    """Every measure between two logs (``MEASURES``)."""
    first_a, first_b = a.t[a.starts], b.t[b.starts]
    origin = min(int(a.t.min()), int(b.t.min()))
    origin -= origin % _HOUR
    arrivals_origin = min(int(first_a.min()), int(first_b.min()))
    arrivals_origin -= arrivals_origin % _HOUR
    ct_a = a.t[a.ends - 1] - first_a
    ct_b = b.t[b.ends - 1] - first_b
    shortest = min(int(ct_a.min()), int(ct_b.min()))
    return {
        "ngram": _ngram_distance(a, b),
        "absolute": _wasserstein((a.t - origin) // _HOUR, (b.t - origin) // _HOUR),
        "circadian": _circadian(a, b),
        "relative": _wasserstein((a.t - np.repeat(first_a, a.ends - a.starts)) // _HOUR,
                                 (b.t - np.repeat(first_b, b.ends - b.starts)) // _HOUR),
        "cycle_time": _wasserstein((ct_a - shortest) // _DAY, (ct_b - shortest) // _DAY),
        "arrivals": _wasserstein((first_a - arrivals_origin) // _HOUR,
                                 (first_b - arrivals_origin) // _HOUR),
    }


def package_distances(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    """The same measures by the ``log-distance-measures`` package itself (slow; for tests and
    the benchmark). Frames with case_id, activity, time_utc."""
    import contextlib
    import io
    from datetime import timedelta

    from log_distance_measures.absolute_event_distribution import (  # type: ignore[import-untyped]
        absolute_event_distribution_distance,
    )
    from log_distance_measures.case_arrival_distribution import (  # type: ignore[import-untyped]
        case_arrival_distribution_distance,
    )
    from log_distance_measures.circadian_event_distribution import (  # type: ignore[import-untyped]
        circadian_event_distribution_distance,
    )
    from log_distance_measures.config import (  # type: ignore[import-untyped]
        AbsoluteTimestampType,
        EventLogIDs,
    )
    from log_distance_measures.cycle_time_distribution import (  # type: ignore[import-untyped]
        cycle_time_distribution_distance,
    )
    from log_distance_measures.n_gram_distribution import (  # type: ignore[import-untyped]
        n_gram_distribution_distance,
    )
    from log_distance_measures.relative_event_distribution import (  # type: ignore[import-untyped]
        relative_event_distribution_distance,
    )

    def frame(events: pd.DataFrame) -> pd.DataFrame:
        local = pd.DatetimeIndex(events["time_utc"]).tz_convert(LONDON).tz_localize(None)
        return pd.DataFrame({"case": events["case_id"].astype(str).to_numpy(),
                             "activity": events["activity"].astype(str).to_numpy(),
                             "start": local, "end": local})

    x, y = frame(a), frame(b)
    ids = EventLogIDs(case="case", activity="activity", start_time="start", end_time="end")
    end = AbsoluteTimestampType.END
    with contextlib.redirect_stdout(io.StringIO()):
        return {
            "ngram": n_gram_distribution_distance(x, ids, y, ids, n=3),
            "absolute": absolute_event_distribution_distance(x, ids, y, ids,
                                                             discretize_type=end),
            "circadian": circadian_event_distribution_distance(x, ids, y, ids,
                                                               discretize_type=end),
            "relative": relative_event_distribution_distance(x, ids, y, ids,
                                                             discretize_type=end),
            "cycle_time": cycle_time_distribution_distance(x, ids, y, ids,
                                                           bin_size=timedelta(days=1)),
            "arrivals": case_arrival_distribution_distance(x, ids, y, ids),
        }

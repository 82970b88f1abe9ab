"""Working time and small statistics for calibration: office minutes between two instants, the
Wilson and Poisson intervals, and the fit of a step's delays to the families a scenario file can
hold (``fit_delay``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.calendar import LONDON, WorkingCalendar

__all__ = [
    "EMPIRICAL_POINTS",
    "MIN_SAMPLE",
    "DelayFit",
    "Z",
    "fit_delay",
    "local_naive",
    "minutes_of",
    "poisson_interval",
    "sig",
    "wilson",
    "working_minutes",
]

MIN_SAMPLE: Final = 10  # fewer observations than this: the number stays an assumption
EMPIRICAL_POINTS: Final = 40  # quantiles kept when no family fits
_P_FIT: Final = 0.05  # a family fits when its KS p-value is at least this
Z: Final = 1.959963984540054


@dataclass(frozen=True)
class DelayFit:
    """The delays of one step fitted to a distribution (working days)."""

    activity: str
    n: int
    family: str  # exponential, lognormal, triangular, uniform, fixed or empirical
    table: Mapping[str, Any]  # the scenario's distribution table (with unit)
    mean: float  # of the samples
    mean_low: float  # 95% interval of the mean
    mean_high: float
    ks: float  # KS distance of the family kept (nan for empirical)
    p_value: float
    candidates: pd.DataFrame  # family, usable, ks, p_value, parameters



# ------------------------------------------------------------------------- working time


def local_naive(times: pd.Series) -> npt.NDArray[np.datetime64]:
    local = pd.DatetimeIndex(times).tz_convert(LONDON).tz_localize(None)
    result: npt.NDArray[np.datetime64] = local.to_numpy(dtype="datetime64[ns]")
    return result


def working_minutes(times: pd.Series, calendar: WorkingCalendar, office_open: time,
                    office_close: time, date_only: npt.ArrayLike | None = None
                    ) -> npt.NDArray[np.float64]:
    """Minutes of office time (``office_open``-``office_close`` local, on working days) from a
    fixed origin to each instant: the difference of two is the working time between them. A
    date-only event counts as the end of its day's office hours."""
    local = local_naive(times)
    days = local.astype("datetime64[D]")
    length = minutes_of(office_close) - minutes_of(office_open)
    before = np.busday_count(np.datetime64("1990-01-01"), days,
                             busdaycal=calendar.busdaycalendar).astype(float)
    working = np.is_busday(days, busdaycal=calendar.busdaycalendar)
    minute = (local - days).astype("timedelta64[s]").astype(float) / 60.0
    if date_only is not None:
        minute = np.where(np.asarray(date_only, dtype=bool), minutes_of(office_close), minute)
    inside = np.clip(minute - minutes_of(office_open), 0.0, length) * working
    result: npt.NDArray[np.float64] = before * length + inside
    return result


def minutes_of(at: time) -> float:
    return float(at.hour * 60 + at.minute)


# ------------------------------------------------------------------------- small statistics


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(k: int) -> tuple[float, float]:
    """The exact (Garwood) 95% interval of a Poisson count."""
    from scipy import stats

    low = 0.0 if k == 0 else float(stats.chi2.ppf(0.025, 2 * k)) / 2
    high = float(stats.chi2.ppf(0.975, 2 * k + 2)) / 2
    return low, high


def sig(x: float, digits: int = 4) -> float:
    """A float rounded to ``digits`` significant figures (what the file shows)."""
    if x == 0 or not math.isfinite(x):
        return 0.0 if x == 0 else x
    return float(f"{x:.{digits}g}")


# ------------------------------------------------------------------------- distributions


def fit_delay(samples: npt.ArrayLike, unit: str = "working days") -> DelayFit | None:
    """Fit non-negative samples to the families a scenario can hold; None when there are fewer
    than ``MIN_SAMPLE``. The family with the smallest KS distance among the usable ones is kept
    when its p-value is at least 0.05, otherwise the samples' quantiles (empirical)."""
    from scipy import stats

    x = np.sort(np.clip(np.asarray(samples, dtype=float), 0.0, None))
    n = len(x)
    if n < MIN_SAMPLE:
        return None
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    half = Z * sd / math.sqrt(n)
    low, high = max(0.0, mean - half), mean + half
    if float(np.ptp(x)) < 1e-9:
        table = {"distribution": "fixed", "value": sig(mean), "unit": unit}
        empty = pd.DataFrame(columns=["family", "usable", "ks", "p_value", "parameters"])
        return DelayFit("", n, "fixed", table, mean, low, high, 0.0, 1.0, empty)
    positive = np.maximum(x, 1e-6)
    rows: list[dict[str, Any]] = []
    tables: dict[str, dict[str, Any]] = {}

    def add(family: str, dist: Any, table: dict[str, Any] | None, text: str) -> None:
        result = stats.kstest(x, dist.cdf)
        rows.append({"family": family, "usable": table is not None,
                     "ks": float(result.statistic), "p_value": float(result.pvalue),
                     "parameters": text})
        if table is not None:
            tables[family] = table

    m = sig(mean)
    add("exponential", stats.expon(scale=mean),
        {"distribution": "exponential", "mean": m, "unit": unit}, f"mean {m:g}")
    with np.errstate(all="ignore"):
        # lognormal and gamma by moments: the scenario gives a lognormal by its mean and sd,
        # and near-zero delays would throw a likelihood fit's tail far out
        if sd > 0 and mean > 0:
            sigma2 = math.log1p((sd / mean) ** 2)
            add("lognormal", stats.lognorm(math.sqrt(sigma2), scale=mean * math.exp(-sigma2 / 2)),
                {"distribution": "lognormal", "mean": m, "sd": sig(sd), "unit": unit},
                f"mean {m:g}, sd {sig(sd):g}")
            shape = (mean / sd) ** 2
            add("gamma", stats.gamma(shape, scale=mean / shape), None,
                f"shape {sig(shape):g}, scale {sig(mean / shape):g}")
        thin = positive[:: max(1, len(positive) // 2000)]  # the fit's cost grows with n
        c, _, w_scale = stats.weibull_min.fit(thin, floc=0)
        add("weibull", stats.weibull_min(c, scale=w_scale), None,
            f"shape {sig(c):g}, scale {sig(w_scale):g}")
        lo, hi = float(x[0]), float(x[-1])
        # triangular by moments: the extremes, and the mode that gives the samples' mean
        t_low, t_high = sig(lo), sig(hi)
        t_mode = min(max(sig(3 * mean - lo - hi), t_low), t_high)
        if t_high > t_low:
            add("triangular", stats.triang((t_mode - t_low) / (t_high - t_low), loc=t_low,
                                           scale=t_high - t_low),
                {"distribution": "triangular", "low": t_low, "mode": t_mode, "high": t_high,
                 "unit": unit}, f"{t_low:g}/{t_mode:g}/{t_high:g}")
        add("uniform", stats.uniform(loc=lo, scale=hi - lo),
            {"distribution": "uniform", "low": sig(lo), "high": sig(hi), "unit": unit},
            f"{sig(lo):g}-{sig(hi):g}")
    candidates = pd.DataFrame(rows, columns=["family", "usable", "ks", "p_value", "parameters"])
    usable = candidates[candidates["usable"]].sort_values(["ks", "family"], kind="stable")
    best = usable.iloc[0]
    if float(best["p_value"]) >= _P_FIT:
        family = str(best["family"])
        return DelayFit("", n, family, tables[family], mean, low, high, float(best["ks"]),
                        float(best["p_value"]), candidates)
    k = min(n, EMPIRICAL_POINTS)
    values = np.quantile(x, (np.arange(k) + 0.5) / k)
    table = {"distribution": "empirical", "values": [sig(float(v)) for v in values],
             "unit": unit}
    return DelayFit("", n, "empirical", table, mean, low, high, math.nan, math.nan, candidates)


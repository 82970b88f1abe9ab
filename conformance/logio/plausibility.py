"""Dates that are readable but implausible: what a swapped day and month, or a mistyped year,
looks like once it has been read.

* ``steps_before_start``: a step dated more than ``EARLY_TOLERANCE_DAYS`` before the step that
  starts its case (the first ``Concern identified`` in a workplace case; otherwise the first
  ``Police notified``, ``Social care notified`` or ``Strategy discussion held``). The procedure allows nothing that long before a
  concern is raised or a referral is made (a discussion with the police and social care before
  the referral is recorded comes days, not weeks, before it), and a day and month swapped moves
  a date by at least four weeks (05/06 and 06/05 are 30 days apart).
* ``far_after``: events more than ``LATE_TOLERANCE_DAYS`` after the as-of time.
* ``latest_is_outlier``: when the as-of time defaults to the latest timestamp, whether that
  timestamp is far beyond every other case's last step (one event dated a century ahead would
  otherwise move the as-of time and make every deadline pending).

Each returns what it found; the reader words the warning and names the cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from model.contract import (
    CONCERN_IDENTIFIED,
    POLICE_NOTIFIED,
    SOCIAL_CARE_NOTIFIED,
    STRATEGY_DISCUSSION,
)

__all__ = [
    "EARLY_TOLERANCE_DAYS",
    "LATE_TOLERANCE_DAYS",
    "OUTLIER_GAP_DAYS",
    "REFERRAL_STARTS",
    "START_ACTIVITIES",
    "Early",
    "far_after",
    "latest_is_outlier",
    "steps_before_start",
]

REFERRAL_STARTS: Final = (POLICE_NOTIFIED, SOCIAL_CARE_NOTIFIED, STRATEGY_DISCUSSION)
START_ACTIVITIES: Final = (CONCERN_IDENTIFIED, *REFERRAL_STARTS)
EARLY_TOLERANCE_DAYS: Final = 14
LATE_TOLERANCE_DAYS: Final = 30
OUTLIER_GAP_DAYS: Final = 90
_NS_PER_DAY: Final = 86_400 * 1_000_000_000

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Early:
    """An event dated long before its case's start step (positions index the arrays given)."""

    event: int  # position of the early event
    start: int  # position of the case's start step
    days: int  # whole days between them


def steps_before_start(case_codes: npt.NDArray[np.intp], activities: Sequence[str] | npt.NDArray[np.object_],
                       ns: I64, tolerance_days: int = EARLY_TOLERANCE_DAYS) -> list[Early]:
    """Events more than ``tolerance_days`` before the first start step of their case (the
    earliest such event per case is reported, against the case's first start step)."""
    n = len(ns)
    if n == 0:
        return []
    acts = np.asarray(activities, dtype=object)
    cases = int(case_codes.max()) + 1
    big = np.iinfo(np.int64).max
    concern = acts == CONCERN_IDENTIFIED
    referral = np.isin(acts, np.asarray(REFERRAL_STARTS, dtype=object))
    concern_ns = np.full(cases, big, dtype=np.int64)
    np.minimum.at(concern_ns, case_codes[concern], ns[concern])
    referral_ns = np.full(cases, big, dtype=np.int64)
    np.minimum.at(referral_ns, case_codes[referral], ns[referral])
    workplace = concern_ns != big
    start_ns = np.where(workplace, concern_ns, referral_ns)
    is_start = np.where(workplace[case_codes], concern, referral)
    if not is_start.any():
        return []
    limit = start_ns[case_codes] - tolerance_days * _NS_PER_DAY
    early = (start_ns[case_codes] != big) & (ns < limit)
    found: list[Early] = []
    if not early.any():
        return found
    positions = np.flatnonzero(early)
    order = np.lexsort((ns[positions], case_codes[positions]))
    seen: set[int] = set()
    for position in positions[order]:
        code = int(case_codes[position])
        if code in seen:
            continue
        seen.add(code)
        starts = np.flatnonzero(is_start & (case_codes == code) & (ns == start_ns[code]))
        days = int((start_ns[code] - ns[position]) // _NS_PER_DAY)
        found.append(Early(int(position), int(starts[0]), days))
    return found


def far_after(ns: I64, as_of_ns: int, tolerance_days: int = LATE_TOLERANCE_DAYS
              ) -> npt.NDArray[np.bool_]:
    """Which events lie more than ``tolerance_days`` after the as-of time."""
    mask: npt.NDArray[np.bool_] = ns > as_of_ns + tolerance_days * _NS_PER_DAY
    return mask


def latest_is_outlier(case_codes: npt.NDArray[np.intp], ns: I64,
                      gap_days: int = OUTLIER_GAP_DAYS) -> tuple[int, int] | None:
    """(position of the latest event, days to the next case's last step) when the latest
    event is more than ``gap_days`` after the last step of every other case; else None."""
    if len(ns) < 2:
        return None
    cases = int(case_codes.max()) + 1
    if cases < 2:
        return None
    last = np.full(cases, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, case_codes, ns)
    latest = int(np.argmax(ns))
    owner = int(case_codes[latest])
    others = np.delete(last, owner)
    gap = (int(ns[latest]) - int(others.max())) // _NS_PER_DAY
    if gap > gap_days:
        return latest, int(gap)
    return None

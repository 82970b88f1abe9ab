"""Which cases a rule's ``scope`` covers: the one definition of a workplace and a referral case.

CONTRACT §5: a *workplace case* has ``Concern identified``; a *referral case* has ``Social care
notified`` or ``Strategy discussion held``, or ``Police notified`` and is not a workplace case.
A case can be both (a workplace concern passed to social care) or neither.

The definition is written once, in ``_kinds``, with operators that mean the same on Python
booleans and on numpy boolean arrays, and used in three forms:

- ``in_scope(scope, activities)``: one case, given the set of its activity names (the
  simulator's ground truth);
- ``case_scopes(has)``: many cases at once, given per-case presence arrays of the four
  activities (the rule engine);
- ``case_scopes_of(events, case_ids)``: many cases at once, from an events table (the check
  report's case table).

>>> in_scope(Scope.REFERRAL, {"Police notified"})
True
>>> in_scope(Scope.REFERRAL, {"Concern identified", "Police notified"})
False
>>> case_scopes({"Concern identified": [True, False], "Police notified": [True, True]}).routes()
['workplace', 'referral']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

import numpy as np
import numpy.typing as npt

from model.contract import (
    CONCERN_IDENTIFIED,
    POLICE_NOTIFIED,
    SOCIAL_CARE_NOTIFIED,
    STRATEGY_DISCUSSION,
)
from model.rules import Scope

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SCOPE_ACTIVITIES", "CaseScopes", "case_scopes", "case_scopes_of", "in_scope"]

SCOPE_ACTIVITIES: Final = (
    CONCERN_IDENTIFIED,
    SOCIAL_CARE_NOTIFIED,
    STRATEGY_DISCUSSION,
    POLICE_NOTIFIED,
)
"""The activities whose presence decides a case's scope."""

Bools = npt.NDArray[np.bool_]
_B = TypeVar("_B", bool, Bools)


def _kinds(concern: _B, social_care: _B, strategy: _B, police: _B) -> tuple[_B, _B]:
    """(workplace, referral) from the presence of the four activities; ``x ^ True`` is "not x"
    for a bool and for a boolean array alike."""
    workplace = concern
    referral = social_care | strategy | (police & (workplace ^ True))
    return workplace, referral


def in_scope(scope: Scope, activities: Collection[str]) -> bool:
    """Whether a case with these activity names falls in ``scope``."""
    if scope is Scope.ANY:
        return True
    workplace, referral = _kinds(*(name in activities for name in SCOPE_ACTIVITIES))
    return workplace if scope is Scope.WORKPLACE else referral


@dataclass(frozen=True)
class CaseScopes:
    """Per case (in the order given): whether it is a workplace case and a referral case."""

    workplace: Bools
    referral: Bools

    def covered(self, scope: Scope) -> Bools:
        """Per case, whether it falls in ``scope``."""
        if scope is Scope.WORKPLACE:
            return self.workplace
        if scope is Scope.REFERRAL:
            return self.referral
        return np.ones(len(self.workplace), dtype=np.bool_)

    def routes(self) -> list[str]:
        """Per case: "workplace", "referral", "workplace, referral" or "other" (CONTRACT §5)."""
        route = np.where(
            self.workplace & self.referral,
            "workplace, referral",
            np.where(self.workplace, "workplace", np.where(self.referral, "referral", "other")),
        )
        return [str(r) for r in route]


def case_scopes(has: Mapping[str, npt.ArrayLike]) -> CaseScopes:
    """Scopes of many cases from per-case presence arrays keyed by activity name.

    Every array has one boolean per case; an activity of ``SCOPE_ACTIVITIES`` that is missing
    from ``has`` is absent from every case (at least one must be given, to know how many cases).
    """
    arrays = {name: np.asarray(value, dtype=np.bool_) for name, value in has.items()}
    if not arrays:
        raise ValueError("case_scopes needs the presence of at least one activity")
    n = len(next(iter(arrays.values())))
    none = np.zeros(n, dtype=np.bool_)
    workplace, referral = _kinds(*(arrays.get(name, none) for name in SCOPE_ACTIVITIES))
    return CaseScopes(workplace=workplace, referral=referral)


def case_scopes_of(
    events: pd.DataFrame,
    case_ids: npt.ArrayLike,
    *,
    case: str = "case_id",
    activity: str = "activity",
) -> CaseScopes:
    """Scopes of the cases ``case_ids`` (in that order) from an events table's case and
    activity columns."""
    import pandas as pd  # pandas stays off the command line's start-up path

    ids = pd.Index(np.asarray(case_ids, dtype=object))
    has = {
        name: ids.isin(events.loc[events[activity] == name, case].unique())
        for name in SCOPE_ACTIVITIES
    }
    return case_scopes(has)

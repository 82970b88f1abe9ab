"""model.scope: the one definition of workplace and referral cases, in its three forms."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from model.rules import Scope
from model.scope import SCOPE_ACTIVITIES, case_scopes, case_scopes_of, in_scope

# Every combination of the four activities being present in a case.
COMBINATIONS = list(itertools.product([False, True], repeat=len(SCOPE_ACTIVITIES)))


def expected(present: tuple[bool, ...]) -> tuple[bool, bool]:
    """CONTRACT §5, written out: (workplace, referral)."""
    concern, social_care, strategy, police = present
    return concern, social_care or strategy or (police and not concern)


@pytest.mark.parametrize("present", COMBINATIONS)
def test_the_scalar_form_follows_the_contract(present: tuple[bool, ...]) -> None:
    activities = {name for name, here in zip(SCOPE_ACTIVITIES, present, strict=True) if here}
    workplace, referral = expected(present)
    assert in_scope(Scope.WORKPLACE, activities) is workplace
    assert in_scope(Scope.REFERRAL, activities) is referral
    assert in_scope(Scope.ANY, activities) is True


def test_the_vector_forms_agree_with_the_scalar_form() -> None:
    has = {name: np.array([p[i] for p in COMBINATIONS]) for i, name in enumerate(SCOPE_ACTIVITIES)}
    scopes = case_scopes(has)
    rows = [
        (f"c{number}", name)
        for number, present in enumerate(COMBINATIONS)
        for name, here in zip(SCOPE_ACTIVITIES, present, strict=True)
        if here
    ] + [("c0", "Case closed")]  # other activities do not matter
    events = pd.DataFrame(rows, columns=["case_id", "activity"])
    ids = [f"c{number}" for number in range(len(COMBINATIONS))]
    from_events = case_scopes_of(events, ids)
    for number, present in enumerate(COMBINATIONS):
        activities = {n for n, here in zip(SCOPE_ACTIVITIES, present, strict=True) if here}
        for scope in Scope:
            assert scopes.covered(scope)[number] == in_scope(scope, activities)
            assert from_events.covered(scope)[number] == in_scope(scope, activities)
    assert scopes.routes() == from_events.routes()
    labels = dict(zip(ids, scopes.routes(), strict=True))
    assert labels["c0"] == "other"  # nothing
    assert labels["c8"] == "workplace"  # Concern identified alone
    assert labels["c1"] == "referral"  # Police notified alone
    assert labels["c9"] == "workplace"  # police in a workplace case is not a referral
    assert labels["c12"] == "workplace, referral"  # a workplace concern passed to social care


def test_case_scopes_needs_to_know_how_many_cases() -> None:
    with pytest.raises(ValueError, match="at least one activity"):
        case_scopes({})

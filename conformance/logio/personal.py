"""Columns that look like personal data, by their name or by a sample of their values (e-mail
addresses, UK postcodes, NHS numbers with valid check digits). Only column names are ever
reported, never values."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from conformance.logio.values import stripped_text

# Words that, before "name", make it a person's name ("child name", "staff_name").
_PERSON_WORDS: Final = frozenset(
    {
        *("person", "client", "patient", "child", "children", "staff", "employee", "worker"),
        *("user", "parent", "carer", "officer", "contact", "subject", "victim", "offender"),
        *("alleged", "referrer", "customer", "applicant", "owner", "member", "resident"),
        *("pupil", "student", "mother", "father", "given", "first", "last", "middle", "maiden"),
        *("full", "family"),
    }
)


# Column names (tokens joined, case-folded) that name personal data, by kind.
_PERSONAL_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "people's names": (
        *("forename", "forenames", "surname", "surnames", "firstname", "lastname", "fullname"),
        *("givenname", "familyname", "middlename", "maidenname"),
    ),
    "dates of birth": ("dob", "birthdate", "dateofbirth", "birthday"),
    "NHS numbers": ("nhs", "nhsno", "nhsnum", "nhsnumber"),
    "addresses": ("postcode", "postcodes", "zipcode", "address", "addresses", "street"),
    "e-mail addresses": ("email", "emails", "emailaddress"),
    "phone numbers": ("phone", "phones", "telephone", "tel", "mobile", "phonenumber"),
    "national insurance or pupil numbers": ("nino", "nationalinsurancenumber", "upn"),
}


_PERSONAL_WORDS: Final = {w: kind for kind, words in _PERSONAL_NAMES.items() for w in words}


_EMAIL_RE: Final = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"


_POSTCODE_RE: Final = r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}"


_NHS_WEIGHTS: Final = np.arange(10, 1, -1, dtype=np.int64)


def _name_reason(column: str) -> str | None:
    """Why a column's name suggests personal data, or None."""
    tokens = [t.lower() for t in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", column)]
    if tokens in (["name"], ["names"]):
        return "its name suggests people's names"
    for size in (3, 2, 1):
        for start in range(len(tokens) - size + 1):
            kind = _PERSONAL_WORDS.get("".join(tokens[start : start + size]))
            if kind is not None:
                return f"its name suggests {kind}"
    for before, after in itertools.pairwise(tokens):
        if after in ("name", "names") and before in _PERSON_WORDS:
            return "its name suggests people's names"
    return None


def _nhs_numbers(values: pd.Series) -> int:
    """How many values are NHS numbers (10 digits, optionally spaced, valid check digit)."""
    digits = values.str.replace(r"[ -]", "", regex=True)
    candidates = digits[digits.str.fullmatch(r"\d{10}").to_numpy(dtype=bool)]
    if candidates.empty:
        return 0
    grid = (np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8) - ord("0")).reshape(
        -1, 10
    )
    check = 11 - (grid[:, :9].astype(np.int64) @ _NHS_WEIGHTS) % 11
    check[check == 11] = 0
    return int(((check != 10) & (check == grid[:, 9])).sum())


def _value_reason(values: pd.Series) -> str | None:
    """Why a sample of a column's values looks like personal data, or None."""
    text = stripped_text(values)
    text = text[(text != "").to_numpy()]
    if text.empty:
        return None
    if text.str.contains(_EMAIL_RE, regex=True).any():
        return "values that look like e-mail addresses"
    half = len(text) / 2
    if text.str.upper().str.fullmatch(_POSTCODE_RE).sum() >= half:
        return "values that look like UK postcodes"
    if _nhs_numbers(text) >= half:
        return "values that look like NHS numbers (valid check digits)"
    return None


def personal_data(
    available: Sequence[str], sample: Mapping[str, pd.Series]
) -> list[tuple[str, str]]:
    """(column, reason) for each column whose name or sampled values look like personal data."""
    found = []
    for column in available:
        reason = _name_reason(column)
        if reason is None and column in sample:
            reason = _value_reason(sample[column])
        if reason is not None:
            found.append((column, reason))
    return found

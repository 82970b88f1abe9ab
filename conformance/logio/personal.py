"""Which columns of a log look like personal data, by their names and by their values.

Used by the log reader on every column of a file, the case id column included, so that the
commands can say truthfully what they copy. Nothing here prints or returns a value: only the
column's name and the kind of data it seems to hold.

By name (case and punctuation ignored, possessives dropped so "Child's name" is a name): a
column called ``name`` or ``<person word> name`` (child, mother, staff, worker, ...), and
columns naming forenames, surnames, dates of birth (``DOB``), NHS numbers, unique pupil
numbers (``UPN``), national insurance numbers, postcodes, addresses, e-mail addresses and
phone numbers.

By value, over a sample of the column's values (the reader's sample, at most 1,000 rows spread
over the file): any e-mail address; at least half of the values being UK postcodes, phone
numbers or NHS numbers with a valid check digit (modulus 11); or any free-text value that
holds a UK postcode, phone number or valid NHS number inside it ("Called Sarah Jones (mother)
on 07700 900123").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from conformance.logio.values import stripped_text

__all__ = ["name_reason", "nhs_number_count", "personal_data", "value_reason"]

# Words that, before "name", make it a person's name ("child name", "staff_name").
_PERSON_WORDS: Final = frozenset(
    {
        *("person", "client", "patient", "child", "children", "staff", "employee", "worker"),
        *("user", "parent", "carer", "officer", "contact", "subject", "victim", "offender"),
        *("alleged", "referrer", "customer", "applicant", "owner", "member", "resident"),
        *("pupil", "student", "mother", "father", "given", "first", "last", "middle", "maiden"),
        *("full", "family", "young", "professional", "social", "preferred", "sibling"),
    }
)
# Column names (tokens joined, case-folded) that name personal data, by kind.
_PERSONAL_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "people's names": (
        *("forename", "forenames", "surname", "surnames", "firstname", "lastname", "fullname"),
        *("givenname", "familyname", "middlename", "maidenname", "nickname", "alias", "aliases"),
        *("knownas", "preferredname"),
    ),
    "dates of birth": ("dob", "birthdate", "dateofbirth", "birthday"),
    "NHS numbers": ("nhs", "nhsno", "nhsnum", "nhsnumber"),
    "addresses": ("postcode", "postcodes", "zipcode", "address", "addresses", "street"),
    "e-mail addresses": ("email", "emails", "emailaddress"),
    "phone numbers": ("phone", "phones", "telephone", "tel", "mobile", "phonenumber"),
    "national insurance or pupil numbers": (
        "nino", "ninumber", "nationalinsurance", "nationalinsurancenumber", "upn",
        "uniquepupilnumber",
    ),
}
_PERSONAL_WORDS: Final = {w: kind for kind, words in _PERSONAL_NAMES.items() for w in words}
_TOKENS: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_POSSESSIVE: Final = re.compile(r"['’`]s\b")

EMAIL: Final = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
POSTCODE: Final = r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}"
PHONE: Final = r"(?:(?:\+|00)44[\s-]?(?:\(0\)[\s-]?)?|0)\d(?:[\s-]?\d){8,9}"
NHS: Final = r"\d{3}[ -]?\d{3}[ -]?\d{4}"
_POSTCODE_INSIDE: Final = re.compile(rf"(?<![A-Za-z0-9]){POSTCODE}(?![A-Za-z0-9])")
_PHONE_INSIDE: Final = re.compile(rf"(?<![\w+]){PHONE}(?!\d)")
_NHS_INSIDE: Final = re.compile(rf"(?<![\w+]){NHS}(?![\d])")
_NHS_WEIGHTS: Final = np.arange(10, 1, -1, dtype=np.int64)


def name_reason(column: str) -> str | None:
    """Why a column's name suggests personal data, or None."""
    plain = _POSSESSIVE.sub("", column)
    tokens = [t.lower() for t in _TOKENS.findall(plain)]
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


def _valid_nhs(digits: Sequence[str]) -> np.ndarray:
    """Which 10-digit strings carry a valid NHS check digit (modulus 11)."""
    if not digits:
        return np.zeros(0, dtype=bool)
    grid = (np.frombuffer("".join(digits).encode("ascii"), dtype=np.uint8) - ord("0")).reshape(
        -1, 10
    )
    check = 11 - (grid[:, :9].astype(np.int64) @ _NHS_WEIGHTS) % 11
    check[check == 11] = 0
    valid: np.ndarray = (check != 10) & (check == grid[:, 9])
    return valid


def nhs_number_count(values: pd.Series) -> int:
    """How many values are NHS numbers (10 digits, optionally spaced, valid check digit)."""
    digits = values.str.replace(r"[ -]", "", regex=True)
    candidates = digits[digits.str.fullmatch(r"\d{10}").to_numpy(dtype=bool)]
    return int(_valid_nhs(list(candidates)).sum())


def _inside(text: str) -> str | None:
    """The kind of identifier written inside a longer free-text value, if any."""
    for match in _NHS_INSIDE.finditer(text):
        if match.group() != text and _valid_nhs([re.sub(r"[ -]", "", match.group())]).all():
            return "NHS numbers (valid check digits)"
    for pattern, kind in ((_PHONE_INSIDE, "phone numbers"), (_POSTCODE_INSIDE, "UK postcodes")):
        for match in pattern.finditer(text):
            if match.group() != text:
                return kind
    return None


def value_reason(values: pd.Series) -> str | None:
    """Why a sample of a column's values looks like personal data, or None."""
    text = stripped_text(values)
    text = text[(text != "").to_numpy()]
    if text.empty:
        return None
    if text.str.contains(EMAIL, regex=True).any():
        return "values that look like e-mail addresses"
    half = len(text) / 2
    if text.str.upper().str.fullmatch(POSTCODE).sum() >= half:
        return "values that look like UK postcodes"
    if nhs_number_count(text) >= half:
        return "values that look like NHS numbers (valid check digits)"
    if text.str.fullmatch(PHONE).sum() >= half:
        return "values that look like phone numbers"
    free = text[text.str.contains(r"[A-Za-z]{2}", regex=True).to_numpy(dtype=bool)]
    for value in pd.unique(free):
        kind = _inside(str(value))
        if kind is not None:
            return f"free text with {kind} in it"
    return None


def personal_data(
    available: Sequence[str], sample: Mapping[str, pd.Series]
) -> list[tuple[str, str]]:
    """(column, reason) for each column whose name or sampled values look like personal data."""
    found = []
    for column in available:
        reason = name_reason(column)
        if reason is None and column in sample:
            reason = value_reason(sample[column])
        if reason is not None:
            found.append((column, reason))
    return found

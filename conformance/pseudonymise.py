"""Pseudonymise an event log so that it can be shared for audit (CONTRACT.md §3 schema).

Case ids and resources are replaced by keyed hashes (HMAC-SHA256 with the bytes of a key
file): ``c-`` or ``r-`` and the first 16 hex digits. The same key gives the same
pseudonyms across extracts, so re-extracts and several logs can still be joined, while
without the key the pseudonyms cannot be reversed or recomputed from guessed ids. The
mapping is never written anywhere.

The output is CSV in the contract's schema and nothing else: case_id, activity,
timestamp (ISO 8601 in Europe/London with its offset, or a date alone for date-only
events), resource, role and the case attributes (true, false or empty). Every other
input column is left out, and the summary names the input columns that looked like
personal data. If the role column looks like personal data it is left out too; if the
activity column does, the log is refused (activities must be mapped to canonical names
first).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from conformance.logio import ReadOptions, read_log
from conformance.logio.values import as_text
from model.calendar import LONDON
from model.errors import InputError, Problem

KEY_BYTES: Final = 32
MIN_KEY_BYTES: Final = 16
_HEX_DIGITS: Final = 16


@dataclass(frozen=True)
class PseudonymiseSummary:
    """What ``pseudonymise_log`` wrote."""

    cases: int
    events: int
    resources: int
    output: Path
    dropped_columns: tuple[str, ...] = ()  # input columns that looked like personal data
    warnings: tuple[Problem, ...] = ()  # the reader's warnings about the input


def new_key_file(path: Path) -> None:
    """Write a new random key (32 bytes) readable by the owner only; never overwrite one."""
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            str(path),
            [
                Problem(
                    path.name,
                    "a path where no file exists yet",
                    "an existing file (a key is never overwritten: pseudonyms made with it "
                    "would no longer match)",
                )
            ],
        ) from None
    with os.fdopen(descriptor, "wb") as key_file:
        os.fchmod(key_file.fileno(), 0o600)
        key_file.write(secrets.token_bytes(KEY_BYTES))


def read_key(key_file: Path) -> bytes:
    """The key's bytes; ``InputError`` if the file is missing or shorter than 16 bytes."""
    key_file = Path(key_file)
    try:
        key = key_file.read_bytes()
    except OSError:
        raise InputError(
            str(key_file),
            [Problem(key_file.name, "a readable key file (make one with --new-key)", "none")],
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            str(key_file),
            [
                Problem(
                    key_file.name,
                    f"a key of at least {MIN_KEY_BYTES} bytes",
                    f"{len(key)} bytes",
                )
            ],
        )
    return key


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """The keyed pseudonym of one value; ``kind`` ('c' case, 'r' resource) separates them."""
    digest = hmac.new(key, kind.encode("ascii") + b"\x00" + value.encode("utf-8"), hashlib.sha256)
    return f"{kind}-{digest.hexdigest()[:_HEX_DIGITS]}"


def _pseudonymise(values: pd.Series, key: bytes, kind: str) -> pd.Series:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.asarray([pseudonym(key, kind, str(u)) for u in uniques] + [""], dtype=object)
    return as_text(table[codes]).set_axis(values.index)


def _timestamps(time_utc: pd.Series, date_only: pd.Series) -> pd.Series:
    """ISO 8601 in Europe/London with the offset (+01:00), or the date for date-only events."""
    local = time_utc.dt.tz_convert(LONDON)
    seconds = local.dt.strftime("%Y-%m-%dT%H:%M:%S")
    micro = local.dt.microsecond
    fraction = "." + as_text(micro).str.zfill(6)
    offset = local.dt.strftime("%z")
    offset = offset.str.slice(0, 3) + ":" + offset.str.slice(3, 5)
    stamp = seconds + fraction.where(micro != 0, "") + offset
    dates = local.dt.strftime("%Y-%m-%d")
    result: pd.Series = stamp.where(~date_only.to_numpy(), dates)
    return result


def pseudonymise_log(
    src: Path,
    key_file: Path,
    out: Path,
    options: ReadOptions = ReadOptions(),  # noqa: B008  (frozen, so a shared default is safe)
) -> PseudonymiseSummary:
    """Read ``src``, replace case ids and resources by keyed pseudonyms, write CSV to ``out``.

    Every event is kept: the as-of option is ignored here (nothing is after the latest
    event). Raises ``InputError`` for an unreadable log or key.
    """
    src, key_file, out = Path(src), Path(key_file), Path(out)
    key = read_key(key_file)
    if out.resolve() == src.resolve():
        raise InputError(
            str(out), [Problem(out.name, "an output path other than the input", "the input")]
        )
    log = read_log(src, replace(options, as_of=None))
    personal = set(log.personal_data_columns)
    used = log.columns_used
    if used.get("activity") in personal:
        raise InputError(
            log.source,
            [
                Problem(
                    f"{src.name}, column {used['activity']!r}",
                    "activity names without personal data",
                    "a column that looks like personal data; map the activities to canonical "
                    "names first",
                )
            ],
        )
    events = log.events
    frame = pd.DataFrame(
        {
            "case_id": _pseudonymise(events["case_id"], key, "c"),
            "activity": events["activity"],
            "timestamp": _timestamps(events["time_utc"], events["date_only"]),
            "resource": _pseudonymise(events["resource"], key, "r"),
        }
    )
    if used.get("role") not in personal:
        frame["role"] = events["role"].fillna("")
    cases = log.cases
    for attribute in cases.columns:
        flags = as_text(cases[attribute].map({True: "true", False: "false"})).fillna("")
        frame[attribute] = flags.reindex(events["case_id"]).to_numpy()
    # Order by pseudonym, so the output does not keep the order of the original ids.
    frame["_time"] = events["time_utc"].to_numpy()
    frame["_row"] = events["source_row"].to_numpy()
    frame = frame.sort_values(["case_id", "_time", "_row"], kind="stable")
    frame = frame.drop(columns=["_time", "_row"])
    frame.to_csv(out, index=False, lineterminator="\n", encoding="utf-8")
    return PseudonymiseSummary(
        cases=len(cases),
        events=len(frame),
        resources=int(events["resource"].nunique()),
        output=out,
        dropped_columns=tuple(log.personal_data_columns),
        warnings=log.warnings,
    )

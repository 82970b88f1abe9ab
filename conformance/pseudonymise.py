"""Pseudonymise an event log so that it can be shared for audit (CONTRACT.md §3 schema).

What goes into the output, and nothing else (every statement the command prints is one of
these, and a test checks each against the file written):

* ``case_id``: the case ids, replaced by keyed pseudonyms (HMAC-SHA256 with the key: ``c-``
  and 16 hex digits). Whatever the case id column held (NHS numbers, names), none of it is in
  the output.
* ``activity``: the procedure's activity names (directly, or through the mapping file) as they
  are; every other name, which may be free text such as "Called Sarah Jones (mother) on
  07700 900123" or a formula, is replaced by a keyed label (``act-`` and 16 hex digits), and
  the labels are listed with their event counts.
* ``timestamp``: ISO 8601 in Europe/London with the offset, or a date alone for date-only
  events; with ``round_to`` ``"hour"`` rounded down to the hour, with ``"day"`` the date alone.
* ``resource``: replaced by keyed pseudonyms (``r-``).
* ``role``: the procedure's role ids and names (any case) as they are; anything else replaced
  by a keyed label (``role-``).
* the procedure's case attributes (``true``, ``false`` or empty; the offence by its name or
  empty), from their mapped columns.

Every other column of the input is left out, and named, with the reason when it looked like
personal data. A cell that a spreadsheet would run as a formula (=, +, -, @, tab or carriage
return first) is prefixed with ``'``, as in the checker's CSV files; after the replacements
above none should be left, and the summary counts any. The same key gives the same pseudonyms
and labels across extracts, so logs stay linkable; without the key they cannot be reversed or
recomputed from guessed values. The key is never written to the output.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from conformance.logio import EventLog
from conformance.logio.values import as_text
from model.calendar import LONDON
from model.errors import Problem
from model.terminal import shown

__all__ = [
    "ROUNDINGS",
    "ColumnFate",
    "PseudonymiseSummary",
    "pseudonym",
    "pseudonymise",
    "write_csv",
]

ROUNDINGS: Final = ("hour", "day")
Rounding = Literal["hour", "day"]
_HEX_DIGITS: Final = 16
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_LISTED: Final = 20


@dataclass(frozen=True)
class ColumnFate:
    """What happened to one input column (or XES key)."""

    source: str  # the input column
    output: str | None  # the output column, or None when it was left out
    treatment: str  # in plain English: how its values appear in the output
    personal: str | None = None  # why it looked like personal data, if it did


@dataclass(frozen=True)
class PseudonymiseSummary:
    """What ``pseudonymise`` made: counts, what happened to each input column, the labels."""

    cases: int
    events: int
    resources: int
    columns: tuple[ColumnFate, ...]
    replaced_activities: Mapping[str, int] = field(default_factory=dict)  # label -> events
    kept_activities: int = 0  # distinct procedure activity names kept
    replaced_roles: Mapping[str, int] = field(default_factory=dict)  # label -> events
    round_to: Rounding | None = None
    neutralised_cells: int = 0
    warnings: tuple[Problem, ...] = ()  # the reader's warnings about the input

    @property
    def copied(self) -> tuple[ColumnFate, ...]:
        return tuple(c for c in self.columns if c.output is not None)

    @property
    def left_out(self) -> tuple[ColumnFate, ...]:
        return tuple(c for c in self.columns if c.output is None)

    def statements(self, source: str, output: str) -> list[str]:
        """What the command says about its output, line by line (each checked by a test)."""
        lines = [
            f"Pseudonymised {_count(self.cases, 'case')}, {_count(self.events, 'event')} and "
            f"{_count(self.resources, 'resource')} from {source} into {output}.",
            "Copied into the output:",
        ]
        for fate in self.copied:
            note = f" It looked like personal data ({fate.personal})." if fate.personal else ""
            lines.append(f"  - {fate.output}, from the column '{shown(fate.source)}': "
                         f"{fate.treatment}.{note}")
        if self.left_out:
            lines.append("Left out (none of their values is in the output):")
            for fate in self.left_out:
                why = f": it looked like personal data ({fate.personal})" if fate.personal else ""
                lines.append(f"  - the column '{shown(fate.source)}'{why}")
        for kind, labels in (("activity", self.replaced_activities),
                             ("role", self.replaced_roles)):
            if labels:
                listed = ", ".join(f"{label} ({_count(n, 'event')})"
                                   for label, n in list(labels.items())[:_LISTED])
                more = f", ... ({len(labels):,} in total)" if len(labels) > _LISTED else ""
                lines.append(f"Keyed labels that replaced {kind} values outside the procedure: "
                             f"{listed}{more}.")
        if self.neutralised_cells:
            lines.append(f"{_count(self.neutralised_cells, 'cell')} that a spreadsheet would "
                         "run as a formula were prefixed with '.")
        return lines


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """The keyed pseudonym of one value; ``kind`` ('c' case, 'r' resource, 'act' activity,
    'role' role) keeps the kinds apart: the same text gives different pseudonyms."""
    digest = hmac.new(key, kind.encode("ascii") + b"\x00" + value.encode("utf-8"), hashlib.sha256)
    return f"{kind}-{digest.hexdigest()[:_HEX_DIGITS]}"


def _pseudonymise(values: pd.Series, key: bytes, kind: str) -> pd.Series:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.asarray([pseudonym(key, kind, str(u)) for u in uniques] + [""], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def _labelled(values: pd.Series, key: bytes, kind: str, keep: Iterable[str], *,
              fold: bool = False) -> tuple[pd.Series, dict[str, int], int]:
    """Values in ``keep`` as they are, others replaced by keyed labels; the labels with their
    counts (most frequent first), and how many distinct values were kept."""
    allowed = {k.casefold() for k in keep} if fold else set(keep)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    out: list[str] = []
    labels: dict[str, int] = {}
    kept = 0
    for value, count in zip(uniques, counts, strict=True):
        text = str(value)
        if (text.casefold() if fold else text) in allowed:
            out.append(text)
            kept += 1
        else:
            label = pseudonym(key, kind, text)
            out.append(label)
            labels[label] = labels.get(label, 0) + int(count)
    table = np.asarray([*out, ""], dtype=object)
    ordered = dict(sorted(labels.items(), key=lambda item: (-item[1], item[0])))
    return pd.Series(table[codes], index=values.index, dtype=object), ordered, kept


def _timestamps(time_utc: pd.Series, date_only: pd.Series, round_to: Rounding | None
                ) -> pd.Series:
    """ISO 8601 in Europe/London with the offset (+01:00), or the date for date-only events;
    rounded down to the hour (in UTC, which is the same: London's offsets are whole hours) or
    to the local date."""
    if round_to == "hour":
        time_utc = time_utc.dt.floor("h")
    local = time_utc.dt.tz_convert(LONDON)
    seconds = local.dt.strftime("%Y-%m-%dT%H:%M:%S")
    micro = local.dt.microsecond
    fraction = "." + as_text(micro).str.zfill(6)
    offset = local.dt.strftime("%z")
    offset = offset.str.slice(0, 3) + ":" + offset.str.slice(3, 5)
    stamp = seconds + fraction.where(micro != 0, "") + offset
    dates = local.dt.strftime("%Y-%m-%d")
    result: pd.Series = dates if round_to == "day" else stamp.where(~date_only.to_numpy(), dates)
    written: pd.Series = result.astype(object)
    return written


def _neutralise(frame: pd.DataFrame) -> int:
    """Prefix with ' every cell a spreadsheet would run as a formula; how many there were."""
    total = 0
    for column in frame.columns:
        text = frame[column].astype(object)
        risky = text.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            total += int(risky.sum())
            frame[column] = text.where(~risky, "'" + text.where(risky, ""))
    return total


def pseudonymise(
    log: EventLog,
    key: bytes,
    *,
    activities: Iterable[str],
    roles: Iterable[str],
    round_to: Rounding | None = None,
) -> tuple[pd.DataFrame, PseudonymiseSummary]:
    """The pseudonymised events of ``log`` (ready for :func:`write_csv`) and what was done.

    ``activities`` are the canonical activity names kept as they are (after the mapping, which
    the reader applied), ``roles`` the role ids and names kept (compared ignoring case)."""
    if round_to is not None and round_to not in ROUNDINGS:
        raise ValueError(f"round_to is one of {ROUNDINGS}")
    events = log.events
    used = dict(log.columns_used)
    personal = dict(log.personal_data_reasons)
    activity, replaced_activities, kept_activities = _labelled(
        events["activity"], key, "act", activities)
    role, replaced_roles, _ = _labelled(events["role"], key, "role", roles, fold=True)
    frame = pd.DataFrame(
        {
            "case_id": _pseudonymise(events["case_id"], key, "c"),
            "activity": activity,
            "timestamp": _timestamps(events["time_utc"], events["date_only"], round_to),
            "resource": _pseudonymise(events["resource"], key, "r"),
            "role": role,
        }
    )
    cases = log.cases
    for attribute in cases.columns:
        if isinstance(cases[attribute].dtype, pd.BooleanDtype):
            texts = as_text(cases[attribute].map({True: "true", False: "false"}))
        else:  # a categorical attribute (the offence): its value as read
            texts = as_text(cases[attribute])
        frame[attribute] = texts.fillna("").reindex(events["case_id"]).to_numpy()
    # Order by pseudonym, so the output does not keep the order of the original ids.
    frame["_time"] = events["time_utc"].to_numpy()
    frame["_row"] = events["source_row"].to_numpy()
    frame = frame.sort_values(["case_id", "_time", "_row"], kind="stable")
    frame = frame.drop(columns=["_time", "_row"]).reset_index(drop=True)
    neutralised = _neutralise(frame)

    clock = {
        None: "written as ISO 8601 times in Europe/London with their offset (a date alone for "
              "date-only events), to the second as in the input",
        "hour": "rounded down to the hour, written as ISO 8601 times in Europe/London with their "
                "offset (a date alone for date-only events)",
        "day": "rounded down to the day: the date alone (Europe/London)",
    }[round_to]
    treatments = {
        "case_id": "replaced by keyed pseudonyms (c-...)",
        "activity": (f"{_count(kept_activities, 'activity name')} of the procedure kept as "
                     f"{'they are' if kept_activities != 1 else 'it is'}; "
                     f"{_count(len(replaced_activities), 'other name')} "
                     f"({_count(sum(replaced_activities.values()), 'event')}) replaced by "
                     "keyed labels (act-...)"),
        "timestamp": clock,
        "resource": "replaced by keyed pseudonyms (r-...)",
        "role": ("the procedure's role names kept as they are; "
                 f"{_count(len(replaced_roles), 'other value')} "
                 f"({_count(sum(replaced_roles.values()), 'event')}) replaced by keyed labels "
                 "(role-...)"),
    }
    available = set(log.columns_available)
    if "case_id" in used and used["case_id"] not in available:
        used["case_id"] = "case:" + used["case_id"]  # XES: a trace's key, as listed
    fates: dict[str, ColumnFate] = {}
    for fieldname, treatment in treatments.items():
        column = used.get(fieldname)
        if column is not None:
            fates[column] = ColumnFate(column, fieldname, treatment, personal.get(column))
    for attribute in cases.columns:
        column = used.get(attribute)
        if column is not None and column not in fates:
            fates[column] = ColumnFate(column, attribute, "copied as true, false or empty",
                                       personal.get(column))
    for column in log.columns_available:
        if column not in fates:
            fates[column] = ColumnFate(column, None, "left out", personal.get(column))
    order = {c: i for i, c in enumerate(log.columns_available)}
    summary = PseudonymiseSummary(
        cases=len(cases),
        events=len(frame),
        resources=int(events["resource"].nunique()),
        columns=tuple(sorted(fates.values(), key=lambda f: order.get(f.source, len(order)))),
        replaced_activities=replaced_activities,
        kept_activities=kept_activities,
        replaced_roles=replaced_roles,
        round_to=round_to,
        neutralised_cells=neutralised,
        warnings=log.warnings,
    )
    return frame, summary


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The pseudonymised events as UTF-8 CSV with ``\\n`` line ends (deterministic)."""
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")

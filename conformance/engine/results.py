"""The results of judging: ``Judgement`` (one row per case and rule, ``RESULT_COLUMNS``), its
deviations and summary, and how the verdicts are assembled into it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.config import CheckConfig
from conformance.engine.messages import Entries, message
from conformance.engine.prepared import I64, Bools, PreparedLog
from conformance.engine.verdicts import ST_VIO, STATUSES, Reasons, Verdict
from conformance.logio.values import TEXT
from model.calendar import NAT_NS
from model.rules import Rule, Severity

RESULT_COLUMNS: Final = (
    "case_id",
    "rule_id",
    "status",
    "severity",
    "clause",
    "trigger_activity",
    "trigger_time",
    "trigger_row",
    "deadline",
    "evidence_activity",
    "evidence_time",
    "evidence_row",
    "late_working_days",
    "late_hours",
    "date_only",
    "reason",
)


class LogLike(Protocol):
    """What the engine reads of an ``EventLog``."""

    @property
    def events(self) -> pd.DataFrame: ...

    @property
    def cases(self) -> pd.DataFrame: ...

    @property
    def as_of(self) -> pd.Timestamp | None: ...

    @property
    def source(self) -> str: ...


def _times(ns: I64) -> pd.arrays.DatetimeArray:
    """UTC times from nanoseconds (``NAT_NS`` = missing)."""
    return pd.DatetimeIndex(ns.view("datetime64[ns]"), dtype="datetime64[ns, UTC]", copy=False).array


def _categorical(
    codes: npt.NDArray[np.integer], categories: pd.Index | Sequence[str]
) -> pd.Categorical:
    """A categorical from codes (-1 = missing) and distinct category names."""
    index = categories if isinstance(categories, pd.Index) else pd.Index(list(categories), dtype=TEXT)
    result: pd.Categorical = pd.Categorical.from_codes(codes, categories=index, validate=False)
    return result


@dataclass(frozen=True)
class _Events:
    """The events at some positions (-1 = none), as result columns."""

    activity: pd.Categorical
    time: pd.arrays.DatetimeArray
    row: pd.arrays.IntegerArray
    date_only: Bools

    @classmethod
    def at(cls, log: PreparedLog, pos: I64) -> _Events:
        none = pos < 0
        if not log.n:  # no events: every position is -1
            safe = np.zeros(0, np.int64)
            return cls(
                _categorical(safe, log.activities), _times(np.full(0, NAT_NS, np.int64)),
                pd.arrays.IntegerArray(safe, none), np.zeros(0, bool),
            )
        safe = np.where(none, 0, pos)
        return cls(
            activity=_categorical(np.where(none, -1, log.act[safe]), log.activities),
            time=_times(np.where(none, NAT_NS, log.t[safe])),
            row=pd.arrays.IntegerArray(log.row[safe], none),
            date_only=~none & log.do[safe],
        )


@dataclass(frozen=True, eq=False)
class Judgement:
    """Every rule judged on every case. See the module docstring for the semantics."""

    as_of: pd.Timestamp
    cases: int
    events: int
    rules: tuple[Rule, ...]
    results: pd.DataFrame
    excluded_after_as_of: int = 0
    config: CheckConfig = field(default_factory=CheckConfig)
    source: str = ""
    # Per result row: whether the trigger and the evidence event were date-only (for messages).
    _event_dates: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)
    # Per reason text: the entries it names (late / order broken; not recorded), for messages.
    _reason_entries: Mapping[str, tuple[Entries, Entries]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def deviations(self) -> pd.DataFrame:
        """The violated rows, in case then rule order, with a plain-language ``message``."""
        violated = self.results["status"].cat.codes.to_numpy() == ST_VIO
        rows: pd.DataFrame = self.results.loc[violated].reset_index(drop=True)
        trigger_date_only = self._event_dates["trigger_date_only"].to_numpy()[violated]
        evidence_date_only = self._event_dates["evidence_date_only"].to_numpy()[violated]
        rules = {r.id: r for r in self.rules}
        messages = [
            message(
                rules[str(row.rule_id)],
                row,
                bool(trigger_only),
                bool(evidence_only),
                self._reason_entries.get(str(row.reason), ((), ())),
                self,
            )
            for row, trigger_only, evidence_only in zip(
                rows.itertuples(index=False), trigger_date_only, evidence_date_only, strict=True
            )
        ]
        rows["message"] = pd.array(messages, dtype=TEXT)
        return rows

    def summary(self) -> pd.DataFrame:
        """Per rule: how many cases have each status, and compliance = satisfied / (satisfied +
        violated) (NaN when neither)."""
        n_rules = len(self.rules)
        rule_codes = self.results["rule_id"].cat.codes.to_numpy(dtype=np.int64)
        status_codes = self.results["status"].cat.codes.to_numpy(dtype=np.int64)
        counts = np.bincount(
            rule_codes * len(STATUSES) + status_codes, minlength=n_rules * len(STATUSES)
        ).reshape(n_rules, len(STATUSES))
        table = pd.DataFrame(counts, columns=list(STATUSES))
        table.insert(0, "rule_id", [r.id for r in self.rules])
        table.insert(1, "clause", [r.clause for r in self.rules])
        table.insert(2, "severity", [r.severity.value for r in self.rules])
        judged = table["satisfied"] + table["violated"]
        table["compliance"] = (table["satisfied"] / judged.where(judged > 0)).astype(float)
        return table


def assemble(
    log: PreparedLog, rules: tuple[Rule, ...], verdicts: list[Verdict], reasons: Reasons
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results frame, ordered by case then rule, and the per-row date-only flags."""
    n_rules, n_cases = len(rules), log.n_cases

    def stacked(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        """One column of every verdict, (rules, cases) transposed to case-major order."""
        if not verdicts or not n_cases:
            return np.zeros(0, dtype)
        return np.stack([getattr(v, name) for v in verdicts], axis=1).reshape(-1)

    trigger = _Events.at(log, stacked("trigger", np.int64))
    evidence = _Events.at(log, stacked("evidence", np.int64))
    late_days = stacked("late_days", np.int64)
    rule_codes = np.tile(np.arange(n_rules, dtype=np.int64), n_cases)
    case_codes = np.repeat(np.arange(n_cases, dtype=np.int64), n_rules)
    severities = [s.value for s in Severity]
    clauses = list(dict.fromkeys(r.clause for r in rules))
    severity_of = np.array([severities.index(r.severity.value) for r in rules], dtype=np.int64)
    clause_of = np.array([clauses.index(r.clause) for r in rules], dtype=np.int64)
    results = pd.DataFrame(
        copy=False,
        data={
            "case_id": _categorical(case_codes, log.case_ids),
            "rule_id": _categorical(rule_codes, [r.id for r in rules]),
            "status": _categorical(stacked("status", np.int8), STATUSES),
            "severity": _categorical(severity_of[rule_codes], severities),
            "clause": _categorical(clause_of[rule_codes], clauses),
            "trigger_activity": trigger.activity,
            "trigger_time": trigger.time,
            "trigger_row": trigger.row,
            "deadline": _times(stacked("deadline", np.int64)),
            "evidence_activity": evidence.activity,
            "evidence_time": evidence.time,
            "evidence_row": evidence.row,
            "late_working_days": pd.arrays.IntegerArray(
                np.maximum(late_days, 0), late_days < 0
            ),
            "late_hours": stacked("late_hours", np.float64),
            "date_only": stacked("date_only", np.bool_),
            "reason": _categorical(stacked("reason", np.int64), reasons.texts),
        },
    )
    event_dates = pd.DataFrame(
        {"trigger_date_only": trigger.date_only, "evidence_date_only": evidence.date_only}
    )
    return results, event_dates

"""What a check tells its reader: a terminal summary, the JSON object of CONTRACT §6, CSV tables
and one self-contained HTML report.

Everything is built from a :class:`CheckReport` (the log, the rule engine's judgement and the
control-flow fitness), so the four outputs agree. Written for people who run services, not for
programmers, and in the spirit of the caution in the domain notes: a deadline missed by minutes
is shown apart from one missed by weeks, and what cannot be judged from the data is said, not
hidden. Nothing ranks people, and no column that looks like personal data is ever copied.

Times are shown in Europe/London local time (the calendar's zone), in JSON as ISO 8601 with the
offset. Outputs are deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import io
import json
import math
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from conformance.engine import STATUSES
from model import contract
from model.errors import Problem
from model.scope import case_scopes_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from conformance.engine import Judgement
    from conformance.fitness import FitnessResult
    from conformance.logio import EventLog

__all__ = [
    "DEVIATION_COLUMNS",
    "HEATMAP_MONTHS",
    "LATENESS_BANDS",
    "TIMELINE_CAP",
    "Caveat",
    "CheckReport",
    "compliance_figure",
    "fitness_line",
    "judgement_months",
    "lateness_band",
    "lateness_figure",
    "lateness_text",
    "monthly_figure",
    "monthly_rates",
    "neutralise_csv_cells",
    "png_bytes",
    "summary_text",
    "timeline_cases",
    "timeline_svg",
    "to_html",
    "to_json",
    "to_json_text",
    "write_outputs",
]

LONDON: Final = "Europe/London"
STATUS_LABELS: Final = {
    "satisfied": "satisfied",
    "violated": "violated",
    "pending": "pending",
    "not_applicable": "not applicable",
    "not_assessable": "not assessable",
}
LATENESS_BANDS: Final = (
    "< 1 h", "same day", "1 working day", "2-5 working days", "6-15 working days",
    "> 15 working days",
)
DEVIATION_COLUMNS: Final = (
    "case_id", "rule_id", "clause", "severity", "message",
    "trigger_activity", "trigger_time", "deadline", "evidence_activity", "evidence_time",
    "late_working_days", "late_hours", "lateness", "date_only",
)
TIMELINE_CAP: Final = 30  # deviating cases drawn as timelines in the HTML report
TABLE_CAP: Final = 2_000  # deviation rows listed in the HTML report (all are in the CSV)
HEATMAP_MONTHS: Final = 60  # months shown in the per-month chart (the latest ones)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_NS_PER_HOUR: Final = 3_600 * 1_000_000_000


@dataclass(frozen=True)
class Caveat:
    """Something the reader must know to trust (or not) the figures; ``count`` is how many
    judgements, cases, events or columns it concerns."""

    kind: str
    message: str
    count: int


@dataclass(frozen=True)
class CheckReport:
    """The log, the rules' judgement and (unless switched off) the control-flow fitness."""

    log: EventLog
    judgement: Judgement
    fitness: FitnessResult | None = None
    fitness_note: str = ""  # why there is no fitness, when there is none
    options: Mapping[str, str] = field(default_factory=dict)  # settings that shaped the check

    # ------------------------------------------------------------------ tables

    @cached_property
    def case_order(self) -> pd.Series:
        """Position of each case in the log (cases in first-appearance order)."""
        ids = list(self.log.cases.index)
        known = set(ids)
        ids += [c for c in pd.unique(self.judgement.results["case_id"]) if c not in known]
        return pd.Series(np.arange(len(ids)), index=pd.Index(ids, dtype=object))

    @cached_property
    def rule_order(self) -> dict[str, int]:
        return {rule.id: index for index, rule in enumerate(self.judgement.rules)}

    @cached_property
    def violated(self) -> pd.DataFrame:
        """The violated judgements without messages (cheap: for counts and bands), by case then
        rule order, with the ``lateness`` band."""
        results = self.judgement.results
        return _tidy(results[results["status"] == "violated"], self.case_order, self.rule_order)

    @cached_property
    def deviations(self) -> pd.DataFrame:
        """One row per violated rule per case, by case then rule order (DEVIATION_COLUMNS), with
        the engine's plain-language message."""
        frame = _tidy(self.judgement.deviations(), self.case_order, self.rule_order)
        for column in DEVIATION_COLUMNS:
            if column not in frame:
                frame[column] = pd.NA
        return frame.loc[:, list(DEVIATION_COLUMNS)]

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per rule (in rule order): rule_id, clause, severity, description, the count of cases
        per status and the compliance rate satisfied / (satisfied + violated) (NaN when
        neither)."""
        table = self.judgement.summary().copy()
        table["rule_id"] = table["rule_id"].astype(str)
        table["clause"] = table["clause"].astype(str)
        table["severity"] = table["severity"].astype(str)
        texts = {rule.id: rule.text() for rule in self.judgement.rules}
        table.insert(3, "description", [texts.get(r, "") for r in table["rule_id"]])
        for status in STATUSES:
            table[status] = table[status].astype("int64")
        table["compliance"] = table["compliance"].astype(float)
        columns = ["rule_id", "clause", "severity", "description", *STATUSES, "compliance"]
        return table.loc[:, columns].reset_index(drop=True)

    @cached_property
    def caveats(self) -> tuple[Caveat, ...]:
        return tuple(_caveats(self))

    @cached_property
    def json_object(self) -> dict[str, Any]:
        """The JSON object of CONTRACT §6 (``to_json``); do not modify it."""
        return _json(self)

    @property
    def violations(self) -> int:
        """Violated rules of severity ``violation`` (the count that makes the exit status 1)."""
        return int((self.violated["severity"] == "violation").sum())

    @property
    def exit_status(self) -> int:
        """0 when no rule of severity violation is violated, 1 when one is (CONTRACT §6)."""
        return 1 if self.violations else 0

    @cached_property
    def cases_table(self) -> pd.DataFrame:
        """Per case: route, events, first and last event, closed, counts of violations,
        warnings, pending and not assessable judgements, fitness and the case attributes."""
        return _cases_table(self)


# --------------------------------------------------------------------- lateness


def lateness_band(late_hours: Any, late_working_days: Any, date_only: Any = False) -> str:
    """The band of a missed deadline: '< 1 h', 'same day' (late, but less than a working day),
    '1 working day', '2-5 working days', '6-15 working days', '> 15 working days'; '' when the
    rule has no deadline (an order or absence rule). When the judgement rests on date-only
    data the hours are not known, so it is never '< 1 h'."""
    hours = _number(late_hours)
    days = _number(late_working_days)
    if hours is None and days is None:
        return ""
    if hours is not None and hours < 1 and not date_only:
        return LATENESS_BANDS[0]
    if days is None or days < 1:
        return LATENESS_BANDS[1]
    if days == 1:
        return LATENESS_BANDS[2]
    if days <= 5:
        return LATENESS_BANDS[3]
    if days <= 15:
        return LATENESS_BANDS[4]
    return LATENESS_BANDS[5]


def lateness_text(late_hours: Any, late_working_days: Any, done: bool = True) -> str:
    """'12 minutes late', '5.5 hours late', '3 working days late'; for a step never done,
    'not done: N working days past the deadline'."""
    hours = _number(late_hours)
    days = _number(late_working_days)
    if hours is None and days is None:
        return ""
    if days is not None and days >= 1:
        amount = f"{int(days)} working day{'s' if days != 1 else ''}"
    elif hours is not None and hours < 1:
        minutes = max(1, round(hours * 60))
        amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
    elif hours is not None:
        amount = f"{hours:.1f} hours"
    else:
        amount = "less than a working day"
    return f"{amount} late" if done else f"not done: {amount} past the deadline"


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# --------------------------------------------------------------------- ordering


def _tidy(rows: pd.DataFrame, case_order: pd.Series, rule_order: Mapping[str, int]
          ) -> pd.DataFrame:
    """Judgement rows with plain (not categorical) columns, the lateness band, in order."""
    frame = rows.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object)
    if "lateness" not in frame:
        frame["lateness"] = pd.Series(
            [lateness_band(h, d, bool(o)) for h, d, o in zip(
                frame.get("late_hours", []), frame.get("late_working_days", []),
                frame.get("date_only", [False] * len(frame)), strict=True)],
            index=frame.index, dtype=object)
    return _ordered(frame, case_order, rule_order).reset_index(drop=True)


def _ordered(frame: pd.DataFrame, case_order: pd.Series, rule_order: Mapping[str, int]
             ) -> pd.DataFrame:
    if frame.empty:
        return frame
    case_rank = frame["case_id"].map(case_order).fillna(len(case_order)).astype("int64")
    rule_rank = frame["rule_id"].map(rule_order).fillna(len(rule_order)).astype("int64")
    keys = pd.DataFrame({"c": case_rank.to_numpy(), "k": frame["case_id"].astype(str).to_numpy(),
                         "r": rule_rank.to_numpy()})
    order = keys.sort_values(["c", "k", "r"], kind="stable").index
    return frame.iloc[order.to_numpy()]


# --------------------------------------------------------------------- caveats


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


RESTATED_TOPICS: Final = frozenset(
    {"unknown-activities", "after-as-of", "attribute-conflicts", "personal-data", "lifecycle"}
)
"""Reader warnings about these topics are stated by caveats built from the log's structured
fields (``unknown_activities``, ``excluded_after_as_of``, ``attribute_conflicts``,
``personal_data_columns``, ``excluded_other_lifecycle``), so they are not shown twice."""


def _reader_warnings(log: EventLog) -> list[Problem]:
    """The reader's warnings that no caveat restates, each once."""
    out: list[Problem] = []
    seen: set[str] = set()
    for problem in log.warnings:
        if problem.topic in RESTATED_TOPICS:
            continue
        text = str(problem)
        if text not in seen:
            seen.add(text)
            out.append(problem)
    return out


def _caveats(report: CheckReport) -> list[Caveat]:
    log = report.log
    results = report.judgement.results
    out: list[Caveat] = []
    judged = results[results["status"].isin(("satisfied", "violated"))]
    if "date_only" in judged:
        date_only = judged[judged["date_only"].fillna(False).astype(bool)]
        if len(date_only):
            violated = int((date_only["status"] == "violated").sum())
            out.append(Caveat(
                "date_only",
                f"{_plural(len(date_only), 'judgement')} ({_plural(violated, 'violation')}) "
                f"{_verb(len(date_only), 'rests', 'rest')} on events known only to the day: two "
                "events on the same date were given the benefit of the doubt about their order, "
                "and a date-only trigger on a working day counted as before close of business.",
                len(date_only),
            ))
    unassessable = results[results["status"] == "not_assessable"]
    if len(unassessable):
        reasons = (unassessable["reason"].astype(object).fillna("").astype(str).tolist()
                   if "reason" in unassessable else [""] * len(unassessable))
        grouped = Counter(zip(unassessable["rule_id"].astype(str).tolist(), reasons, strict=True))
        for (rule_id, reason), n in sorted(
            grouped.items(), key=lambda kv: (report.rule_order.get(kv[0][0], 0), kv[0][1])
        ):
            why = f": {reason}" if reason else ""
            out.append(Caveat(
                "not_assessable",
                f"{rule_id}: {_plural(n, 'case')} could not be judged{why}.",
                n,
            ))
    pending = int((results["status"] == "pending").sum())
    if pending:
        out.append(Caveat(
            "pending",
            f"{_plural(pending, 'judgement')} cannot be made yet: the deadline is after the "
            "as-of time, or the case is not closed, and the step has not happened so far.",
            pending,
        ))
    for name, n in log.unknown_activities.items():
        out.append(Caveat(
            "unknown_activity",
            f"The activity '{name}' ({_plural(int(n), 'event')}) is neither in the model nor "
            "in the rules or the mapping: no rule counts it; it counts against control-flow "
            "fitness.",
            int(n),
        ))
    n = int(log.excluded_after_as_of) + int(getattr(report.judgement, "excluded_after_as_of", 0))
    if n:
        out.append(Caveat(
            "after_as_of",
            f"{_plural(n, 'event')} after the as-of time {_verb(n, 'was', 'were')} left out.",
            n,
        ))
    excluded_lifecycle = int(log.excluded_other_lifecycle)
    if excluded_lifecycle:
        out.append(Caveat(
            "lifecycle",
            f"{_plural(excluded_lifecycle, 'event')} with a lifecycle other than 'complete' "
            f"{_verb(excluded_lifecycle, 'was', 'were')} left out.",
            excluded_lifecycle,
        ))
    conflicts = log.attribute_conflicts
    if len(conflicts):
        per_attribute = conflicts.groupby("attribute", sort=True)["case_id"].nunique()
        for attribute, n in per_attribute.items():
            out.append(Caveat(
                "attribute_conflict",
                f"The rows of {_plural(int(n), 'case')} disagree about '{attribute}': it is "
                "treated as unknown for them, so rules that depend on it are not assessable.",
                int(n),
            ))
    if log.personal_data_columns:
        names = ", ".join(f"'{c}'" for c in log.personal_data_columns)
        out.append(Caveat(
            "personal_data",
            f"Columns that look like personal data were found and not copied into any "
            f"output: {names}. Consider removing them, or run 'lscb pseudonymise'.",
            len(log.personal_data_columns),
        ))
    for problem in _reader_warnings(log):
        out.append(Caveat("log_warning", f"Reading the log: {problem}.", 1))
    fit = report.fitness
    if fit is not None:
        if fit.excluded:
            names = ", ".join(f"'{k}' ({v:,})" for k, v in fit.excluded.items())
            out.append(Caveat(
                "fitness_excluded",
                f"Forbidden events are judged by the rules, not by the flow, and were left out "
                f"of control-flow fitness: {names}.",
                sum(fit.excluded.values()),
            ))
        replayed_unfit = int(((fit.cases["method"] == "token-replay")
                              & ~fit.cases["is_fit"].astype(bool)).sum())
        if replayed_unfit:
            out.append(Caveat(
                "token_replay",
                f"{_plural(replayed_unfit, 'case')} judged unfit by token replay: it may call a "
                "conforming case unfit when an activity appears at several places in the model "
                "(such as 'Police notified'); alignments (--fitness alignments) tell for sure.",
                replayed_unfit,
            ))
        if fit.open_cases:
            out.append(Caveat(
                "open_cases",
                f"{_plural(fit.open_cases, 'case')} had no 'Case closed' by the as-of time: "
                f"{_verb(fit.open_cases, 'its', 'their')} fitness is judged on the steps so "
                "far; steps still to come are not counted as missing.",
                fit.open_cases,
            ))
    return out


# --------------------------------------------------------------------- case table


def _route(events: pd.DataFrame, case_ids: pd.Index) -> pd.Series:
    """'workplace', 'referral', 'workplace, referral' or 'other' per case (CONTRACT §5)."""
    return pd.Series(case_scopes_of(events, case_ids).routes(), index=case_ids, dtype=object)


def _cases_table(report: CheckReport) -> pd.DataFrame:
    log = report.log
    events = log.events
    ids = pd.Index(report.case_order.index, dtype=object)
    grouped = events.groupby("case_id", sort=False)
    table = pd.DataFrame(index=ids)
    table["route"] = _route(events, ids) if len(events) else "other"
    table["events"] = grouped.size().reindex(ids).fillna(0).astype("int64")
    table["first_event"] = grouped["time_utc"].min().reindex(ids)
    table["last_event"] = grouped["time_utc"].max().reindex(ids)
    closed = set(events.loc[events["activity"] == contract.CASE_CLOSED, "case_id"])
    table["closed"] = [case in closed for case in ids]
    results = report.judgement.results
    for column, mask in (
        ("violations", (results["status"] == "violated") & (results["severity"] == "violation")),
        ("warnings", (results["status"] == "violated") & (results["severity"] == "warning")),
        ("pending", results["status"] == "pending"),
        ("not_assessable", results["status"] == "not_assessable"),
    ):
        table[column] = results[mask].groupby("case_id").size().reindex(ids).fillna(0).astype(
            "int64")
    if report.fitness is not None and len(report.fitness.cases):
        fit = report.fitness.cases.set_index("case_id")
        table["fitness"] = fit["fitness"].reindex(ids).round(4)
        table["fits_model"] = fit["is_fit"].reindex(ids)
        table["flow_deviations"] = fit["deviations"].reindex(ids).fillna("")
    personal = set(log.personal_data_columns)
    present = set(log.columns_used) or set(log.cases.columns)  # attributes the log carries
    for attribute in log.cases.columns:
        if attribute in present and attribute not in personal and attribute not in table:
            table[attribute] = log.cases[attribute].reindex(ids)
    table.index.name = "case_id"
    return table.reset_index()


# --------------------------------------------------------------------- values


def _iso(value: Any) -> str | None:
    """ISO 8601 in Europe/London with its offset; None for a missing time."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return str(stamp.tz_convert(LONDON).isoformat())


def _iso_texts(values: pd.Series) -> list[str | None]:
    """``_iso`` for a whole column at once (vectorised: a check may report 100,000s of rows)."""
    stamps = pd.to_datetime(values, utc=True)
    if len(stamps) == 0:
        return []
    missing = stamps.isna().to_numpy()
    naive = stamps.dt.tz_convert(LONDON).dt.tz_localize(None)
    offset_minutes = (
        (naive - stamps.dt.tz_localize(None)) // pd.Timedelta(minutes=1)
    ).fillna(0).astype("int64").to_numpy()
    wall = naive.to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(wall, unit="us")
    whole_second = (naive.dt.microsecond.fillna(0).to_numpy() == 0)
    text = np.where(whole_second, text.astype("U19"), text)
    signs = {m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
             for m in np.unique(offset_minutes).tolist()}
    zones = np.array([signs[m] for m in offset_minutes.tolist()], dtype="U6")
    joined = np.char.add(text.astype(str), zones)
    return [None if gone else str(t) for t, gone in zip(joined.tolist(), missing.tolist(),
                                                         strict=True)]


def _shown(value: Any, *, date_only: bool = False) -> str:
    """A time for people: '2024-03-05 16:30' local, or '2024-03-05' when known to the day."""
    if value is None or value is pd.NaT:
        return ""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return ""
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    local = stamp.tz_convert(LONDON)
    return local.strftime("%Y-%m-%d") if date_only else local.strftime("%Y-%m-%d %H:%M")


def _plain(value: Any) -> Any:
    """A JSON-ready value: None for missing, ISO text for times, Python numbers."""
    if isinstance(value, pd.Timestamp):
        return _iso(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else round(float(value), 4)
    return str(value)


def _plain_column(values: pd.Series) -> list[Any]:
    """``_plain`` for a whole column, fast for the common dtypes."""
    if pd.api.types.is_bool_dtype(values.dtype) and not values.hasnans:
        return [bool(v) for v in values.tolist()]
    if pd.api.types.is_float_dtype(values.dtype):
        rounded = values.astype(float).round(4)
        return [None if math.isnan(v) else v for v in rounded.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype):
        return [None if v is None or v is pd.NA else int(v)
                for v in values.astype(object).tolist()]
    return [_plain(v) for v in values.tolist()]


# --------------------------------------------------------------------- JSON


def _fitness_summary(report: CheckReport) -> dict[str, Any] | None:
    fit = report.fitness
    if fit is None:
        return None
    mean = fit.mean_fitness
    return {
        "method": fit.method.value,
        "reason": fit.reason,
        "cases": len(fit.cases),
        "fit_cases": fit.fit_cases,
        "open_cases": fit.open_cases,
        "mean_fitness": None if mean is None or math.isnan(mean) else round(mean, 4),
        "variants": fit.variants,
        "excluded_activities": dict(fit.excluded),
        "activities_outside_model": dict(fit.outside_model),
    }


def to_json(report: CheckReport) -> dict[str, Any]:
    """The object ``lscb check --format json`` prints (computed once per report); see
    ``_json``."""
    return report.json_object


def _json(report: CheckReport) -> dict[str, Any]:
    """The object ``lscb check --format json`` prints (CONTRACT §6), keys in a fixed order:
    ``as_of``, ``cases``, ``deviations`` (one per violated rule per case, by case then rule
    order), then ``events``, ``source``, ``summary`` (per rule), ``fitness`` (null when not
    computed), ``fitness_note``, ``warnings`` (the caveats)."""
    frame = report.deviations
    columns: list[list[Any]] = []
    for column in DEVIATION_COLUMNS:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
                values.dtype):
            columns.append(_iso_texts(values))
        else:
            columns.append(_plain_column(values))
    deviations = [dict(zip(DEVIATION_COLUMNS, row, strict=True))
                  for row in zip(*columns, strict=True)]
    summary = [
        {key: _plain(value) for key, value in row.items()}
        for row in report.summary.to_dict(orient="records")
    ]
    return {
        "as_of": _iso(report.judgement.as_of),
        "cases": int(report.judgement.cases),
        "deviations": deviations,
        "events": int(report.judgement.events),
        "source": Path(report.log.source).name,
        "summary": summary,
        "fitness": _fitness_summary(report),
        "fitness_note": report.fitness_note,
        "warnings": [
            {"kind": c.kind, "count": c.count, "message": c.message} for c in report.caveats
        ],
    }


def to_json_text(report: CheckReport) -> str:
    """``to_json`` as text: indented, with one deviation per line (Python's JSON encoder is
    ten times slower with indentation, and a check may report 100,000s of deviations)."""
    parts = []
    for key, value in to_json(report).items():
        if key == "deviations" and value:
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            text = "[\n" + rows + "\n  ]"
        else:
            text = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


# --------------------------------------------------------------------- terminal


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}%"


def summary_text(report: CheckReport) -> str:
    """The terminal summary: per rule counts and compliance, the fitness line, the caveats."""
    j = report.judgement
    lines = [
        f"Checked {_plural(int(j.cases), 'case')} ({_plural(int(j.events), 'event')}) from "
        f"{Path(report.log.source).name}, as of {_shown(j.as_of)} (Europe/London).",
        "",
        "Rules: cases satisfied, violated, pending, not applicable, not assessable; "
        "compliance = satisfied / (satisfied + violated).",
    ]
    summary = report.summary
    width = max([len("rule"), *(len(r) for r in summary["rule_id"])])
    clause_width = max([len("clause"), *(len(c) for c in summary["clause"])])
    head = (f"  {'rule':<{width}}  {'clause':<{clause_width}}  {'severity':<9}"
            f"{'satisf.':>8}{'violat.':>8}{'pending':>8}{'n/a':>7}{'not ass.':>9}{'compl.':>8}")
    lines += [head, "  " + "-" * (len(head) - 2)]
    for row in summary.to_dict(orient="records"):
        counts = [int(row[status]) for status in STATUSES]
        lines.append(
            f"  {row['rule_id']:<{width}}  {row['clause']:<{clause_width}}  "
            f"{row['severity']:<9}{counts[0]:>8,}{counts[1]:>8,}{counts[2]:>8,}{counts[3]:>7,}"
            f"{counts[4]:>9,}{_percent(float(row['compliance'])):>8}"
        )
    dev = report.violated
    violations = dev[dev["severity"] == "violation"]
    warnings = dev[dev["severity"] == "warning"]
    lines += [
        "",
        f"Violations: {len(violations):,} in {_plural(violations['case_id'].nunique(), 'case')}; "
        f"warnings: {len(warnings):,} in {_plural(warnings['case_id'].nunique(), 'case')}.",
    ]
    bands = dev["lateness"][dev["lateness"] != ""].value_counts()
    if len(bands):
        parts = [f"{band}: {int(bands[band]):,}" for band in LATENESS_BANDS if band in bands]
        lines.append("Missed deadlines by how late: " + "; ".join(parts) + ".")
    lines += ["", fitness_line(report)]
    if report.caveats:
        lines += ["", "What to bear in mind (and what could not be judged):"]
        lines += [f"  - {c.message}" for c in report.caveats]
    return "\n".join(lines) + "\n"


def fitness_line(report: CheckReport) -> str:
    """The control-flow fitness in one sentence: how many cases fit the model, the mean fitness
    and the method; or why it was not computed."""
    fit = report.fitness
    if fit is None:
        note = f" ({report.fitness_note})" if report.fitness_note else ""
        return f"Control-flow fitness: not computed{note}."
    n = len(fit.cases)
    if n == 0:
        return "Control-flow fitness: no cases."
    mean = fit.mean_fitness
    mean_text = "" if mean is None or math.isnan(mean) else f"; mean fitness {mean:.3f}"
    return (
        f"Control-flow fitness against the model: {fit.fit_cases:,} of {_plural(n, 'case')} "
        f"fit the model ({100 * fit.fit_cases / n:.1f}%){mean_text}. Method: {fit.reason}."
    )


# --------------------------------------------------------------------- CSV


def neutralise_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell that a spreadsheet would run as a formula (it begins
    with =, +, -, @, a tab or a carriage return) starts with a single quote. Numbers in numeric
    columns are left alone."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype(object)
            risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                text = text.where(~risky, "'" + text.where(risky, ""))
            out[column] = text
    return out


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
                values.dtype):
            out[column] = pd.Series(_iso_texts(values), index=values.index, dtype=object)
        elif pd.api.types.is_float_dtype(values.dtype):
            out[column] = values.round(4)
        elif pd.api.types.is_bool_dtype(values.dtype):
            out[column] = values.map(
                lambda v: "" if v is pd.NA or v is None else ("true" if v else "false")
            ).astype(object)
    return neutralise_csv_cells(out)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _csv_ready(frame).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


# --------------------------------------------------------------------- charts


def png_bytes(figure: Figure) -> bytes:
    """A chart as the HTML report embeds it: PNG at 100 dpi, cropped to what is drawn, without
    the software version stamp (the same chart gives the same bytes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None},
                   bbox_inches="tight")
    return buffer.getvalue()


def _png(figure: Figure) -> str:
    """A chart as a data: URI (``png_bytes``)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(figure)).decode("ascii")


def compliance_figure(summary: pd.DataFrame) -> Figure | None:
    """Compliance per rule (``CheckReport.summary``) as horizontal bars, dark for rules of
    severity violation, light for warnings, each labelled with its rate and counts; the rules
    no case was judged on are left out. None when no rule was judged."""
    from matplotlib.figure import Figure

    judged = summary[(summary["satisfied"] + summary["violated"]) > 0]
    if judged.empty:
        return None
    figure = Figure(figsize=(8, 0.32 * len(judged) + 1.2))
    axes = figure.add_subplot()
    y = np.arange(len(judged))[::-1]
    rates = 100 * judged["compliance"].to_numpy(dtype=float)
    colours = ["#b2182b" if s == "violation" else "#ef8a62" for s in judged["severity"]]
    axes.barh(y, rates, color=colours)
    satisfied = judged["satisfied"].to_numpy(dtype=np.int64).tolist()
    judged_n = (judged["satisfied"] + judged["violated"]).to_numpy(dtype=np.int64).tolist()
    for yy, rate, n_ok, n in zip(y.tolist(), rates.tolist(), satisfied, judged_n, strict=True):
        label = f"{rate:.0f}%  ({n_ok:,} of {n:,})"
        axes.text(min(rate, 100.0) + 1, yy, label, va="center", fontsize=8)
    axes.set_yticks(y, [str(r) for r in judged["rule_id"]], fontsize=8)
    axes.set_xlim(0, 130)
    axes.set_xticks([0, 25, 50, 75, 100])
    axes.set_xlabel("compliance: satisfied / (satisfied + violated), %")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def judgement_months(results: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Local month ('2024-03', Europe/London) of each judgement (rows of
    ``Judgement.results``): its trigger's time or, for a rule without a trigger (never / by
    Case closed), the case's first event (``events``: the log's events). Never the evidence's
    time: only violated judgements have one, which would make those months look worse."""
    starts = events.groupby("case_id", sort=False)["time_utc"].min()
    when = pd.to_datetime(results["case_id"].astype(object).map(starts), utc=True)
    if "trigger_time" in results:
        trigger = pd.to_datetime(results["trigger_time"], utc=True)
        when = trigger.where(trigger.notna(), when)
    local = when.dt.tz_convert(LONDON)
    keys = (local.dt.year * 100 + local.dt.month).astype("Int64")
    labels = {k: f"{k // 100}-{k % 100:02d}" for k in keys.dropna().unique().tolist()}
    months: pd.Series = keys.map(labels).astype(object)
    return months


def monthly_rates(report: CheckReport) -> pd.DataFrame:
    """Compliance (0 to 1: satisfied / (satisfied + violated)) per rule and month: one row per
    rule judged in some month (index ``rule_id``, in rule order), one column per month
    (``judgement_months``, ascending); NaN where nothing was judged. Empty when no judgement
    has a month."""
    results = report.judgement.results
    judged = results[results["status"].isin(("satisfied", "violated"))]
    if judged.empty:
        return pd.DataFrame()
    months = judgement_months(judged, report.log.events)
    frame = pd.DataFrame({"rule_id": judged["rule_id"].to_numpy(), "month": months.to_numpy(),
                          "ok": (judged["status"] == "satisfied").to_numpy()}).dropna()
    if frame.empty:
        return pd.DataFrame()
    all_months = sorted(frame["month"].unique())
    present = set(frame["rule_id"])
    rules = [r.id for r in report.judgement.rules if r.id in present]
    rates: pd.DataFrame = frame.groupby(["rule_id", "month"])["ok"].mean().unstack().reindex(
        index=rules, columns=all_months)
    return rates


def monthly_figure(report: CheckReport, *, months: int = HEATMAP_MONTHS
                   ) -> tuple[Figure | None, str]:
    """A heatmap of ``monthly_rates`` (rules by month, red to green, with the percentages when
    the grid is small) of the latest ``months`` months, and a note saying so when there are more
    (else ''). The figure is None when no judgement has a month."""
    from matplotlib.figure import Figure

    rate = monthly_rates(report)
    if rate.empty:
        return None, ""
    note = ""
    if rate.shape[1] > months:
        note = (f"The latest {months} of {rate.shape[1]} months are shown.")
        rate = rate.iloc[:, -months:].dropna(how="all")
    all_months = [str(m) for m in rate.columns]
    rules = [str(r) for r in rate.index]
    figure = Figure(figsize=(min(2.5 + 0.45 * len(all_months), 18), 0.32 * len(rules) + 1.6))
    axes = figure.add_subplot()
    data = np.ma.masked_invalid(100 * rate.to_numpy(dtype=float))
    image = axes.imshow(data, aspect="auto", cmap="RdYlGn", vmin=0, vmax=100,
                        interpolation="nearest")
    if len(all_months) * len(rules) <= 400:
        for (i, k), value in np.ndenumerate(data.filled(np.nan)):
            if not math.isnan(value):
                axes.text(k, i, f"{value:.0f}", ha="center", va="center", fontsize=7)
    axes.set_yticks(range(len(rules)), rules, fontsize=8)
    step = max(1, len(all_months) // 24)
    axes.set_xticks(range(0, len(all_months), step), all_months[::step], rotation=90, fontsize=8)
    figure.colorbar(image, ax=axes, label="compliance, %", fraction=0.03, pad=0.01)
    axes.set_xlabel("month (Europe/London) of the trigger, or of the case's start; empty: "
                    "nothing judged")
    return figure, note


def lateness_figure(deviations: pd.DataFrame) -> Figure | None:
    """Missed deadlines (``CheckReport.deviations`` with a lateness band) per band of
    LATENESS_BANDS, stacked by severity. None when no deadline was missed."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    late = deviations[deviations["lateness"] != ""]
    if late.empty:
        return None
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    x = np.arange(len(LATENESS_BANDS))
    bottom = np.zeros(len(LATENESS_BANDS))
    for severity, colour in (("violation", "#b2182b"), ("warning", "#ef8a62")):
        part = late[late["severity"] == severity]["lateness"].value_counts()
        heights = np.array([int(part.get(b, 0)) for b in LATENESS_BANDS], dtype=float)
        axes.bar(x, heights, bottom=bottom, color=colour, label=severity)
        bottom += heights
    for xx, total in zip(x.tolist(), bottom.tolist(), strict=True):
        if total:
            axes.text(xx, total, f"{int(total):,}", ha="center", va="bottom", fontsize=8)
    axes.set_xticks(x, [b.replace(" working", "\nworking") for b in LATENESS_BANDS], fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("missed deadlines")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


# --------------------------------------------------------------------- timelines (inline SVG)


def _esc(value: Any) -> str:
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


def timeline_cases(report: CheckReport, limit: int = TIMELINE_CAP) -> tuple[list[Any], int]:
    """The deviating cases to draw as timelines, at most ``limit``: the latest missed deadline
    first, then in log order; and how many more deviating cases there are."""
    dev = report.deviations
    if dev.empty:
        return [], 0
    hours = pd.to_numeric(dev["late_hours"], errors="coerce").fillna(-1.0)
    order = report.case_order.to_dict()
    per_case = pd.DataFrame({"case_id": dev["case_id"], "late": hours}).groupby(
        "case_id", sort=False)["late"].max()
    ranked = pd.DataFrame({
        "case_id": per_case.index,
        "late": per_case.to_numpy(),
        "order": [order.get(case, len(order)) for case in per_case.index],
    }).sort_values(["late", "order"], ascending=[False, True], kind="stable")
    chosen = list(ranked["case_id"][:limit])
    return chosen, max(0, len(ranked) - limit)


def _ticks(start_ns: int, end_ns: int) -> list[tuple[int, str]]:
    span = end_ns - start_ns
    stamps = [pd.Timestamp(start_ns + span * k // 4, tz="UTC") for k in range(5)]
    fmt = "%d %b %H:%M" if span < 3 * 24 * _NS_PER_HOUR else "%d %b %Y"
    return [(int(s.value), s.tz_convert(LONDON).strftime(fmt)) for s in stamps]


def timeline_svg(case_id: Any, events: pd.DataFrame, deviations: pd.DataFrame) -> str:
    """A timeline of one case as inline SVG (its values escaped): each of its ``events`` (rows
    of the log's events) a point on its activity's row along a time axis, green for a trigger
    and orange for evidence of its ``deviations`` (rows of ``CheckReport.deviations``), hollow
    when known only to the day; each missed deadline a dashed red line labelled with its rule."""
    activities = list(dict.fromkeys(str(a) for a in events["activity"]))
    times = pd.to_datetime(events["time_utc"], utc=True).astype("int64").to_numpy()
    deadlines = [
        (str(rule_id), int(pd.Timestamp(deadline).value))
        for rule_id, deadline in zip(deviations["rule_id"], deviations["deadline"], strict=True)
        if _iso(deadline) is not None
    ]
    all_ns = [*times.tolist(), *(d for _, d in deadlines)]
    start, end = min(all_ns), max(all_ns)
    if end - start < _NS_PER_HOUR:
        start -= _NS_PER_HOUR // 2
        end += _NS_PER_HOUR // 2
    pad = (end - start) // 30
    start, end = start - pad, end + pad
    left, right, top, row_h = 270, 860, 34, 18
    height = top + row_h * len(activities) + 34

    def x_of(ns: int) -> float:
        return left + (right - left) * (ns - start) / (end - start)

    evidence = {(str(r.evidence_activity), _iso(r.evidence_time))
                for r in deviations.itertuples(index=False)}
    triggers = {(str(r.trigger_activity), _iso(r.trigger_time))
                for r in deviations.itertuples(index=False)}
    parts = [
        f'<svg class="timeline" width="900" '
        f'height="{height}" viewBox="0 0 900 {height}" role="img" '
        f'aria-label="timeline of case {_esc(case_id)}">',
        f'<line x1="{left}" y1="{height - 28}" x2="{right}" y2="{height - 28}" '
        'stroke="#888"/>',
    ]
    for ns, label in _ticks(start, end):
        xx = x_of(ns)
        parts.append(f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{height - 28}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{xx:.1f}" y="{height - 12}" font-size="10" '
                     f'text-anchor="middle" fill="#555">{_esc(label)}</text>')
    for index, activity in enumerate(activities):
        yy = top + row_h * index + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{yy + 4:.1f}" font-size="11" text-anchor="end">'
                     f"{_esc(activity)}</text>")
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{right}" y2="{yy:.1f}" '
                     'stroke="#f3f3f3"/>')
    for rule_id, ns in deadlines:
        xx = x_of(ns)
        parts.append(f'<line x1="{xx:.1f}" y1="{top - 8}" x2="{xx:.1f}" y2="{height - 28}" '
                     'stroke="#b2182b" stroke-dasharray="4 3"><title>deadline of '
                     f"{_esc(rule_id)}: {_esc(_shown(pd.Timestamp(ns, tz='UTC')))}</title></line>")
        parts.append(f'<text x="{xx + 3:.1f}" y="{top - 12}" font-size="10" fill="#b2182b">'
                     f"{_esc(rule_id)}</text>")
    for activity, event_ns, only_date in zip(events["activity"], times.tolist(),
                                             events["date_only"], strict=True):
        at = pd.Timestamp(int(event_ns), tz="UTC")
        key = (str(activity), _iso(at))
        colour = ("#d95f02" if key in evidence else "#1b9e77" if key in triggers
                  else "#4575b4")
        yy = top + row_h * activities.index(str(activity)) + row_h / 2
        fill = "white" if bool(only_date) else colour
        parts.append(
            f'<circle cx="{x_of(int(event_ns)):.1f}" cy="{yy:.1f}" r="4.5" fill="{fill}" '
            f'stroke="{colour}" stroke-width="2"><title>{_esc(activity)}: '
            f"{_esc(_shown(at, date_only=bool(only_date)))}"
            f"{' (date only)' if bool(only_date) else ''}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _timelines_html(report: CheckReport) -> str:
    chosen, more = timeline_cases(report)
    if not chosen:
        return "<p>No case has a violated rule.</p>"
    events = report.log.events
    drawn = events[events["case_id"].isin(chosen)]
    by_case = dict(list(drawn.groupby("case_id", sort=False)))
    dev = report.deviations
    blocks = []
    for case in chosen:
        case_dev = dev[dev["case_id"] == case]
        items = []
        for row in case_dev.itertuples(index=False):
            items.append(f"<li><b>{_esc(row.rule_id)}</b> ({_esc(row.clause)}, "
                         f"{_esc(row.severity)}): {_esc(row.message)}</li>")
        case_events = by_case.get(case)
        svg = "" if case_events is None else timeline_svg(case, case_events, case_dev)
        blocks.append(f'<div class="case"><h3>Case {_esc(case)}</h3><ul>{"".join(items)}</ul>'
                      f"{svg}</div>")
    if more:
        blocks.append(f"<p>{_plural(more, 'more deviating case')} not drawn: see "
                      "deviations.csv.</p>")
    return "\n".join(blocks)


# --------------------------------------------------------------------- HTML


def _table_html(frame: pd.DataFrame, columns: Sequence[str], headers: Sequence[str],
                numeric: Iterable[str] = ()) -> str:
    right = set(numeric)
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    rows = []
    for record in frame.loc[:, list(columns)].itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="num">{_esc(v)}</td>' if c in right else f"<td>{_esc(v)}</td>"
            for c, v in zip(columns, record, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _image(figure: Figure | None, alt: str, empty: str) -> str:
    if figure is None:
        return f"<p>{_esc(empty)}</p>"
    return f'<img src="{_png(figure)}" alt="{_esc(alt)}">'


def to_html(report: CheckReport) -> str:
    """The whole report as one self-contained HTML page (no external resources)."""
    summary = report.summary.copy()
    summary["compliance_text"] = [_percent(float(v)) for v in summary["compliance"]]
    summary_table = _table_html(
        summary,
        ["rule_id", "clause", "severity", "description", *STATUSES, "compliance_text"],
        ["rule", "clause", "severity", "the rule", *(STATUS_LABELS[s] for s in STATUSES),
         "compliance"],
        numeric=[*STATUSES, "compliance_text"],
    )
    dev = report.deviations
    shown_dev = dev.iloc[:TABLE_CAP].copy()
    shown_dev["when"] = [_shown(t) for t in shown_dev["trigger_time"]]
    shown_dev["deadline_text"] = [_shown(t) for t in shown_dev["deadline"]]
    shown_dev["lateness_text"] = [
        lateness_text(h, d, e is not None and not pd.isna(e))
        for h, d, e in zip(shown_dev["late_hours"], shown_dev["late_working_days"],
                           shown_dev["evidence_time"], strict=True)
    ]
    dev_table = _table_html(
        shown_dev,
        ["case_id", "rule_id", "clause", "severity", "message", "when", "deadline_text",
         "lateness_text"],
        ["case", "rule", "clause", "severity", "what happened", "trigger", "deadline",
         "how late"],
    ) if len(dev) else "<p>No rule was violated.</p>"
    if len(dev) > TABLE_CAP:
        dev_table += (f"<p>The first {TABLE_CAP:,} of {len(dev):,} deviations are listed; all "
                      "are in deviations.csv.</p>")
    monthly, monthly_note = monthly_figure(report)
    caveats = "".join(f"<li>{_esc(c.message)}</li>" for c in report.caveats)
    fit = report.fitness
    fitness_detail = ""
    if fit is not None and len(fit.cases):
        unfit = fit.cases[~fit.cases["is_fit"].astype(bool)]
        common = unfit["deviations"].value_counts().head(15)
        if len(common):
            frame = pd.DataFrame({"deviation": common.index, "cases": common.to_numpy()})
            fitness_detail = ("<p>The most common ways cases depart from the model:</p>"
                              + _table_html(frame, ["deviation", "cases"],
                                            ["departure from the model", "cases"], ["cases"]))
    template = string.Template(
        importlib.resources.files("conformance").joinpath("report_template.html").read_text(
            encoding="utf-8")
    )
    j = report.judgement
    settings = "".join(f"<li>{_esc(k)}: {_esc(v)}</li>" for k, v in report.options.items())
    return template.substitute(
        title=_esc(f"Conformance report: {Path(report.log.source).name}"),
        source=_esc(Path(report.log.source).name),
        as_of=_esc(_shown(j.as_of)),
        cases=f"{int(j.cases):,}",
        events=f"{int(j.events):,}",
        violations=f"{report.violations:,}",
        warnings=f"{len(report.deviations) - report.violations:,}",
        settings=settings or "<li>defaults</li>",
        compliance_chart=_image(compliance_figure(report.summary),
                                "compliance per rule", "No rule could be judged."),
        summary_table=summary_table,
        monthly_chart=_image(monthly, "compliance per rule by month",
                             "No judgement has a date to place it in a month."),
        monthly_note=_esc(monthly_note),
        lateness_chart=_image(lateness_figure(report.deviations),
                              "missed deadlines by how late", "No deadline was missed."),
        fitness_line=_esc(fitness_line(report)),
        fitness_detail=fitness_detail,
        timelines=_timelines_html(report),
        caveats=caveats or "<li>Nothing to add: every rule could be judged on every case.</li>",
        deviations_table=dev_table,
    )


def write_outputs(out_dir: Path | str, report: CheckReport) -> tuple[Path, ...]:
    """Write deviations.csv, cases.csv, summary.json (the same object as ``--format json``)
    and report.html into ``out_dir`` (created if needed); return their paths."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = (directory / "deviations.csv", directory / "cases.csv",
             directory / "summary.json", directory / "report.html")
    _write_csv(report.deviations, paths[0])
    _write_csv(report.cases_table, paths[1])
    paths[2].write_text(to_json_text(report), encoding="utf-8")
    paths[3].write_text(to_html(report), encoding="utf-8")
    return paths


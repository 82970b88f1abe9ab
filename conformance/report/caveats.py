"""What the reader of a check must know to trust (or not) its figures: the caveats, from what
could not be judged to what the log reader warned about."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from conformance.report.formatting import plural, verb
from model.errors import Problem

if TYPE_CHECKING:
    from conformance.logio import EventLog
    from conformance.report.result import CheckReport


@dataclass(frozen=True)
class Caveat:
    """Something the reader must know to trust (or not) the figures; ``count`` is how many
    judgements, cases, events or columns it concerns."""

    kind: str
    message: str
    count: int


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


def caveats_of(report: CheckReport) -> list[Caveat]:
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
                f"{plural(len(date_only), 'judgement')} ({plural(violated, 'violation')}) "
                f"{verb(len(date_only), 'rests', 'rest')} on events known only to the day: two "
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
                f"{rule_id}: {plural(n, 'case')} could not be judged{why}.",
                n,
            ))
    pending = int((results["status"] == "pending").sum())
    if pending:
        out.append(Caveat(
            "pending",
            f"{plural(pending, 'judgement')} cannot be made yet: the deadline is after the "
            "as-of time, or the case is not closed, and the step has not happened so far.",
            pending,
        ))
    for name, n in log.unknown_activities.items():
        out.append(Caveat(
            "unknown_activity",
            f"The activity '{name}' ({plural(int(n), 'event')}) is neither in the model nor "
            "in the rules or the mapping: no rule counts it; it counts against control-flow "
            "fitness.",
            int(n),
        ))
    n = int(log.excluded_after_as_of) + int(getattr(report.judgement, "excluded_after_as_of", 0))
    if n:
        out.append(Caveat(
            "after_as_of",
            f"{plural(n, 'event')} after the as-of time {verb(n, 'was', 'were')} left out.",
            n,
        ))
    excluded_lifecycle = int(log.excluded_other_lifecycle)
    if excluded_lifecycle:
        out.append(Caveat(
            "lifecycle",
            f"{plural(excluded_lifecycle, 'event')} with a lifecycle other than 'complete' "
            f"{verb(excluded_lifecycle, 'was', 'were')} left out.",
            excluded_lifecycle,
        ))
    conflicts = log.attribute_conflicts
    if len(conflicts):
        per_attribute = conflicts.groupby("attribute", sort=True)["case_id"].nunique()
        for attribute, n in per_attribute.items():
            out.append(Caveat(
                "attribute_conflict",
                f"The rows of {plural(int(n), 'case')} disagree about '{attribute}': it is "
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
                f"{plural(replayed_unfit, 'case')} judged unfit by token replay: it may call a "
                "conforming case unfit when an activity appears at several places in the model "
                "(such as 'Police notified'); alignments (--fitness alignments) tell for sure.",
                replayed_unfit,
            ))
        if fit.open_cases:
            out.append(Caveat(
                "open_cases",
                f"{plural(fit.open_cases, 'case')} had no 'Case closed' by the as-of time: "
                f"{verb(fit.open_cases, 'its', 'their')} fitness is judged on the steps so "
                "far; steps still to come are not counted as missing.",
                fit.open_cases,
            ))
    return out

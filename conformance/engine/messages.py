"""Plain-language messages for violated judgements (built only when
``Judgement.deviations()`` is called), and the short texts that name activities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.calendar import LONDON, DeadlineKind, SameDay, Within
from model.rules import Rule, Template

if TYPE_CHECKING:
    from conformance.config import CheckConfig
    from conformance.engine.results import Judgement


def names_text(alternatives: Sequence[str]) -> str:
    """Alternatives in words: "A", "A or B", "A, B or C"."""
    items = list(alternatives)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def listing(items: Sequence[str]) -> str:
    """Items in words: "A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


Entries = tuple[tuple[str, ...], ...]  # require entries, each a tuple of alternatives


def entries_text(entries: Entries) -> str:
    return "; ".join(names_text(e) for e in entries)


def not_recorded(entry: tuple[str, ...], tail: str = "") -> str:
    """'X was not recorded<tail>', or 'none of X, Y or Z was recorded<tail>'."""
    if len(entry) == 1:
        return f"{entry[0]} was not recorded{tail}"
    return f"none of {names_text(entry)} was recorded{tail}"


def _local(ts: pd.Timestamp) -> datetime:
    return ts.to_pydatetime().astimezone(LONDON)


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _at(ts: pd.Timestamp, date_only: bool) -> str:
    """'at 16:10 on 4 Mar 2024', or 'on 4 Mar 2024' for a date-only event."""
    local = _local(ts)
    return f"on {_day(local.date())}" if date_only else f"at {local:%H:%M} on {_day(local.date())}"


def _deadline_text(ts: pd.Timestamp) -> str:
    local = _local(ts)
    if (local.hour, local.minute, local.second) == (23, 59, 59):
        return f"the end of {_day(local.date())}"
    return f"{local:%H:%M} on {_day(local.date())}"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}" + ("" if n == 1 else "s")
    return f"{seconds} seconds"  # pragma: no cover - seconds always divide


def _phrase(within: Within, config: CheckConfig) -> str:
    """How a deadline relates to its trigger: 'the same working day as', '15 working days after'."""
    kind = within.kind
    if kind is DeadlineKind.SAME_DAY and config.calendar.same_day is SameDay.WORKING:
        kind = DeadlineKind.SAME_WORKING_DAY
    if kind is DeadlineKind.SAME_WORKING_DAY:
        return "the same working day as"
    if kind is DeadlineKind.SAME_DAY:
        return "the same day as"
    if kind is DeadlineKind.IMMEDIATELY:
        return f"immediately ({_duration(config.calendar.immediately)}) after"
    return f"{within} after"


def _lateness(days: object, hours: float, *, date_only: bool = False) -> str:
    if isinstance(days, (int, np.integer)) and days >= 1:
        return f"{days} working day" + ("" if days == 1 else "s")
    if date_only:  # known to the day only: the hours after the deadline are not known
        return "less than a working day"
    if hours >= 1:
        whole = int(hours)
        minutes = round((hours - whole) * 60)
        text = f"{whole} hour" + ("" if whole == 1 else "s")
        return text + (f" {minutes} minutes" if minutes else "")
    minutes = max(1, round(hours * 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def message(
    rule: Rule,
    row: object,
    trigger_date_only: bool,
    evidence_date_only: bool,
    entries: tuple[Entries, Entries],
    judgement: Judgement,
) -> str:
    """One violated row in plain language (activity names, times, rule text and counts only)."""
    get = row.__getattribute__
    trigger_act, trigger_time = get("trigger_activity"), get("trigger_time")
    evidence_act, evidence_time = get("evidence_activity"), get("evidence_time")
    has_evidence = not pd.isna(evidence_time)
    if rule.template is Template.RESPONSE:
        assert rule.within is not None
        late, never = entries
        set_by = (
            f"{_phrase(rule.within, judgement.config)} {trigger_act} "
            f"{_at(trigger_time, trigger_date_only)}"
        )
        deadline = _deadline_text(get("deadline"))
        overdue = _lateness(get("late_working_days"), float(get("late_hours")),
                            date_only=has_evidence and evidence_date_only)
        if has_evidence:
            text = (
                f"{evidence_act} was recorded {overdue} late "
                f"({_at(evidence_time, evidence_date_only).removeprefix('at ')}; the deadline was "
                f"{deadline}, {set_by})"
            )
            others = [f"{names_text(e)} was also late" for e in late[1:]]
            others += [not_recorded(e) for e in never]
        else:
            as_of = _at(judgement.as_of, False).removeprefix("at ")
            text = (
                f"{not_recorded(never[0], ' by the deadline')} ({deadline}, {set_by}); "
                f"at the as-of time ({as_of}) it was {overdue} overdue"
            )
            others = [f"{names_text(e)} was late" for e in late]
            others += [not_recorded(e, " either") for e in never[1:]]
        return text + "".join(f"; {o}" for o in others)
    if rule.template is Template.PRECEDENCE:
        text = (
            f"{trigger_act} ({_at(trigger_time, trigger_date_only).removeprefix('at ')}) "
            f"was not preceded by {rule.preceded_by}"
        )
        if has_evidence:
            return text + (
                f"; {rule.preceded_by} was recorded only afterwards "
                f"({_at(evidence_time, evidence_date_only).removeprefix('at ')})"
            )
        return text + f"; {rule.preceded_by} was not recorded"
    if rule.template is Template.ABSENCE:
        text = (
            f"{evidence_act} was recorded "
            f"({_at(evidence_time, evidence_date_only).removeprefix('at ')})"
        )
        if rule.after:
            text += (
                f" after {rule.after} "
                f"({_at(trigger_time, trigger_date_only).removeprefix('at ')})"
            )
        if rule.when:
            text += f"; the rule: {rule.text()}"
        return text
    early, absent = entries
    parts = []
    if early and has_evidence:
        recorded = _at(evidence_time, evidence_date_only).removeprefix("at ")
        if str(get("reason")).startswith("recorded before"):
            anchor = ""
            if not rule.trigger and not pd.isna(trigger_time):
                anchor = f" ({_at(trigger_time, trigger_date_only).removeprefix('at ')})"
            parts.append(f"{evidence_act} was recorded ({recorded}) before {rule.after}{anchor}")
        else:
            parts.append(f"{evidence_act} was recorded ({recorded}) but {rule.after} was not")
    if absent:
        verb = "was" if len(absent) == 1 else "were"
        tail = f" after {rule.after}" if rule.after else ""
        names = [names_text(e) for e in absent]
        parts.append(f"{listing(names)} {verb} not recorded{tail} before the case was closed")
    return "; ".join(parts)

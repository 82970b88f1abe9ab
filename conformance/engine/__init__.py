"""The rule engine: judge every rule on every case of an event log (CONTRACT §4-§5), vectorised.

``judge(log, rules, config)`` returns a ``Judgement`` whose ``results`` hold one row per
(case, rule) with one of ``STATUSES``. It never loops in Python over cases or events: the log is
sorted once, activities become integer codes, and each rule is a handful of numpy operations
(first/last occurrence per case, ``searchsorted`` on sorted positions or (case, local date) keys,
the calendar's vectorised deadlines). Messages in plain language are built only for violated
rows, when ``Judgement.deviations()`` is called.

Semantics
---------

Cases and order
    The events of a case are ordered by time, ties in file order (``source_row``); a *position*
    is an event's place in that order. Two events are *on the same footing* when they fall on the
    same Europe/London date and either is date-only (known to the day): an order requirement
    between them counts as met (benefit of the doubt) and the judgement's ``date_only`` is True.
    A *workplace case* has ``Concern identified``; a *referral case* has ``Social care notified``
    or ``Strategy discussion held``, or ``Police notified`` and is not a workplace case (the
    definition is ``model.scope``'s).

As-of
    ``config.as_of`` (or else the log's as-of time; or else its latest event) is when the log
    was extracted. Events after it are left out before judging (the reader has already left out
    those after its own as-of time) and counted in ``Judgement.excluded_after_as_of``.

Order of judgement for each (case, rule)
    1. ``scope`` excludes the case (workplace / referral): ``not_applicable``.
    2. The trigger never occurs (response rules; existence rules that name a ``trigger``):
       ``not_applicable``.
    3. A ``when`` attribute is known and differs: ``not_applicable`` (whatever the others are:
       the rule cannot apply).
    4. Otherwise a ``when`` attribute is unknown (empty, missing, or disagreeing between the rows
       of the case): ``not_assessable``, with a reason naming the attribute; never
       ``violated``. (Absence rules: see below.)
    5. The template decides.

response
    The trigger is the first occurrence of any trigger activity (``first``), or, for
    ``last before response``, the last trigger occurrence at or before the first occurrence of
    the first ``require`` entry (the last one at all when that entry has not occurred), or, for
    ``last before X``, the last trigger occurrence at or before the first ``X`` (the last one at
    all when there is no ``X``); a trigger on the anchor's date counts as before it when either
    is date-only. When the anchor occurred but no trigger occurrence precedes it, the first
    trigger occurrence is used. The check's configuration may set a rule's trigger occurrence
    in place of the rule's own (``CheckConfig.trigger_occurrence``; ``icpc_clock =
    "section-47-start"`` is the shorthand that gives ``icpc-within-15-working-days``
    ``last before Section 47 enquiry started``). The deadline
    is set by the trigger's time with the calendar (a date-only trigger counts as before close
    of business). Each ``require`` entry is met by its earliest occurrence (of any alternative)
    at or before the deadline; an occurrence before the trigger counts. All met: ``satisfied``
    (evidence: the last of the meeting events). Otherwise, when the deadline is after the as-of
    time: ``pending``. Otherwise ``violated``: the evidence is the first late occurrence of the
    first unmet entry, with ``late_working_days`` (working days from the deadline's date to the
    event's) and ``late_hours`` (elapsed), or none when the entry has not occurred (lateness is
    then measured to the as-of time, and the reason says so). Deadline rules look at all of a
    case's events, also after ``Case closed``.

precedence
    The target is the first ``activity``; none: ``not_applicable``. ``satisfied`` when some
    ``preceded_by`` comes before it or is on the same footing (then ``date_only``); otherwise
    ``violated`` (evidence: the first ``preceded_by`` after the target, or none).

absence
    ``after`` given and never occurring: ``not_applicable``. The forbidden ``activity`` counts
    only after the first ``after`` (positions; an occurrence on the same footing as ``after``
    does not count: the doubt favours the case). When a ``when`` attribute is unknown, the rule
    is ``not_applicable`` if the activity does not count as occurring (nothing happened that the
    rule forbids) and ``not_assessable`` if it does. Occurring: ``violated`` (evidence: the first
    counted occurrence); else ``satisfied`` (``date_only`` when an occurrence was discounted as on
    the same footing).

existence
    Judged on the events up to and including the first ``Case closed`` (for the trigger, the
    ``after`` anchor and the required events alike). Each ``require`` entry must occur, after
    the first ``after`` when one is given (same footing counts as after). With ``only_after``,
    an occurrence before the first ``after`` (not on the same footing), or any occurrence while
    ``after`` never occurred, breaks the rule: ``violated`` at once, even before closure
    (evidence: the first such occurrence). Otherwise all entries met: ``satisfied``; not all
    and no ``Case closed`` yet: ``pending`` (they may still come); else ``violated`` (evidence:
    an entry's occurrence before ``after``, when there is one; the reason lists the entries).

Results
-------
``Judgement.results`` is ordered by case (in the order the log's cases first appear) and, within
a case, by rule; see ``RESULT_COLUMNS``. Times are UTC; messages show Europe/London local time.
``trigger_*`` describe the event the judgement starts from: a response rule's trigger, a
precedence rule's target, an absence rule's ``after``, an existence rule's ``trigger`` (or else
its ``after``). ``evidence_*`` describe the event that decided it, as said above; ``*_row`` is the
event's ``source_row``. ``deadline``, ``late_working_days`` and ``late_hours`` belong to response
rules. ``not_applicable`` and ``not_assessable`` rows carry no trigger, evidence or deadline, and
their ``date_only`` is False. ``reason`` is a short fixed text (why violated, pending, not
applicable or not assessable; empty when satisfied).

Modules
-------
``prepared`` (the log as sorted arrays with occurrence indexes), ``verdicts`` (the order of
judgement and the four templates), ``results`` (``Judgement`` and how it is assembled) and
``messages`` (plain-language messages). Import the names below from ``conformance.engine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import pandas as pd

from conformance.config import CheckConfig
from conformance.engine.prepared import PreparedLog, calendar_for, utc_ns
from conformance.engine.results import RESULT_COLUMNS, Judgement, LogLike, assemble
from conformance.engine.verdicts import STATUSES, Context, judge_rule
from conformance.logio.values import as_utc
from model.calendar import NAT_NS
from model.rules import Rule, Template

__all__ = [
    "RESULT_COLUMNS",
    "STATUSES",
    "Judgement",
    "LogLike",
    "judge",
]


def judge(log: LogLike, rules: Sequence[Rule], config: CheckConfig | None = None) -> Judgement:
    """Judge every rule on every case of ``log`` (the semantics are in the package docstring).

    Parameters
    ----------
    log
        The log (an ``EventLog``, or anything with its ``events``, ``cases``, ``as_of`` and
        ``source``).
    rules
        The rules (``model.rules.Rule``), with unique ids.
    config
        The calendar, the as-of time and the rules' trigger occurrences (None: the defaults).

    Returns
    -------
    Judgement
        One row per case and rule (``RESULT_COLUMNS``) with one of ``STATUSES``.

    Examples
    --------
    >>> import pandas as pd
    >>> from conformance import judge, log_from_frame
    >>> from model.procedure import load_procedure
    >>> log = log_from_frame(pd.DataFrame({
    ...     "case_id": ["a", "a"],
    ...     "activity": ["Concern identified", "Line manager informed"],
    ...     "time_utc": ["2024-03-04 09:00", "2024-03-04 10:30"]}))
    >>> rules = [r for r in load_procedure().rules if r.id == "escalated-same-working-day"]
    >>> judge(log, rules).results[["case_id", "rule_id", "status"]].to_dict("records")
    [{'case_id': 'a', 'rule_id': 'escalated-same-working-day', 'status': 'satisfied'}]
    """
    config = config or CheckConfig()
    rules = tuple(rules)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError("rule ids must be unique")
    responses = {r.id for r in rules if r.template is Template.RESPONSE}
    strays = sorted(set(config.trigger_occurrences) - responses)
    if strays:
        raise ValueError(
            "trigger_occurrences names rules that are not response rules being judged: "
            + ", ".join(strays)
        )
    events = log.events
    t = utc_ns(events["time_utc"])
    if len(t) and (t == NAT_NS).any():
        raise ValueError("every event needs a time (found events without one)")
    if config.as_of is not None:
        as_of = config.as_of
    elif log.as_of is not None:
        as_of = as_utc(log.as_of)
    else:
        as_of = pd.Timestamp(int(t.max()), tz=UTC) if len(t) else pd.Timestamp(0, tz=UTC)
    as_of_ns = int(as_of.value)
    instants = [as_of_ns] + ([int(t.min()), int(t.max())] if len(t) else [])
    cal = calendar_for(config.calendar, instants)
    prepared = PreparedLog(events, t, as_of_ns, cal)
    ctx = Context(prepared, log.cases, cal, as_of_ns)
    verdicts = [judge_rule(ctx, rule, config) for rule in rules]
    results, event_dates = assemble(prepared, rules, verdicts, ctx.reasons)
    return Judgement(
        as_of=as_of,
        cases=prepared.n_cases,
        events=prepared.n,
        rules=rules,
        results=results,
        excluded_after_as_of=prepared.excluded,
        config=config,
        source=log.source,
        _event_dates=event_dates,
        _reason_entries={
            text: detail
            for text, detail in zip(ctx.reasons.texts, ctx.reasons.details, strict=True)
        },
    )

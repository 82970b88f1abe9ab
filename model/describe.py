"""The procedure in words, for people: what ``lscb model show`` prints.

Everything here is plain text built from the :class:`~model.procedure.Procedure`: branches are
written in words ("the concern is about the line manager"), not as attribute expressions; every
deadline says what it means ("same day" is the calendar date); every rule shows its id beside a
plain-language title, its clause, its severity and its basis (the text, or our reading of it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from model.calendar import (
    DEFAULT_CONFIG,
    CalendarConfig,
    DayCounting,
    DeadlineKind,
    SameDay,
    Within,
)
from model.contract import CONTRACT_VERSION
from model.graph import pages
from model.procedure import Choice, Kind, Procedure, Task, walk
from model.rules import Basis, Rule, Severity

__all__ = ["HOW_RULES_ARE_GRADED", "deadline_words", "describe", "icpc_clock_words"]

WIDTH = 92

HOW_RULES_ARE_GRADED = (
    "Severity follows the text's own words (CONTRACT §5). A clause that says \"must\" is a "
    "violation; so is every step of §7, which the text introduces with \"the following "
    "procedures must be followed\", and the handling of images, which §4 ¶3 makes a criminal "
    "act. A clause that says \"should\" or \"will\" is a warning. What the text leaves to "
    "judgement (\"may\", \"as appropriate\", \"where appropriate\") is no rule. Basis: 'text' "
    "when the text states the requirement and its timescale; 'interpretation' when the project "
    "reads a timescale or an order into it, or takes it from statutory guidance - such a rule "
    "is a warning at most, and a partnership can replace it with its own local rule."
)


def _hours(config: CalendarConfig) -> str:
    seconds = int(config.immediately.total_seconds())
    if seconds % 3600 == 0:
        n = seconds // 3600
        return f"{n} hour" + ("" if n == 1 else "s")
    n = seconds // 60
    return f"{n} minute" + ("" if n == 1 else "s")


def deadline_words(within: Within, config: CalendarConfig = DEFAULT_CONFIG) -> str:
    """What a deadline means, in words, with the calendar's settings."""
    close = f"{config.close_of_business:%H:%M}"
    kind = within.kind
    if kind is DeadlineKind.SAME_WORKING_DAY:
        return (f"same working day: by the end of that date when it came on a working day "
                f"before {close} (close of business), else by the end of the next working day")
    if kind is DeadlineKind.SAME_DAY:
        if config.same_day is SameDay.WORKING:
            return f"same day: read as the same working day (a setting); {close} close of business"
        return "same day: by the end of the same calendar date, whatever kind of day it is"
    if kind is DeadlineKind.IMMEDIATELY:
        return f"immediately: within {_hours(config)} of elapsed time (a setting)"
    if kind is DeadlineKind.WORKING_DAYS:
        day = "0" if config.day_counting is DayCounting.DAY0 else "1"
        return (f"{within.n} working days: by the end of the {within.n}th working day counting "
                f"from the date it starts (that date is day {day}, a setting); weekends and "
                "bank holidays of England and Wales do not count")
    return f"{within}"


def icpc_clock_words() -> str:
    """Which strategy discussion the ICPC's 15 working days count from, and the other reading."""
    return ("clock: from the last strategy discussion before the conference, as the text says "
            "(the default); many local procedures and the DfE statistics count instead from the "
            "strategy discussion that started the Section 47 enquiry (setting icpc_clock = "
            "section-47-start)")


def _wrap(text: str, indent: int) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=" " * indent,
                         subsequent_indent=" " * indent, break_on_hyphens=False)


def _branch_steps(gate: Choice, index: int) -> str:
    body = gate.branches[index].body
    names = list(dict.fromkeys(b.activity for b in walk(body) if isinstance(b, Task)))
    if not names:
        return "no step"
    return ", ".join(names) if len(names) <= 4 else ", ".join(names[:4]) + ", ..."


def _rule_lines(rule: Rule, config: CalendarConfig) -> list[str]:
    severity = "violation" if rule.severity is Severity.VIOLATION else "warning"
    basis = "text" if rule.basis is Basis.TEXT else "interpretation (our reading of the text)"
    lines = [f"  {rule.id} ({rule.clause}; {severity}; basis: {basis})"]
    lines += _wrap(rule.heading, 6)
    if rule.within is not None:
        lines += _wrap(f"[{deadline_words(rule.within, config)}]", 6)
    if rule.id == "icpc-within-15-working-days":
        lines += _wrap(f"[{icpc_clock_words()}]", 6)
    lines += _wrap(rule.text(), 6)
    if rule.origin and not rule.origin.startswith("procedure.yaml"):
        lines.append(f"      written at {rule.origin}")
    return lines


def describe(procedure: Procedure, extra_rules: Sequence[Rule] = (),
             config: CalendarConfig = DEFAULT_CONFIG) -> str:
    """The procedure in words: activities by role, decisions, loops, pages, rules, offences.

    >>> from model import load_procedure
    >>> text = describe(load_procedure())
    >>> print(text.splitlines()[3])
    ACTIVITIES BY ROLE (30)
    >>> print(next(line for line in text.splitlines() if line.startswith("  lado-same-day")))
      lado-same-day (§7.4; violation; basis: text)
    """
    p = procedure
    out: list[str] = [p.title, f"{p.source} - procedure contract version {CONTRACT_VERSION}", ""]
    out.append(f"ACTIVITIES BY ROLE ({len(p.activities)})")
    for role in p.roles.values():
        acts = [a for a in p.activities.values() if a.role == role.id]
        lanes = {t.activity for t in p.tasks() if t.role == role.id}
        extra = [p.activities[n] for n in sorted(lanes) if p.activities[n].role != role.id]
        if not acts and not extra:
            continue
        out.append(f"  {role.name} - {role.meaning}")
        for act in acts:
            tag = {Kind.FORBIDDEN: "  [forbidden]", Kind.END: "  [ends the case]"}.get(act.kind, "")
            with_ = (f" (with {', '.join(p.roles[r].name for r in act.participants)})"
                     if act.participants else "")
            out.append(f"    {act.clause:<22} {act.name}{with_}{tag}")
        for act in extra:
            out.append(f"    {act.clause:<22} {act.name} (also drawn here; performer: "
                       f"{act.performer})")
    out += ["", "DECISIONS (each decided by what is known about the case)"]
    for gate in p.gateways():
        out.append(f"  {gate.name} ({gate.clause})")
        for index, branch in enumerate(gate.branches):
            words = p.condition_words(branch.when)
            out += _wrap(f"- {'if ' if branch.when else ''}{words}: "
                         f"{_branch_steps(gate, index)}", 6)
    for loop in p.loops():
        out.append(f"  {loop.name} ({loop.clause}): once, and again if {loop.repeat}")
    out += ["", "PAGES OF THE DIAGRAMS (a sub-process is drawn collapsed, and in full on its page)"]
    for page in pages(p):
        if page.id is None:
            out.append(f"  overview: {page.name}")
        else:
            inside = "the overview" if page.parent is None else f"'{page.parent}'"
            out.append(f"  {page.id}: {page.name} ({page.clause}), inside {inside}")
    rules = (*p.rules, *extra_rules)
    out += ["", f"RULES ({len(rules)}): id (clause; severity; basis), then its title"]
    out += _wrap(HOW_RULES_ARE_GRADED, 2)
    for rule in rules:
        out += _rule_lines(rule, config)
    for act in p.activities.values():
        if act.considerations:
            out += ["", f"WHAT A {act.name.upper()} MUST CONSIDER ({act.clause})"]
            out += [f"  {i:>2}. {q}" for i, q in enumerate(act.considerations, 1)]
    out += ["", "OFFENCES (case attribute 'offence')"]
    for off in p.offences.values():
        out.append(f"  {off.id}: {off.name} - {off.statute} ({off.clause})")
        if off.note:
            out += _wrap(f"note: {off.note}", 6)
    return "\n".join(out)

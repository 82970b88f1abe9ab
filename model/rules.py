"""Rules as data: four general templates, each optionally conditional on case attributes.

The procedure's own rules (CONTRACT §5) and a partnership's local rules are written with the
same templates and parsed by the same code, so they are judged the same way.

Templates:

``response``
    after the ``trigger`` (the first occurrence of any of its activities, unless
    ``trigger_occurrence`` says otherwise), every ``require`` entry (an activity, or a list of
    alternatives) occurs ``within`` a deadline. A required event before the trigger meets it.
``precedence``
    the first ``activity`` is preceded by ``preceded_by``.
``absence``
    ``activity`` never occurs (after the first ``after``, when given).
``existence``
    every ``require`` entry occurs by ``Case closed`` (after the first ``after``, when given;
    with ``only_after: true``, an occurrence before ``after`` breaks the rule at once; only in
    cases where ``trigger`` occurred, when given).

Every template takes ``when`` (case attributes that must hold for the rule to apply) and
``scope`` (``any``, ``workplace``: cases with ``Concern identified``; ``referral``: cases with
``Social care notified`` or ``Strategy discussion held``, or ``Police notified`` outside a
workplace case).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.calendar import Within
from model.errors import InputError, Problem
from model.yamlsource import LineDict, LineList, kind_of, line_of, read_yaml


class Template(enum.StrEnum):
    RESPONSE = "response"
    PRECEDENCE = "precedence"
    ABSENCE = "absence"
    EXISTENCE = "existence"


class Severity(enum.StrEnum):
    VIOLATION = "violation"
    WARNING = "warning"


class Scope(enum.StrEnum):
    ANY = "any"
    WORKPLACE = "workplace"
    REFERRAL = "referral"


class Occurrence(enum.StrEnum):
    """Which occurrence of a response rule's trigger starts its clock."""

    FIRST = "first"
    LAST_BEFORE_RESPONSE = "last before response"  # last trigger before the first response
    LAST_BEFORE = "last before"  # last trigger before the first occurrence of another activity


@dataclass(frozen=True)
class TriggerOccurrence:
    """A response rule's ``trigger_occurrence`` option: which occurrence of its trigger starts
    its clock. Written in a rules file as ``first``, ``last before response`` or ``last before
    <activity>`` (``parse``); a check may set it per rule in place of the rule's own.

    >>> str(TriggerOccurrence.parse("last before  Section 47 enquiry started"))
    'last before Section 47 enquiry started'
    """

    kind: Occurrence = Occurrence.FIRST
    activity: str | None = None  # for LAST_BEFORE

    @classmethod
    def parse(cls, text: str) -> TriggerOccurrence:
        t = " ".join(text.split())
        if t.lower() == Occurrence.FIRST.value:
            return cls(Occurrence.FIRST)
        if t.lower() == Occurrence.LAST_BEFORE_RESPONSE.value:
            return cls(Occurrence.LAST_BEFORE_RESPONSE)
        if t.lower().startswith("last before "):
            return cls(Occurrence.LAST_BEFORE, t[len("last before ") :])
        raise ValueError("'first', 'last before response' or 'last before <activity>'")

    def __str__(self) -> str:
        if self.kind is Occurrence.LAST_BEFORE:
            return f"last before {self.activity}"
        return str(self.kind.value)


TEMPLATE_FIELDS: dict[Template, tuple[set[str], set[str]]] = {
    # template: (required fields, optional fields) besides the common ones
    Template.RESPONSE: ({"trigger", "require", "within"}, {"trigger_occurrence"}),
    Template.PRECEDENCE: ({"activity", "preceded_by"}, set()),
    Template.ABSENCE: ({"activity"}, {"after"}),
    Template.EXISTENCE: ({"require"}, {"after", "only_after", "trigger"}),
}
COMMON_REQUIRED = {"id", "clause", "severity", "template"}
COMMON_OPTIONAL = {"description", "when", "scope"}


@dataclass(frozen=True)
class Rule:
    """One rule, judged per case. ``require`` entries are tuples of alternatives."""

    id: str
    clause: str
    severity: Severity
    template: Template
    description: str = ""
    trigger: tuple[str, ...] = ()
    trigger_occurrence: TriggerOccurrence = field(default_factory=TriggerOccurrence)
    require: tuple[tuple[str, ...], ...] = ()
    within: Within | None = None
    activity: str | None = None
    preceded_by: str | None = None
    after: str | None = None
    only_after: bool = False  # existence: every occurrence after `after`, not just one
    when: Mapping[str, bool] = field(default_factory=dict)
    scope: Scope = Scope.ANY
    origin: str = ""  # "file:line" where the rule was written

    def activities(self) -> set[str]:
        """Every activity the rule names."""
        names = set(self.trigger)
        for alternatives in self.require:
            names.update(alternatives)
        for name in (self.activity, self.preceded_by, self.after, self.trigger_occurrence.activity):
            if name:
                names.add(name)
        return names

    def text(self) -> str:
        """The rule in words, for listings."""
        if self.description:
            return self.description
        need = " and ".join(" or ".join(alts) for alts in self.require)
        if self.template is Template.RESPONSE:
            return f"after {' or '.join(self.trigger)}, {need} within {self.within}"
        if self.template is Template.PRECEDENCE:
            return f"{self.activity} is preceded by {self.preceded_by}"
        if self.template is Template.ABSENCE:
            tail = f" after {self.after}" if self.after else ""
            return f"{self.activity} does not occur{tail}"
        tail = f" after {self.after}" if self.after else ""
        if self.only_after:
            tail = f", and only after {self.after},"
        return f"{need} occurs{tail} by Case closed"


def _names(value: Any) -> tuple[str, ...] | None:
    """An activity name or a list of names; None when neither."""
    if isinstance(value, str) and value.strip():
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    return None


def parse_rule(
    raw: Any,
    *,
    source: str,
    line: int,
    activities: set[str],
    boolean_attributes: set[str],
    problems: list[Problem],
) -> Rule | None:
    """Parse one rule mapping; append every problem found to ``problems``."""
    start = len(problems)

    def bad(key: str | None, expected: str, found: str) -> None:
        at = line_of(raw, key) if key is not None else line
        where = f"line {at}" + (f", field '{key}'" if key else "")
        rid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(rid, str):
            where += f" (rule '{rid}')"
        problems.append(Problem(where, expected, found))

    if not isinstance(raw, dict):
        problems.append(
            Problem(f"line {line}", "a rule written as a mapping of fields", kind_of(raw))
        )
        return None
    template: Template | None = None
    if "template" in raw:
        try:
            template = Template(raw["template"])
        except ValueError:
            bad("template", "one of " + ", ".join(t.value for t in Template), repr(raw["template"]))
    for key in sorted(COMMON_REQUIRED - set(raw)):
        bad(None, f"a field '{key}'", "none")
    allowed = COMMON_REQUIRED | COMMON_OPTIONAL
    if template is None:
        # the template is unknown or missing (already reported): any template's field may be
        # meant, so none is reported as unknown on top
        for required, optional in TEMPLATE_FIELDS.values():
            allowed |= required | optional
    else:
        required, optional = TEMPLATE_FIELDS[template]
        allowed |= required | optional
        for key in sorted(required - set(raw)):
            if key == "trigger" and "within" in raw:
                bad(
                    None,
                    "a field 'trigger' (a deadline needs something to count from)",
                    "a deadline without a trigger",
                )
            else:
                bad(None, f"a field '{key}' (the {template.value} template needs it)", "none")
    for key in raw:
        if key not in allowed:
            if key == "within" and template is not None:
                bad(
                    key,
                    f"no deadline in a {template.value} rule (only response rules have one)",
                    "'within'",
                )
            else:
                bad(
                    key,
                    "one of the fields " + ", ".join(sorted(allowed)),
                    f"an unknown field '{key}'",
                )

    def activity_field(key: str, *, many: bool) -> tuple[str, ...]:
        if key not in raw:
            return ()
        names = _names(raw[key])
        if names is None or (not many and len(names) != 1):
            bad(key, "an activity name" + (" or a list of names" if many else ""), repr(raw[key]))
            return ()
        for name in names:
            if name not in activities:
                bad(
                    key,
                    "an activity of the procedure (or declared under 'activities')",
                    f"an unknown activity '{name}'",
                )
        return names

    rid = raw.get("id")
    if "id" in raw and not (isinstance(rid, str) and rid.strip()):
        bad("id", "a non-empty text", repr(rid))
    clause = raw.get("clause")
    if "clause" in raw and not (isinstance(clause, str) and clause.strip()):
        bad("clause", "a clause reference such as '§7.4'", repr(clause))
    severity = Severity.VIOLATION
    if "severity" in raw:
        try:
            severity = Severity(raw["severity"])
        except ValueError:
            bad("severity", "'violation' or 'warning'", repr(raw["severity"]))
    description = raw.get("description", "")
    if not isinstance(description, str):
        bad("description", "a text", repr(description))
        description = ""
    trigger = activity_field("trigger", many=True)
    activity = activity_field("activity", many=False)
    preceded_by = activity_field("preceded_by", many=False)
    after = activity_field("after", many=False)
    only_after = raw.get("only_after", False)
    if not isinstance(only_after, bool):
        bad("only_after", "true or false", repr(only_after))
        only_after = False
    elif only_after and "after" not in raw:
        bad("only_after", "a field 'after' naming the activity everything must follow", "none")
    require: list[tuple[str, ...]] = []
    if "require" in raw:
        entries = raw["require"]
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            bad(
                "require",
                "a list of activities (an entry may itself be a list of alternatives)",
                repr(entries),
            )
        else:
            for entry in entries:
                names = _names(entry)
                if names is None:
                    bad("require", "an activity name or a list of alternative names", repr(entry))
                    continue
                for name in names:
                    if name not in activities:
                        bad(
                            "require",
                            "an activity of the procedure (or declared under 'activities')",
                            f"an unknown activity '{name}'",
                        )
                require.append(names)
    within: Within | None = None
    if "within" in raw and template is Template.RESPONSE:
        if not isinstance(raw["within"], str):
            bad(
                "within",
                "a deadline such as 'same working day' or '15 working days'",
                repr(raw["within"]),
            )
        else:
            try:
                within = Within.parse(raw["within"])
            except ValueError as exc:
                bad("within", str(exc), repr(raw["within"]))
    occurrence = TriggerOccurrence()
    if "trigger_occurrence" in raw:
        value = raw["trigger_occurrence"]
        try:
            occurrence = TriggerOccurrence.parse(str(value))
        except ValueError as exc:
            bad("trigger_occurrence", str(exc), repr(value))
        else:
            if occurrence.activity is not None and occurrence.activity not in activities:
                bad(
                    "trigger_occurrence",
                    "'last before' an activity of the procedure",
                    f"an unknown activity '{occurrence.activity}'",
                )
    when: dict[str, bool] = {}
    if "when" in raw:
        value = raw["when"]
        if not isinstance(value, dict) or not value:
            bad("when", "a mapping of case attributes to true or false", repr(value))
        else:
            for attr, flag in value.items():
                if attr not in boolean_attributes:
                    bad(
                        "when",
                        "a true/false case attribute ("
                        + ", ".join(sorted(boolean_attributes))
                        + ")",
                        f"'{attr}'",
                    )
                elif not isinstance(flag, bool):
                    bad("when", f"true or false for '{attr}'", repr(flag))
                else:
                    when[attr] = flag
    scope = Scope.ANY
    if "scope" in raw:
        try:
            scope = Scope(raw["scope"])
        except ValueError:
            bad("scope", "one of any, workplace, referral", repr(raw["scope"]))
    if len(problems) > start:
        return None
    assert template is not None and isinstance(rid, str) and isinstance(clause, str)
    return Rule(
        id=rid,
        clause=clause,
        severity=severity,
        template=template,
        description=description,
        trigger=trigger,
        trigger_occurrence=occurrence,
        require=tuple(require),
        within=within,
        activity=activity[0] if activity else None,
        preceded_by=preceded_by[0] if preceded_by else None,
        after=after[0] if after else None,
        only_after=only_after,
        when=when,
        scope=scope,
        origin=f"{source}:{line}",
    )


def parse_rule_list(
    raw: Any,
    *,
    source: str,
    activities: set[str],
    boolean_attributes: set[str],
    problems: list[Problem],
    line: int,
    known_ids: set[str] | None = None,
) -> tuple[Rule, ...]:
    """Parse a YAML list of rules; duplicate ids (also against ``known_ids``) are problems."""
    if not isinstance(raw, list):
        problems.append(
            Problem(f"line {line}, field 'rules'", "a list of rules", kind_of(raw))
        )
        return ()
    seen = set(known_ids or ())
    rules: list[Rule] = []
    for index, item in enumerate(raw):
        item_line = line_of(raw, index)
        rid = item.get("id") if isinstance(item, dict) else None
        duplicate = isinstance(rid, str) and rid in seen
        if duplicate:
            problems.append(
                Problem(
                    f"line {line_of(item, 'id')}, field 'id'",
                    "a rule id not used before",
                    f"'{rid}' again",
                )
            )
        if isinstance(rid, str):
            seen.add(rid)
        rule = parse_rule(
            item,
            source=source,
            line=item_line,
            activities=activities,
            boolean_attributes=boolean_attributes,
            problems=problems,
        )
        if rule is not None and not duplicate:
            rules.append(rule)
    return tuple(rules)


@dataclass(frozen=True)
class RulesFile:
    """A local rules file as loaded: its rules, and the activity names it declares under
    ``activities:`` (names it may use besides the procedure's, e.g. another log's vocabulary)."""

    rules: tuple[Rule, ...]
    activities: frozenset[str] = frozenset()


def load_rules_file(
    path: Path | str,
    activities: set[str],
    boolean_attributes: set[str],
    known_ids: set[str] | None = None,
) -> RulesFile:
    """Load a local rules file: ``rules:`` (a list written with the templates) and, optionally,
    ``activities:`` (names the file may use besides the procedure's, e.g. for another log's
    vocabulary). Every problem is reported at once, with line numbers."""
    source = str(path)
    data = read_yaml(path)
    problems: list[Problem] = []
    if not isinstance(data, LineDict):
        raise InputError(
            source, [Problem("line 1", "a mapping with a 'rules' list", kind_of(data))]
        )
    for key in data:
        if key not in {"rules", "activities"}:
            problems.append(
                Problem(
                    f"line {line_of(data, key)}",
                    "the fields 'rules' and 'activities'",
                    f"an unknown field '{key}'",
                )
            )
    extra: set[str] = set()
    if "activities" in data:
        names = data["activities"]
        if not isinstance(names, LineList) or not all(
            isinstance(n, str) and n.strip() for n in names
        ):
            problems.append(
                Problem(
                    f"line {line_of(data, 'activities')}, field 'activities'",
                    "a list of activity names",
                    repr(names),
                )
            )
        else:
            extra = set(names)
    if "rules" not in data:
        problems.append(Problem("line 1", "a field 'rules' with a list of rules", "none"))
        raise InputError(source, problems)
    rules = parse_rule_list(
        data["rules"],
        source=source,
        activities=activities | extra,
        boolean_attributes=boolean_attributes,
        problems=problems,
        line=line_of(data, "rules"),
        known_ids=known_ids,
    )
    if problems:
        raise InputError(source, problems)
    return RulesFile(rules=rules, activities=frozenset(extra))


def load_rules(
    path: Path | str,
    activities: set[str],
    boolean_attributes: set[str],
    known_ids: set[str] | None = None,
) -> tuple[Rule, ...]:
    """The rules of a local rules file (``load_rules_file(...).rules``)."""
    return load_rules_file(path, activities, boolean_attributes, known_ids).rules

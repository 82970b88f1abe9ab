"""Checks of a procedure file read whole: what no single section can check alone.

- every activity that is not a forbidden event is a step somewhere in the flow;
- the procedure's own rules say where they come from (a title and a basis; an interpretation
  is a warning at most);
- the contract (``model.contract``, CONTRACT §1, §2, §5): its activities, attributes, offences
  and rules are all there, each rule with the contract's clause, severity and basis.

Each adds its problems to the reader's (a :class:`~model.procedure.fields.Fields`), so that they
are reported with the others, all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model import contract
from model.procedure.fields import Fields
from model.procedure.parts import Activity, Attribute, Block, Kind, Task, walk
from model.rules import Basis, Rule, Severity
from model.yamlsource import LineDict, LineList, line_of

__all__ = ["check_activities_used", "check_contract", "check_rule_sources"]


def check_activities_used(
    fields: Fields, data: LineDict, flow: Block, activities: Mapping[str, Activity]
) -> None:
    """Every activity but a forbidden event is a step of the flow."""
    used = {b.activity for b in walk(flow) if isinstance(b, Task)}
    for act in activities.values():
        if act.kind is not Kind.FORBIDDEN and act.name not in used:
            fields.bad(
                data,
                "flow",
                f"the activity '{act.name}' somewhere in the flow",
                "it nowhere",
            )


def check_rule_sources(fields: Fields, raw: Any, rules: tuple[Rule, ...]) -> None:
    """The procedure's own rules say where they come from (CONTRACT §5): each has a
    ``title`` and a ``basis``, and an interpretation is a warning at most (``raw``: the
    file's ``rules`` list as written)."""
    if not isinstance(raw, LineList):
        return
    written = {
        item.get("id"): item for item in raw if isinstance(item, LineDict)
    }
    for rule in rules:
        item = written.get(rule.id)
        if item is None:
            continue
        for key, what in (("title", "a plain-language title"),
                          ("basis", "'text' or 'interpretation'")):
            if key not in item:
                fields.bad(item, None, f"a field '{key}' ({what}) in rule '{rule.id}'", "none")
        if rule.basis is Basis.INTERPRETATION and rule.severity is Severity.VIOLATION:
            fields.bad(
                item,
                "severity",
                f"'warning' for rule '{rule.id}': a rule whose basis is an interpretation "
                "is a warning at most (CONTRACT §5)",
                "'violation'",
            )


def check_contract(
    fields: Fields,
    data: LineDict,
    activities: Mapping[str, Activity],
    attributes: Mapping[str, Attribute],
    rules: tuple[Rule, ...],
) -> None:
    """The contract's activities, attributes and offences are all there, each of its rules
    with the contract's clause, severity and basis; a missing contract rule is reported only
    when the file has no other problem (a rule written wrongly is not also "missing")."""
    for name in contract.ACTIVITIES:
        if name not in activities:
            fields.bad(
                data,
                "activities",
                f"the contract's activity '{name}' (CONTRACT §1)",
                "it missing",
            )
    for name in contract.ATTRIBUTES:
        if name not in attributes:
            fields.bad(
                data,
                "attributes",
                f"the contract's attribute '{name}' (CONTRACT §2)",
                "it missing",
            )
    offence = attributes.get("offence")
    if offence is not None and offence.values != contract.OFFENCES:
        fields.bad(
            data,
            "attributes",
            "the values of 'offence' as CONTRACT §2 names them: "
            + ", ".join(contract.OFFENCES),
            ", ".join(offence.values) or "none",
        )
    raw_rules = data.get("rules")
    written = (
        {item.get("id"): item for item in raw_rules if isinstance(item, LineDict)}
        if isinstance(raw_rules, LineList)
        else {}
    )
    for rule in rules:
        fixed = contract.RULES.get(rule.id)
        if fixed is None:
            continue
        given = (rule.clause, rule.severity.value, rule.basis.value)
        if given != tuple(fixed):
            fields.bad(
                written.get(rule.id, data),
                None,
                f"rule '{rule.id}' with clause {fixed.clause}, severity {fixed.severity} "
                f"and basis {fixed.basis} (CONTRACT §5)",
                f"clause {given[0]}, severity {given[1]}, basis {given[2]}",
            )
    ids = {r.id for r in rules}
    if "rules" in data and not any(
        p.where.startswith(f"line {line_of(data, 'rules')}") for p in fields.problems
    ):
        for rid in contract.RULE_IDS:
            if rid not in ids and not fields.problems:
                fields.bad(
                    data, "rules", f"the contract's rule '{rid}' (CONTRACT §5)", "it missing"
                )

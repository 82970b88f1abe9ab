"""Reading a procedure file whole: its sections (``procedure``, ``roles``, ``attributes``,
``offences``, ``activities``, ``flow`` and ``rules``) into a :class:`~model.procedure.parts.
Procedure`, every problem of the file collected and raised at once as one InputError.

The flow is read by :class:`~model.procedure.flowreader.FlowReader` (the base of the reader
here), the rules by :func:`model.rules.parse_rule_list`, and what needs the file whole by
:mod:`model.procedure.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.errors import InputError, Problem
from model.procedure.checks import check_activities_used, check_contract, check_rule_sources
from model.procedure.flowreader import FlowReader
from model.procedure.parts import Activity, Attribute, Kind, Offence, Procedure, Role
from model.rules import AttributeValue, parse_rule_list
from model.yamlsource import LineDict, LineList, kind_of, line_of

__all__ = ["ProcedureReader"]


class ProcedureReader(FlowReader):
    """Reads one procedure file (the data :func:`model.yamlsource.read_yaml` gives) with
    :meth:`build`; ``source`` is the name its problems are reported under."""

    def build(self, data: Any) -> Procedure:
        """The procedure of ``data``; raises InputError listing every problem found."""
        if not isinstance(data, LineDict):
            raise InputError(
                self.source,
                [
                    Problem(
                        "line 1",
                        "a mapping (procedure, roles, attributes, offences, activities, flow, rules)",
                        kind_of(data),
                    )
                ],
            )
        self.only(
            data,
            {"procedure", "roles", "attributes", "offences", "activities", "flow", "rules"},
            "a procedure file",
        )
        head = self.mapping(data, "procedure")
        roles = self.roles(self.mapping(data, "roles"))
        attributes = self.attributes(self.mapping(data, "attributes"))
        offences = self.offences(self.mapping(data, "offences"), attributes)
        activities = self.activities(data.get("activities"), data, roles)
        flow = self.block(data.get("flow"), data, "flow", activities, roles, attributes)
        if flow is None and "flow" in data:
            self.bad(data, "flow", "a flow with at least one step", "none")
        booleans = {a.name for a in attributes.values() if a.type == "boolean"}
        categories = {a.name: a.values for a in attributes.values() if a.type == "category"}
        rules = parse_rule_list(
            data.get("rules", LineList()),
            source=self.source,
            activities=set(activities),
            boolean_attributes=booleans,
            problems=self.problems,
            line=line_of(data, "rules"),
            categories=categories,
        )
        check_rule_sources(self, data.get("rules"), rules)
        check_contract(self, data, activities, attributes, rules)
        if flow is not None:
            check_activities_used(self, data, flow, activities)
        if self.problems:
            raise InputError(
                self.source,
                self.problems,
                summary=f"{self.source}: {len(self.problems)} problem(s) in the procedure",
            )
        assert flow is not None
        return Procedure(
            id=self.text(head, "id"),
            title=self.text(head, "title"),
            source=self.text(head, "source"),
            roles=roles,
            attributes=attributes,
            offences=offences,
            activities=activities,
            flow=flow,
            rules=rules,
            path=self.source,
        )

    def roles(self, raw: LineDict) -> dict[str, Role]:
        out: dict[str, Role] = {}
        for rid, body in raw.items():
            if not isinstance(body, LineDict):
                self.bad(raw, rid, "a mapping with name and meaning", kind_of(body))
                continue
            self.only(body, {"name", "meaning"}, f"role '{rid}'")
            out[rid] = Role(rid, self.text(body, "name"), self.text(body, "meaning"))
        return out

    def attributes(self, raw: LineDict) -> dict[str, Attribute]:
        out: dict[str, Attribute] = {}
        for name, body in raw.items():
            if not isinstance(body, LineDict):
                self.bad(raw, name, "a mapping with type, clause and meaning", kind_of(body))
                continue
            self.only(
                body,
                {"type", "clause", "meaning", "contract", "values", "words"},
                f"attribute '{name}'",
            )
            kind = body.get("type")
            if kind not in ("boolean", "category"):
                self.bad(body, "type", "'boolean' or 'category'", repr(kind))
            values: tuple[str, ...] = ()
            if kind == "category":
                raw_values = body.get("values")
                if not isinstance(raw_values, list) or not raw_values:
                    self.bad(body, "values", "a list of the category's values", repr(raw_values))
                else:
                    values = tuple(str(v) for v in raw_values)
            contract_flag = body.get("contract", True)
            if not isinstance(contract_flag, bool):
                self.bad(body, "contract", "true or false", repr(contract_flag))
                contract_flag = True
            wanted_keys: set[AttributeValue] = set(values) if kind == "category" else {True, False}
            words = body.get("words")
            if not isinstance(words, dict) or set(words) != wanted_keys or not all(
                isinstance(w, str) and w.strip() for w in words.values()
            ):
                self.bad(
                    body,
                    "words" if "words" in body else None,
                    "'words': what each value says about a case, for "
                    + ", ".join(str(k).lower() for k in sorted(wanted_keys, key=str)),
                    kind_of(words) if not isinstance(words, dict)
                    else ", ".join(str(k).lower() for k in words),
                )
                words = {}
            out[name] = Attribute(
                name,
                str(kind),
                self.text(body, "clause"),
                self.text(body, "meaning"),
                contract_flag,
                values,
                {k: " ".join(str(v).split()) for k, v in words.items()},
            )
        return out

    def offences(self, raw: LineDict, attributes: Mapping[str, Attribute]) -> dict[str, Offence]:
        out: dict[str, Offence] = {}
        for oid, body in raw.items():
            if not isinstance(body, LineDict):
                self.bad(
                    raw,
                    oid,
                    "a mapping with name, statute, clause and meaning",
                    kind_of(body),
                )
                continue
            self.only(
                body, {"name", "statute", "clause", "meaning", "note"}, f"offence '{oid}'"
            )
            out[oid] = Offence(
                oid,
                self.text(body, "name"),
                self.text(body, "statute"),
                self.text(body, "clause"),
                self.text(body, "meaning"),
                " ".join(self.text(body, "note", required=False).split()),
            )
        offence_attr = attributes.get("offence")
        if offence_attr is not None and set(offence_attr.values) != set(out):
            self.bad(
                raw,
                None,
                "the values of the attribute 'offence' to be the offences listed",
                ", ".join(offence_attr.values),
            )
        return out

    def activities(
        self, raw: Any, data: LineDict, roles: Mapping[str, Role]
    ) -> dict[str, Activity]:
        out: dict[str, Activity] = {}
        if not isinstance(raw, LineList):
            self.bad(
                data,
                "activities" if "activities" in data else None,
                "a list of activities",
                kind_of(raw),
            )
            return out
        allowed = {
            "name",
            "role",
            "performer",
            "clause",
            "kind",
            "meaning",
            "participants",
            "considerations",
        }
        for index, body in enumerate(raw):
            if not isinstance(body, LineDict):
                self.bad(raw, index, "an activity written as a mapping", kind_of(body))
                continue
            self.only(body, allowed, "an activity")
            name = self.text(body, "name")
            role = self.text(body, "role")
            if role and role not in roles:
                self.bad(
                    body,
                    "role",
                    "a role listed under 'roles' (" + ", ".join(roles) + ")",
                    f"'{role}'",
                )
            kind_text = body.get("kind", "task")
            try:
                kind = Kind(kind_text)
            except ValueError:
                self.bad(body, "kind", "task, forbidden or end", repr(kind_text))
                kind = Kind.TASK
            participants = body.get("participants", [])
            if not isinstance(participants, list) or any(p not in roles for p in participants):
                self.bad(
                    body, "participants", "a list of roles listed under 'roles'", repr(participants)
                )
                participants = []
            considerations = body.get("considerations", [])
            if not isinstance(considerations, list) or not all(
                isinstance(c, str) for c in considerations
            ):
                self.bad(body, "considerations", "a list of questions", repr(considerations))
                considerations = []
            if name in out:
                self.bad(body, "name", "each activity once", f"'{name}' again")
            if name:
                out[name] = Activity(
                    name=name,
                    role=role,
                    performer=self.text(body, "performer", required=False) or role,
                    clause=self.text(body, "clause"),
                    kind=kind,
                    meaning=self.text(body, "meaning"),
                    participants=tuple(participants),
                    considerations=tuple(considerations),
                )
        return out

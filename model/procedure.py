"""The procedure as typed data: roles, attributes, offences, activities, block-structured
control flow and rules, loaded from one YAML file and validated as a whole."""

from __future__ import annotations

import enum
import importlib.resources
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from model import contract
from model.errors import InputError, Problem
from model.rules import Rule, parse_rule_list
from model.yamlsource import LineDict, LineList, kind_of, line_of, read_yaml


class Kind(enum.StrEnum):
    TASK = "task"  # a step of the flow
    FORBIDDEN = "forbidden"  # an event the procedure forbids; never in the flow
    END = "end"  # closes the case


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    meaning: str


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # "boolean" or "category"
    clause: str
    meaning: str
    contract: bool = True
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Offence:
    id: str
    name: str
    statute: str
    clause: str
    meaning: str


@dataclass(frozen=True)
class Activity:
    name: str
    role: str
    performer: str
    clause: str
    kind: Kind
    meaning: str
    participants: tuple[str, ...] = ()
    considerations: tuple[str, ...] = ()


# Control flow blocks -------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """An activity at one place in the flow (the same activity may appear at several)."""

    id: str
    activity: str
    role: str
    clause: str


@dataclass(frozen=True)
class Sequence:
    id: str
    children: tuple[Block, ...]
    clause: str


@dataclass(frozen=True)
class Parallel:
    id: str
    name: str
    children: tuple[Block, ...]
    clause: str


@dataclass(frozen=True)
class Branch:
    """``when`` None is the ``otherwise`` branch; ``body`` None is a branch with no step."""

    when: Mapping[str, bool] | None
    body: Block | None

    def condition_text(self) -> str:
        if self.when is None:
            return "otherwise"
        return " and ".join(f"{k} = {str(v).lower()}" for k, v in self.when.items())


@dataclass(frozen=True)
class Choice:
    id: str
    name: str
    clause: str
    decided_by: tuple[str, ...]
    branches: tuple[Branch, ...]

    def select(self, attributes: Mapping[str, bool | None]) -> int:
        """Index of the branch taken: the first whose conditions all hold, else ``otherwise``."""
        for index, branch in enumerate(self.branches):
            if branch.when is None or all(attributes.get(k) is v for k, v in branch.when.items()):
                return index
        raise ValueError(f"gateway '{self.id}': no branch applies and there is no 'otherwise'")


@dataclass(frozen=True)
class Loop:
    """The body once, then again while ``repeat`` holds (one or more times)."""

    id: str
    name: str
    clause: str
    body: Block
    repeat: str


Block = Union[Task, Sequence, Parallel, Choice, Loop]  # noqa: UP007 (used at run time)


def walk(block: Block | None) -> Iterator[Block]:
    """Every block in the tree, depth first, parents before children."""
    if block is None:
        return
    yield block
    if isinstance(block, (Sequence, Parallel)):
        for child in block.children:
            yield from walk(child)
    elif isinstance(block, Choice):
        for branch in block.branches:
            yield from walk(branch.body)
    elif isinstance(block, Loop):
        yield from walk(block.body)


@dataclass(frozen=True)
class Procedure:
    id: str
    title: str
    source: str
    roles: Mapping[str, Role]
    attributes: Mapping[str, Attribute]
    offences: Mapping[str, Offence]
    activities: Mapping[str, Activity]
    flow: Block
    rules: tuple[Rule, ...]
    path: str = ""
    _tasks: tuple[Task, ...] = field(default=(), repr=False, compare=False)

    @property
    def activity_names(self) -> tuple[str, ...]:
        return tuple(self.activities)

    @property
    def boolean_attributes(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes.values() if a.type == "boolean")

    def tasks(self) -> tuple[Task, ...]:
        """The flow's task nodes in depth-first order."""
        return tuple(b for b in walk(self.flow) if isinstance(b, Task))

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(
            f"no rule '{rule_id}'; the rules are: " + ", ".join(r.id for r in self.rules)
        )

    def gateways(self) -> tuple[Choice, ...]:
        return tuple(b for b in walk(self.flow) if isinstance(b, Choice))

    def loops(self) -> tuple[Loop, ...]:
        return tuple(b for b in walk(self.flow) if isinstance(b, Loop))


DEFAULT_PROCEDURE = "procedure.yaml"


def default_procedure_path() -> Path:
    return Path(str(importlib.resources.files("model").joinpath(DEFAULT_PROCEDURE)))


_CACHE: dict[str, Procedure] = {}


def load_procedure(path: Path | str | None = None) -> Procedure:
    """Load and validate a procedure file (the built-in one when ``path`` is None).

    Parameters
    ----------
    path
        A procedure file (YAML, in the form of ``model/procedure.yaml``); None: the built-in
        procedure 1.4.9, read once and kept.

    Returns
    -------
    Procedure
        The validated procedure: its roles, activities, flow, rules and offences.

    Raises
    ------
    InputError
        Listing every problem of the file with its line and field.

    Examples
    --------
    >>> from model import load_procedure
    >>> procedure = load_procedure()
    >>> "LADO contacted" in procedure.activities
    True
    >>> rule = procedure.rule("lado-same-day")
    >>> rule.clause, rule.severity.value
    ('§7.4', 'violation')
    """
    target = Path(path) if path is not None else default_procedure_path()
    key = str(target.resolve())
    if path is None and key in _CACHE:
        return _CACHE[key]
    data = read_yaml(target)
    procedure = _Builder(str(path) if path is not None else DEFAULT_PROCEDURE).build(data)
    if path is None:
        _CACHE[key] = procedure
    return procedure


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.ids: dict[str, int] = {}
        self.task_count = 0

    def bad(self, container: Any, key: Any, expected: str, found: str) -> None:
        where = f"line {line_of(container, key)}"
        if isinstance(key, str):
            where += f", field '{key}'"
        self.problems.append(Problem(where, expected, found))

    def text(self, container: LineDict, key: str, *, required: bool = True) -> str:
        value = container.get(key)
        if value is None:
            if required:
                self.bad(container, None, f"a field '{key}'", "none")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.bad(container, key, "a non-empty text", repr(value))
            return ""
        return value

    def only(self, container: LineDict, allowed: set[str], what: str) -> None:
        for key in container:
            if key not in allowed:
                self.bad(
                    container,
                    key,
                    f"one of the fields of {what}: " + ", ".join(sorted(allowed)),
                    f"an unknown field '{key}'",
                )

    def mapping(self, data: LineDict, key: str) -> LineDict:
        value = data.get(key)
        if not isinstance(value, LineDict):
            self.bad(
                data,
                key if key in data else None,
                f"a mapping under '{key}'",
                kind_of(value),
            )
            return LineDict()
        return value

    def build(self, data: Any) -> Procedure:
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
        rules = parse_rule_list(
            data.get("rules", LineList()),
            source=self.source,
            activities=set(activities),
            boolean_attributes=booleans,
            problems=self.problems,
            line=line_of(data, "rules"),
        )
        self.check_contract(data, activities, attributes, rules)
        if flow is not None:
            used = {b.activity for b in walk(flow) if isinstance(b, Task)}
            for act in activities.values():
                if act.kind is not Kind.FORBIDDEN and act.name not in used:
                    self.bad(
                        data,
                        "flow",
                        f"the activity '{act.name}' somewhere in the flow",
                        "it nowhere",
                    )
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
                body, {"type", "clause", "meaning", "contract", "values"}, f"attribute '{name}'"
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
            out[name] = Attribute(
                name,
                str(kind),
                self.text(body, "clause"),
                self.text(body, "meaning"),
                contract_flag,
                values,
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
            self.only(body, {"name", "statute", "clause", "meaning"}, f"offence '{oid}'")
            out[oid] = Offence(
                oid,
                self.text(body, "name"),
                self.text(body, "statute"),
                self.text(body, "clause"),
                self.text(body, "meaning"),
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

    def new_id(self, container: Any, key: Any, wanted: str) -> str:
        if wanted in self.ids:
            self.bad(
                container, key, "a block id not used elsewhere in the flow", f"'{wanted}' again"
            )
        self.ids[wanted] = line_of(container, key)
        return wanted

    def block(
        self,
        raw: Any,
        parent: Any,
        key: Any,
        activities: Mapping[str, Activity],
        roles: Mapping[str, Role],
        attributes: Mapping[str, Attribute],
    ) -> Block | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return self.task(raw, None, parent, key, activities, roles)
        if not isinstance(raw, LineDict):
            self.bad(
                parent,
                key,
                "an activity name or a block (sequence, parallel, choice, loop, task)",
                kind_of(raw),
            )
            return None
        kinds = [k for k in ("sequence", "parallel", "choice", "loop", "task") if k in raw]
        if len(kinds) != 1:
            self.bad(
                raw,
                None,
                "exactly one of sequence, parallel, choice, loop, task",
                ", ".join(kinds) or "none of them",
            )
            return None
        kind = kinds[0]
        sub = (activities, roles, attributes)
        if kind == "task":
            self.only(raw, {"task", "role"}, "a task")
            return self.task(raw["task"], raw.get("role"), raw, "task", activities, roles)
        if kind == "sequence":
            self.only(raw, {"sequence", "id", "clause"}, "a sequence")
            children = self.children(raw, "sequence", *sub)
            return Sequence(
                self.new_id(raw, "sequence", str(raw.get("id") or f"seq-{raw.line}")),
                children,
                str(raw.get("clause", "")),
            )
        if kind == "parallel":
            self.only(raw, {"parallel", "id", "name", "clause"}, "a parallel block")
            children = self.children(raw, "parallel", *sub)
            if len(children) < 2:
                self.bad(
                    raw, "parallel", "at least two branches in a parallel block", f"{len(children)}"
                )
            return Parallel(
                self.new_id(raw, "id", self.text(raw, "id")),
                self.text(raw, "name"),
                children,
                self.text(raw, "clause"),
            )
        if kind == "loop":
            self.only(raw, {"loop", "id", "name", "clause", "repeat"}, "a loop")
            body = self.block(raw["loop"], raw, "loop", *sub)
            if body is None:
                self.bad(raw, "loop", "a block to repeat", "none")
                return None
            return Loop(
                self.new_id(raw, "id", self.text(raw, "id")),
                self.text(raw, "name"),
                self.text(raw, "clause"),
                body,
                self.text(raw, "repeat"),
            )
        return self.choice(raw, *sub)

    def children(
        self,
        raw: LineDict,
        key: str,
        activities: Mapping[str, Activity],
        roles: Mapping[str, Role],
        attributes: Mapping[str, Attribute],
    ) -> tuple[Block, ...]:
        items = raw[key]
        if not isinstance(items, LineList) or not items:
            self.bad(raw, key, f"a non-empty list of blocks under '{key}'", kind_of(items))
            return ()
        out: list[Block] = []
        for index, item in enumerate(items):
            if item is None:
                self.bad(items, index, "a step (an activity or a block)", "an empty item")
                continue
            child = self.block(item, items, index, activities, roles, attributes)
            if child is not None:
                out.append(child)
        return tuple(out)

    def task(
        self,
        name: Any,
        role: Any,
        parent: Any,
        key: Any,
        activities: Mapping[str, Activity],
        roles: Mapping[str, Role],
    ) -> Task | None:
        if not isinstance(name, str) or name not in activities:
            self.bad(
                parent,
                key,
                "an activity listed under 'activities'",
                f"an unknown activity {name!r}",
            )
            return None
        act = activities[name]
        if act.kind is Kind.FORBIDDEN:
            self.bad(
                parent,
                key,
                "a step the procedure asks for",
                f"the forbidden event '{name}' in the flow",
            )
        lane = act.role
        if role is not None:
            if role not in roles:
                self.bad(parent, key, "a role listed under 'roles'", repr(role))
            else:
                lane = role
        self.task_count += 1
        tid = self.new_id(parent, key, f"t{self.task_count:02d}")
        return Task(tid, name, lane, act.clause)

    def choice(
        self,
        raw: LineDict,
        activities: Mapping[str, Activity],
        roles: Mapping[str, Role],
        attributes: Mapping[str, Attribute],
    ) -> Choice | None:
        self.only(raw, {"choice", "id", "clause", "decided_by", "branches"}, "a choice (gateway)")
        name = self.text(raw, "choice")
        gid = self.new_id(raw, "id", self.text(raw, "id"))
        clause = self.text(raw, "clause")
        decided = raw.get("decided_by")
        booleans = {a.name for a in attributes.values() if a.type == "boolean"}
        if not isinstance(decided, list) or not decided:
            self.bad(
                raw,
                "decided_by" if "decided_by" in raw else None,
                "'decided_by': the case attributes that decide this gateway",
                "none",
            )
            decided = []
        for attr in decided:
            if attr not in booleans:
                self.bad(
                    raw,
                    "decided_by",
                    "a true/false attribute listed under 'attributes'",
                    repr(attr),
                )
        branches_raw = raw.get("branches")
        branches: list[Branch] = []
        if not isinstance(branches_raw, LineList) or len(branches_raw) < 2:
            self.bad(
                raw, "branches" if "branches" in raw else None, "at least two branches", "fewer"
            )
            return None
        for index, br in enumerate(branches_raw):
            if not isinstance(br, LineDict):
                self.bad(
                    branches_raw,
                    index,
                    "a branch with 'when' (or 'otherwise: true') and 'do'",
                    kind_of(br),
                )
                continue
            self.only(br, {"when", "otherwise", "do"}, "a branch")
            if "do" not in br:
                self.bad(br, None, "a field 'do' (the branch's steps, or null for none)", "none")
            when: dict[str, bool] | None
            if br.get("otherwise") is True and "when" not in br:
                when = None
                if index != len(branches_raw) - 1:
                    self.bad(
                        br,
                        "otherwise",
                        "the 'otherwise' branch last",
                        f"it as branch {index + 1} of {len(branches_raw)}",
                    )
            elif isinstance(br.get("when"), dict) and br["when"]:
                when = {}
                for attr, flag in br["when"].items():
                    if attr not in decided:
                        self.bad(
                            br,
                            "when",
                            f"an attribute named in decided_by ({', '.join(map(str, decided))})",
                            repr(attr),
                        )
                    elif not isinstance(flag, bool):
                        self.bad(br, "when", f"true or false for '{attr}'", repr(flag))
                    else:
                        when[attr] = flag
            else:
                self.bad(
                    br,
                    None,
                    "a condition: 'when: {attribute: true|false}' or 'otherwise: true'",
                    "a gateway branch without a condition",
                )
                when = None
            body = self.block(br.get("do"), br, "do", activities, roles, attributes)
            branches.append(Branch(when, body))
        if branches and branches[-1].when is not None:
            self.bad(
                raw,
                "branches",
                "a last branch 'otherwise: true', so every case has a way through",
                "none",
            )
        return Choice(gid, name, clause, tuple(str(d) for d in decided), tuple(branches))

    def check_contract(
        self,
        data: LineDict,
        activities: Mapping[str, Activity],
        attributes: Mapping[str, Attribute],
        rules: tuple[Rule, ...],
    ) -> None:
        for name in contract.ACTIVITIES:
            if name not in activities:
                self.bad(
                    data,
                    "activities",
                    f"the contract's activity '{name}' (CONTRACT §1)",
                    "it missing",
                )
        for name in contract.ATTRIBUTES:
            if name not in attributes:
                self.bad(
                    data,
                    "attributes",
                    f"the contract's attribute '{name}' (CONTRACT §2)",
                    "it missing",
                )
        ids = {r.id for r in rules}
        if "rules" in data and not any(
            p.where.startswith(f"line {line_of(data, 'rules')}") for p in self.problems
        ):
            for rid in contract.RULE_IDS:
                if rid not in ids and not self.problems:
                    self.bad(
                        data, "rules", f"the contract's rule '{rid}' (CONTRACT §5)", "it missing"
                    )

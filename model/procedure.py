"""The procedure as typed data: roles, attributes, offences, activities, block-structured
control flow and rules, loaded from one YAML file and validated as a whole.

The flow is a tree of blocks (task, sequence, parallel, choice, loop and sub-process); a
sub-process groups a part of the flow under a name, so that diagrams can draw it collapsed on
the overview and in full on a page of its own. It changes nothing else: the graph, the Petri net
and the simulator walk straight through it."""

from __future__ import annotations

import enum
import importlib.resources
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from model import contract
from model.errors import InputError, Problem
from model.rules import AttributeValue, Basis, Rule, Severity, parse_rule_list
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
    # What each value says about a case, in words ("the concern is about the line manager"):
    # keys True and False for a boolean attribute, the values for a categorical one.
    words: Mapping[AttributeValue, str] = field(default_factory=dict)

    def says(self, value: AttributeValue) -> str:
        """The words for ``value`` (the attribute and value when none are written)."""
        return self.words.get(value) or f"{self.name} is {str(value).lower()}"


@dataclass(frozen=True)
class Offence:
    id: str
    name: str
    statute: str
    clause: str
    meaning: str
    note: str = ""  # where the text's legal attribution differs from the statute


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


def matches(value: AttributeValue | None, wanted: AttributeValue) -> bool:
    """Whether a case's attribute value (None = unknown) is the one a condition wants."""
    if isinstance(wanted, bool):
        return value is wanted
    return isinstance(value, str) and value == wanted


@dataclass(frozen=True)
class Branch:
    """``when`` None is the ``otherwise`` branch; ``body`` None is a branch with no step."""

    when: Mapping[str, AttributeValue] | None
    body: Block | None

    def condition_text(self) -> str:
        """The condition as attribute expressions ("concern_about_line_manager = true")."""
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

    def select(self, attributes: Mapping[str, AttributeValue | None]) -> int:
        """Index of the branch taken: the first whose conditions all hold, else ``otherwise``."""
        for index, branch in enumerate(self.branches):
            if branch.when is None or all(
                matches(attributes.get(k), v) for k, v in branch.when.items()
            ):
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


@dataclass(frozen=True)
class SubProcess:
    """A named part of the flow, drawn collapsed (in the lane ``role``) on the page around it and
    in full on a page of its own. It behaves exactly as its body."""

    id: str
    name: str
    clause: str
    role: str
    body: Block


Block = Union[Task, Sequence, Parallel, Choice, Loop, SubProcess]  # noqa: UP007 (run time)


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
    elif isinstance(block, (Loop, SubProcess)):
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

    @property
    def categories(self) -> dict[str, tuple[str, ...]]:
        """Each categorical attribute (such as ``offence``) with its values."""
        return {a.name: a.values for a in self.attributes.values() if a.type == "category"}

    def condition_words(self, when: Mapping[str, AttributeValue] | None) -> str:
        """A branch's condition in words ("the concern is about the line manager")."""
        if when is None:
            return "otherwise"
        parts = [
            self.attributes[k].says(v) if k in self.attributes else f"{k} is {str(v).lower()}"
            for k, v in when.items()
        ]
        return " and ".join(parts)

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

    def subprocesses(self) -> tuple[SubProcess, ...]:
        """The sub-processes, outer ones first (depth-first order of the flow)."""
        return tuple(b for b in walk(self.flow) if isinstance(b, SubProcess))

    def subprocess(self, sub_id: str) -> SubProcess:
        for sub in self.subprocesses():
            if sub.id == sub_id:
                return sub
        raise KeyError(
            f"no sub-process '{sub_id}'; the sub-processes are: "
            + ", ".join(s.id for s in self.subprocesses())
        )


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
        self.check_rules(data.get("rules"), rules)
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
                "an activity name or a block (sequence, parallel, choice, loop, task, subprocess)",
                kind_of(raw),
            )
            return None
        kinds = [
            k for k in ("sequence", "parallel", "choice", "loop", "task", "subprocess") if k in raw
        ]
        if len(kinds) != 1:
            self.bad(
                raw,
                None,
                "exactly one of sequence, parallel, choice, loop, task, subprocess",
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
        if kind == "subprocess":
            self.only(raw, {"subprocess", "id", "name", "clause", "role"}, "a sub-process")
            sub_id = self.new_id(raw, "id", self.text(raw, "id"))
            name = self.text(raw, "name")
            clause = self.text(raw, "clause")
            role = self.text(raw, "role")
            if role and role not in roles:
                self.bad(raw, "role", "a role listed under 'roles' (the lane of its shape)",
                         repr(role))
            body = self.block(raw["subprocess"], raw, "subprocess", *sub)
            if body is None:
                self.bad(raw, "subprocess", "the steps of the sub-process", "none")
                return None
            return SubProcess(sub_id, name, clause, role, body)
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
        categories = {a.name: a.values for a in attributes.values() if a.type == "category"}
        if not isinstance(decided, list) or not decided:
            self.bad(
                raw,
                "decided_by" if "decided_by" in raw else None,
                "'decided_by': the case attributes that decide this gateway",
                "none",
            )
            decided = []
        for attr in decided:
            if attr not in booleans and attr not in categories:
                self.bad(
                    raw,
                    "decided_by",
                    "an attribute listed under 'attributes'",
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
            when: dict[str, AttributeValue] | None
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
                    elif attr in categories:
                        if flag not in categories[attr]:
                            self.bad(br, "when", f"one of {', '.join(categories[attr])} for "
                                     f"'{attr}'", repr(flag))
                        else:
                            when[attr] = str(flag)
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

    def check_rules(self, raw: Any, rules: tuple[Rule, ...]) -> None:
        """The procedure's own rules say where they come from (CONTRACT §5): each has a
        ``title`` and a ``basis``, and an interpretation is a warning at most."""
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
                    self.bad(item, None, f"a field '{key}' ({what}) in rule '{rule.id}'", "none")
            if rule.basis is Basis.INTERPRETATION and rule.severity is Severity.VIOLATION:
                self.bad(
                    item,
                    "severity",
                    f"'warning' for rule '{rule.id}': a rule whose basis is an interpretation "
                    "is a warning at most (CONTRACT §5)",
                    "'violation'",
                )

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
        offence = attributes.get("offence")
        if offence is not None and offence.values != contract.OFFENCES:
            self.bad(
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
                self.bad(
                    written.get(rule.id, data),
                    None,
                    f"rule '{rule.id}' with clause {fixed.clause}, severity {fixed.severity} "
                    f"and basis {fixed.basis} (CONTRACT §5)",
                    f"clause {given[0]}, severity {given[1]}, basis {given[2]}",
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

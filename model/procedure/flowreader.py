"""Reading the procedure's flow: a tree of blocks (a task, sequence, parallel, choice, loop or
sub-process, or an activity's name for a task), each checked against the activities, roles and
attributes read before it. Block ids must be unique across the flow; tasks are numbered in the
order they are written (``t01``, ``t02``...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.procedure.fields import Fields
from model.procedure.parts import (
    Activity,
    Attribute,
    Block,
    Branch,
    Choice,
    Kind,
    Loop,
    Parallel,
    Role,
    Sequence,
    SubProcess,
    Task,
)
from model.rules import AttributeValue
from model.yamlsource import LineDict, LineList, kind_of, line_of

__all__ = ["FlowReader"]


class FlowReader(Fields):
    """The flow's blocks, read with every problem collected (see :class:`Fields`)."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.ids: dict[str, int] = {}  # block id -> the line it is first given on
        self.task_count = 0

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

"""`lscb model show | validate | export`: the procedure as text, its validation, its other forms."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from lscb.options import Subparsers
from model.errors import InputError, Problem

if TYPE_CHECKING:
    from model.procedure import Choice, Procedure
    from model.rules import Rule

__all__ = ["EXPORT_FORMATS", "describe", "is_rules_file", "register"]

EXPORT_FORMATS = ("bpmn", "pnml", "dot", "svg", "png", "json")


def register(sub: Subparsers) -> None:
    """Add ``model`` and its actions ``show``, ``validate`` and ``export``."""
    model = sub.add_parser(
        "model",
        help="the procedure model: show it, validate a procedure or rules file, export it",
        description="The procedure 1.4.9 written once, as data, and its other forms.",
    )
    msub = model.add_subparsers(dest="model_command", metavar="ACTION")
    model.set_defaults(handler=lambda _args: _usage(model))

    show = msub.add_parser(
        "show",
        help="the procedure as text: activities by role, gateways, deadlines and rules",
    )
    show.add_argument("--procedure", type=Path, help="a procedure file (default: the built-in one)")
    show.add_argument(
        "--rules",
        type=Path,
        action="append",
        default=[],
        help="also list the rules of this local rules file (repeatable)",
    )
    show.set_defaults(handler=run_show)

    validate = msub.add_parser(
        "validate",
        help="check a procedure file or a local rules file; lists every problem with its line",
    )
    validate.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="procedure or rules file (default: the built-in procedure)",
    )
    validate.add_argument(
        "--procedure",
        type=Path,
        help="the procedure a rules file refers to (default: the built-in one)",
    )
    validate.set_defaults(handler=run_validate)

    export = msub.add_parser("export", help="write the model as BPMN, PNML, DOT, SVG, PNG or JSON")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--out", required=True, type=Path, help="the file to write")
    export.add_argument(
        "--procedure", type=Path, help="a procedure file (default: the built-in one)"
    )
    export.set_defaults(handler=run_export)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def describe(procedure: Procedure, extra_rules: tuple[Rule, ...] = ()) -> str:
    """The procedure in words: what `lscb model show` prints.

    >>> from model import load_procedure
    >>> print(describe(load_procedure()).splitlines()[3])
    ACTIVITIES BY ROLE
    """
    from model.procedure import Kind

    out: list[str] = []
    out.append(f"{procedure.title}")
    out.append(f"{procedure.source}")
    out.append("")
    out.append("ACTIVITIES BY ROLE")
    for role in procedure.roles.values():
        acts = [a for a in procedure.activities.values() if a.role == role.id]
        lanes = {t.activity for t in procedure.tasks() if t.role == role.id}
        extra = [
            procedure.activities[n]
            for n in sorted(lanes)
            if procedure.activities[n].role != role.id
        ]
        if not acts and not extra:
            continue
        out.append(f"  {role.name} - {role.meaning}")
        for act in acts:
            tag = {Kind.FORBIDDEN: "  [forbidden]", Kind.END: "  [ends the case]"}.get(act.kind, "")
            with_ = (
                f" (with {', '.join(procedure.roles[r].name for r in act.participants)})"
                if act.participants
                else ""
            )
            out.append(f"    {act.clause:<22} {act.name}{with_}{tag}")
        for act in extra:
            out.append(
                f"    {act.clause:<22} {act.name} (also drawn here; performer: {act.performer})"
            )
    out.append("")
    out.append("GATEWAYS (decided by case attributes)")
    for gate in procedure.gateways():
        out.append(f"  {gate.name} ({gate.clause}) - decided by {', '.join(gate.decided_by)}")
        out.extend(
            f"      {b.condition_text()}: {_branch_text(gate, i)}"
            for i, b in enumerate(gate.branches)
        )
    for loop in procedure.loops():
        out.append(f"  {loop.name} ({loop.clause}) - repeated when {loop.repeat}")
    out.append("")
    out.append("DEADLINES AND RULES")
    rules = procedure.rules + extra_rules
    for rule in rules:
        within = f" [{rule.within}]" if rule.within else ""
        out.append(f"  {rule.id}  ({rule.clause}; {rule.severity.value}){within}")
        out.extend("      " + line for line in textwrap.wrap(rule.text(), 88))
        if rule.origin and not rule.origin.startswith("procedure.yaml"):
            out.append(f"      written at {rule.origin}")
    for act in procedure.activities.values():
        if act.considerations:
            out.append("")
            out.append(f"WHAT A {act.name.upper()} MUST CONSIDER ({act.clause})")
            out.extend(f"  {i:>2}. {q}" for i, q in enumerate(act.considerations, 1))
    out.append("")
    out.append("OFFENCES (case attribute 'offence', for grouping in reports)")
    for off in procedure.offences.values():
        out.append(f"  {off.clause:<22} {off.id}: {off.name} - {off.statute}")
    return "\n".join(out)


def _branch_text(gate: Choice, index: int) -> str:
    from model.procedure import Task, walk

    body = gate.branches[index].body
    names = [b.activity for b in walk(body) if isinstance(b, Task)]
    if not names:
        return "no step"
    return (
        ", ".join(dict.fromkeys(names))
        if len(names) <= 4
        else ", ".join(list(dict.fromkeys(names))[:4]) + ", ..."
    )


def run_show(args: argparse.Namespace) -> int:
    from model.procedure import load_procedure
    from model.rules import load_rules

    procedure = load_procedure(args.procedure)
    extra: tuple[Rule, ...] = ()
    for path in args.rules:
        extra += load_rules(
            path,
            set(procedure.activities),
            set(procedure.boolean_attributes),
            known_ids={r.id for r in procedure.rules + extra},
        )
    print(describe(procedure, extra))
    return 0


def is_rules_file(path: Path) -> bool:
    """A rules file has `rules` and no `flow`/`procedure`; anything else is read as a procedure."""
    from model.yamlsource import LineDict, read_yaml

    data = read_yaml(path)
    return (
        isinstance(data, LineDict)
        and "procedure" not in data
        and "flow" not in data
        and "rules" in data
    )


def run_validate(args: argparse.Namespace) -> int:
    from model.procedure import load_procedure
    from model.rules import load_rules

    if args.file is None:
        procedure = load_procedure(args.procedure)
        print(
            f"The built-in procedure is valid: {len(procedure.activities)} activities, "
            f"{len(procedure.tasks())} steps in the flow, {len(procedure.gateways())} gateways, "
            f"{len(procedure.rules)} rules."
        )
        return 0
    if not args.file.exists():
        raise InputError(
            str(args.file), [Problem(str(args.file), "an existing file", "no file at this path")]
        )
    if is_rules_file(args.file):
        procedure = load_procedure(args.procedure)
        rules = load_rules(
            args.file,
            set(procedure.activities),
            set(procedure.boolean_attributes),
            known_ids={r.id for r in procedure.rules},
        )
        print(
            f"{args.file}: a valid rules file with {len(rules)} rule(s): "
            + ", ".join(r.id for r in rules)
        )
        return 0
    procedure = load_procedure(args.file)
    print(
        f"{args.file}: a valid procedure with {len(procedure.activities)} activities and "
        f"{len(procedure.rules)} rules."
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from model.procedure import load_procedure

    procedure = load_procedure(args.procedure)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = args.format
    if fmt == "bpmn":
        from model.bpmn import write_bpmn

        write_bpmn(procedure, out)
    elif fmt == "pnml":
        from model.petri import write_pnml

        write_pnml(procedure, out)
    elif fmt == "dot":
        from model.graph import to_dot

        out.write_text(to_dot(procedure), encoding="utf-8")
    elif fmt == "json":
        from model.graph import to_json

        out.write_text(to_json(procedure), encoding="utf-8")
    else:
        from model.picture import draw

        draw(procedure, out, fmt)
    print(f"Wrote {out} ({fmt}).")
    return 0

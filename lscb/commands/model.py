"""`lscb model show | validate | export`: the procedure as text, its validation, its other forms."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from lscb.options import Subparsers, add_force_option, output_guard
from model.errors import InputError, Problem

if TYPE_CHECKING:
    from model.rules import Rule

__all__ = ["EXPORT_FORMATS", "is_rules_file", "register"]

EXPORT_FORMATS = ("bpmn", "pnml", "dot", "svg", "png", "pdf", "json")
PAGES_HELP = (
    "for svg and png: the page to draw, 'overview' (default) or a sub-process: workplace, "
    "referral, section-47-enquiry, outcomes (a pdf has every page)"
)


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
        help="the procedure as text: activities by role, decisions, deadlines and rules (each "
        "with its clause, severity and basis)",
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

    export = msub.add_parser(
        "export", help="write the model as BPMN, PNML, DOT, SVG, PNG, PDF or JSON")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--out", required=True, type=Path, help="the file to write")
    export.add_argument("--page", default="overview", help=PAGES_HELP)
    export.add_argument(
        "--flat", action="store_true",
        help="for bpmn: the whole flow as one process on one wide diagram, without "
        "sub-processes (for tools that cannot read them, such as pm4py)")
    export.add_argument(
        "--procedure", type=Path, help="a procedure file (default: the built-in one)"
    )
    add_force_option(export)
    export.set_defaults(handler=run_export)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_show(args: argparse.Namespace) -> int:
    from model.describe import describe
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
            categories=procedure.categories,
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
            categories=procedure.categories,
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
    from lscb.safeoutput import plan_file
    from model.procedure import load_procedure

    plan = plan_file(args.out, output_guard(args, [args.procedure]))
    procedure = load_procedure(args.procedure)
    fmt = args.format
    page = None if args.page == "overview" else args.page
    known = ["overview", *(sub.id for sub in procedure.subprocesses())]
    if args.page not in known:
        raise InputError("--page", [Problem("--page", "one of " + ", ".join(known),
                                            repr(args.page))])
    if page is not None and fmt not in ("svg", "png"):
        raise InputError("--page", [Problem(
            "--page", "a page only with --format svg or png (a pdf and a BPMN file hold "
            "every page)", f"--format {fmt}")])
    if args.flat and fmt != "bpmn":
        raise InputError("--flat", [Problem("--flat", "--flat only with --format bpmn",
                                             f"--format {fmt}")])
    with plan.staging() as out:
        if fmt == "bpmn":
            from model.bpmn import write_bpmn

            write_bpmn(procedure, out, flat=args.flat)
        elif fmt == "pnml":
            from model.petri import write_pnml

            write_pnml(procedure, out)
            added = out.with_name(out.name + ".pnml")  # pm4py adds the suffix when missing
            if not out.exists() and added.exists():
                added.replace(out)
        elif fmt == "dot":
            from model.graph import to_dot

            out.write_text(to_dot(procedure), encoding="utf-8")
        elif fmt == "json":
            from model.graph import to_json

            out.write_text(to_json(procedure), encoding="utf-8")
        else:
            from model.picture import draw

            draw(procedure, out, fmt, page)
    print(f"Wrote {args.out} ({fmt}).")
    return 0

"""The procedure report's helpers (notebook ``01_procedure``): the procedure in a sentence,
the diagram's pages, the tables of roles, steps, decisions, deadlines and rules, and the
questions a strategy discussion must consider. Markdown here has every value from the procedure
file (its title, the activities' names and clauses, the questions) escaped
(``markup.markdown_text``); the notebook shows the tables through ``markup.table``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lscb.reporting.figures import procedure_diagram
from lscb.reporting.markup import markdown_text
from model.describe import deadline_words
from model.graph import pages
from model.procedure import Kind, Procedure

__all__ = [
    "considerations_markdown",
    "deadlines_table",
    "decisions_table",
    "diagram_pages",
    "procedure_overview",
    "roles_table",
    "rules_table",
    "steps_table",
]

_KIND_WORDS = {Kind.TASK: "", Kind.FORBIDDEN: "forbidden", Kind.END: "ends the case"}


def procedure_overview(procedure: Procedure) -> str:
    """The procedure in one sentence: its title and source, and how many activities, roles,
    steps, decisions and rules the model has.

    >>> import model
    >>> print(procedure_overview(model.load_procedure(None)))
    **Child Abuse and Information Communication Technology** (Northumberland LSCB procedures\\,
    chapter 1\\.4\\.9 \\(amended October 2017\\)). The model has ... activities carried out by ...
    roles, ... steps in the flow, ... decisions and ... rules.
    """
    return (
        f"**{markdown_text(procedure.title)}** ({markdown_text(procedure.source)}). "
        f"The model has {len(procedure.activities)} activities carried out by "
        f"{len(procedure.roles)} roles, {len(procedure.tasks())} steps in the flow, "
        f"{len(procedure.gateways())} decisions and {len(procedure.rules)} rules."
    )


def considerations_markdown(procedure: Procedure) -> str:
    """For each activity that has them, its name and clause, then the questions the procedure
    lists for it as a numbered list."""
    return "\n\n".join(
        f"**{markdown_text(a.name)}** ({markdown_text(a.clause)}):\n\n"
        + "\n".join(f"{i}. {markdown_text(q)}" for i, q in enumerate(a.considerations, 1))
        for a in procedure.activities.values()
        if a.considerations
    )


def diagram_pages(procedure: Procedure) -> list[Any]:
    """What to display for the diagram, in order: the overview, then for each sub-process a
    heading (its name and clause, as Markdown) and its page (``figures.procedure_diagram``)."""
    from IPython.display import Markdown

    shown: list[Any] = []
    for page in pages(procedure):
        if page.id is not None:
            shown.append(Markdown(  # type: ignore[no-untyped-call]
                f"### {markdown_text(page.name)} ({markdown_text(page.clause)})"
            ))
        shown.append(procedure_diagram(procedure, page.id))
    return shown


def roles_table(procedure: Procedure) -> pd.DataFrame:
    """Each role's name and who they are.

    >>> import model
    >>> roles_table(model.load_procedure(None)).columns.tolist()
    ['role', 'who they are']
    """
    return pd.DataFrame(
        [{"role": r.name, "who they are": r.meaning} for r in procedure.roles.values()],
        columns=["role", "who they are"],
    )


def steps_table(procedure: Procedure) -> pd.DataFrame:
    """Each activity in the order of the procedure file: its lane (role), name, clause, kind
    (blank for a step, "forbidden", "ends the case") and meaning."""
    return pd.DataFrame(
        [
            {
                "lane": procedure.roles[a.role].name if a.role in procedure.roles else a.role,
                "step": a.name,
                "clause": a.clause,
                "kind": _KIND_WORDS[a.kind],
                "what it means": a.meaning,
            }
            for a in procedure.activities.values()
        ],
        columns=["lane", "step", "clause", "kind", "what it means"],
    )


def decisions_table(procedure: Procedure) -> pd.DataFrame:
    """Each decision (gateway) with its clause and its branches' conditions in words, then each
    repeated part (loop) with what repeats it.

    >>> import model
    >>> table = decisions_table(model.load_procedure(None))
    >>> bool(table["branches"].str.contains("otherwise").any())
    True
    """
    return pd.DataFrame(
        [
            {
                "decision": g.name,
                "clause": g.clause,
                "branches": "; ".join(procedure.condition_words(b.when) for b in g.branches),
            }
            for g in procedure.gateways()
        ]
        + [
            {"decision": f"{loop.name} (repeated)", "clause": loop.clause,
             "branches": f"again if {loop.repeat}"}
            for loop in procedure.loops()
        ],
        columns=["decision", "clause", "branches"],
    )


def deadlines_table(procedure: Procedure) -> pd.DataFrame:
    """The rules with a deadline: id, title, clause, the deadline in words (with the default
    calendar settings), severity and basis."""
    return pd.DataFrame(
        [
            {"rule": r.id, "in short": r.heading, "clause": r.clause,
             "deadline": deadline_words(r.within), "severity": r.severity.value,
             "basis": r.basis.value}
            for r in procedure.rules
            if r.within is not None
        ],
        columns=["rule", "in short", "clause", "deadline", "severity", "basis"],
    )


def rules_table(procedure: Procedure) -> pd.DataFrame:
    """Every rule: id, title, clause, severity, basis, deadline, when it applies (in words) and
    what must happen.

    >>> import model
    >>> len(rules_table(model.load_procedure(None)))
    20
    """
    return pd.DataFrame(
        [
            {"rule": r.id, "in short": r.heading, "clause": r.clause,
             "severity": r.severity.value, "basis": r.basis.value,
             "deadline": "" if r.within is None else str(r.within),
             "applies when": procedure.condition_words(r.when) if r.when else "",
             "what must happen": r.text()}
            for r in procedure.rules
        ],
        columns=["rule", "in short", "clause", "severity", "basis", "deadline", "applies when",
                 "what must happen"],
    )

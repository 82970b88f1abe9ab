"""The procedure report's helpers (notebook ``01_procedure``): the procedure in a sentence and
the questions a strategy discussion must consider, as Markdown in which every value from the
procedure file (its title, the activities' names and clauses, the questions) is escaped
(``markup.markdown_text``). The notebook shows its tables through ``markup.table`` and the
diagram through ``figures.procedure_diagram``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lscb.reporting.markup import markdown_text

if TYPE_CHECKING:
    from model.procedure import Procedure

__all__ = ["considerations_markdown", "procedure_overview"]


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

"""The procedure model: Northumberland LSCB procedure 1.4.9 written once, as data.

``load_procedure()`` gives the validated :class:`~model.procedure.Procedure`; the compilers
(``model.graph``, ``model.petri``, ``model.bpmn``, ``model.picture``, the last two from the
layout of ``model.layout``) turn it into other forms.
This package is the bottom layer: it imports nothing else of the project.

>>> import model
>>> procedure = model.load_procedure()
>>> procedure.activities["LADO contacted"].clause
'§7.4'
>>> [r.id for r in procedure.rules][:2]
['escalated-same-working-day', 'line-manager-bypassed-when-implicated']

``Procedure``, ``Kind`` (of an activity: a task, a forbidden event, the end) and
``load_procedure`` are loaded on first use (the rules' calendar needs numpy),
so that importing ``model.errors`` alone, as the ``lscb`` command does when it starts, stays
light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model.errors import InputError, LscbError, Problem

if TYPE_CHECKING:
    from model.procedure import Kind, Procedure, load_procedure

__all__ = ["InputError", "Kind", "LscbError", "Problem", "Procedure", "load_procedure"]

_LAZY = frozenset({"Kind", "Procedure", "load_procedure"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from model import procedure

        return getattr(procedure, name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")

"""The procedure as typed data: roles, attributes, offences, activities, block-structured
control flow and rules, loaded from one YAML file and validated as a whole.

- :mod:`~model.procedure.parts`: the records (``Procedure``, ``Activity``, the flow's blocks
  ``Task``, ``Sequence``, ``Parallel``, ``Choice``, ``Loop``, ``SubProcess``, and ``walk``);
- :mod:`~model.procedure.reader`, :mod:`~model.procedure.flowreader` and
  :mod:`~model.procedure.fields`: the validating reader of the YAML file, which reports every
  problem with its line and field at once;
- :mod:`~model.procedure.checks`: the checks of the file whole (the contract, the rules'
  sources, every activity in the flow).

Everything is imported from here (``from model.procedure import Procedure, load_procedure``).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from model.procedure import parts
from model.procedure.parts import *  # noqa: F403 (the records, listed once in parts.__all__)
from model.procedure.parts import Procedure
from model.procedure.reader import ProcedureReader
from model.yamlsource import read_yaml

__all__ = [
    "DEFAULT_PROCEDURE",
    "default_procedure_path",
    "load_procedure",
]
__all__ += parts.__all__

DEFAULT_PROCEDURE = "procedure.yaml"


def default_procedure_path() -> Path:
    """The built-in procedure file (``model/procedure.yaml``, installed with the package)."""
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
    procedure = ProcedureReader(str(path) if path is not None else DEFAULT_PROCEDURE).build(data)
    if path is None:
        _CACHE[key] = procedure
    return procedure

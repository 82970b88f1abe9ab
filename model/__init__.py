"""The procedure model: Northumberland LSCB procedure 1.4.9 written once, as data.

``load_procedure()`` gives the validated :class:`~model.procedure.Procedure`; the compilers
(``model.graph``, ``model.petri``, ``model.bpmn``, ``model.picture``) turn it into other forms.
"""

__version__ = "0.1.0"

from model.errors import InputError, LscbError, Problem
from model.procedure import Procedure, load_procedure

__all__ = ["InputError", "LscbError", "Problem", "Procedure", "__version__", "load_procedure"]

"""Collection at the top of the project: the compiled modules of the simulator (``setup.py``) are
not collected for their docstrings' examples, since an extension module holds no examples that
doctest can find and pytest refuses a module whose file is not the ``.py`` it collects. Their
examples are run from their source instead (``tests/simulation/test_native.py``)."""

from __future__ import annotations

from simulation import _native

collect_ignore = ([f"{name.replace('.', '/')}.py" for name in _native.COMPILED]
                  if _native.compiled() else [])

"""The application: the ``lscb`` command, the report runner and the output-folder checks.

It ties together the three libraries below it (``model`` < ``conformance`` < ``simulation``), none
of which imports it. The command line (:mod:`lscb.cli`) has one module per subcommand under
:mod:`lscb.commands` and shares its option groups through :mod:`lscb.options`; the reports are
the notebooks of ``notebooks/`` run by :mod:`lscb.reporting`.

The version is written once, in ``pyproject.toml``, and read from the installed distribution:

>>> import lscb
>>> lscb.__version__ == __import__("importlib.metadata").metadata.version("lscb")
True
"""

from importlib.metadata import version

__version__: str = version("lscb")

__all__ = ["__version__"]

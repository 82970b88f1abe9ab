"""Whether the simulator's compiled core is in use, and a guard that it is never older than its
source.

When the package is built, ``setup.py`` compiles the modules of ``COMPILED`` with mypyc (C
extensions made from the same typed source; the same results, in about three quarters of the time)
and writes ``_compiled.json`` beside them: the digest of every Python file of ``model``,
``conformance`` and ``simulation`` it was built from. A compiled module is found before its
``.py`` file, so in an editable install one edited since the build would run old code. Importing
this module (the first thing ``simulation`` does) compares the digest with the files as they are
now: when they differ, or a compiled module is missing, every module of ``COMPILED`` is loaded from
its source instead (all or none: the compiled modules call each other's compiled code directly).
``LSCB_PURE_PYTHON=1`` in the environment asks for the source too. The results are the same
either way (``tests/simulation/test_native.py``); only the speed differs (``compiled()`` tells
which).

Standard library only: ``setup.py`` loads this file by path, before anything is installed.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from pathlib import Path
from types import ModuleType

__all__ = ["COMPILED", "RECORD", "compiled", "source_digest"]

# the modules compiled, in the order mypyc is given them
COMPILED = ("simulation.cases", "simulation.clock", "simulation.diary", "simulation.heaps",
            "simulation.staff", "simulation.engine")
RECORD = "_compiled.json"
_PACKAGES = ("model", "conformance", "simulation")
_HERE = Path(__file__).resolve().parent


def source_digest(root: Path) -> str:
    """The SHA-256 of every Python file of the packages under ``root`` (names and contents)."""
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _extension(name: str) -> Path | None:
    """The compiled file of a module of this package, if there is one."""
    stem = _HERE / name.rsplit(".", 1)[1]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def _current() -> bool:
    """Whether the compiled modules here were built from the source files as they are now."""
    record = _HERE / RECORD
    if not all(_extension(name) for name in COMPILED) or not record.is_file():
        return False
    try:
        built = json.loads(record.read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError, AttributeError):
        return False
    return bool(built == source_digest(_HERE.parent))


class _FromSource(MetaPathFinder):
    """Finds the modules of ``COMPILED`` as their ``.py`` files, before the compiled ones."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        source = _HERE / (fullname.rsplit(".", 1)[1] + ".py")
        return importlib.util.spec_from_file_location(fullname, source)


def compiled() -> bool:
    """Whether the simulator's core runs compiled (else as plain Python)."""
    engine = sys.modules.get("simulation.engine")
    if engine is None:
        import simulation.engine as engine
    return not str(getattr(engine, "__file__", "")).endswith(".py")


def _guard() -> None:
    if not any(_extension(name) for name in COMPILED):
        return
    if os.environ.get("LSCB_PURE_PYTHON", "") not in ("", "0") or not _current():
        sys.meta_path.insert(0, _FromSource())


_guard()

"""Build: the packages as listed in pyproject.toml, with the simulator's core compiled by mypyc.

The modules of ``simulation._native.COMPILED`` (the case walk, the people and queues, the clock)
are compiled to C extensions from their own typed source, which runs a simulation in about three
quarters of the time; ``simulation/_compiled.json`` records the digest of the source they were built
from, so that an edited source is never shadowed by an older build (``simulation._native``).

The compiled core is optional: with ``LSCB_PURE_PYTHON=1`` in the environment, or where mypyc or a
C compiler is missing, or the compilation fails, the package is installed as plain Python (a
warning says why) and computes the same results, more slowly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _native() -> Any:
    """``simulation/_native.py``, loaded by path (the package's dependencies are not installed
    yet)."""
    spec = importlib.util.spec_from_file_location("_lscb_native", ROOT / "simulation" / "_native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _warn(why: str) -> None:
    print(f"lscb: installing the simulator as plain Python ({why}); it computes the same "
          "results, more slowly", file=sys.stderr)


# the commands that build extensions (pip's metadata steps, egg_info and dist_info, do not: the
# compilation, a few minutes, is then not done for nothing)
_BUILDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"}


def extensions() -> list[Any]:
    if not _BUILDS.intersection(sys.argv[1:]):
        return []
    if os.environ.get("LSCB_PURE_PYTHON", "") not in ("", "0"):
        _warn("LSCB_PURE_PYTHON is set")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not available")
        return []
    native = _native()
    paths = [name.replace(".", "/") + ".py" for name in native.COMPILED]
    # The build's own environment has numpy and simpy (pyproject.toml) but not the other
    # dependencies: their types are unknown there, which changes nothing of what the compiled
    # code does.
    options = ["--config-file", "", "--ignore-missing-imports", "--follow-imports", "silent",
               "--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}"]
    try:
        modules = mypycify([*options, *paths], opt_level="3")
    except SystemExit:  # mypy reports a failed check by exiting, after printing why
        _warn("mypyc's type check failed: its messages are above")
        return []
    except Exception as exc:
        _warn(f"mypyc could not compile it: {exc}")
        return []
    for extension in modules:
        extension.optional = True  # a failed C compilation leaves the plain Python in place
    return modules


class BuildExt(build_ext):
    """``build_ext``, then the record of the source the compiled modules were built from, once
    every one of them is built afresh (none is trusted without it: ``simulation._native``)."""

    def run(self) -> None:
        native = _native()
        digest = native.source_digest(ROOT)
        (ROOT / "simulation" / native.RECORD).unlink(missing_ok=True)
        started = time.time()
        inplace = self.inplace
        super().run()
        self.inplace = False  # where each was built, before any copy into the source tree
        fresh = all(os.path.isfile(path) and os.path.getmtime(path) >= started - 2
                    for path in (self.get_ext_fullpath(e.name) for e in self.extensions))
        self.inplace = inplace
        if not self.extensions:
            return
        if not fresh:
            _warn("a compiled module failed to build")
            return
        folder = ROOT if inplace else Path(self.build_lib)
        (folder / "simulation" / native.RECORD).write_text(
            json.dumps({"digest": digest, "modules": list(native.COMPILED)}, indent=1) + "\n",
            encoding="utf-8")


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})

"""The simulator's compiled core (``setup.py``, ``simulation._native``): it gives the same log as
the plain Python, byte for byte; it is never used when its source has changed since the build;
and CI runs it (else the benchmarks would time the plain Python without saying so)."""

from __future__ import annotations

import doctest
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulation import _native

ROOT = Path(__file__).resolve().parents[2]
IN_CI = bool(os.environ.get("CI"))

# a short run of the default scenario, written as the event log the checker reads
_RUN = """
import sys
from pathlib import Path
from model.procedure import load_procedure
from simulation import _native
from simulation.engine import simulate
from simulation.results import write_event_log
from simulation.scenario import load_scenario
procedure = load_procedure()
scenario = load_scenario(None, procedure).with_values(
    {"horizon_days": 60, "warm_up_days": 14, "drain_days": 60, "dispatch": "edf"}, procedure)
write_event_log(simulate(scenario, procedure, seed=3, replication=1), Path(sys.argv[1]),
                procedure)
print("compiled" if _native.compiled() else "plain")
"""

_WHERE = """
import importlib
from simulation import _native
print(*(importlib.import_module(name).__file__ for name in _native.COMPILED), sep="\\n")
"""


def _built_here() -> bool:
    """Whether this checkout holds a compiled core built from its source as it is now."""
    return all(_native._extension(name) for name in _native.COMPILED) and _native._current()


@pytest.fixture(scope="module")
def built() -> None:
    if not _built_here():
        if IN_CI:
            pytest.fail("CI must run the compiled core: pip install -e . should have built it "
                        "(setup.py said why not)")
        pytest.skip("no compiled core built from this source (pip install -e . builds it)")


def _python(code: str, *args: str, cwd: Path = ROOT, pure: bool = False) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("LSCB_PURE_PYTHON", "PYTHONPATH")}
    if pure:
        env["LSCB_PURE_PYTHON"] = "1"
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ci_runs_the_compiled_core(built: None) -> None:
    assert _native.compiled()


def test_compiled_and_plain_python_write_the_same_log(built: None, tmp_path: Path) -> None:
    fast, plain = tmp_path / "compiled.csv", tmp_path / "plain.csv"
    assert _python(_RUN, str(fast)).strip() == "compiled"
    assert _python(_RUN, str(plain), pure=True).strip() == "plain"
    assert fast.read_bytes() == plain.read_bytes()
    assert fast.read_bytes().count(b"\n") > 300


def _copy(target: Path) -> Path:
    """The three packages with their compiled files, as a build leaves them."""
    for name in ("model", "conformance", "simulation"):
        shutil.copytree(ROOT / name, target / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for shared in ROOT.glob("*__mypyc*"):  # the compiled code all the modules share
        shutil.copy2(shared, target / shared.name)
    return target


def test_an_edited_source_is_never_shadowed_by_an_older_build(built: None,
                                                              tmp_path: Path) -> None:
    tree = _copy(tmp_path / "tree")
    where = _python(_WHERE, cwd=tree).split()
    assert [Path(w).parent for w in where] == [tree / "simulation"] * len(_native.COMPILED)
    assert not any(w.endswith(".py") for w in where)

    # one of the compiled modules edited: all of them come from their source
    with (tree / "simulation" / "diary.py").open("a", encoding="utf-8") as f:
        f.write("# edited after the build\n")
    assert all(w.endswith(".py") for w in _python(_WHERE, cwd=tree).split())

    # a module they import edited, then put back: compiled again
    calendar = tree / "model" / "calendar.py"
    text = calendar.read_text(encoding="utf-8")
    shutil.copy2(ROOT / "simulation" / "diary.py", tree / "simulation" / "diary.py")
    calendar.write_text(text + "\n", encoding="utf-8")
    assert all(w.endswith(".py") for w in _python(_WHERE, cwd=tree).split())
    calendar.write_text(text, encoding="utf-8")
    assert not any(w.endswith(".py") for w in _python(_WHERE, cwd=tree).split())

    # no record of what they were built from: not trusted
    (tree / "simulation" / _native.RECORD).unlink()
    assert all(w.endswith(".py") for w in _python(_WHERE, cwd=tree).split())


def test_the_digest_covers_names_and_contents(tmp_path: Path) -> None:
    for name in ("model", "conformance", "simulation"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.py").write_text("x = 1\n", encoding="utf-8")
    first = _native.source_digest(tmp_path)
    (tmp_path / "simulation" / "__pycache__").mkdir()
    (tmp_path / "simulation" / "__pycache__" / "a.py").write_text("junk", encoding="utf-8")
    assert _native.source_digest(tmp_path) == first
    (tmp_path / "model" / "a.py").write_text("x = 2\n", encoding="utf-8")
    second = _native.source_digest(tmp_path)
    assert second != first
    (tmp_path / "model" / "a.py").rename(tmp_path / "model" / "b.py")
    assert _native.source_digest(tmp_path) not in (first, second)


@pytest.mark.parametrize("name", _native.COMPILED)
def test_the_compiled_modules_examples_hold_in_their_source(name: str) -> None:
    """The docstrings' examples of each compiled module, run from its source (pytest collects
    them from the plain modules only: ``conftest.py``)."""
    source = ROOT / (name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(f"_example_{name.replace('.', '_')}", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        results = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE
                                  | doctest.ELLIPSIS)
    finally:
        del sys.modules[spec.name]
    assert results.failed == 0
    if name in ("simulation.engine", "simulation.clock"):
        assert results.attempted > 0

"""The project as a user installs it: a wheel, built and installed (not editable) into a new
virtual environment, runs a report (``lscb report procedure``) from an empty folder.

The new environment sees the current one's third-party packages through a ``.pth`` file that
lists the current ``site-packages`` (the ``.pth`` files in there are not processed, so the
editable install of the project does not leak in); the project itself comes from the wheel only.
Building needs setuptools and wheel in the current environment (the test extras), no network; the
test is skipped only where they are missing, and never in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import lscb

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("model", "conformance", "simulation", "lscb")
IN_CI = bool(os.environ.get("CI"))
# what building the simulator's compiled core leaves in the tree (setup.py): not source
BUILT = ("*.so", "_compiled.json")


def _can_build() -> str:
    """Why a wheel cannot be built here without the network ('' when it can)."""
    try:
        setuptools = version("setuptools")
        version("wheel")
    except PackageNotFoundError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    if int(setuptools.split(".")[0]) < 77:
        return f"setuptools {setuptools} is older than 77 (pip install -e '.[test]')"
    return ""


def _source_copy(target: Path) -> Path:
    """The files a build reads, copied, so that building writes nothing into the checkout."""
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints", *BUILT)
    for name in (*PACKAGES, "notebooks"):
        shutil.copytree(ROOT / name, target / name, ignore=junk)
    for name in ("pyproject.toml", "README.md", "setup.py"):
        shutil.copy2(ROOT / name, target / name)
    return target


def _expected_files() -> set[str]:
    """Every file of the packages in the source tree, as the wheel must hold it."""
    junk = ("__pycache__", ".ipynb_checkpoints")
    expected = {
        path.relative_to(ROOT).as_posix()
        for name in PACKAGES
        for path in (ROOT / name).rglob("*")
        if path.is_file() and not any(part in junk for part in path.parts)
        and not any(path.match(pattern) for pattern in BUILT)
    }
    expected |= {f"lscb/notebooks/{p.name}" for p in (ROOT / "notebooks").iterdir()
                 if p.suffix in (".ipynb", ".py")}
    return expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _can_build()
    if reason:
        if IN_CI:
            pytest.fail(f"CI must build the wheel: {reason}")
        pytest.skip(reason)
    source = _source_copy(tmp_path_factory.mktemp("source"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(dist), str(source)],
        check=True, capture_output=True, timeout=300,
        # plain Python: compiling the core takes minutes (tests/simulation/test_native.py
        # tests the compiled core the installation built)
        env={**os.environ, "LSCB_PURE_PYTHON": "1"},
    )
    (found,) = dist.glob("lscb-*.whl")
    return found


def test_the_wheel_holds_every_module_data_file_and_notebook(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = _expected_files() - names
    assert not missing, f"not in the wheel (add their packages to pyproject.toml): {missing}"
    assert wheel.name.startswith(f"lscb-{lscb.__version__}-")


def test_a_report_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                           encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    # nbconvert's templates are data files of the current environment (share/jupyter), which
    # the new one would hold had it installed nbconvert itself: shown to it alone, without the
    # current environment's kernel specs, so that the report's kernel is the new environment's.
    jupyter = tmp_path / "jupyter"
    jupyter.mkdir()
    (jupyter / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    work = tmp_path / "elsewhere"
    work.mkdir()
    clean_env = {k: v for k, v in os.environ.items()
                 if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "JUPYTER_DATA_DIR")}
    clean_env["JUPYTER_PATH"] = str(jupyter)
    clean_env["JUPYTER_DATA_DIR"] = str(tmp_path / "jupyter-data")  # no user kernel specs

    probe = subprocess.run(
        [str(python), "-c",
         "import lscb, model, conformance, simulation; from lscb import reporting; "
         "print(lscb.__file__, model.__file__, conformance.__file__, simulation.__file__, "
         "reporting.notebooks_dir(), sep='\\n')"],
        cwd=work, env=clean_env, capture_output=True, text=True, timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    where = probe.stdout.split()
    assert len(where) == 5
    for path in where:
        assert Path(path).is_relative_to(site), f"{path} is not from the installed wheel"

    done = subprocess.run(
        [str(env_dir / "bin" / "lscb"), "report", "procedure", "--out", "procedure.html"],
        cwd=work, env=clean_env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    page = (work / "procedure.html").read_text(encoding="utf-8")
    assert 'id="title-page"' in page
    assert f'<span class="lscb-version">{lscb.__version__}</span>' in page
    assert "data:image/png;base64," in page, "the procedure's diagram is in the report"

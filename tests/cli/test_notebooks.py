"""The notebooks: stored clean, written only as calls into the project, and they run.

Executing every notebook here is how CI runs them: any error in any cell fails the run.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lscb import reporting

NOTEBOOK_DIR = reporting.notebooks_dir()
NOTEBOOK_FILES = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOK_FILES]
# What a notebook may import: the project's packages, pandas for tables, IPython to display.
ALLOWED_IMPORTS = {"lscb", "model", "simulation", "conformance", "pandas", "IPython"}
FILE_SUFFIX = re.compile(
    r"\.(csv|tsv|txt|parquet|xes|gz|toml|ya?ml|json|png|svg|pdf|html?|ipynb|bpmn|pnml|dot)$",
    re.IGNORECASE,
)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def _code_tree(cell: dict[str, Any]) -> ast.Module:
    """A code cell as Python: IPython magics (lines starting with % or !) left out."""
    lines = [
        "" if line.lstrip().startswith(("%", "!")) else line for line in _source(cell).splitlines()
    ]
    return ast.parse("\n".join(lines))


def _code_cells(path: Path) -> list[dict[str, Any]]:
    return [c for c in _load(path)["cells"] if c["cell_type"] == "code"]


def _looks_like_path(text: str) -> bool:
    if not text or any(ch.isspace() for ch in text):
        return False
    return (
        "/" in text
        or "\\" in text
        or text.startswith(("~", "./", "../"))
        or bool(FILE_SUFFIX.search(text))
    )


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOK_FILES] == sorted(reporting.NOTEBOOKS.values())


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=IDS)
def test_stored_without_outputs(path: Path) -> None:
    data = _load(path)
    for index, cell in enumerate(data["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {index} has stored outputs"
            assert cell["execution_count"] is None, f"cell {index} has an execution count"
        assert "papermill" not in cell.get("metadata", {}), f"cell {index} has papermill metadata"
    assert "papermill" not in data["metadata"]
    assert data["metadata"]["kernelspec"]["name"] == reporting.KERNEL


def test_nbstripout_would_change_nothing() -> None:
    """The same check as a pre-commit hook or CI step running ``nbstripout --verify``."""
    pytest.importorskip("nbstripout")
    done = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, NOTEBOOK_FILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=IDS)
def test_only_calls_into_the_project(path: Path) -> None:
    for index, cell in enumerate(_code_cells(path)):
        for node in ast.walk(_code_tree(cell)):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"code cell {index} defines a function or class (line {node.lineno})"
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED_IMPORTS, f"code cell {index} imports {roots - ALLOWED_IMPORTS}"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=IDS)
def test_no_path_literals(path: Path) -> None:
    for index, cell in enumerate(_code_cells(path)):
        literals = [
            node.value
            for node in ast.walk(_code_tree(cell))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        paths = [text for text in literals if _looks_like_path(text)]
        assert not paths, f"code cell {index} has path literals {paths}"


def test_path_literal_detection() -> None:
    assert _looks_like_path("data/log.csv")
    assert _looks_like_path("sample_log.csv")
    assert _looks_like_path("../x")
    assert not _looks_like_path("with one fewer LADO, lado-same-day falls")
    assert not _looks_like_path("icpc-within-15-working-days")


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=IDS)
def test_one_parameters_cell_of_plain_values(path: Path) -> None:
    tagged = [c for c in _code_cells(path) if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    tree = _code_tree(tagged[0])
    assert tree.body, "the parameters cell is empty"
    for statement in tree.body:
        assert isinstance(statement, ast.Assign), "the parameters cell only assigns values"
        ast.literal_eval(statement.value)  # a literal: papermill can override it


def _parameters(path: Path) -> set[str]:
    cell = next(c for c in _code_cells(path) if "parameters" in c["metadata"].get("tags", []))
    names: set[str] = set()
    for statement in _code_tree(cell).body:
        assert isinstance(statement, ast.Assign)
        names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return names


def test_report_commands_set_only_parameters_the_notebooks_declare() -> None:
    from lscb.commands.report import PARAMETERS

    for kind, names in PARAMETERS.items():
        declared = _parameters(reporting.notebook_path(kind))
        assert set(names) <= declared, f"{kind}: {set(names) - declared} not declared"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=IDS)
def test_executes_without_error(path: Path) -> None:
    kind = next(k for k, name in reporting.NOTEBOOKS.items() if name == path.name)
    executed = reporting.execute_notebook(kind, {})
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o.get("data", {}).get("text/html", "") for o in outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})] + [
        h for h in html if "data:image/png;base64," in h or "<svg" in h
    ]
    tables = [h for h in html if "<table" in h]
    assert images, "the notebook shows no figure"
    assert tables, "the notebook shows no table"

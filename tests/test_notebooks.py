"""The course notebooks: each runs top to bottom in a real Jupyter kernel, and is committed stripped.

Every ``notebooks/*.ipynb`` is found here, so a new notebook is tested without
editing this file. Run as a script (``make strip-notebooks``), this module
strips the notebooks given, or all of them, in place before a commit.
"""
import copy
import os
import pathlib
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds for any one cell
# Each notebook is meant to run in about a minute with its quick settings; three
# minutes leaves room for a loaded CI machine but still catches one that grew too slow.
NOTEBOOK_BUDGET = 180
# Appended to each executed copy: proves the kernel is this interpreter (the venv's).
WHICH_PYTHON = "import sys; print(sys.prefix)"


def strip(notebook):
    """``notebook`` without outputs, execution counts or execution timings (in place; returned)."""
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def test_notebooks_folder_holds_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {FOLDER}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    stripped = strip(copy.deepcopy(notebook))
    dirty = [index for index, (cell, clean) in enumerate(zip(notebook.cells, stripped.cells)) if cell != clean]
    assert not dirty, (f"{path.name}: cells {dirty} hold outputs, execution counts or timings; "
                       "run `make strip-notebooks` before committing")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(WHICH_PYTHON))
    # The kernel inherits this environment: shell commands in it find the venv first.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    seconds = time.perf_counter() - start
    printed = "".join(out.text for out in notebook.cells[-1].outputs if out.get("name") == "stdout").strip()
    assert printed == sys.prefix, f"the kernel ran in {printed!r}, not in this environment ({sys.prefix})"
    assert seconds < NOTEBOOK_BUDGET, f"{path.name} took {seconds:.0f} s (budget {NOTEBOOK_BUDGET} s)"
    print(f"{path.name}: {seconds:.1f} s")


if __name__ == "__main__":
    for name in sys.argv[1:] or NOTEBOOKS:
        nbformat.write(strip(nbformat.read(name, as_version=4)), name)

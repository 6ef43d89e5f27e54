"""Every notebook in notebooks/ runs from top to bottom (outputs are not stored)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "store notebooks without outputs"
    )
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()


def test_notebooks_use_the_public_api_only():
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "coverage_gap._" not in text and "from coverage_gap.io._" not in text, path.name

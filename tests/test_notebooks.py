"""Every notebook in notebooks/ runs from top to bottom (outputs are not stored), and every
cell that draws shows its figure."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
DRAWS = re.compile(r"\bplot\.plot_|\bplt\.plot\(|\.plot\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_shows_every_figure(path):
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
    drawing = [c for c in notebook.cells if c.cell_type == "code" and DRAWS.search(c.source)]
    for cell in drawing:
        images = [
            o
            for o in cell.outputs
            if o.output_type == "display_data" and "image/png" in o.get("data", {})
        ]
        assert len(images) == 1, f"{path.name}: no figure shown for\n{cell.source}"


def test_the_notebooks_draw():
    drawing = sum(
        bool(DRAWS.search(c.source))
        for path in NOTEBOOKS
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code"
    )
    assert drawing >= 8


def test_notebooks_use_the_public_api_only():
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "coverage_gap._" not in text and "from coverage_gap.io._" not in text, path.name

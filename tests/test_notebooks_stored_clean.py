"""Notebooks are stored clean: no outputs, no execution counts, the python3 kernel, every
chapter listed in the table of contents."""
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("chapters", "solutions", "exercises")
                   for p in (ROOT / folder).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info", "nbgrader", "jupytext"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_stored_clean(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {index} has stored outputs"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"
        stray = set(cell.get("metadata", {})) - {"nbgrader", "tags", "deletable", "editable", "mystnb"}
        assert not stray, f"cell {index} carries stray metadata {sorted(stray)}"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    stray = set(nb["metadata"]) - ALLOWED_NOTEBOOK_METADATA
    assert not stray, f"notebook metadata has stray keys {sorted(stray)}"


def test_there_are_chapters():
    assert len(list((ROOT / "chapters").glob("*.ipynb"))) >= 4


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        assert f"chapters/{path.stem}" in toc, f"{path.name} is missing from _toc.yml"

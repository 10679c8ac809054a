"""Notebooks are stored clean: no outputs, no execution counts, the python3 kernel; the chapters
are exactly the table of contents' chapters."""
import json

import pytest
import yaml
from course import CHAPTERS, ROOT

NOTEBOOKS = sorted(p for folder in ("chapters", "solutions", "exercises")
                   for p in (ROOT / folder).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info", "nbgrader", "jupytext",
                             "rnn_course"}      # an assignment's allowed libraries


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


def toc_files(entry) -> list[str]:
    """Every ``file:`` of a table of contents (jupyter-book's _toc.yml), depth first."""
    if isinstance(entry, dict):
        return [*([entry["file"]] if "file" in entry else []),
                *(name for value in entry.values() for name in toc_files(value))]
    if isinstance(entry, list):
        return [name for item in entry for name in toc_files(item)]
    return []


def test_the_chapters_are_the_table_of_contents_chapters():
    listed = [name for name in toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
              if name.startswith("chapters/")]
    assert len(listed) == len(set(listed)), f"a chapter is listed twice: {listed}"
    assert listed == sorted(listed), "the table of contents lists the chapters out of order"
    assert set(listed) == {f"chapters/{path.stem}" for path in CHAPTERS}, (
        "_toc.yml and chapters/ disagree: "
        f"{sorted(set(listed) ^ {f'chapters/{path.stem}' for path in CHAPTERS})}")


def test_toc_files_finds_nested_entries():
    toc = {"root": "intro", "parts": [{"chapters": [{"file": "chapters/01_a"},
                                                    {"file": "b", "sections": [{"file": "c"}]}]}]}
    assert toc_files(toc) == ["chapters/01_a", "b", "c"]

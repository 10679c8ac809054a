"""coursetools.execute: the chapters it runs ahead of the book are found in the book's cache."""
import nbformat
import pytest
from jupyter_cache import get_cache

from coursetools import execute


def _notebook(tmp_path, name, *sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_an_executed_notebook_hashes_like_its_source(tmp_path):
    """myst-nb matches a chapter to the cache by the hash of its code cells and their metadata:
    an execution that added per-cell timing metadata would never be found, and the book would
    run every chapter a second time."""
    path = _notebook(tmp_path, "ok.ipynb", "x = 6 * 7", "print(x)")
    out = tmp_path / "executed.ipynb"
    problem, seconds = execute.run_notebook(path, cell_timeout=60, out=out)
    assert problem is None and seconds > 0
    executed = nbformat.read(out, as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "42\n"
    cache = get_cache(str(tmp_path / "cache"))
    source_hash = cache.create_hashed_notebook(nbformat.read(path, as_version=4))[1]
    assert cache.create_hashed_notebook(executed)[1] == source_hash


@pytest.mark.slow
def test_a_failing_cell_is_reported_and_nothing_is_written(tmp_path):
    path = _notebook(tmp_path, "bad.ipynb", "raise ValueError('broken chapter')")
    out = tmp_path / "executed.ipynb"
    problem, _ = execute.run_notebook(path, cell_timeout=60, out=out)
    assert problem is not None and "broken chapter" in problem
    assert not out.exists()


def test_the_chapter_with_the_most_code_starts_first(tmp_path):
    small = _notebook(tmp_path, "a.ipynb", "x = 1")
    large = _notebook(tmp_path, "b.ipynb", "x = 1\n" * 50, "y = 2")
    assert execute.longest_first([small, large]) == [large, small]

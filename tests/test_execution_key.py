"""The book's execution cache is keyed by what chapters run (coursetools/execute.py, handed to
the book by _ext/execution_key.py): an edit to rnnlab or to the lock executes every chapter
again and the page changes (the GitHub workflows' cache keys: tests/test_deploy_workflow.py)."""
import subprocess
import sys

import nbformat
import pytest
from course import ROOT

from coursetools import execute as execution_key


def _tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_key_changes_with_rnnlab_the_lock_and_the_results_only(tmp_path):
    _tree(tmp_path, {"rnnlab/a.py": "x = 1\n", "rnnlab/figures/b.py": "y = 2\n",
                     "requirements.lock": "numpy==2.0\n", "chapters/c.ipynb": "{}",
                     "README.md": "text"})
    first = execution_key.execution_key(tmp_path)
    assert first == execution_key.execution_key(tmp_path)
    (tmp_path / "chapters/c.ipynb").write_text('{"cells": []}')   # its own hash covers it
    (tmp_path / "README.md").write_text("other text")
    assert execution_key.execution_key(tmp_path) == first
    keys = {first}
    for name, text in (("rnnlab/figures/b.py", "y = 3\n"), ("requirements.lock", "numpy==2.1\n"),
                       ("benchmarks/results/charlm.json", "{}"), ("rnnlab/new.py", "")):
        _tree(tmp_path, {name: text})
        keys.add(execution_key.execution_key(tmp_path))
    assert len(keys) == 5


def test_the_cache_of_an_older_key_is_removed(tmp_path):
    _tree(tmp_path, {"rnnlab/a.py": "x = 1\n"})
    old = execution_key.cache_path(tmp_path / "_build", tmp_path)
    old.mkdir(parents=True)
    (tmp_path / "_build/.jupyter_cache/global.db").write_text("")   # the unkeyed layout
    _tree(tmp_path, {"rnnlab/a.py": "x = 2\n"})
    new = execution_key.cache_path(tmp_path / "_build", tmp_path)
    assert new != old and not old.exists()
    assert not (tmp_path / "_build/.jupyter_cache/global.db").exists()


@pytest.mark.slow
def test_an_edit_to_rnnlab_re_executes_the_page(tmp_path):
    """A one-page book whose notebook prints from rnnlab: built, rnnlab edited, built again,
    and the page shows the new value (not the cached execution of the old code)."""
    _tree(tmp_path, {
        "conf.py": f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
                   "extensions = ['myst_nb', 'execution_key']\nnb_execution_mode = 'cache'\n"
                   "exclude_patterns = ['_build', 'rnnlab']\n",
        "rnnlab/greeting.py": "def greeting():\n    return 'first'\n"})
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Page"),
        nbformat.v4.new_code_cell("from rnnlab.greeting import greeting\nprint(greeting())")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, tmp_path / "index.ipynb")

    def build():
        result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(tmp_path),
                                 str(tmp_path / "_build" / "html")], capture_output=True,
                                text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return (tmp_path / "_build" / "html" / "index.html").read_text()

    assert "first" in build()
    (tmp_path / "rnnlab/greeting.py").write_text("def greeting():\n    return 'second'\n")
    page = build()
    assert "second" in page and "first" not in page

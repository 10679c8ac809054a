"""Test-suite wiring shared by every test folder.

Chapters are executed once per test run, not twice. nbval runs each chapter notebook
(``--nbval-lax``: a cell must not raise; outputs are not compared, they are stored clean).
When every cell of a chapter passed, the executed notebook is written into the book's
execution cache (``_build/.jupyter_cache``, keyed by the hash of its code), so the book build
that follows reuses those outputs instead of executing the chapter again.
"""
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent
BUILD = ROOT / "_build"
JUPYTER_CACHE = BUILD / ".jupyter_cache"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_failed_files: set[str] = set()
_notebook_seconds: dict[str, list[float]] = {}  # path -> [start, end] of its cells


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not _is_nbval_cell(item):
        return
    if report.failed:
        _failed_files.add(str(item.parent.path))
    if call.when == "call" and item.test_outputs is not None:
        item.cell.outputs = item.test_outputs
        item.cell.execution_count = item.cell_num + 1 if hasattr(item, "cell_num") else None


def pytest_runtest_setup(item):
    if _is_nbval_cell(item):
        _notebook_seconds.setdefault(str(item.parent.path), [time.perf_counter(), 0.0])


def pytest_runtest_teardown(item, nextitem):
    """After the last cell of a chapter: cache the executed notebook if all cells passed."""
    if not _is_nbval_cell(item):
        return
    _notebook_seconds[str(item.parent.path)][1] = time.perf_counter()
    if nextitem is not None and nextitem.parent is item.parent:
        return
    path = str(item.parent.path)
    if path in _failed_files:
        return
    _cache_executed_notebook(item.parent.nb, path)


def pytest_terminal_summary(terminalreporter):
    """Print each notebook's wall time (kernel start included), to compare with its budget."""
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook wall times (budget: 60 s, 90 s for chapters 9 and 11)")
    for path, (start, end) in sorted(_notebook_seconds.items()):
        status = "FAILED" if path in _failed_files else "ok"
        name = pathlib.Path(path).relative_to(ROOT)
        terminalreporter.write_line(f"{end - start:7.1f} s  {status:6}  {name}")


def _cache_executed_notebook(notebook, path: str) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(JUPYTER_CACHE))
    cache.cache_notebook_bundle(CacheBundleIn(notebook, path, data={"executed_by": "nbval"}),
                                check_validity=False, overwrite=True)


@pytest.fixture(scope="session")
def built_site() -> pathlib.Path:
    """Build the book (warnings are errors) and return ``_build/html``.

    Chapters already executed by nbval in this run come from the cache; in a run without
    the notebooks, the build executes whatever the cache lacks.
    """
    command = [str(pathlib.Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
               "-W", "-n", "--keep-going", "--builder", "html"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    log = result.stdout + result.stderr
    (BUILD / "build.log").parent.mkdir(exist_ok=True)
    (BUILD / "build.log").write_text(log)
    assert result.returncode == 0, f"jupyter-book build failed:\n{log[-6000:]}"
    return BUILD / "html"

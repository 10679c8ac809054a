"""Test-suite wiring shared by every test folder.

Each chapter is executed once per run of `make book` and `make test`, whichever comes first
(both start with coursetools/execute.py, which runs the missing chapters two at a time).
They meet in the book's execution cache (jupyter-cache, ``_build/.jupyter_cache/<key>``, where
the key hashes rnnlab and the lock: ``_ext/execution_key.py``):

- a chapter whose current code has an execution there (`make book` ran it, or an earlier test
  run did) is not executed again: one test item checks that executed notebook (no cell raised,
  as nbval would check) and reports how long its execution took;
- any other chapter is executed by nbval (``--nbval-lax``: a cell must not raise; outputs are
  not compared, they are stored clean), and when every cell passed, the executed notebook is
  written into the cache, so the book build that follows reuses it.

The site tests then build the book (``built_site``), which finds every chapter in the cache.
"""
import os
import pathlib
import subprocess
import sys
import time

import pytest

from coursetools.execute import cached_execution, store_execution

ROOT = pathlib.Path(__file__).resolve().parent
BUILD = ROOT / "_build"
CHAPTERS = ROOT / "chapters"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RNNLAB_STATIC_OUTPUT", "1")   # pages get summary lines, not bars

_failed_files: set[str] = set()
_notebook_seconds: dict[str, tuple[float, str]] = {}   # path -> (seconds, how it ran)
_started: dict[str, float] = {}


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def _is_chapter(path: pathlib.Path) -> bool:
    return path.suffix == ".ipynb" and path.parent == CHAPTERS


# ---- chapters the book (or an earlier run) already executed: check, don't run ---------------

class ExecutedChapterError(Exception):
    pass


class ExecutedChapterItem(pytest.Item):
    """The cached execution of one chapter: every code cell ran without raising."""

    def runtest(self):
        import nbformat

        cache, record = cached_execution(self.path)
        _, notebook = cache.merge_match_into_notebook(nbformat.read(self.path, as_version=4))
        seconds = record.data.get("execution_seconds")
        _notebook_seconds[str(self.path)] = (seconds or 0.0, "cached")
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
                continue
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    _notebook_seconds[str(self.path)] = (seconds or 0.0, "FAILED")
                    raise ExecutedChapterError(
                        f"cell {index} raised {output.ename}: {output.evalue}\n"
                        f"{cell.source[:400]}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ExecutedChapterError):
            return f"{self.path.name}, as executed by the book:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::executed (from the book's cache)"


class ExecutedChapter(pytest.File):
    def collect(self):
        yield ExecutedChapterItem.from_parent(self, name="executed")


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path, parent):
    """A chapter with an up-to-date execution in the cache is checked, not run by nbval."""
    outcome = yield
    if _is_chapter(file_path) and cached_execution(file_path) is not None:
        outcome.force_result([ExecutedChapter.from_parent(parent, path=file_path)])


def pytest_collection_modifyitems(items):
    for item in items:
        if _is_nbval_cell(item) or isinstance(item, ExecutedChapterItem):
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.slow)


# ---- chapters nbval executes in this run: time them, store them in the cache ----------------

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
        _started.setdefault(str(item.parent.path), time.perf_counter())


def pytest_runtest_teardown(item, nextitem):
    """After the last cell of a chapter: cache the executed notebook if all cells passed."""
    if not _is_nbval_cell(item):
        return
    path = str(item.parent.path)
    if nextitem is not None and nextitem.parent is item.parent:
        return
    seconds = time.perf_counter() - _started[path]
    failed = path in _failed_files
    _notebook_seconds[path] = (seconds, "FAILED" if failed else "nbval")
    if not failed and _is_chapter(item.parent.path):
        store_execution(item.parent.nb, path, seconds, "nbval")


def pytest_terminal_summary(terminalreporter):
    """Each chapter's execution time (kernel start included), to compare with its budget:
    'nbval' ran it in this run, 'cached' means its execution by the book (or an earlier run)
    was checked instead."""
    if _notebook_seconds:
        terminalreporter.section("notebook execution times (budget: 60 s, 90 s for chapters 9 "
                                 "and 11)")
        for path, (seconds, how) in sorted(_notebook_seconds.items()):
            name = pathlib.Path(path).relative_to(ROOT)
            terminalreporter.write_line(f"{seconds:7.1f} s  {how:6}  {name}")
    # tests/test_full_scale.py records each chapter's time at the capped full scale
    full_scale = {report.nodeid.split("[")[-1].rstrip("]"): value
                  for reports in terminalreporter.stats.values() for report in reports
                  for name, value in getattr(report, "user_properties", ())
                  if name == "full_scale_seconds"}
    if full_scale:
        terminalreporter.section("full-scale smoke (RNNLAB_SCALE=full, capped steps), two at a time")
        for chapter, seconds in sorted(full_scale.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {chapter}")


@pytest.fixture(scope="session")
def built_site() -> pathlib.Path:
    """Build the book (warnings are errors) and return ``_build/html``.

    Chapters already executed (by the book, or by nbval in this run) come from the cache; in a
    run without the notebooks, the build executes whatever the cache lacks.
    """
    command = [str(pathlib.Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
               "-W", "-n", "--keep-going", "--builder", "html"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    log = result.stdout + result.stderr
    (BUILD / "build.log").parent.mkdir(exist_ok=True)
    (BUILD / "build.log").write_text(log)
    assert result.returncode == 0, f"jupyter-book build failed:\n{log[-6000:]}"
    return BUILD / "html"

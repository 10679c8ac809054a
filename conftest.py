"""Test-suite wiring shared by every test folder.

Each chapter is executed once per run of `make book` and `make test`, whichever comes first:
both start with ``python -m coursetools.execute``, which runs the chapters the book's execution
cache lacks (``_build/.jupyter_cache/<key>``; the key and the chapters' environment live in
``coursetools/execute.py``). Collected by pytest, a chapter is one test item:

- when its current code has an execution under the current key (`make book` ran it, or an
  earlier run), that executed notebook is checked: no cell raised;
- otherwise this run executes it with the same runner, under the same environment and cell
  timeout, reports the cell that failed, and stores a clean execution in the cache, so the book
  build that follows reuses it.

The suite itself runs under the chapters' environment too (its kernels and subprocesses inherit
it), whether started by make or as a bare ``pytest``.
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

from coursetools import execute

ROOT = pathlib.Path(__file__).resolve().parent

execute.use_chapter_environment()

_notebook_seconds: dict[str, tuple[float, str]] = {}   # path -> (seconds, how it ran)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _is_chapter(path: pathlib.Path) -> bool:
    return path.suffix == ".ipynb" and path.parent == execute.CHAPTERS


class ChapterError(Exception):
    pass


class ChapterItem(pytest.Item):
    """One chapter: every code cell runs without raising (those tagged ``raises-exception``
    excepted), as executed by the book or, when the cache lacks it, by this run."""

    def runtest(self):
        cached = execute.cached_execution(self.path)
        if cached is None:
            self._execute()
        else:
            self._check(*cached)

    def _execute(self):
        import nbformat

        with tempfile.TemporaryDirectory() as scratch:
            out = pathlib.Path(scratch) / self.path.name
            problem, seconds = execute.run_notebook(self.path, out=out)
            if problem:
                _notebook_seconds[str(self.path)] = (seconds, "FAILED")
                raise ChapterError(_ANSI.sub("", problem))
            _notebook_seconds[str(self.path)] = (seconds, "ran")
            execute.store_execution(nbformat.read(out, as_version=4), self.path, seconds,
                                    "pytest")

    def _check(self, cache, record):
        import nbformat

        _, notebook = cache.merge_match_into_notebook(nbformat.read(self.path, as_version=4))
        seconds = record.data.get("execution_seconds") or 0.0
        _notebook_seconds[str(self.path)] = (seconds, "cached")
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
                continue
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    _notebook_seconds[str(self.path)] = (seconds, "FAILED")
                    raise ChapterError(f"cell {index} raised {output.ename}: {output.evalue}\n"
                                       f"{cell.source[:400]}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ChapterError):
            return f"{self.path.name}:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::executed"


class ChapterFile(pytest.File):
    def collect(self):
        yield ChapterItem.from_parent(self, name="executed")


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path, parent):
    """A chapter is checked (or executed) by ChapterItem, not by any notebook plugin."""
    outcome = yield
    if _is_chapter(file_path):
        outcome.force_result([ChapterFile.from_parent(parent, path=file_path)])


# Work that mostly waits, or takes only the CPU the rest leaves, started before the first test
# and run beside the others: {fixture that returns its results: where it is}. Each of those
# modules has start_in_background(tmp_path_factory) and stop_the_background().
BACKGROUND_FIXTURES = ("full_scale_runs",    # tests/test_full_scale.py, at the lowest priority
                       "graded")             # tests/test_grading.py's main batch


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, ChapterItem):
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.slow)
    # the full-scale smoke's checks go last: its chapters take the CPU left idle meanwhile
    waiting = [item for item in items if "full_scale_runs" in getattr(item, "fixturenames", ())]
    items[:] = [item for item in items if item not in waiting] + waiting


@pytest.fixture(scope="session", autouse=True)
def background_work(request, tmp_path_factory):
    """Starts the background work of the modules whose tests were collected (before the first
    test: nothing starts under --collect-only), and ends it with the session."""
    modules = []
    for item in request.session.items:
        module = getattr(item, "module", None)
        if module not in modules and set(BACKGROUND_FIXTURES) & set(
                getattr(item, "fixturenames", ())):
            modules.append(module)
    for module in modules:
        module.start_in_background(tmp_path_factory)
    yield
    for module in modules:
        module.stop_the_background()


def pytest_terminal_summary(terminalreporter):
    """Each chapter's execution time (kernel start included), to compare with its budget:
    'ran' in this run, 'cached' when its execution by the book (or an earlier run) was
    checked instead."""
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
        terminalreporter.section("full-scale smoke (RNNLAB_SCALE=full, capped), two at a time")
        for chapter, seconds in sorted(full_scale.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {chapter}")


# ---- the website ---------------------------------------------------------------------------

BUILD = execute.BUILD
BOOK_COMMAND = ["jupyter-book", "build", ".", "-W", "-n", "--keep-going", "--builder", "html"]
# What the book is not built from: outputs, environments, caches, the tests themselves.
_NOT_SOURCES = {"_build", ".venv", ".git", ".pytest_cache", "__pycache__", ".ipynb_checkpoints",
                "artifacts", "submitted", "autograded", "feedback", "tests", "node_modules"}


def newest_source(root: pathlib.Path = ROOT) -> float:
    """The latest modification time of a file the book could be built from."""
    newest = 0.0
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name not in _NOT_SOURCES]
        for name in files:
            newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


def site_is_current(build: pathlib.Path, root: pathlib.Path = ROOT) -> bool:
    """True when ``build`` holds a built site and its log, newer than every source."""
    log = build / "build.log"
    return ((build / "html" / "index.html").exists() and log.exists()
            and newest_source(root) < log.stat().st_mtime)


@pytest.fixture(scope="session")
def built_site() -> pathlib.Path:
    """``_build/html``, the website `make book` built (its log: ``_build/build.log``).

    CI builds the book before the tests, and a second build would only repeat it: the tests
    read that build. When there is none, or a source changed after it was built, the book is
    built here with `make book`'s command (warnings are errors; the chapters come from the
    execution cache, and whatever it lacks is executed)."""
    html, log = BUILD / "html", BUILD / "build.log"
    if site_is_current(BUILD, ROOT):
        return html
    command = [str(pathlib.Path(sys.executable).parent / BOOK_COMMAND[0]), *BOOK_COMMAND[1:]]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    BUILD.mkdir(exist_ok=True)
    log.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"jupyter-book build failed:\n{log.read_text()[-6000:]}"
    return html

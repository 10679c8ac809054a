"""Execute the chapters that the book's cache lacks, several at a time, before the book is built.

    python -m coursetools.execute [--jobs N]

myst-nb executes the chapters one after another while Sphinx reads them. Most of a chapter's
time is one core's work (small models, one thread), so on a machine with two cores two chapters
run in about the time of one. ``make book`` and ``make test`` therefore run this first: every
chapter without an execution under the current key (``_ext/execution_key.py``) runs in its own
process and kernel, in its own folder, ``--jobs`` at a time (the one with the most code first),
and a chapter that ran without an error goes into the same jupyter-cache that the book
and conftest.py read. The book then renders from the cache, and ``make test`` checks those
executions instead of running nbval again.

A chapter that fails here is left out of the cache and reported; the book build (or nbval)
then runs it once more and reports the error in its usual way. The exit status is 0 either way:
this step only saves time, it decides nothing.
"""
import argparse
import concurrent.futures
import importlib.util
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CHAPTERS = ROOT / "chapters"
CELL_TIMEOUT = 180          # seconds per cell, as the book's execute.timeout in _config.yml

# Executes one notebook in its own folder (as the book does); writes the result to argv[3].
RUNNER = """
import sys
import nbformat
from nbclient import NotebookClient
path, folder, out, timeout = sys.argv[1:5]
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, kernel_name="python3", timeout=int(timeout) if timeout else None,
               record_timing=False,   # per-cell timestamps would change the cache's hash
               resources={"metadata": {"path": folder}}).execute()
if out:
    nbformat.write(notebook, out)
"""


def run_notebook(path: pathlib.Path, env: dict | None = None, budget: float | None = None,
                 cell_timeout: int | None = None, out: pathlib.Path | None = None):
    """Execute ``path`` in a process of its own (and its kernel): (None or why it failed,
    seconds). ``budget`` limits the whole run, ``cell_timeout`` each cell; ``out``, when given,
    receives the executed notebook."""
    start = time.monotonic()
    command = [sys.executable, "-c", RUNNER, str(path), str(path.parent), str(out or ""),
               str(cell_timeout or "")]
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)     # the runner and its kernel
        process.communicate()
        return f"ran past {budget:.0f} s", time.monotonic() - start
    if process.returncode != 0:
        return f"failed:\n{output[-3000:]}", time.monotonic() - start
    return None, time.monotonic() - start


def _load_execution_key():
    spec = importlib.util.spec_from_file_location("execution_key",
                                                  ROOT / "_ext" / "execution_key.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execution_key = _load_execution_key()


def cached_execution(path: pathlib.Path):
    """(cache, record) of the chapter's execution under the current key, or None."""
    folder = execution_key.cache_path(BUILD, ROOT, prune=False)
    if not folder.is_dir():
        return None
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(folder))
    try:
        return cache, cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None


def store_execution(notebook, path, seconds: float, executed_by: str) -> None:
    """Put an executed chapter into the cache of the current key (folders of other keys go),
    where myst-nb and conftest.py find it."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(execution_key.cache_path(BUILD, ROOT)))
    cache.cache_notebook_bundle(
        CacheBundleIn(notebook, str(path),
                      data={"executed_by": executed_by, "execution_seconds": seconds}),
        check_validity=False, overwrite=True)


def longest_first(chapters: list[pathlib.Path]) -> list[pathlib.Path]:
    """``chapters``, the most code first: a rough guess of the longest run (chapter 9, which
    trains most, has the most code), so that with several jobs it does not start last."""
    import nbformat

    def code_size(path):
        cells = nbformat.read(path, as_version=4).cells
        return sum(len(cell.source) for cell in cells if cell.cell_type == "code")

    return sorted(chapters, key=code_size, reverse=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="chapters executed at once (default: 2, or 1 on one core)")
    args = parser.parse_args(argv)

    import nbformat

    execution_key.cache_path(BUILD, ROOT)          # as the book does: other keys' folders go
    chapters = [p for p in sorted(CHAPTERS.glob("*.ipynb")) if cached_execution(p) is None]
    if not chapters:
        print("execute: every chapter's execution is in the cache")
        return 0
    jobs = max(1, args.jobs)
    print(f"execute: {len(chapters)} chapter(s), {jobs} at a time")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, \
            concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        outs = {path: pathlib.Path(scratch) / path.name for path in chapters}
        futures = {pool.submit(run_notebook, path, cell_timeout=CELL_TIMEOUT, out=outs[path]): path
                   for path in longest_first(chapters)}
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            problem, took = future.result()
            if problem:
                print(f"execute: {path.name} {problem}\n(the book build runs it again and reports)")
                continue
            store_execution(nbformat.read(outs[path], as_version=4), path, took,
                            "coursetools.execute")
            print(f"execute: {path.name} {took:.1f} s")
    print(f"execute: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

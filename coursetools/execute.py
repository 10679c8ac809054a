"""How the course executes a chapter: the one home of the execution key, the environment, the
runner and the timeouts.

    python -m coursetools.execute [--jobs N]   # run the chapters the book's cache lacks
    python -m coursetools.execute --key        # print the execution key (the workflows' cache key)

The book (``_ext/execution_key.py``), the test suite (``conftest.py``, the full-scale smoke),
the Makefile and the GitHub workflows all take these from here:

- :data:`ENVIRONMENT`, the variables every chapter runs under. The runner sets them for its
  kernels, the Sphinx extension sets them before myst-nb starts a kernel, and they are hashed
  into the key, so an execution made under other settings is never found under this key.
- :func:`execution_key`: jupyter-cache, which myst-nb uses to keep executed notebooks, keys
  each one by its own code cells; a chapter also runs rnnlab and the installed libraries and
  reads the benchmark's results (:data:`INPUTS`), under :func:`chapter_environment`. The key
  hashes all of these; executions live under ``_build/.jupyter_cache/<key>/`` (a new key
  starts an empty cache; older keys' folders go).
- :func:`run_notebook`: one notebook in a process of its own with its own kernel, stopped
  (kernel included) when it runs past its budget or the caller is interrupted (Ctrl-C).
- :data:`CELL_TIMEOUT`, the seconds one cell may take, in the book, the runner and the tests.

``make book`` and ``make test`` start with ``python -m coursetools.execute``: every chapter
without an execution under the current key runs, ``--jobs`` at a time (the one with the most
code first; most of a chapter's time is one core's work), and a chapter that ran without an
error goes into the cache. The book then renders from the cache, and the tests check those
executions. A chapter that fails here is left out of the cache and reported; the book build
(or the test of that chapter) runs it once more and reports the error in its usual way, so the
exit status is 0 either way: this step only saves time, it decides nothing.

Standard library only at import: the workflows compute the key before any venv exists.
"""
import argparse
import concurrent.futures
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CHAPTERS = ROOT / "chapters"

CELL_TIMEOUT = 180      # seconds one cell may take; a hung cell fails the book and the tests
STOP_GRACE = 10         # seconds a runner asked to stop gets to end its kernel, then it is killed

# The environment every chapter runs under, whoever runs it.
ENVIRONMENT = {
    "RNNLAB_STATIC_OUTPUT": "1",   # pages record one summary line, not live progress bars
    "PYTHONHASHSEED": "0",         # string hashing (set order) is fixed only at interpreter start
    "TF_CPP_MIN_LOG_LEVEL": "3",   # TensorFlow's C++ start-up lines stay off the pages
}
# Set by a reader, not by the runner, and passed through: they change what a chapter computes
# (rnnlab.device), so their values are part of the key.
SCALE_VARIABLES = ("RNNLAB_SCALE", "RNNLAB_MAX_STEPS")
# What a chapter runs besides its own cells: the library, the pinned environment, and the
# measured results that chapter 9 reads. Glob patterns relative to the repository's root.
INPUTS = ("rnnlab/**/*.py", "requirements.lock", "benchmarks/results/*")


# ---- the key -----------------------------------------------------------------------------

def chapter_environment(environ=None) -> dict[str, str]:
    """The variables a chapter runs under: :data:`ENVIRONMENT`, and those of
    :data:`SCALE_VARIABLES` that ``environ`` (default ``os.environ``) sets."""
    environ = os.environ if environ is None else environ
    passed = {name: environ[name] for name in SCALE_VARIABLES if environ.get(name)}
    return {**passed, **ENVIRONMENT}


def use_chapter_environment() -> None:
    """Set :func:`chapter_environment` in this process, for the kernels it starts (myst-nb's in
    the book build, the test suite's)."""
    os.environ.update(ENVIRONMENT)


def input_files(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """The files :data:`INPUTS` names, sorted (a missing pattern contributes nothing)."""
    found = {path for pattern in INPUTS for path in root.glob(pattern) if path.is_file()}
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def execution_key(root: pathlib.Path = ROOT, environ=None) -> str:
    """16 hex digits of the SHA-256 of every input's path and bytes and of the chapters'
    environment."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name, value in sorted(chapter_environment(environ).items()):
        digest.update(f"{name}={value}".encode() + b"\0")
    return digest.hexdigest()[:16]


def cache_path(build: pathlib.Path = BUILD, root: pathlib.Path = ROOT,
               prune: bool = True) -> pathlib.Path:
    """``build/.jupyter_cache/<key>``, the jupyter-cache of this key; with ``prune``, the
    folders of other keys (and a cache of the older, unkeyed layout) are removed."""
    caches = build / ".jupyter_cache"
    here = caches / execution_key(root)
    if prune and caches.is_dir():
        for entry in caches.iterdir():
            if entry != here:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return here


def cached_execution(path: pathlib.Path, build: pathlib.Path = BUILD, root: pathlib.Path = ROOT):
    """(cache, record) of the chapter's execution under the current key, or None."""
    folder = cache_path(build, root, prune=False)
    if not folder.is_dir():
        return None
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(folder))
    try:
        return cache, cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None


def store_execution(notebook, path, seconds: float, executed_by: str,
                    build: pathlib.Path = BUILD, root: pathlib.Path = ROOT) -> None:
    """Put an executed chapter into the cache of the current key (folders of other keys go),
    where myst-nb and conftest.py find it."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path(build, root)))
    cache.cache_notebook_bundle(
        CacheBundleIn(notebook, str(path),
                      data={"executed_by": executed_by, "execution_seconds": seconds}),
        check_validity=False, overwrite=True)


# ---- the runner --------------------------------------------------------------------------

# Executes one notebook in its folder (as the book does) and writes the result to argv[2].
# jupyter_client starts the kernel in a session of its own, where neither Ctrl-C nor a signal to
# this process reaches it: asked to stop (SIGTERM, SIGINT), the runner kills its kernel first.
# With a niceness (argv[4]), the runner and its kernel run at that CPU priority. Linux's
# autogroup scheduling (on by default) shares the CPU between sessions first and reads a
# process's niceness only inside its session, so the kernel's session is given it too.
RUNNER = """
import os, signal, sys, threading, traceback
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

path, out, timeout, niceness = sys.argv[1:5]
notebook = nbformat.read(path, as_version=4)
kernel = KernelManager(kernel_name="python3")
if int(niceness):
    os.nice(int(niceness))

def lower_the_kernels_session(**_):
    try:
        with open(f"/proc/{kernel.provisioner.pid}/autogroup", "w") as session:
            session.write(niceness)
    except OSError:     # no autogroup scheduling: the niceness the kernel inherited is enough
        pass

def stop(signum, frame):
    group = getattr(kernel.provisioner, "pgid", None) if kernel.provisioner else None
    if group:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)

def execute():
    try:
        NotebookClient(notebook, km=kernel, timeout=int(timeout) if timeout else None,
                       record_timing=False,   # per-cell timestamps would change the cache's hash
                       on_notebook_start=lower_the_kernels_session if int(niceness) else None,
                       resources={"metadata": {"path": os.path.dirname(path)}}).execute()
        if out:
            nbformat.write(notebook, out)
    except BaseException:
        failures.append(traceback.format_exc())

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
# While a cell runs, the client waits in pyzmq's poll, which does not come back to Python for a
# signal: a stop() due in that thread would wait for the cell to end. The client runs in a
# thread of its own; this one waits in join(), which runs stop() as soon as a signal comes.
failures = []
client = threading.Thread(target=execute, daemon=True)
client.start()
client.join()
if failures:
    sys.exit(failures[0])
"""

_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()
_interrupted = threading.Event()


def _stop(process: subprocess.Popen) -> None:
    """Ask a runner to end (it kills its kernel), and kill it when it does not."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()


def stop_all() -> None:
    """End every runner (and its kernel) still going, and start no new one."""
    _interrupted.set()
    with _running_lock:
        running = list(_running)
    for process in running:
        _stop(process)


def run_notebook(path: pathlib.Path, env: dict | None = None, budget: float | None = None,
                 cell_timeout: int | None = CELL_TIMEOUT, out: pathlib.Path | None = None,
                 niceness: int = 0):
    """Execute ``path`` in a process of its own (and its kernel) under
    :func:`chapter_environment` updated by ``env``: (None or why it failed, seconds).
    ``budget`` limits the whole run, ``cell_timeout`` each cell; ``out``, when given,
    receives the executed notebook; ``niceness`` (up to 19) lowers the run's CPU priority, so
    that it takes only what other work leaves idle. Interrupted (Ctrl-C), it ends the kernel
    and re-raises."""
    start = time.monotonic()
    # the kernel's connection file (jupyter_client writes it with tempfile.mkstemp) and what
    # the kernel writes to the temporary folder (torch's compile cache, ...) go into a folder
    # of this run's, removed with it
    with tempfile.TemporaryDirectory(prefix="coursetools-run-") as runtime:
        environment = {**os.environ, **ENVIRONMENT, "JUPYTER_RUNTIME_DIR": runtime,
                       "TMPDIR": runtime, **(env or {})}
        command = [sys.executable, "-c", RUNNER, str(path), str(out or ""),
                   str(cell_timeout or ""), str(niceness)]
        with _running_lock:
            if _interrupted.is_set():
                return "interrupted", 0.0
            process = subprocess.Popen(command, env=environment, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            _running.add(process)
        try:
            output, _ = process.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            _stop(process)
            process.communicate()
            return f"ran past {budget:.0f} s", time.monotonic() - start
        except BaseException:       # KeyboardInterrupt: the runner and its kernel end too
            _stop(process)
            raise
        finally:
            with _running_lock:
                _running.discard(process)
    if process.returncode != 0:
        return f"failed:\n{output[-3000:]}", time.monotonic() - start
    return None, time.monotonic() - start


def run_notebooks(paths, jobs: int, on_done=None, out_dir: pathlib.Path | None = None,
                  **options) -> dict:
    """:func:`run_notebook` for each of ``paths``, ``jobs`` at a time, the one with the most
    code first: {path: (problem, seconds)}; the executed notebooks go to ``out_dir`` under
    their own names when it is given. ``on_done(path, problem, seconds)`` is called as each
    ends. Interrupted (Ctrl-C), every runner and kernel ends before this re-raises."""
    _interrupted.clear()
    pool = concurrent.futures.ThreadPoolExecutor(max(1, jobs))
    results = {}
    try:
        futures = {pool.submit(run_notebook, path, **options,
                               out=out_dir / path.name if out_dir else None): path
                   for path in longest_first(list(paths))}
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            results[path] = future.result()
            if on_done:
                on_done(path, *results[path])
    except BaseException:
        stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def longest_first(chapters: list[pathlib.Path]) -> list[pathlib.Path]:
    """``chapters``, the most code first: a rough guess of the longest run (chapter 9, which
    trains most, has the most code), so that with several jobs it does not start last."""
    import nbformat

    def code_size(path):
        cells = nbformat.read(path, as_version=4).cells
        return sum(len(cell.source) for cell in cells if cell.cell_type == "code")

    return sorted(chapters, key=code_size, reverse=True)


def chapter_sums(chapters: pathlib.Path = CHAPTERS) -> str:
    """One line per chapter notebook: the SHA-256 of its bytes and its name."""
    return "".join(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
                   for path in sorted(chapters.glob("*.ipynb")))


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="chapters executed at once (default: 2, or 1 on one core)")
    parser.add_argument("--key", action="store_true",
                        help="print the execution key and exit (nothing is run)")
    args = parser.parse_args(argv)
    if args.key:
        print(execution_key())
        return 0

    # A warm `make book` asks this every time: when the chapters are byte for byte the ones
    # found in this key's cache last time, it answers without opening the cache.
    stamp = cache_path(BUILD, ROOT) / "chapters.sha256"   # as the book does: other keys go
    if stamp.is_file() and stamp.read_text() == chapter_sums(CHAPTERS):
        print("execute: every chapter's execution is in the cache")
        return 0

    import nbformat

    chapters = [p for p in sorted(CHAPTERS.glob("*.ipynb"))
                if cached_execution(p, BUILD, ROOT) is None]
    if not chapters:
        stamp.write_text(chapter_sums(CHAPTERS))
        print("execute: every chapter's execution is in the cache")
        return 0
    print(f"execute: {len(chapters)} chapter(s), {max(1, args.jobs)} at a time")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        executed = pathlib.Path(scratch)

        def keep(path, problem, seconds):
            if problem:
                print(f"execute: {path.name} {problem}\n(the book build runs it again and reports)")
                return
            notebook = nbformat.read(executed / path.name, as_version=4)
            store_execution(notebook, path, seconds, "coursetools.execute", BUILD, ROOT)
            print(f"execute: {path.name} {seconds:.1f} s", flush=True)

        try:
            runs = run_notebooks(chapters, args.jobs, on_done=keep, out_dir=executed)
        except KeyboardInterrupt:
            print("execute: interrupted; every kernel it started has ended", file=sys.stderr)
            return 130
    if not any(problem for problem, _ in runs.values()):
        stamp.write_text(chapter_sums(CHAPTERS))
    print(f"execute: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

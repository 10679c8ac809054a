"""coursetools.execute: its runs are found in the book's cache, run under the chapters'
environment, and end with their kernels when stopped."""
import os
import pathlib
import signal
import subprocess
import sys
import time

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


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, which has ended and waits to be reaped, is not)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.slow
def test_a_run_hashes_like_its_source_under_the_chapters_environment(tmp_path, monkeypatch):
    """myst-nb matches a chapter to the cache by the hash of its code cells and their metadata:
    an execution that added per-cell timing metadata would never be found, and the book would
    run every chapter a second time. And a bare `pytest` or `python -m coursetools.execute`
    (no Makefile exports, other values in the caller's environment) runs its kernel under
    ENVIRONMENT: string hashing fixed, static output, quiet TensorFlow."""
    for name in execute.ENVIRONMENT:
        monkeypatch.setenv(name, "caller's value")
    names = sorted(execute.ENVIRONMENT)
    path = _notebook(tmp_path, "ok.ipynb", "x = 6 * 7",
                     f"import os, sys\nprint(x, [os.environ.get(n) for n in {names!r}], "
                     "sys.flags.hash_randomization)")
    out = tmp_path / "executed.ipynb"
    problem, seconds = execute.run_notebook(path, cell_timeout=60, out=out)
    assert problem is None and seconds > 0, problem
    executed = nbformat.read(out, as_version=4)
    environment = [execute.ENVIRONMENT[name] for name in names]
    assert executed.cells[1].outputs[0]["text"] == f"42 {environment} 0\n"
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


@pytest.mark.slow
def test_a_run_in_the_background_gets_the_cpu_only_when_nothing_else_wants_it(tmp_path):
    """The full-scale smoke runs beside the other tests with niceness=19: its kernel (which
    jupyter_client starts in a session of its own) must have that niceness, and, where Linux
    shares the CPU between sessions first (autogroup scheduling), so must its session: a
    niceness inside a session of its own would change nothing."""
    path = _notebook(tmp_path, "nice.ipynb",
                     "import os, pathlib\n"
                     "session = pathlib.Path('/proc/self/autogroup')\n"
                     "print(os.nice(0), session.read_text().split()[-1] if session.exists() else '-')")
    out = tmp_path / "executed.ipynb"
    problem, _ = execute.run_notebook(path, cell_timeout=60, out=out, niceness=19)
    assert problem is None, problem
    niceness, session = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"].split()
    assert niceness == "19"
    assert session in ("19", "-"), f"the kernel's session has niceness {session}, not 19"


def test_the_key_changes_with_the_environment_chapters_run_under(monkeypatch):
    for name in execute.SCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    plain = execute.execution_key()
    monkeypatch.setenv("RNNLAB_SCALE", "full")
    assert execute.execution_key() != plain
    monkeypatch.delenv("RNNLAB_SCALE")
    monkeypatch.setitem(execute.ENVIRONMENT, "PYTHONHASHSEED", "1")
    assert execute.execution_key() != plain
    monkeypatch.setitem(execute.ENVIRONMENT, "PYTHONHASHSEED", "0")
    monkeypatch.setenv("PYTHONHASHSEED", "123")          # the caller's own is overridden
    assert execute.execution_key() == plain


@pytest.mark.slow
def test_ctrl_c_ends_the_kernels_it_started(tmp_path):
    """Interrupted (SIGINT, as Ctrl-C sends), the runner ends its notebook's kernel, which
    jupyter_client starts in a session of its own, out of the terminal's reach, at once, while
    a cell runs."""
    pid_file = tmp_path / "kernel.pid"
    path = _notebook(tmp_path, "slow.ipynb",
                     f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                     "time.sleep(600)")
    # Ctrl-C as in a terminal: a process started in the background by a non-interactive shell
    # (as a CI runner may start the suite) inherits SIGINT ignored, and Python then keeps it so
    interrupted = ("import pathlib, signal, sys\nfrom coursetools import execute\n"
                   "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                   "execute.run_notebooks([pathlib.Path(sys.argv[1])], jobs=1)")
    driver = subprocess.Popen(
        [sys.executable, "-c", interrupted, str(path)], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(execute.ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    kernel = None
    try:
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline and driver.poll() is None, driver.communicate()[0]
            time.sleep(0.2)
        kernel = int(pid_file.read_text())
        interrupted_at = time.monotonic()
        driver.send_signal(signal.SIGINT)
        output, _ = driver.communicate(timeout=execute.STOP_GRACE + 20)
        assert "KeyboardInterrupt" in output
        # the runner ends when asked, mid-cell, not when killed after STOP_GRACE seconds
        stopped_in = time.monotonic() - interrupted_at
        assert stopped_in < execute.STOP_GRACE / 2, f"the run took {stopped_in:.1f} s to stop"
        deadline = time.monotonic() + 10
        while _alive(kernel) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(kernel), "the notebook's kernel outlived the interrupted run"
    finally:
        driver.kill()
        if kernel and _alive(kernel):
            os.kill(kernel, signal.SIGKILL)


@pytest.mark.slow
def test_main_runs_what_the_cache_lacks_and_then_nothing(tmp_path, monkeypatch, capsys):
    """`python -m coursetools.execute` stores a chapter it ran where the book looks for it; run
    again it finds every chapter (from the stamp, or from the cache itself), and an edited
    chapter runs again."""
    (tmp_path / "chapters").mkdir()
    chapter = _notebook(tmp_path / "chapters", "01_a.ipynb", "print(6 * 7)")
    for name, value in (("ROOT", tmp_path), ("BUILD", tmp_path / "_build"),
                        ("CHAPTERS", tmp_path / "chapters")):
        monkeypatch.setattr(execute, name, value)
    assert execute.main([]) == 0
    assert "execute: 1 chapter(s)" in capsys.readouterr().out
    cache, _ = execute.cached_execution(chapter, tmp_path / "_build", tmp_path)
    _, executed = cache.merge_match_into_notebook(nbformat.read(chapter, as_version=4))
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    stamp = execute.cache_path(tmp_path / "_build", tmp_path) / "chapters.sha256"
    for _ in ("with the stamp", "from the cache"):
        assert execute.main([]) == 0
        assert "every chapter's execution is in the cache" in capsys.readouterr().out
        stamp.unlink()
    _notebook(tmp_path / "chapters", "01_a.ipynb", "print(6 * 9)")

    def failing(paths, jobs, on_done, **options):
        for path in paths:
            on_done(path, "failed in this test", 0.0)
        return {path: ("failed in this test", 0.0) for path in paths}

    monkeypatch.setattr(execute, "run_notebooks", failing)
    assert execute.main([]) == 0
    assert "01_a.ipynb failed in this test" in capsys.readouterr().out
    assert not stamp.exists(), "a stamp claims a chapter that is not in the cache"


def test_the_chapter_with_the_most_code_starts_first(tmp_path):
    small = _notebook(tmp_path, "a.ipynb", "x = 1")
    large = _notebook(tmp_path, "b.ipynb", "x = 1\n" * 50, "y = 2")
    assert execute.longest_first([small, large]) == [large, small]

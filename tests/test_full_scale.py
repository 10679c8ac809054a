"""Every chapter's full-scale code path runs: RNNLAB_SCALE=full (the GPU default, which no CPU
test would otherwise reach) with RNNLAB_MAX_STEPS capping training at a few updates.

The full scale's sizes (more data, bigger models, longer sequences) and its branches are
executed; only the number of updates is cut (rnnlab.device.steps, rnnlab's training loops and
device.keras_callbacks honour the cap). A mistake that only the full scale reaches, a typo in a
``full=`` branch or a shape that only the bigger sizes produce, fails here. The executed
notebooks are thrown away: the book shows the quick scale on a CPU.

The chapters run two at a time (the one with the most code first), each in its own process and
kernel, by coursetools.execute.run_notebook, which also runs the book's chapters.
"""
import concurrent.futures
import os
import pathlib

import pytest

from coursetools import execute

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_STEPS = "2"
# Seconds for a whole chapter (kernel start included) at the full scale with the cap: more than
# a quick-scale run needs on two loaded cores, far less than a full-scale training takes.
CHAPTER_BUDGET = 240
WORKERS = max(1, min(2, os.cpu_count() or 1))


def run_full_scale(path: pathlib.Path) -> tuple[str | None, float]:
    """Execute one chapter at the capped full scale: (None or why it failed, seconds)."""
    problem, seconds = execute.run_notebook(
        path, env={"RNNLAB_SCALE": "full", "RNNLAB_MAX_STEPS": MAX_STEPS}, budget=CHAPTER_BUDGET)
    if problem and problem.startswith("ran past"):
        problem += (" (does its training take its length from rnnlab.device.steps, or stop "
                    "under RNNLAB_MAX_STEPS?)")
    return problem, seconds


@pytest.fixture(scope="module")
def full_scale_runs() -> dict:
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = {path.name: pool.submit(run_full_scale, path)
                   for path in execute.longest_first(CHAPTERS)}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_full_scale_runs(path, full_scale_runs, record_property):
    problem, seconds = full_scale_runs[path.name]
    record_property("full_scale_seconds", seconds)      # listed at the end of the run (conftest)
    print(f"{path.name}: {seconds:.0f} s at RNNLAB_SCALE=full, RNNLAB_MAX_STEPS={MAX_STEPS}")
    assert problem is None, f"{path.name} at RNNLAB_SCALE=full, RNNLAB_MAX_STEPS={MAX_STEPS} {problem}"


@pytest.mark.slow
@pytest.mark.notebooks
def test_a_failing_full_branch_is_reported(tmp_path):
    """The runner reports a cell that fails only at the full scale."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from rnnlab import device\nassert device.pick(quick=1, full=2) == 1, 'full branch'")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    problem, _ = run_full_scale(path)
    assert problem is not None and "full branch" in problem

"""Every chapter's full-scale code path runs: RNNLAB_SCALE=full (the GPU default, which no CPU
test would otherwise reach) with RNNLAB_MAX_STEPS capping training at a few updates.

The full scale's sizes (more data, bigger models, longer sequences) and its branches are
executed; only the number of updates is cut (rnnlab.device.steps, rnnlab's training loops and
device.keras_callbacks honour the cap), and what a chapter evaluates on (rnnlab.device.capped:
chapter 9 would otherwise score four models on the whole held-out text). A mistake that only the full scale reaches, a typo in a
``full=`` branch or a shape that only the bigger sizes produce, fails here. The executed
notebooks are thrown away: the book shows the quick scale on a CPU.

The chapters run two at a time (the one with the most code first), each in its own process and
kernel, by coursetools.execute, which also runs the book's chapters.
"""

import pytest
from course import CHAPTERS

from coursetools import execute

MAX_STEPS = "2"
# Seconds for a whole chapter (kernel start included) at the full scale with the cap: more than
# a quick-scale run needs on two loaded cores, far less than a full-scale training takes.
CHAPTER_BUDGET = 240
FULL_SCALE = {"RNNLAB_SCALE": "full", "RNNLAB_MAX_STEPS": MAX_STEPS}


def explained(problem: str | None) -> str | None:
    if problem and problem.startswith("ran past"):
        problem += (" (does its training take its length from rnnlab.device.steps, or stop "
                    "under RNNLAB_MAX_STEPS? does it evaluate on rnnlab.device.capped data?)")
    return problem


@pytest.fixture(scope="module")
def full_scale_runs() -> dict:
    runs = execute.run_notebooks(CHAPTERS, execute.default_jobs(), env=FULL_SCALE,
                                 budget=CHAPTER_BUDGET)
    return {path.name: (explained(problem), seconds) for path, (problem, seconds) in runs.items()}


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
    problem, _ = execute.run_notebook(path, env=FULL_SCALE, budget=CHAPTER_BUDGET)
    assert problem is not None and "full branch" in problem

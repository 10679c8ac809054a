"""Every chapter's full-scale code path runs: RNNLAB_SCALE=full (the GPU default, which no CPU
test would otherwise reach) with RNNLAB_MAX_STEPS capping training at a few updates.

The full scale's sizes (more data, bigger models, longer sequences) and its branches are
executed; only the number of updates is cut (rnnlab.device.steps, rnnlab's training loops and
device.keras_callbacks honour the cap). A mistake that only the full scale reaches, a typo in a
``full=`` branch or a shape that only the bigger sizes produce, fails here. The executed
notebooks are thrown away: the book shows the quick scale on a CPU.
"""
import pathlib
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_STEPS = "2"
# Seconds for a whole chapter (kernel start included) at the full scale with the cap: more than
# a quick-scale run needs on two loaded cores, far less than a full-scale training takes.
CHAPTER_BUDGET = 240


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_full_scale_runs(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    monkeypatch.setenv("RNNLAB_SCALE", "full")
    monkeypatch.setenv("RNNLAB_MAX_STEPS", MAX_STEPS)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    where = f"{path.name} at RNNLAB_SCALE=full, RNNLAB_MAX_STEPS={MAX_STEPS}"
    deadline = time.monotonic() + CHAPTER_BUDGET
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            client.timeout = max(1, int(deadline - time.monotonic()))
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                pytest.fail(f"{where}: the chapter ran past {CHAPTER_BUDGET} s in cell {index} "
                            f"(does its training take its length from rnnlab.device.steps, or "
                            f"stop under RNNLAB_MAX_STEPS?)\n{cell.source[:300]}")
            except CellExecutionError as error:
                pytest.fail(f"{where}: cell {index} fails\n{error}")

"""Grade an exercise in this process, the way autograde does, in a fraction of its time.

The solution notebook (solutions/, with its hidden tests) runs cell by cell in a fresh
namespace named ``__main__``, with answer cells replaced by a submission; like nbgrader, it
goes on after a failing cell, and each graded test cell scores all its points or none. Cell
sources go into linecache as IPython puts them there, so ``inspect.getsource`` works on the
submission's functions as it does in a kernel. No sandbox: for our own fake submissions only.
"""
import contextlib
import io
import itertools
import linecache
import os
from dataclasses import dataclass, field

import nbformat
from test_grading_helpers import ROOT

os.environ.setdefault("MPLBACKEND", "Agg")
_cells = itertools.count()


def run_cell(source: str, namespace: dict) -> BaseException | None:
    """Execute one cell's code in ``namespace``; return the exception it raised, if any."""
    filename = f"<exercise cell {next(_cells)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 (our own test notebooks)
    except Exception as err:  # noqa: BLE001 (a failing cell is an outcome, as in nbgrader)
        return err
    return None


@dataclass
class Grades:
    points: dict = field(default_factory=dict)       # grade_id -> points scored
    possible: dict = field(default_factory=dict)     # grade_id -> points of the test cell
    messages: dict = field(default_factory=dict)     # grade_id -> "ErrorName: message" of a failure

    @property
    def total(self) -> float:
        return sum(self.points.values())

    @property
    def failed(self) -> list:
        return [gid for gid in self.possible if self.points[gid] == 0]


def _source_cells(slug):
    return nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4).cells


def release_answers(slug) -> dict:
    """grade_id -> the answer cell as students receive it (the blank release)."""
    nb = nbformat.read(ROOT / "exercises" / slug / f"{slug}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


def grade(slug: str, answers: dict | None = None, stop_after: str | None = None,
          skip: tuple = ()) -> Grades:
    """Run the exercise with ``answers`` (grade_id -> source) in place of the solution's
    answer cells; stop after the cell ``stop_after``; leave out the cells in ``skip``."""
    grades, namespace = Grades(), {"__name__": "__main__"}
    for cell in _source_cells(slug):
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type != "code" or gid in skip:
            continue
        source = (answers or {}).get(gid, cell.source) if meta.get("solution") else cell.source
        error = run_cell(source, namespace)
        if meta.get("grade") and not meta.get("solution"):
            grades.possible[gid] = meta["points"]
            grades.points[gid] = 0 if error else meta["points"]
            if error:
                grades.messages[gid] = f"{type(error).__name__}: {error}"
        if gid is not None and gid == stop_after:
            break
    return grades

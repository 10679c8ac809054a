"""Grade an exercise in this process with the engine autograde uses, in a fraction of its time.

The submission (the solution notebook's setup and answer cells, with answer cells replaced)
runs cell by cell in a namespace of its own, the "kernel"; each test cell of the solution
notebook (public and hidden parts) runs in the trusted namespace of
:class:`coursetools.verdicts.TrustedNotebook`, where the answers are remote proxies that
return data, exactly as at autograde (where the kernel is the sandboxed one). Like nbgrader,
it goes on after a failing cell, and each test cell scores all its points or none. No
sandbox: for our own fake submissions only.
"""
import contextlib
import io
import itertools
import linecache
import os
from dataclasses import dataclass, field

import nbformat
from course import ROOT

from coursetools.verdicts import InProcessKernel, TrustedNotebook, is_test_cell

os.environ.setdefault("MPLBACKEND", "Agg")
_cells = itertools.count()


def run_cell(source: str, namespace: dict) -> BaseException | None:
    """Execute one cell's code in ``namespace``; return the exception it raised, if any. The
    source goes into linecache as IPython puts it there (``inspect.getsource`` works)."""
    filename = f"<exercise cell {next(_cells)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 (our own fakes)
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


def source_notebook(slug):
    return nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)


def release_answers(slug) -> dict:
    """grade_id -> the answer cell as students receive it (the blank release)."""
    nb = nbformat.read(ROOT / "exercises" / slug / f"{slug}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


def grade(slug: str, answers: dict | None = None, stop_after: str | None = None,
          skip: tuple = (), extra: dict | None = None) -> Grades:
    """Run the exercise with ``answers`` (grade_id -> source) in place of the solution's
    answer cells; stop after the cell ``stop_after``; leave out the cells in ``skip``;
    ``extra`` (grade_id -> source) adds a student's cell after that cell (an attack)."""
    source_nb = source_notebook(slug)
    submitted = []
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not is_test_cell(cell) and meta.get("grade_id") not in skip:
            text = (answers or {}).get(meta.get("grade_id"), cell.source) if meta.get("solution") else cell.source
            submitted.append((meta.get("grade_id"), text))
            if meta.get("grade_id") in (extra or {}):
                submitted.append((None, extra[meta["grade_id"]]))
    student = {"__name__": "__main__"}
    engine = TrustedNotebook(source_nb, InProcessKernel(student), [s for _, s in submitted])
    grades, queue = Grades(), list(submitted)
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type != "code" or gid in skip:
            continue
        if is_test_cell(cell):
            outcome = engine.run_test(gid)
            grades.possible[gid] = meta["points"]
            grades.points[gid] = 0 if outcome else meta["points"]
            if outcome:
                grades.messages[gid] = f"{outcome[0]}: {outcome[1]}"
        else:                          # the student's cells up to this one, in the "kernel"
            while queue:
                queued_gid, text = queue.pop(0)
                run_cell(text, student)
                if queued_gid == gid and not (queue and queue[0][0] is None):
                    break
        if gid is not None and gid == stop_after:
            break
    return grades

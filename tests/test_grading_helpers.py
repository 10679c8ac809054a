"""Helpers of the grading tests (no tests here): a scratch course, fake submissions, grades.

Fake submissions start from the released notebook (what a student downloads) and change
the answer cells the way a student would: the real solution, nothing, a plausible mistake,
a hard-coded answer, a loop, a crash, tampering with test cells, or an attack.
"""
import csv
import functools
import html
import os
import pathlib
import re
import shutil
import subprocess

import nbformat
from course import ASSIGNMENTS, ROOT  # noqa: F401 (test_grading imports them from here)

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@functools.cache
def sandbox_problem() -> str | None:
    """None when bwrap works here. The suite installs nothing: `make test` depends on
    `make sandbox`, which installs bubblewrap where it can."""
    from coursetools.sandbox import sandbox_problem as problem
    return problem()


def require_sandbox():
    """Skip (loudly; fail under CI=true) where no grading sandbox can run."""
    import pytest
    if sandbox_problem() is None:
        return
    message = f"GRADING SANDBOX UNAVAILABLE, sandbox tests skipped: {sandbox_problem()}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing sandbox is a failure)")
    pytest.skip(message)


def make(target: str, course: pathlib.Path, *variables: str, **env) -> subprocess.CompletedProcess:
    """Run a Makefile target of the repository on the course folder ``course``;
    ``variables`` are more make variables (``"JOBS=2"``), ``env`` environment variables."""
    environment = {**os.environ, **{k: str(v) for k, v in env.items()}}
    # -o: the tests run inside the venv already; never reinstall it mid-test
    return subprocess.run(["make", "-s", "-o", ".venv/.installed", "-C", str(ROOT), target,
                           f"COURSE={course}", *variables],
                          capture_output=True, text=True, env=environment, check=False)


def scratch_course(base: pathlib.Path, settings: str = "") -> pathlib.Path:
    """A course folder with the repository's config (plus ``settings``, lines of nbgrader
    configuration) and solutions (no exercises yet)."""
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    if settings:
        with open(course / "nbgrader_config.py", "a") as config:
            config.write("\n# set by the tests\n" + settings + "\n")
    shutil.copytree(ROOT / "solutions", course / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def solution_answers(slug: str) -> dict[str, str]:
    """grade_id -> the instructor's answer with the solution markers removed."""
    nb = nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def hidden_test_lines(slug: str) -> list[str]:
    """Distinctive code lines of the hidden test regions (not also found outside them)."""
    return _region_lines(slug, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _region_lines(slug: str, begin: str, end: str, markdown_answers: bool = False) -> list[str]:
    nb = nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)
    inside_lines, outside_lines = [], set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside:
                inside_lines.append(line.strip())
            else:
                outside_lines.add(line.strip())
        if markdown_answers and _nbgrader(cell).get("solution") and cell.cell_type == "markdown":
            inside_lines += [line.strip() for line in cell.source.splitlines()]
    outside = "\n".join(outside_lines)
    return [line for line in inside_lines if len(line) > 25 and line not in outside]


def solution_lines(slug: str) -> list[str]:
    """Distinctive lines of the solution regions and model answers (not found elsewhere)."""
    return _region_lines(slug, "BEGIN SOLUTION", "END SOLUTION", markdown_answers=True)


def submit(course: pathlib.Path, student: str, slug: str, answers: dict[str, str] | None = None,
           edit=None) -> pathlib.Path:
    """Write submitted/<student>/<slug>/<slug>.ipynb from the release: ``answers`` replaces
    answer cells by grade_id; ``edit(nb)`` may change the notebook further."""
    nb = nbformat.read(course / "exercises" / slug / f"{slug}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if answers and grade_id in answers:
            cell.source = answers[grade_id]
    if edit is not None:
        edit(nb)
    path = course / "submitted" / student / slug / f"{slug}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def read_rows(course: pathlib.Path) -> dict[tuple[str, str], dict]:
    """(student, assignment) -> the row of the exported grades.csv."""
    with open(course / "grades.csv") as handle:
        return {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}


def read_grades(course: pathlib.Path) -> dict[tuple[str, str], float | None]:
    """(student, assignment) -> score (None when not graded: see the row's status)."""
    return {key: float(row["score"]) if row["score"] != "" else None
            for key, row in read_rows(course).items()}


def page_text(path: pathlib.Path) -> str:
    """The visible text of an HTML page (tags dropped, entities decoded), code included."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(errors="replace")))


def autograded_outputs(course: pathlib.Path, student: str, slug: str) -> str:
    nb = nbformat.read(course / "autograded" / student / slug / f"{slug}.ipynb", as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + output.get("ename", "") + ": "
                         + output.get("evalue", "")
                         + str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def points_of(slug: str, grade_id: str) -> float:
    """Points of one test cell of the solution."""
    nb = nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)
    return float(next(_nbgrader(c)["points"] for c in nb.cells
                      if _nbgrader(c).get("grade_id") == grade_id))


def auto_points(slug: str) -> float:
    """Points of the autograded test cells (written answers are graded by hand)."""
    nb = nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)
    return float(sum(_nbgrader(c).get("points", 0) for c in nb.cells
                     if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")))


# ---- submissions that attack the verdict from inside the student's own kernel ----------------
# Each form alone scored full marks (or leaked hidden tests) when test cells ran in the
# student's kernel; tests/test_grading.py shows each succeeding that old way and failing now.
ZERO_BACKWARD = '''def backward(X, targets, params, cache):
    return {name: np.zeros_like(value) for name, value in params.items()}'''
KERNEL_ATTACKS = {
    "redefined checking helpers": '''
def check_gradients(*args, **kwargs):
    pass

def check_random_sizes(*args, **kwargs):
    pass

import sys, types
sys.modules["coursetools.ownwork"] = types.SimpleNamespace(assert_own_work=lambda *a, **k: None)''',
    "patched numpy": '''
np.abs = lambda x: np.zeros(np.shape(x))
np.allclose = np.isclose = lambda *args, **kwargs: True
import sys, types
sys.modules["coursetools.ownwork"] = types.SimpleNamespace(assert_own_work=lambda *a, **k: None)''',
    "input transformer": '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])''',
    "ast transformer": '''
import ast
class Nothing(ast.NodeTransformer):
    def visit_Module(self, node):
        return ast.Module(body=[], type_ignores=[])
get_ipython().ast_transformers.append(Nothing())''',
}
# forms that printed the hidden tests into the test cells' outputs (and so into feedback)
LEAKS = {
    "pre_run_cell hook": '''
get_ipython().events.register("pre_run_cell", lambda info: print(info.raw_cell))''',
    "post_run_cell In[-1]": '''
get_ipython().events.register("post_run_cell", lambda result: print(get_ipython().user_ns["In"][-1]))''',
}


def with_cell_after(grade_id: str, source: str):
    """An ``edit`` for :func:`submit`: a new cell of the student's after the cell ``grade_id``."""
    def edit(nb):
        at = next(i for i, c in enumerate(nb.cells) if _nbgrader(c).get("grade_id") == grade_id)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    return edit


def points_in_one_kernel(slug: str, answers: dict, after: str, extra: str) -> tuple[float, str]:
    """The old way: the solution notebook (hidden tests included) with ``answers``, a student's
    cell ``extra`` after the cell ``after``, all run in ONE plain kernel as autograde ran it;
    the points of the test cells without an error output, and everything the cells printed."""
    from nbclient import NotebookClient
    nb = nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)
    for cell in nb.cells:
        if _nbgrader(cell).get("grade_id") in answers:
            cell.source = answers[_nbgrader(cell)["grade_id"]]
    with_cell_after(after, extra)(nb)
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    points = sum(_nbgrader(c)["points"] for c in nb.cells if _nbgrader(c).get("grade")
                 and not _nbgrader(c).get("solution") and c.cell_type == "code"
                 and not any(o.get("output_type") == "error" for o in c.outputs))
    printed = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    return points, printed

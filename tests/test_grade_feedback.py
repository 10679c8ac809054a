"""The feedback page says "not graded yet" on the cell that awaits hand-grading, and only
there, whatever the student's own cells contain.

The page is rendered as `nbgrader generate_feedback` renders it: the exporter the course
configures (nbgrader_config.py), on top of the settings nbgrader's GenerateFeedback gives every
HTML exporter, from a notebook carrying the scores GetGrades writes. No kernel, no gradebook.
"""
import pathlib
import re

import nbformat
import nbgrader
from course import ROOT
from traitlets.config import Config, PyFileConfigLoader

FORMGRADER = pathlib.Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
# a student's markdown cell that imitates the page's own markup for the written answer
FORGED = '<a name="written"></a> my guess of my mark: Score: 1.0 / 2.0'


def _config() -> Config:
    """GenerateFeedback's settings of HTMLExporter, then the course's nbgrader_config.py."""
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(FORMGRADER / "templates")]
    config.HTMLExporter.extra_template_paths = [
        str(FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config())
    return config


def _cell(cell, grade_id, points, score, **flags):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "points": points, "score": score,
                                 "grade": True, "solution": False, "locked": False, **flags}
    return cell


def _page(ungraded: dict[str, float]) -> str:
    config = _config()
    exporter = config.GenerateFeedback.exporter_class(config=config)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(FORGED),
        _cell(nbformat.v4.new_code_cell("def f(x):\n    return x"), "answer", 0, 0,
              grade=False, solution=True),
        _cell(nbformat.v4.new_code_cell("assert f(1) == 1"), "test_f", 4, 4.0, locked=True),
        _cell(nbformat.v4.new_markdown_cell("Because the state carries the past."), "written",
              2, 0.0, solution=True),
    ])
    resources = {"nbgrader": {"notebook": "ex00", "score": 4.0, "max_score": 6.0,
                              "late_penalty": 0.0, "ungraded": ungraded}}
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    return page


def _heading_score(page: str, label: str) -> str:
    """The score in the grader's heading of the cell labelled ``label``."""
    match = re.search(rf'<span class="nbgrader-label">{label}</span>\s*'
                      r'<span class="pull-right">\s*Score: (.*?) / ', page)
    assert match, f"no heading {label!r} on the page"
    return match.group(1)


def test_not_graded_yet_lands_on_the_ungraded_cell_only():
    page = _page({"written": 2.0})
    # the written answer's own heading and its line in the contents
    assert _heading_score(page, "Student's answer") == "not graded yet"
    assert '<a href="#written">Written response</a> (Score: not graded yet / 2.0)' in page
    assert "(Score: 4.0 / 6.0; 2 points not graded yet)</h4>" in page
    # the graded test keeps its points; the student's imitation is left as they wrote it
    assert _heading_score(page, "Grade cell: <code>test_f</code>") == "4.0"
    assert '<a href="#test_f">Test cell</a> (Score: 4.0 / 4.0)' in page
    assert "my guess of my mark: Score: 1.0 / 2.0" in page
    assert page.count("not graded yet") == 3, "only the written answer, twice, and the total"


def test_a_graded_written_answer_shows_its_points():
    page = _page({})
    assert "not graded yet" not in page
    assert _heading_score(page, "Student's answer") == "0.0"
    assert "(Score: 4.0 / 6.0)</h4>" in page

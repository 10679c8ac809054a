"""The released exercises (exercises/, committed) and the course set-up, checked without
running nbgrader: no solution, hidden test or marker leaks into a release or onto the website,
every assignment has autograded and hand-graded points, every exercise is in the book.
(That exercises/ equals a fresh `make release` is checked in test_grading.py.)"""
import json
import pathlib

import nbformat
import pytest
import yaml
from course import ASSIGNMENTS, ROOT
from test_grading_helpers import hidden_test_lines, page_text, solution_lines

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _release(slug):
    return ROOT / "exercises" / slug / f"{slug}.ipynb"


def test_there_are_at_least_six_assignments_of_about_twelve_points_each():
    assert len(ASSIGNMENTS) >= 6
    assert ASSIGNMENTS[:6] == ["ex01_rnn_forward", "ex02_unfolding", "ex03_bptt",
                               "ex04_truncated_bptt_clipping", "ex05_gated_cells", "ex06_sampling"]
    manual = 0
    for slug in ASSIGNMENTS:
        nb = nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)
        meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
        points = [m.get("points", 0) for m in meta if m.get("grade")]
        assert any(m.get("grade") and not m.get("solution") for m in meta), f"{slug}: no autograded tests"
        assert any("BEGIN HIDDEN TESTS" in c.source for c in nb.cells), f"{slug}: no hidden tests"
        # every exercise weighs about the same, so the course total grows with its exercises
        assert 10 <= sum(points) <= 14, f"{slug} is worth {sum(points)} points (expected 10 to 14)"
        manual += sum(m.get("points", 0) for m in meta if m.get("grade") and m.get("solution"))
    assert manual > 0, "at least one answer must be graded by hand"


@pytest.mark.parametrize("slug", ASSIGNMENTS)
def test_each_solution_has_its_release(slug):
    assert _release(slug).exists(), f"exercises/{slug}/{slug}.ipynb is missing: run make release"


@pytest.mark.parametrize("slug", ASSIGNMENTS)
def test_release_holds_no_solution_no_hidden_test_no_marker(slug):
    text = _release(slug).read_text()
    source = json.loads(text)
    code = "\n".join("".join(c["source"]) for c in source["cells"])
    for marker in MARKERS:
        assert marker not in text, f"{slug}: {marker} reached the release"
    for line in solution_lines(slug):
        assert line not in code, f"{slug}: solution code reached the release: {line}"
    for line in hidden_test_lines(slug):
        assert line not in code, f"{slug}: hidden test code reached the release: {line}"
    assert "raise NotImplementedError()" in code


def test_the_leak_checks_bite():
    """The line lists that the checks above search for are not empty, and they would
    find the solution notebook's own code."""
    for slug in ASSIGNMENTS:
        solution = (ROOT / "solutions" / slug / f"{slug}.ipynb").read_text()
        code = "\n".join("".join(c["source"]) for c in json.loads(solution)["cells"])
        assert solution_lines(slug) and hidden_test_lines(slug), slug
        assert all(line in code for line in solution_lines(slug) + hidden_test_lines(slug))


@pytest.mark.parametrize("slug", ASSIGNMENTS)
def test_test_cells_are_locked_and_carry_points(slug):
    nb = nbformat.read(_release(slug), as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta.get("points", 0) > 0
        if not meta.get("solution"):
            assert meta.get("locked") and meta.get("checksum"), f"{meta['grade_id']} is not locked"


def _toc_files(entry) -> list[str]:
    """Every ``file:`` of a Jupyter Book table of contents (nested parts and sections)."""
    if isinstance(entry, dict):
        return ([entry["file"]] if "file" in entry else []) + [
            f for value in entry.values() for f in _toc_files(value)]
    if isinstance(entry, list):
        return [f for item in entry for f in _toc_files(item)]
    return []


def test_every_exercise_is_in_the_book_and_instructor_pages_too():
    toc = {pathlib.PurePosixPath(f).with_suffix("").as_posix()
           for f in _toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))}
    for slug in ASSIGNMENTS:
        assert f"exercises/{slug}/{slug}" in toc, f"{slug} is missing from _toc.yml"
    for page in sorted((ROOT / "instructors").glob("*.md")):
        assert f"instructors/{page.stem}" in toc, f"{page.name} is missing from _toc.yml"


def test_the_book_leaves_out_solutions_and_never_executes_a_release():
    """The settings the build really uses (jupyter-book's translation of _config.yml into
    Sphinx's), matched the way Sphinx and myst-nb match them."""
    from jupyter_book.config import get_final_config
    from sphinx.util.matching import Matcher

    config, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=ROOT,
                                 cli_config={"latex_individualpages": False})
    excluded = Matcher(config["exclude_patterns"])   # Sphinx prunes matching folders
    assert excluded("solutions"), "solutions/ must stay out of the book"
    assert not excluded("exercises") and not excluded("chapters")
    for slug in ASSIGNMENTS:
        release = pathlib.PurePosixPath(ROOT.as_posix(), "exercises", slug, f"{slug}.ipynb")
        assert not excluded(f"exercises/{slug}/{slug}.ipynb"), f"{slug} must be in the book"
        # myst-nb: PurePosixPath(path).match(pattern), which matches from the right
        assert any(release.match(p) for p in config["nb_execution_excludepatterns"]), (
            f"{slug}: released exercises must not be executed by the build")
    chapter = pathlib.PurePosixPath(ROOT.as_posix(), "chapters", "01_sequences_need_memory.ipynb")
    assert not any(chapter.match(p) for p in config["nb_execution_excludepatterns"])


def test_config_sets_the_course_folders_and_timeout():
    """nbgrader_config.py loaded as nbgrader loads it (traitlets), its values checked."""
    from traitlets.config.loader import PyFileConfigLoader

    from coursetools.grading import HideHiddenTests

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "exercises"
    assert 0 < config.Execute.timeout <= 120 and config.Execute.execute_retries == 0
    assert HideHiddenTests in config.GenerateFeedback.preprocessors


@pytest.mark.site
@pytest.mark.slow
def test_the_site_shows_exercises_without_solutions_or_hidden_tests(built_site):
    assert not (built_site / "solutions").exists()
    for slug in ASSIGNMENTS:
        page = built_site / "exercises" / slug / f"{slug}.html"
        assert page.exists(), f"{slug} has no page"
        html = page.read_text()
        assert 'class="cell_output' not in html, f"{slug}: the exercise page was executed"
        assert f"{slug}.ipynb" in html, f"{slug}: no download link to the notebook"
    for page in sorted(built_site.rglob("*.html")):
        text = page_text(page)
        for marker in MARKERS:
            assert marker not in text, f"{page}: {marker}"
        for slug in ASSIGNMENTS:
            for line in hidden_test_lines(slug) + solution_lines(slug):
                assert line not in text, f"{page.relative_to(built_site)}: {line}"

"""Every chapter has the same anatomy, and every split it makes is checked for leaks.

Opening: the first cell is the title ``# N. Title`` followed by the chapter's question, in one
style: a paragraph that starts with ``**The question of this chapter:**`` and ends with ``?``.
Closing: the last three sections are ``## Summary``, ``## Try this`` and ``## Exercise``, in
that order, and the Exercise section links to a released assignment that exists.

Splits: a chapter whose code makes training and held-out sets calls
``rnnlab.data.assert_disjoint`` (nbval then runs those assertions in every test run).
"""
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
QUESTION = re.compile(r"\*\*The question of this chapter:\*\*(?P<question>[^\n]+(?:\n[^\n]+)*)")
TRAINING_NAME = re.compile(r"^\s*\(?[\w, ]*\b(?:train|training)(?:_\w+)?\b[\w, ]*\)?\s*=", re.MULTILINE)
HELD_OUT_NAME = re.compile(r"^\s*\(?[\w, ]*\b(?:test|val|valid|validation|held_out|heldout|unseen)"
                           r"(?:_\w+)?\b[\w, ]*\)?\s*=", re.MULTILINE)


def cells(path: pathlib.Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def markdown(path):
    return ["".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown"]


def code(path):
    return "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "code")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_its_title_and_question(path):
    first = markdown(path)[0]
    number = path.stem.split("_")[0].lstrip("0")
    assert first.startswith(f"# {number}. "), f"{path.name}: the first cell must start '# {number}. '"
    found = QUESTION.search(first)
    assert found, f"{path.name}: the first cell must state '**The question of this chapter:** ...?'"
    assert found["question"].strip().endswith("?"), f"{path.name}: the question must end with '?'"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_closes_with_summary_try_this_and_exercise(path):
    headings = [line for cell in markdown(path) for line in cell.splitlines()
                if line.startswith("## ")]
    assert headings[-3:] == ["## Summary", "## Try this", "## Exercise"], (
        f"{path.name}: the last sections are {headings[-3:]}")
    exercise = markdown(path)[-1]
    links = re.findall(r"\]\((\.\./exercises/[^)#]+)", exercise)
    assert links, f"{path.name}: the Exercise section links to no exercise"
    for link in links:
        target = (path.parent / link).resolve()
        assert target.exists(), f"{path.name}: the exercise link {link} points nowhere"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_split_asserts_that_it_does_not_leak(path):
    source = code(path)
    if TRAINING_NAME.search(source) and HELD_OUT_NAME.search(source):
        assert "assert_disjoint(" in source, (
            f"{path.name} splits data into training and held-out sets but never calls "
            "rnnlab.data.assert_disjoint on them")

"""Every chapter has the same anatomy, and every split it makes is checked for leaks.

Opening: the first cell is the title ``# N. Title`` followed by the chapter's question, in one
style: a paragraph that starts with ``**The question of this chapter:**`` and ends with ``?``.
Closing: the last three sections are ``## Summary``, ``## Try this`` and ``## Exercise``, in
that order, and the Exercise section links to a released assignment that exists.

Splits: a cell that makes training and held-out sets (one assignment binds a training name and
a held-out name: ``train_x, test_x = ...``) calls ``rnnlab.data.assert_disjoint`` itself, so every
split is checked where it is made (and the test run executes those assertions).
"""
import ast
import json
import pathlib
import re

import pytest
from course import CHAPTERS

QUESTION = re.compile(r"\*\*The question of this chapter:\*\*(?P<question>[^\n]+(?:\n[^\n]+)*)")
# a word of a snake_case name: train_x, X_train, X_tr / test_x, y_te, val_words, held_out_ids
TRAINING_NAME = re.compile(r"(?:^|_)(?:train|training|tr)(?:_|$)", re.IGNORECASE)
HELD_OUT_NAME = re.compile(r"(?:^|_)(?:test|te|val|valid|validation|held_out|heldout|unseen)(?:_|$)",
                           re.IGNORECASE)
SPLITTERS = {"train_test_split"}    # scikit-learn's, whatever the names it is assigned to


def cells(path: pathlib.Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def markdown(path):
    return ["".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown"]


def code_cells(path) -> list[str]:
    return ["".join(c["source"]) for c in cells(path) if c["cell_type"] == "code"]


def called(call: ast.Call) -> str:
    """The name a call calls: ``f`` of ``f(x)`` and of ``module.f(x)``."""
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def is_split(names) -> bool:
    """Names that hold training and held-out data side by side."""
    return any(map(TRAINING_NAME.search, names)) and any(map(HELD_OUT_NAME.search, names))


def unchecked_splits(source: str) -> list[str]:
    """The assignments of a cell that split into training and held-out sets, when the cell
    never calls ``assert_disjoint`` (IPython magics are read as comments). An assignment that
    only carries an earlier split along (``X_train, X_test = f(train), f(test)``) makes none."""
    tree = ast.parse("\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line
                               for line in source.splitlines()))
    if "assert_disjoint" in {called(node) for node in ast.walk(tree) if isinstance(node, ast.Call)}:
        return []
    splits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names = [n.id for target in node.targets for n in ast.walk(target)
                     if isinstance(n, ast.Name)]
            splitter = isinstance(node.value, ast.Call) and called(node.value) in SPLITTERS
            read = [n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)]
            if splitter or is_split(names) and not is_split(read):
                splits.append(ast.get_source_segment(source, node).splitlines()[0])
    return splits


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


def test_a_split_is_found_and_its_check_must_be_in_its_cell():
    assert unchecked_splits("train_m, test_m = (x[:9], y[:9]), (x[9:], y[9:])\n") == [
        "train_m, test_m = (x[:9], y[:9]), (x[9:], y[9:])"]
    assert unchecked_splits("%time train, val = a[:9], a[9:]\n") == []     # a magic
    assert unchecked_splits("train_x, test_x = a[:9], a[9:]\n"
                            "data.assert_disjoint(train_x, test_x)") == []
    assert unchecked_splits("train_ids = encode(train_text)\nval_ids = encode(val_text)") == []
    assert unchecked_splits("X_tr, X_te, y_tr, y_te = split(images, labels)") == [
        "X_tr, X_te, y_tr, y_te = split(images, labels)"]
    assert unchecked_splits("a, b = model_selection.train_test_split(x)") == [
        "a, b = model_selection.train_test_split(x)"]
    assert unchecked_splits("X_train, X_test = encode(train_set), encode(test_set)") == []
    assert unchecked_splits("trace, tests = f(x)") == []                  # words, not letters


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_split_asserts_that_it_does_not_leak(path):
    unchecked = [f"code cell {index}: {split}" for index, source in enumerate(code_cells(path))
                 for split in unchecked_splits(source)]
    assert not unchecked, (
        f"{path.name} splits into training and held-out sets without calling "
        "rnnlab.data.assert_disjoint in the same cell:\n" + "\n".join(unchecked))

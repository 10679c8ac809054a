"""The recipe every chapter follows, checked on every notebook in chapters/, and the numbers
chapter 1 quotes in words.

Executing the chapters is conftest's job (``pytest chapters/``: checked from the book's cache,
or run by coursetools.execute); these tests read the stored
notebooks. Other parts of a chapter's anatomy are checked elsewhere: title, question and
closing sections in test_chapter_anatomy.py, headings and alt text in test_accessibility.py.
"""
import json
import re

import numpy as np
import pytest
from course import CHAPTERS, ROOT

from coursetools.launch import MARKER as ENVIRONMENT_CELL

FRAMEWORK_IMPORTS = {
    "In PyTorch": re.compile(r"^\s*(?:import torch|from torch[\w.]* import)\b", re.MULTILINE),
    "In TensorFlow": re.compile(r"^\s*(?:import|from) (?:tensorflow|keras)\b", re.MULTILINE),
}
RNNLAB_IMPORT = re.compile(r"^\s*(?:import rnnlab|from rnnlab[\w.]* import)\b", re.MULTILINE)


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell):
    return "".join(cell["source"])


def _code(cells):
    return "\n".join(_source(c) for c in cells if c["cell_type"] == "code")


def check_recipe(cells):
    """Problems with a chapter's recipe, as a list of messages (empty when it is fine). The
    environment cell (coursetools.launch, generated and checked by test_launch.py) comes
    before the recipe: the chapter's own first code cell is the one after it."""
    cells = [c for c in cells if not _source(c).startswith(ENVIRONMENT_CELL)]
    problems = []
    markdown = [_source(c) for c in cells if c["cell_type"] == "markdown"]
    code = [_source(c) for c in cells if c["cell_type"] == "code"]
    headings = [line.lstrip("# ").strip() for text in markdown for line in text.splitlines()
                if re.match(r"#+ ", line)]
    used = [name for name, imports in FRAMEWORK_IMPORTS.items() if imports.search(_code(cells))]
    if len(used) == 2:   # both frameworks: each gets its own section ("In PyTorch: ...")
        for name in used:
            if not any(h == name or h.startswith(f"{name}:") for h in headings):
                problems.append(f"uses both frameworks but has no '{name}' section")
    if not code or "seed_everything(0)" not in code[0] or "use_book_style()" not in code[0]:
        problems.append("the first code cell must seed and set the book style")
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and len(_source(cell).splitlines()) > 22:
            problems.append(f"cell {index} is longer than 22 lines")
    if not any("$$" in text for text in markdown):
        problems.append("no displayed equation")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_recipe(path):
    assert check_recipe(_cells(path)) == []


def test_the_recipe_check_bites():
    cells = _cells(ROOT / "chapters" / "03_architecture.ipynb")
    assert check_recipe(cells) == []
    no_tensorflow_section = [dict(c, source=_source(c).replace("## In TensorFlow", "## Keras"))
                             for c in cells]
    assert any("'In TensorFlow'" in p for p in check_recipe(no_tensorflow_section))
    unseeded = [dict(c, source=_source(c).replace("seed_everything(0)", "")) for c in cells]
    assert any("seed" in p for p in check_recipe(unseeded))
    long_cell = cells + [{"cell_type": "code", "metadata": {}, "source": "x = 1\n" * 23}]
    assert any("longer than 22" in p for p in check_recipe(long_cell))
    no_math = [dict(c, source=_source(c).replace("$$", "")) for c in cells]
    assert "no displayed equation" in check_recipe(no_math)


def test_exercise_links_point_at_existing_files():
    for path in CHAPTERS:
        for cell in _cells(path):
            for target in re.findall(r"\]\((\.\./exercises/[^)#]+)", _source(cell)):
                assert (path.parent / target).resolve().exists(), f"{path.stem}: {target}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_tensorflow_is_imported_after_rnnlab(path):
    """Importing rnnlab first keeps TensorFlow's C++ start-up lines off the page
    (rnnlab.quiet): no chapter may import TensorFlow or Keras before rnnlab."""
    code = _code(_cells(path))
    tensorflow = FRAMEWORK_IMPORTS["In TensorFlow"].search(code)
    if tensorflow:
        rnnlab = RNNLAB_IMPORT.search(code)
        assert rnnlab and rnnlab.start() < tensorflow.start(), (
            f"{path.name} imports TensorFlow/Keras before rnnlab")


@pytest.mark.slow
def test_chapter_1_numbers_on_the_corpus():
    """Chapter 1 glues its numbers, but states in words what they do: the held-out cost
    falls to a minimum and rises after it, and from the first context length n at which most
    seen contexts are rare, the rare share grows with n and ever fewer held-out contexts were
    seen in training."""
    from rnnlab import data
    from rnnlab.ngram import CharNGram

    train_text, valid_text = data.shakespeare("train"), data.shakespeare("validation")
    vocab = data.Vocab(train_text + valid_text)
    valid_ids = vocab.encode(valid_text)
    model = CharNGram(8, len(vocab)).fit(vocab.encode(train_text))
    bits = model.nats_per_char_by_order(valid_ids) / np.log(2)
    best = int(np.argmin(bits))
    assert 0 < best < 8 and np.all(np.diff(bits[:best + 1]) < 0)     # "each character helps"
    assert np.all(np.diff(bits[best:]) > 0)                          # "then rises again"
    rare = np.array([np.mean(model.context_counts(n) <= 5) for n in range(9)])
    first = int(np.argmax(rare > 0.5))                               # "already at n = ..."
    assert rare[first] > 0.5 and np.all(np.diff(rare[first:]) > 0)  # "the share grows"
    seen = np.array([model.seen_fraction(valid_ids, order=n) for n in range(9)])
    assert np.all(np.diff(seen[first:]) < 0)                         # "more ... missing"

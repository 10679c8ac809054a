"""The shape of chapters 1-4 (the recipe every chapter follows), and the numbers they quote.

Executing the chapters is nbval's job (``pytest chapters/``); these tests read the stored
notebooks, and recompute the few corpus numbers the prose states in words.
"""
import itertools
import json
import pathlib
import re

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = {
    "01_sequences_need_memory": ("1", "ex01_rnn_forward"),
    "02_recurrent_neuron_unfolding": ("2", "ex02_unfolding"),
    "03_architecture": ("3", "ex01_rnn_forward"),
    "04_how_an_rnn_works": ("4", "ex01_rnn_forward"),
}


def _cells(stem):
    return json.loads((ROOT / "chapters" / f"{stem}.ipynb").read_text())["cells"]


def _source(cell):
    return "".join(cell["source"])


def check_recipe(cells, number, exercise):
    """Problems with a chapter's recipe, as a list of messages (empty when it is fine)."""
    problems = []
    markdown = [_source(c) for c in cells if c["cell_type"] == "markdown"]
    code = [_source(c) for c in cells if c["cell_type"] == "code"]
    if not markdown or not re.match(rf"# {number}\. \S", _source(cells[0])):
        problems.append(f"the first cell must be the title '# {number}. ...'")
    headings = [line for text in markdown for line in text.splitlines()
                if re.match(r"#+ ", line)]
    if sum(h.startswith("# ") for h in headings) != 1:
        problems.append("exactly one H1 per page")
    levels = [len(h.split()[0]) for h in headings]
    if any(b > a + 1 for a, b in itertools.pairwise(levels)):
        problems.append(f"heading levels skip: {levels}")
    names = [h.lstrip("# ").strip() for h in headings]
    if "In PyTorch" not in names or "In TensorFlow" not in names:
        problems.append("needs 'In PyTorch' and 'In TensorFlow' sections")
    elif names.index("In TensorFlow") <= names.index("In PyTorch"):
        problems.append("'In TensorFlow' must follow 'In PyTorch'")
    for needed in ("Summary", "Try this"):
        if needed not in names:
            problems.append(f"no '{needed}' section")
    if exercise not in markdown[-1]:
        problems.append(f"the last cell must name the exercise {exercise}")
    if not code or "seed_everything(0)" not in code[0] or "use_book_style()" not in code[0]:
        problems.append("the first code cell must seed and set the book style")
    for index, cell in enumerate(cells):
        text = _source(cell)
        if cell["cell_type"] == "code" and "plt.show()" in text:
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            if len(alt) < 40:
                problems.append(f"cell {index} shows a figure without alt text")
        if cell["cell_type"] == "code" and len(text.splitlines()) > 22:
            problems.append(f"cell {index} is longer than 22 lines")
    if not any("$$" in text for text in markdown):
        problems.append("no displayed equation")
    return problems


@pytest.mark.parametrize("stem", sorted(CHAPTERS))
def test_chapter_follows_the_recipe(stem):
    number, exercise = CHAPTERS[stem]
    assert check_recipe(_cells(stem), number, exercise) == []


def test_the_recipe_check_bites():
    cells = _cells("03_architecture")
    assert check_recipe(cells, "3", "ex01_rnn_forward") == []
    broken = [dict(c) for c in cells]
    figure = next(i for i, c in enumerate(broken) if "plt.show()" in _source(c))
    broken[figure] = dict(broken[figure], metadata={})
    assert any("alt text" in p for p in check_recipe(broken, "3", "ex01_rnn_forward"))
    assert any("title" in p for p in check_recipe(cells[1:], "3", "ex01_rnn_forward"))
    assert any("exercise" in p for p in check_recipe(cells, "3", "ex02_unfolding"))


def test_exercise_links_point_at_existing_files():
    for stem in CHAPTERS:
        for cell in _cells(stem):
            for target in re.findall(r"\]\((\.\./exercises/[^)]+)\)", _source(cell)):
                assert (ROOT / "chapters" / target).resolve().exists(), f"{stem}: {target}"


def test_tensorflow_is_imported_after_rnnlab():
    for stem in CHAPTERS:
        code = "\n".join(_source(c) for c in _cells(stem) if c["cell_type"] == "code")
        if "import keras" in code or "import tensorflow" in code:
            first_tf = min(i for i in (code.find("import keras"), code.find("import tensorflow"))
                           if i >= 0)
            assert 0 <= code.find("import rnnlab") < first_tf, stem


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

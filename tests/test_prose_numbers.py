"""No run-dependent number is typed by hand into a chapter's prose.

A loss, an accuracy, a time or a count that code prints goes stale with the next library, CPU
or GPU (or the full scale). Chapters glue such numbers (myst-nb's ``glue`` and the
``{glue:text}`` role) or let a cell print them. This test reads every Markdown cell of every
chapter, removes what may hold numbers legitimately (math, code, roles such as glue and
cite, link targets, MyST directive options) and fails on the shapes a measured number takes:
a decimal, a percentage, a ratio "1.7×", a duration "42 s", a thousands separator, or an
integer of four digits or more that is not a year.

Settings are written as math or code (``$H = 128$``, ```seq_length = 3```), which also makes
them searchable in the code. There is no allow-list: a number that must stay prose is written so
that it is not a measurement (a setting in code, a year, a chapter reference).
"""
import json
import re

import pytest
from course import CHAPTERS

# Whole regions that may contain numbers: removed before looking.
REMOVE = [
    re.compile(r"```.*?```", re.DOTALL),                      # fenced blocks (directives, code)
    re.compile(r"\$\$.*?\$\$", re.DOTALL),                    # display math
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL),  # amsmath environments
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),           # inline math
    re.compile(r"\{[\w:-]+\}`[^`]*`"),                  # roles: {glue:text}`...`, {cite}`...`
    re.compile(r"`[^`\n]+`"),                           # inline code
    re.compile(r"\]\([^)\s]*\)"),                       # link targets (keep the link text)
    re.compile(r"<[^>\n]+>"),                           # HTML tags and their attributes
    re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE),               # directive options (:width: 80%)
    re.compile(r"^\([\w-]+\)=\s*$", re.MULTILINE),              # MyST targets
]
# Numbers that are not measurements: chapter and section references, library versions,
# years in citations ("Bengio et al. 1994").
NOT_MEASURED = [
    re.compile(r"\b(?:[Cc]hapters?|[Ss]ections?|[Ff]igures?|[Ee]xercises?|[Ss]teps?|ex)\s*\d+(?:\.\d+)*"
               r"(?:\s*(?:,|and|or|–|-|to)\s*\d+(?:\.\d+)*)*"),
    re.compile(r"\b(?:Python|PyTorch|TensorFlow|Keras|NumPy|torch|nbgrader|Jupyter Book|MathJax|"
               r"Sphinx|myst-nb)\s+\d+(?:\.\d+)+"),
]
MEASURED = [  # the more specific shapes first, so "1.7×" is a ratio, not a decimal
    ("percentage", re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?%")),
    ("ratio", re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?[×x](?![\w])")),
    ("duration", re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|s|seconds?|minutes?|min|hours?)\b")),
    ("decimal", re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")),
    ("thousands", re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\w])")),
    # years from 1600 on pass (sunspot records start in 1700; citations)
    ("large integer", re.compile(r"(?<![\w.,])(?!(?:1[6-9]|20)\d\d(?!\d))\d{4,}(?![\w.,])")),
]

def prose_numbers(markdown: str) -> list[tuple[str, str]]:
    """The (kind, text) of every number in ``markdown`` that looks measured."""
    text = markdown
    for pattern in REMOVE + NOT_MEASURED:
        text = pattern.sub(" ", text)
    found = []
    for kind, pattern in MEASURED:
        for match in pattern.finditer(text):
            found.append((kind, match.group(0)))
            text = text[:match.start()] + " " * len(match.group(0)) + text[match.end():]
    return found


def test_the_rule_catches_measured_numbers_and_spares_settings():
    found = prose_numbers("It reaches 1.43 nats/char in 300 s, 4,600 weights, 97% and 1.7× faster.")
    assert sorted(found) == sorted([("decimal", "1.43"), ("percentage", "97%"),
                                    ("duration", "300 s"), ("thousands", "4,600"),
                                    ("ratio", "1.7×")])
    assert prose_numbers("of the 1024 strings") == [("large integer", "1024")]
    spared = ("With $H = 128$ and `seq_length = 3`, chapter 5.2 shows {glue:text}`loss:.3f` "
              "nats; see {cite:t}`bengio1994` (1994), PyTorch 2.13 and [ex03](../ex03.ipynb).\n"
              "$$h_t = 0.5\\,h_{t-1}$$\n```{figure} a.png\n:width: 80%\n```")
    assert prose_numbers(spared) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_prose_has_no_hand_typed_measured_number(path):
    problems = []
    cells = json.loads(path.read_text())["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for kind, number in prose_numbers("".join(cell["source"])):
            problems.append(f"cell {index}: {kind} {number!r}")
    assert not problems, (
        f"{path.name}: numbers typed into prose (glue them, print them, or write settings as "
        "math/code):\n" + "\n".join(problems))

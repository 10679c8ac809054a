"""Chapter code fits the page's column: no line a reader has to scroll sideways to read.

At the book's default width (a 1280 px window) the main column holds about 90 characters of
code at the 12 px code size set in _static/book.css; the browser test measures the real
widths of built pages. This test catches long lines before a build: every line of a chapter's
code cells is at most ``MAX_CODE_COLUMNS`` characters (black's default line length).
"""
import json

import pytest
from course import CHAPTERS

MAX_CODE_COLUMNS = 88


def long_lines(source: str, limit: int = MAX_CODE_COLUMNS) -> list[str]:
    return [line for line in source.splitlines() if len(line) > limit]


def test_the_rule_measures_characters_not_bytes():
    assert long_lines("x = 1\n" + "é" * 88) == []
    assert long_lines("y" * 89) == ["y" * 89]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_code_lines_fit_the_column(path):
    problems = []
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            problems += [f"cell {index}: {len(line)} chars: {line[:60]}…"
                         for line in long_lines("".join(cell["source"]))]
    assert not problems, (f"{path.name}: code lines wider than {MAX_CODE_COLUMNS} characters "
                          "(they scroll sideways on the page):\n" + "\n".join(problems))

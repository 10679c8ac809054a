"""Accessibility that can be checked without a browser: figures carry alt text, headings are in
order, and plots use the colour-blind-safe palette with more than colour to tell lines apart.
(axe-core and the rendered heading order are checked in the browser: tests/test_browser.py.)"""
import itertools
import re

import matplotlib as mpl
import nbformat
import pytest
from course import CHAPTERS

from rnnlab import figures

# Colour maps that mislead or vanish under colour blindness (rainbow-like, red-green).
BAD_COLORMAPS = re.compile(r"""['"](jet|rainbow|gist_rainbow|hsv|nipy_spectral|RdYlGn|RdGy)(_r)?['"]""")
RED = re.compile(r"""colou?r\s*=\s*['"](red|r|tab:red)['"]""")
GREEN = re.compile(r"""colou?r\s*=\s*['"](green|g|tab:green|lime)['"]""")


def _notebooks():
    return [(path.name, nbformat.read(path, as_version=4)) for path in CHAPTERS]


def _figure_cells(notebook):
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and re.search(r"\bplt\.show\(\)|\.show\(\)\s*$", cell.source)]


def alt_text_problems(notebook) -> list[str]:
    """Cells that show a figure without alt text in ``mystnb.image.alt`` (or a too-short one)."""
    problems = []
    for cell in _figure_cells(notebook):
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if len(alt.split()) < 4:
            problems.append(f"cell starting {cell.source[:40]!r}: alt text {alt!r}")
    return problems


def heading_problems(notebook) -> list[str]:
    """One H1 first (the chapter title), and no heading deeper than one below the one before."""
    levels = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        source = re.sub(r"^(```|~~~|:::).*?^\1", "", cell.source, flags=re.MULTILINE | re.DOTALL)
        levels += [len(m.group(1)) for m in re.finditer(r"^(#{1,6})\s", source, re.MULTILINE)]
    problems = []
    if not levels or levels[0] != 1 or levels.count(1) != 1:
        problems.append(f"want exactly one H1, first; headings are {levels}")
    problems += [f"h{a} -> h{b}" for a, b in itertools.pairwise(levels) if b > a + 1]
    return problems


def colour_problems(notebook) -> list[str]:
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    problems = [f"colour map {m.group(1)}" for m in BAD_COLORMAPS.finditer(code)]
    if RED.search(code) and GREEN.search(code):
        problems.append("red and green as the colours that tell lines apart")
    return problems


@pytest.mark.parametrize("check", [alt_text_problems, heading_problems, colour_problems],
                         ids=lambda check: check.__name__)
def test_chapters(check):
    found = {name: p for name, notebook in _notebooks() if (p := check(notebook))}
    assert not found, "\n".join(f"{name}: {p}" for name, p in found.items())


def test_the_checks_catch_a_bad_notebook():
    bad = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## Starts too deep\n\n#### and skips"),
        nbformat.v4.new_code_cell("plt.plot(x, color='red'); plt.plot(y, color='green')\n"
                                  "plt.imshow(m, cmap='jet')\nplt.show()"),
    ])
    bad.cells[1].metadata["mystnb"] = {"image": {"alt": "a plot"}}
    assert alt_text_problems(bad) and heading_problems(bad)
    assert len(colour_problems(bad)) == 2
    good = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 1. Title\n\n## Part\n\n### Detail\n\n## Next"),
        nbformat.v4.new_code_cell("plt.plot(x)\nplt.show()",
                                  metadata={"mystnb": {"image": {"alt": "Loss falls from 2.3 "
                                                                        "to 0.4 over 50 steps"}}}),
    ])
    assert not (alt_text_problems(good) or heading_problems(good) or colour_problems(good))


def test_book_style_is_colour_blind_safe_and_not_colour_alone():
    with mpl.rc_context():
        figures.use_book_style()
        cycle = [c.upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        outside = set(cycle) - set(figures.PALETTE)   # figures.PALETTE: Okabe & Ito (2008)
        assert not outside, f"colours outside Okabe-Ito: {outside}"
        assert mpl.rcParams["image.cmap"] in ("cividis", "viridis")
    assert figures.DIVERGING in ("PuOr", "BrBG", "RdBu", "PRGn")  # red-green-free diverging maps
    styles = [next(s) for s in [figures.line_styles()] for _ in range(4)]
    assert len({marker for _, marker, _ in styles}) == 4, "lines must differ by marker"
    assert len({dash for _, _, dash in styles}) == 4, "lines must differ by dash"
    assert {colour.upper() for colour, _, _ in styles} <= set(figures.PALETTE)


@pytest.mark.site
@pytest.mark.slow
def test_every_figure_on_the_site_has_alt_text(built_site):
    problems = []
    for page in sorted(built_site.rglob("*.html")):
        if page.relative_to(built_site).parts[0] in ("_static", "_sources", "mathjax"):
            continue
        for tag in re.findall(r"<img\b[^>]*>", page.read_text(errors="replace")):
            alt = re.search(r'\balt="([^"]*)"', tag)
            text = alt.group(1) if alt else None
            # no alt, an empty one on a content image, or the file name Sphinx puts in by default
            if text is None or re.search(r"\.(png|svg|jpe?g|gif)$", text) or (
                    "_images/" in tag and len(text.split()) < 4):
                problems.append(f"{page.relative_to(built_site)}: {tag[:120]}")
    assert not problems, "images without alt text:\n" + "\n".join(problems)

"""The built website: every page of the table of contents exists, chapters carry their
executed outputs and figures, MathJax is served from the site itself, and no page loads a
script, style, font or image from off the machine. (The browser test opens the pages.)"""
import html
import re

import course
import pytest
from course import ROOT

pytestmark = [pytest.mark.site, pytest.mark.slow]
CHAPTER_STEMS = [path.stem for path in course.CHAPTERS]
# attributes that make a browser fetch something: src=, and href= on <link>
_FETCHED = re.compile(r"<(script|img|link|source|iframe)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)


def _pages(site):
    return sorted(site.rglob("*.html"))


@pytest.mark.parametrize("edited", [None, "chapters/01_a.ipynb", "_ext/x.py"])
def test_the_site_tests_read_make_books_build_unless_a_source_is_newer(tmp_path, edited):
    """The built_site fixture reads `make book`'s build: it builds only when there is none, or
    when a source changed after it (its outputs, caches and the tests themselves are not
    sources)."""
    import os

    from conftest import site_is_current

    for name in ("chapters/01_a.ipynb", "_ext/x.py", "tests/test_x.py", "_build/html/index.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
        os.utime(tmp_path / name, (1000, 1000))
    assert not site_is_current(tmp_path / "_build", tmp_path)       # no log: no build
    (tmp_path / "_build" / "build.log").write_text("")
    os.utime(tmp_path / "_build" / "build.log", (2000, 2000))
    for name in ("tests/test_x.py", "_build/html/index.html", "_build/.jupyter_cache/x"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")                          # written after the build
    if edited:
        os.utime(tmp_path / edited, (3000, 3000))
    assert site_is_current(tmp_path / "_build", tmp_path) is (edited is None)


def test_every_chapter_page_has_outputs_and_a_figure(built_site):
    for stem in CHAPTER_STEMS:
        page = built_site / "chapters" / f"{stem}.html"
        assert page.exists(), f"{page.name} was not built"
        html = page.read_text()
        assert "cell_output" in html, f"{stem}: no executed outputs on the page"
        assert re.search(r"<img [^>]*src=\"[^\"]*_images/", html), f"{stem}: no figure"
        assert "Traceback" not in html, f"{stem}: a traceback reached the page"


def test_mathjax_is_vendored_and_used(built_site):
    assert (built_site / "mathjax" / "tex-chtml.js").exists()
    assert (built_site / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    page = (built_site / "notation.html").read_text()
    assert "mathjax/tex-chtml.js" in page
    assert not (built_site / "_static" / "mathjax").exists()


def test_no_page_loads_anything_from_off_the_machine(built_site):
    offenders = []
    for page in _pages(built_site):
        for tag, url in _FETCHED.findall(page.read_text(errors="replace")):
            if re.match(r"(https?:)?//", url):
                offenders.append(f"{page.relative_to(built_site)}: <{tag}> {url}")
    assert not offenders, "pages load from the network:\n" + "\n".join(offenders[:20])


def test_solutions_never_reach_the_site(built_site):
    assert not (built_site / "solutions").exists()
    for page in _pages(built_site):
        text = page.read_text(errors="replace")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{page.relative_to(built_site)} contains {marker}"


# Lines a notebook kernel writes to the build's console while the build executes a chapter
# (its own start-up banner): not Sphinx's, and never on a page (test below).
_KERNEL_CONSOLE = ("[IPKernelApp] WARNING", "WARNING: All log messages before absl")


def sphinx_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if "WARNING" in line and not line.startswith(_KERNEL_CONSOLE)]


def test_build_log_has_no_warning(built_site):
    assert sphinx_warnings("[IPKernelApp] WARNING | Kernel is running over TCP\n"
                           "chapters/x.ipynb:3: WARNING: undefined label") == [
        "chapters/x.ipynb:3: WARNING: undefined label"]
    warnings = sphinx_warnings((ROOT / "_build" / "build.log").read_text())
    assert not warnings, "the book build logged warnings:\n" + "\n".join(warnings[:20])


# TensorFlow's start-up lines (absl, oneDNN, CUDA stubs) teach nothing; chapters hide them
# with the `remove-stderr` tag on the cell that first imports TensorFlow or Keras.
_FRAMEWORK_NOISE = ("absl::InitializeLog", "oneDNN custom operations", "cudart_stub",
                    "Unable to register cu", "computation_placer", "TF-TRT Warning")


def test_chapter_pages_show_no_framework_log_noise(built_site):
    noisy = []
    for stem in CHAPTER_STEMS:
        html = (built_site / "chapters" / f"{stem}.html").read_text()
        noisy += [f"{stem}: {line}" for line in _FRAMEWORK_NOISE if line in html]
    assert not noisy, "framework log lines reached the pages:\n" + "\n".join(noisy)


# A training run may end with one summary line on a page; a progress bar that printed one line
# per update (tqdm's static rendering, Keras' "Epoch 3/10" and its bars) is noise.
_PROGRESS_LINE = re.compile(r"\d+%\|.*\||\d+(?:\.\d+)?\s?(?:it/s|s/it)\b|━━|^Epoch \d+/\d+|"
                            r"\d+/\d+ \[=+", re.MULTILINE)
_OUTPUT_BLOCK = re.compile(r'<div class="cell_output docutils container">(.*?)</div>\s*</div>',
                           re.DOTALL)
MAX_OUTPUT_COLUMNS = 88   # the column's width in characters of code (tests/test_page_width.py)


def printed_blocks(page_html: str) -> list[str]:
    """The text of every printed output block (stdout, stderr, plain results) on a page."""
    blocks = []
    for output in _OUTPUT_BLOCK.findall(page_html):
        for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", output, re.DOTALL):
            blocks.append(html.unescape(re.sub(r"<[^>]+>", "", pre)))
    return blocks


def progress_lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if _PROGRESS_LINE.search(line)]


def test_the_output_checks_recognise_bars_and_wide_lines():
    page = ('<div class="cell_output docutils container"><div class="output stream">'
            "<pre>Epoch 1/3\nEpoch 2/3\n 50%|█████     | 5/10 [00:01&lt;00:01, 4.2it/s]</pre>"
            "</div></div>")
    (block,) = printed_blocks(page)
    assert len(progress_lines(block)) == 3
    assert "<00:01" in block


def test_training_runs_leave_at_most_one_progress_line(built_site):
    noisy = []
    for stem in CHAPTER_STEMS:
        for block in printed_blocks((built_site / "chapters" / f"{stem}.html").read_text()):
            bars = progress_lines(block)
            if len(bars) > 1:
                noisy.append(f"{stem}: {len(bars)} progress lines in one output, e.g. {bars[:2]}")
    assert not noisy, "progress bars printed line by line on the pages:\n" + "\n".join(noisy)


def test_printed_lines_fit_the_column(built_site):
    wide = []
    for stem in CHAPTER_STEMS:
        for block in printed_blocks((built_site / "chapters" / f"{stem}.html").read_text()):
            wide += [f"{stem}: {len(line)} chars: {line[:70]}…" for line in block.splitlines()
                     if len(line) > MAX_OUTPUT_COLUMNS]
    assert not wide, "printed lines wider than the column:\n" + "\n".join(wide[:30])

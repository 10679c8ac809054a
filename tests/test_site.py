"""The built website: every page of the table of contents exists, chapters carry their
executed outputs and figures, MathJax is served from the site itself, and no page loads a
script, style, font or image from off the machine. (The browser test opens the pages.)"""
import pathlib
import re

import pytest

pytestmark = [pytest.mark.site, pytest.mark.slow]
ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
# attributes that make a browser fetch something: src=, and href= on <link>
_FETCHED = re.compile(r"<(script|img|link|source|iframe)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)


def _pages(site):
    return sorted(site.rglob("*.html"))


def test_every_chapter_page_has_outputs_and_a_figure(built_site):
    for stem in CHAPTERS:
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


def test_build_log_has_no_warning(built_site):
    log = (ROOT / "_build" / "build.log").read_text()
    assert "WARNING" not in log, "the book build logged warnings"


# TensorFlow's start-up lines (absl, oneDNN, CUDA stubs) teach nothing; chapters hide them
# with the `remove-stderr` tag on the cell that first imports TensorFlow or Keras.
_FRAMEWORK_NOISE = ("absl::InitializeLog", "oneDNN custom operations", "cudart_stub",
                    "Unable to register cu", "computation_placer", "TF-TRT Warning")


def test_chapter_pages_show_no_framework_log_noise(built_site):
    noisy = []
    for stem in CHAPTERS:
        html = (built_site / "chapters" / f"{stem}.html").read_text()
        noisy += [f"{stem}: {line}" for line in _FRAMEWORK_NOISE if line in html]
    assert not noisy, "framework log lines reached the pages:\n" + "\n".join(noisy)

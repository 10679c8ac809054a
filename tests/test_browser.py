"""The website as readers see it: every built page opened in headless Chromium.

Each page is visited once (served on 127.0.0.1) and checked for: console errors, images that
did not load, formulas MathJax did not typeset (raw TeX left on the page), internal links that
do not resolve, requests that leave the machine, headings out of order, and axe-core's serious
or critical accessibility violations (axe.min.js, axe-core 4.14.1 from npm, MPL-2.0, is
vendored beside this file). Every chapter's full-page screenshot is saved under
artifacts/screenshots/. The search page must find 'backpropagation'.

Needs Debian's chromium and chromium-driver (`make test` installs them when it runs as root
with apt). Without them the tests are skipped, loudly; under CI=true that is a failure.
"""
import concurrent.futures
import itertools
import json
import os
import pathlib
import queue
import re
import time
import urllib.parse
import warnings

import pytest
from course import ROOT

from coursetools import headless

pytestmark = [pytest.mark.browser, pytest.mark.site, pytest.mark.slow]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE = pathlib.Path(__file__).with_name("axe.min.js")
# Chromium instances that share the pages out (axe-core and rendering keep a core busy each).
BROWSERS = max(1, min(2, os.cpu_count() or 1))
# Built folders that are not pages: theme assets, notebook sources, the vendored MathJax.
NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "mathjax"}

# Text MathJax should have replaced. Code, pre and the typeset math itself are skipped.
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac|\\sum_|\$[^$\n]{1,80}\$")
COLLECT_PAGE = r"""
const skip = 'script,style,pre,code,kbd,samp,textarea,mjx-container,.highlight,noscript';
const main = document.querySelector('main') || document.body;
const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
const text = [];
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (!node.parentElement.closest(skip)) text.push(node.textContent);
}
const article = document.querySelector('article') || main;
const describe = (e) => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\s+/).slice(0, 2).join('.') : '') +
    ': ' + (e.textContent || '').trim().slice(0, 60);
// Elements wider than the main column: content wider than its own box (it scrolls, or it
// spills over) or a box that sticks out of the column. Only the outermost of nested
// offenders is reported. Code input cells count too: a reader should not scroll code.
const column = article.getBoundingClientRect();
const tooWide = (e) => {
  if (e.closest('mjx-assistive-mml')) return false;   // MathJax's off-screen copy for readers
  const box = e.getBoundingClientRect();
  if (box.width === 0) return false;
  return e.scrollWidth > e.clientWidth + 2 || box.right > column.right + 2;
};
const blocks = 'pre, table, img, figure, mjx-container[display="true"], div.math, ' +
    'div.cell_output, div.pst-scrollable-table-container, p, li';
const wide = Array.from(article.querySelectorAll(blocks)).filter(tooWide)
    .filter((e, _, all) => !all.some((other) => other !== e && other.contains(e)));
return {
  text: text.join(' '),
  untypeset: Array.from(document.querySelectorAll('.math'))
      .filter((m) => !m.querySelector('mjx-container')).map((m) => m.textContent.slice(0, 80)),
  tex_errors: Array.from(document.querySelectorAll('mjx-merror'))
      .map((m) => m.getAttribute('data-mjx-error') || m.textContent.slice(0, 80)),
  links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.href),
  images: Array.from(article.querySelectorAll('img')).map((i) => ({
      src: i.getAttribute('src'), alt: (i.getAttribute('alt') || '').trim(),
      loaded: i.complete && i.naturalWidth > 0})),
  wide: wide.map(describe).slice(0, 8),
  page_scrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth + 2,
  headings: Array.from(article.querySelectorAll('h1,h2,h3,h4,h5,h6'))
      .filter((h) => h.offsetParent !== null || h.getClientRects().length)
      .map((h) => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)]),
};
"""
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  (r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}))),
  (e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def _pages(site: pathlib.Path) -> list[pathlib.Path]:
    pages = []
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site)
        if relative.parts[0] in NOT_PAGES:
            continue
        if relative.name == "index.html" and len(relative.parts) == 1 and _is_redirect(page):
            continue  # the one-line redirect to the root page, which is visited itself
        pages.append(relative)
    return pages


def _is_redirect(page: pathlib.Path) -> bool:
    text = page.read_text(errors="replace")
    return len(text) < 1000 and 'http-equiv="Refresh"' in text


def require_browser():
    """(browser, chromedriver); skips the test loudly without them, fails it under CI=true."""
    programs = headless.find_programs()
    if programs is None:
        reason = ("NO BROWSER: chromium and chromedriver are not installed, so the website was "
                  "NOT tested in a browser. Run `make browser` as root (apt-get install chromium "
                  "chromium-driver).")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " Under CI=true a missing browser is a failure.")
        warnings.warn(reason, stacklevel=2)
        print("\n" + "!" * 78 + "\n" + reason + "\n" + "!" * 78)
        pytest.skip(reason)
    return programs


@pytest.fixture(scope="module")
def browser_programs():
    return require_browser()


def test_a_missing_browser_skips_here_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(headless, "find_programs", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="NO BROWSER"):
        require_browser()
    monkeypatch.delenv("CI")
    with pytest.warns(UserWarning, match="NO BROWSER"), \
            pytest.raises(pytest.skip.Exception, match="NO BROWSER"):
        require_browser()


def _ids(page: pathlib.Path, cache: dict) -> set[str]:
    if page not in cache:
        text = page.read_text(errors="replace")
        cache[page] = set(re.findall(r"\b(?:id|name)=\"([^\"]+)\"", text))
    return cache[page]


def _check_links(site, base, links, ids_cache) -> list[str]:
    problems = []
    for href in sorted(set(links)):
        if not href.startswith(base):
            continue  # external (GitHub, Binder, Colab buttons): not followed
        parsed = urllib.parse.urlsplit(href)
        path = urllib.parse.unquote(parsed.path)
        target = site / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"missing {path}")
            continue
        fragment = urllib.parse.unquote(parsed.fragment)
        if fragment and target.suffix == ".html" and fragment not in _ids(target, ids_cache):
            problems.append(f"no #{fragment} in {path}")
    return problems


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _off_machine(urls, base) -> list[str]:
    # chrome:// is the browser's own start page, served from inside the program
    allowed = ("data:", "blob:", "about:", "chrome:", "chrome-untrusted:", base)
    return sorted({url for url in urls if not url.startswith(allowed)})


def _heading_problems(headings) -> list[str]:
    levels = [level for level, _ in headings]
    problems = []
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 headings (want exactly one)")
    if levels and levels[0] != 1:
        problems.append(f"first heading is h{levels[0]}")
    for (previous, _), (level, text) in itertools.pairwise(headings):
        if level > previous + 1:
            problems.append(f"h{previous} -> h{level} at '{text}'")
    return problems


def _figure_problems(images) -> list[str]:
    """Figures that did not load, or that have no alt text worth the name."""
    problems = []
    for image in images:
        if not image["loaded"]:
            problems.append(f"{image['src']}: did not load")
        if len(image["alt"].split()) < 3:
            problems.append(f"{image['src']}: alt text {image['alt']!r}")
    return problems


def _is_chapter(page: pathlib.Path) -> bool:
    return page.parts[0] == "chapters"


def visit_pages(site: pathlib.Path, pages, screenshots: pathlib.Path | None = None,
                width_checked=_is_chapter, browsers: int = 1) -> dict:
    """Open each page once; returns {page: {check: [problems]}}, in the order of ``pages``.

    The pages are shared out among ``browsers`` Chromium instances run side by side (each
    page is opened and checked exactly as it would be in one browser: its own console and
    network logs): each takes the next page when it is done with one, the biggest pages
    first, so that neither waits for the other at the end. Widths are checked on the pages
    ``width_checked`` selects: the chapters, whose column must never scroll sideways
    (reference tables on other pages may)."""
    pages = list(pages)
    todo = queue.SimpleQueue()
    for page in sorted(pages, key=lambda page: (site / page).stat().st_size, reverse=True):
        todo.put(page)

    def next_pages():
        while True:
            try:
                yield todo.get_nowait()
            except queue.Empty:
                return

    browsers = max(1, min(browsers, len(pages)))
    reports = {}
    with headless.serve(site) as base, \
            concurrent.futures.ThreadPoolExecutor(browsers) as pool:
        for part in pool.map(lambda _: _visit(site, base, next_pages(), screenshots,
                                              width_checked), range(browsers)):
            reports.update(part)
    return {page.as_posix(): reports[page.as_posix()] for page in pages}


def _visit(site, base, pages, screenshots, width_checked) -> dict:
    """One browser's share of :func:`visit_pages`."""
    axe_source = AXE.read_text()
    reports, ids_cache = {}, {}
    with headless.chromium() as driver:
        driver.get_log("performance")  # the start page's own entries
        for page in pages:
            state = headless.open_page(driver, base + page.as_posix())
            collected = driver.execute_script(COLLECT_PAGE)
            driver.execute_script(axe_source)
            violations = driver.execute_async_script(RUN_AXE)
            if screenshots is not None and page.parts[0] == "chapters":
                (screenshots / f"{page.stem}.png").write_bytes(headless.full_page_png(driver))
            console = [f"{e['level']}: {e['message']}" for e in driver.get_log("browser")]
            reports[page.as_posix()] = {
                "mathjax": state["mathjax"],
                "broken_images": state["broken_images"],
                "console_errors": [line for line in console if line.startswith("SEVERE")],
                "raw_tex": sorted(set(RAW_TEX.findall(collected["text"])))[:5],
                "untypeset": collected["untypeset"][:5],
                "tex_errors": collected["tex_errors"][:5],
                "bad_links": _check_links(site, base, collected["links"], ids_cache),
                "off_machine": _off_machine(_requests(driver), base),
                "headings": _heading_problems(collected["headings"]),
                "axe": [v for v in violations if v["impact"] in ("serious", "critical")],
                "figures": _figure_problems(collected["images"]),
                "sideways": ((["the page itself scrolls sideways"] if collected["page_scrolls"]
                              else []) + collected["wide"]) if width_checked(page) else [],
            }
    return reports


@pytest.fixture(scope="module")
def visits(built_site, browser_programs):
    """Every page of the built site, opened once; chapters' screenshots saved."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    start = time.perf_counter()
    reports = visit_pages(built_site, _pages(built_site), SCREENSHOTS, browsers=BROWSERS)
    print(f"\nbrowser: checked {len(reports)} pages in {time.perf_counter() - start:.0f} s; "
          f"screenshots in {SCREENSHOTS.relative_to(ROOT)}")
    return reports


def _failures(visits, key) -> str:
    bad = {page: report[key] for page, report in visits.items() if report[key]}
    return "\n".join(f"{page}: {problems}" for page, problems in bad.items())


def test_every_page_was_opened(visits, built_site):
    """Proves: every page of the built site was opened (and so checked by the tests below,
    which read these visits), and every chapter has a full-page screenshot in
    artifacts/screenshots/, kept for a reviewer's eyes. The pages are shared out among
    BROWSERS Chromium instances side by side: each page is still opened once, on its own, with
    every check."""
    assert len(visits) == len(_pages(built_site)) > 0
    for stem in (p.stem for p in (ROOT / "chapters").glob("*.ipynb")):
        assert f"chapters/{stem}.html" in visits, f"chapter {stem} was not opened"
        assert (SCREENSHOTS / f"{stem}.png").stat().st_size > 10_000, f"{stem}: no screenshot"


# Each check, and what its failure message calls the problems it found.
CHECKS = {
    "console_errors": "console errors",
    "broken_images": "images that did not load",
    "bad_links": "internal links that do not resolve",
    "off_machine": "requests to other hosts",
    "headings": "headings out of order",
    "axe": "axe-core serious/critical violations",
    "figures": "figures that did not load or lack alt text",
    "sideways": "elements wider than the main column at 1280 px (they scroll sideways)",
}


@pytest.mark.parametrize("check", CHECKS)
def test_every_page_passes(visits, check):
    failures = _failures(visits, check)
    assert not failures, f"{CHECKS[check]}:\n{failures}"


def test_every_formula_is_typeset(visits):
    problems = []
    for page, report in visits.items():
        if report["mathjax"] not in ("typeset", "no mathjax"):
            problems.append(f"{page}: MathJax {report['mathjax']}")
        for key in ("raw_tex", "untypeset", "tex_errors"):
            if report[key]:
                problems.append(f"{page}: {key} {report[key]}")
    assert not problems, "formulas not typeset:\n" + "\n".join(problems)


def test_math_pages_really_use_mathjax(visits):
    """The notation page is all formulas: if MathJax silently did nothing, this catches it."""
    assert visits["notation.html"]["mathjax"] == "typeset"


def test_search_finds_backpropagation(built_site, browser_programs):
    with headless.serve(built_site) as base, headless.chromium() as driver:
        driver.get(base + "search.html?q=backpropagation")
        deadline = time.monotonic() + 30
        summary = ""
        while time.monotonic() < deadline and not summary:
            summary = driver.execute_script(
                "const s = document.querySelector('#search-results .search-summary');"
                "return s ? s.textContent : '';")
            time.sleep(0.2)
        hits = driver.execute_script(
            "return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
            ".map((a) => a.getAttribute('href'));")
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert summary, "the search never finished"
    assert not errors, f"console errors on the search page: {errors}"
    assert hits, f"searching 'backpropagation' found nothing ({summary.strip()})"


# One defect per check, added to a copy of a real page: every check must report its own.
BROKEN = """
<h4>A heading that skips two levels</h4>
<img src="_images/no-such-figure.png">
<img alt="a figure from another host" src="http://figures.invalid/plot.png">
<a href="no-such-page.html">a dead link</a> <a href="notation.html#no-such-anchor">a dead anchor</a>
<script>const BROKEN_TWICE = 1;</script><script>const BROKEN_TWICE = 2;</script>
"""
BROKEN += ('<pre class="broken-wide">' + "a printed line far wider than the column " * 8
           + "</pre>\n")


def test_the_checks_catch_a_broken_page(built_site, browser_programs, tmp_path):
    for name in ("_static", "_images", "mathjax"):
        if (built_site / name).exists():
            (tmp_path / name).symlink_to(built_site / name)
    page = (built_site / "notation.html").read_text()
    assert page.count("</article>") == 1
    page = page.replace("</article>", BROKEN + "</article>")
    # and MathJax missing, so the page's formulas stay raw TeX
    page, removed = re.subn(r'<script[^>]*src="[^"]*tex-chtml\.js[^"]*"[^>]*></script>', "", page)
    assert removed == 1
    (tmp_path / "notation.html").write_text(page)
    report = visit_pages(tmp_path, [pathlib.Path("notation.html")],
                         width_checked=lambda page: True)["notation.html"]
    assert any("BROKEN_TWICE" in line for line in report["console_errors"]), report
    assert any("no-such-figure" in src for src in report["broken_images"]), report
    assert report["raw_tex"] and report["untypeset"], report
    assert any("no-such-page.html" in p for p in report["bad_links"]), report
    assert any("no-such-anchor" in p for p in report["bad_links"]), report
    assert report["off_machine"] == ["http://figures.invalid/plot.png"], report
    assert any("-> h4 at 'A heading that skips" in p for p in report["headings"]), report
    assert any(v["id"] == "image-alt" for v in report["axe"]), report
    assert any("no-such-figure.png: did not load" in p for p in report["figures"]), report
    assert any("no-such-figure.png: alt text ''" in p for p in report["figures"]), report
    assert any("broken-wide" in p for p in report["sideways"]), report


def test_pages_work_opened_as_files(built_site, browser_programs):
    """The zip download (make site-zip) is read from disk: file:// pages need no server.

    A sample: the landing page, the notation page (all formulas), the first chapter and the
    first exercise; the full check of every page runs over http above. (The search page works
    too, but a browser will not fetch result snippets over file://.)"""
    pages = [pathlib.Path("intro.html"), pathlib.Path("notation.html")]
    for folder in ("chapters", "exercises"):
        pages += [p for p in _pages(built_site) if p.parts[0] == folder][:1]
    problems = []
    with headless.chromium() as driver:
        for page in pages:
            state = headless.open_page(driver, (built_site / page).as_uri())
            errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            if errors or state["broken_images"] or state["mathjax"] not in ("typeset",
                                                                             "no mathjax"):
                problems.append(f"{page}: {state} {errors[:3]}")
    assert not problems, "pages that fail when opened from disk:\n" + "\n".join(problems)

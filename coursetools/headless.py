"""Headless Chromium for the website's tests and the book's PDF, with nothing downloaded.

It drives Debian's ``chromium`` with its ``chromedriver`` through Selenium (never Selenium
Manager, which would download a browser), serves a folder on 127.0.0.1, and prints a page to
PDF. Override the programs with ``CHROME_BIN`` and ``CHROMEDRIVER`` (e.g. Google Chrome on a
GitHub runner).

    python coursetools/headless.py pdf _build/singlehtml/index.html artifacts/rnn-course.pdf
"""
import base64
import contextlib
import functools
import http.server
import os
import pathlib
import shutil
import sys
import tempfile
import threading

# Flags for a closed network: without the background-networking ones Chromium keeps trying to
# reach Google's hosts at start-up, which the browser test would (rightly) count as requests.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-color-profile=srgb",
         "--lang=en-US",
         # Names other than localhost resolve to nothing, so even a page that asks for a remote
         # file sends nothing off the machine (the browser test still sees the request).
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
         "--no-proxy-server")
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Resolves once MathJax has typeset the page; at once on a page without MathJax.
WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!document.querySelector('script[src*="mathjax"]')) { done('no mathjax'); return; }
const start = Date.now();
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done('typeset'), (e) => done('error: ' + e));
  } else if (Date.now() - start > 20000) { done('MathJax did not start'); }
  else { setTimeout(poll, 50); }
})();
"""

# Resolves when every image has loaded or failed; returns the ones that failed.
WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach((img) => { if (img.loading === 'lazy') img.loading = 'eager'; });
Promise.all(images.map((img) => img.complete ? null :
    new Promise((ok) => { img.addEventListener('load', ok); img.addEventListener('error', ok);
                          setTimeout(ok, 10000); })))
  .then(() => done(images.filter((img) => !(img.complete && img.naturalWidth > 0))
                         .map((img) => img.getAttribute('src'))));
"""


def find_programs() -> tuple[str, str] | None:
    """(browser, chromedriver) paths, or None when either is missing."""
    browser = os.environ.get("CHROME_BIN") or next(
        (path for name in _BROWSERS if (path := shutil.which(name))), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if browser and driver and os.access(browser, os.X_OK) and os.access(driver, os.X_OK):
        return browser, driver
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(directory: pathlib.Path):
    """Serve ``directory`` on 127.0.0.1 on a free port; yields the base URL (ends with '/')."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900):
    """A headless Chromium WebDriver with console and network (performance) logs on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    programs = find_programs()
    if programs is None:
        raise RuntimeError("no chromium/chromedriver found (apt-get install chromium chromium-driver)")
    browser, driver_path = programs
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, url: str) -> dict:
    """Load ``url`` and wait for MathJax and images; returns what the waits reported."""
    driver.get(url)
    mathjax = driver.execute_async_script(WAIT_FOR_MATHJAX)
    broken_images = driver.execute_async_script(WAIT_FOR_IMAGES)
    return {"mathjax": mathjax, "broken_images": broken_images}


def full_page_png(driver, max_height: int = 16000) -> bytes:
    """A screenshot of the whole page (not only the window), cut at ``max_height`` pixels.

    The window is made as tall as the page first, so sticky sidebars and headers are drawn
    where a reader sees them rather than smeared over a capture beyond the viewport."""
    width = driver.execute_script("return window.innerWidth")
    height = min(driver.execute_script("return document.documentElement.scrollHeight"),
                 max_height)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                      {"format": "png", "optimizeForSpeed": True})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return base64.b64decode(shot["data"])


def print_pdf(html: pathlib.Path, pdf: pathlib.Path) -> int:
    """Print a built page (e.g. the single-page book) to ``pdf`` after MathJax has typeset it.

    Returns the PDF's size in bytes."""
    html = pathlib.Path(html).resolve()
    with serve(html.parent) as base, chromium() as driver:
        state = open_page(driver, base + html.name)
        if state["broken_images"]:
            raise RuntimeError(f"images did not load: {state['broken_images'][:5]}")
        if state["mathjax"] not in ("typeset", "no mathjax"):
            raise RuntimeError(f"MathJax: {state['mathjax']}")
        result = driver.execute_cdp_cmd("Page.printToPDF", {
            "printBackground": True, "preferCSSPageSize": False, "paperWidth": 8.27,
            "paperHeight": 11.69, "marginTop": 0.5, "marginBottom": 0.5, "marginLeft": 0.5,
            "marginRight": 0.5, "displayHeaderFooter": True,
            "headerTemplate": "<span></span>",
            "footerTemplate": ('<div style="font-size:8px;width:100%;text-align:center">'
                               '<span class="pageNumber"></span> / <span class="totalPages">'
                               '</span></div>')})
    data = base64.b64decode(result["data"])
    pdf = pathlib.Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(data)
    return len(data)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "pdf":
        sys.exit("usage: python coursetools/headless.py pdf BUILT_PAGE.html OUT.pdf")
    size = print_pdf(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]))
    print(f"wrote {sys.argv[3]} ({size / 1e6:.1f} MB)")

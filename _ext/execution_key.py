"""A Sphinx extension of the book: chapters execute as coursetools.execute executes them.

The execution key, the chapters' environment and the cell timeout live in
``coursetools/execute.py``; this extension hands them to myst-nb: the executed chapters are kept
under ``_build/.jupyter_cache/<key>/`` (``nb_execution_cache_path``, a setting Sphinx compares
between builds, so a new key also marks every page as outdated and the pages are rebuilt from
the new executions), each cell may take ``CELL_TIMEOUT`` seconds, and the kernels myst-nb starts
inherit the chapters' environment.
"""
import pathlib

from coursetools import execute


def _execute_as_the_course_does(app, config):
    execute.use_chapter_environment()
    config.nb_execution_cache_path = str(execute.cache_path(pathlib.Path(app.outdir).parent,
                                                            pathlib.Path(app.srcdir)))
    config.nb_execution_timeout = execute.CELL_TIMEOUT


def setup(app):
    app.connect("config-inited", _execute_as_the_course_does)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Moved to :mod:`coursetools.ownwork` (grading machinery, not the readers' library).

This alias lives only until every exercise's hidden tests import ``coursetools.ownwork``.
"""
from coursetools.ownwork import assert_own_work, find_library_use, is_forbidden, run_blocked  # noqa: F401

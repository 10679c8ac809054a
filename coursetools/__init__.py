"""coursetools: the course's own machinery, kept apart from the readers' library ``rnnlab``.

``grading`` runs nbgrader's autograding inside a sandbox and reports the results;
``headless`` drives headless Chromium for the browser tests and ``make pdf``. Readers and
students never import this package, and the grading sandbox does not mount it.
"""

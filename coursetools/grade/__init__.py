"""`make grade`: grade every gradable submission of a course, in parallel, and say what happened.

    python -m coursetools.grade [--course DIR] [--jobs N] [--force]

1. **Intake** (:mod:`.intake`). Every folder ``submitted/<student>/<assignment>/`` is read
   without following anything: only the assignment's notebooks and a valid ``timestamp.txt``
   are kept, to be staged in a private folder; nbgrader never reads ``submitted/`` itself.
2. **Autograde** (:mod:`.workers`). ``--jobs`` nbgrader children at once, each grading ONE
   submission taken from a queue, all on the same gradebook; every kernel runs in the sealed
   sandbox (:mod:`coursetools.sandbox`). A submission that runs to its time limit holds one
   worker, not the class. A count and an ETA are printed; the full log goes to
   ``grading.log``.
3. **Feedback and grades.** ``nbgrader generate_feedback`` writes the pages (through the
   course's template, :mod:`coursetools.grading`); ``grades.csv`` comes from an nbgrader
   export plugin (:mod:`.export`) with a ``status`` column: graded, timed out, kernel died,
   not submitted, ungradable (:class:`.submission.Status`).
4. **Summary** (:mod:`.results`). A table student x assignment, the problems found, and an
   exit status that is not 0 when a submission could not be graded.

The results do not depend on ``--jobs``: each submission is graded alone, its kernel uses a
fixed number of threads, and the gradebook rows of two submissions never overlap.
"""
from coursetools.grade.intake import fresh
from coursetools.grade.submission import SCORED, Status, Submission

__all__ = ["SCORED", "Status", "Submission", "fresh"]

"""nbgrader settings of the course (read by every `nbgrader` command run in this folder).

solutions/ is the source (with solutions and hidden tests); exercises/ is the release that
students get; submitted/, autograded/, feedback/ and gradebook.db stay out of git.
See instructors/grading.md for what each setting guarantees.
"""
import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
                                    AssignLatePenalties,
                                    CheckCellMetadata,
                                    ClearOutput,
                                    DeduplicateIds,
                                    GetGrades,
                                    IgnorePattern,
                                    LimitOutput,
                                    OverwriteKernelspec,
                                    SaveAutoGrades,
)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from coursetools.grading import HideHiddenTests, RestoreDeletedCells, SandboxedExecute

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".pytest_cache"]

# Per-cell execution timeout. nbgrader 0.9.6 reads it from Execute.timeout (its own trait, not
# ExecutePreprocessor.timeout as some docs say); tests/test_grading.py proves a loop is cut.
# No retries: nbgrader would run a timed-out notebook again, doubling the cost.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0
# After an interrupt, wait for the kernel's last outputs instead of failing the notebook.
c.Execute.iopub_timeout = 15
c.Execute.raise_on_iopub_timeout = False

# Autograde runs every kernel in a bubblewrap sandbox (coursetools/grading.py): it cannot see this
# folder, write outside its own, use the network, or take more than memory_limit_mb.
c.Autograde.autograde_preprocessors = [SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
c.SandboxedKernelManager.hidden_paths = [HERE]
c.SandboxedKernelManager.memory_limit_mb = 3072

# Edited test cells are overwritten from the gradebook; deleted ones are put back and run.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      RestoreDeletedCells, CheckCellMetadata]
c.OverwriteCells.add_missing_cells = True

# Feedback shows every test's outcome and points, but never the code of hidden tests.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Releases: hidden tests and solutions are stripped; test cells are locked (checksummed).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True

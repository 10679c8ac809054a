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
from coursetools.grade.export import CourseCsvExport
from coursetools.grading import (
                                 FEEDBACK_TEMPLATE,
                                 FEEDBACK_TEMPLATE_DIRS,
                                 FEEDBACK_TEMPLATE_PATHS,
                                 FeedbackExporter,
                                 ForgetBrokenCellMetadata,
                                 HideHiddenTests,
                                 MarkUngraded,
                                 RestoreDeletedCells,
                                 SandboxedExecute,
)
from coursetools.sandbox import LIMITS  # the limits of a graded notebook, in one place

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
c.Execute.timeout = LIMITS.cell_timeout_s
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0
# After an interrupt, wait for the kernel's last outputs instead of failing the notebook.
c.Execute.iopub_timeout = 15
c.Execute.raise_on_iopub_timeout = False
# A graded kernel is killed when its notebook is done rather than asked to shut down: a
# PyTorch kernel took 2.5 s to exit politely, and nothing of it is kept.
c.Execute.shutdown_kernel = "immediate"

# Test cells never run in the student's kernel: the source notebook's test cells (public and
# hidden parts) run in the grader's trusted interpreter, where the answers are proxies that
# fetch data from the kernel (coursetools/verdicts.py); the outcome is the test cell's output.
c.SandboxedExecute.source_root = os.path.join(HERE, "solutions")

# A whole notebook gets notebook_timeout seconds (kernel start included): the cell running at
# the limit is interrupted, the cells after it are not run and score 0.
c.SandboxedExecute.notebook_timeout = LIMITS.notebook_timeout_s

# Autograde runs every kernel in the sealed sandbox (coursetools/sandbox.py): a file system that
# holds only the Python environment and rnnlab (read-only) and a scratch folder; an
# unprivileged user; no network; limits on memory, processes, threads and file size, whose
# values are coursetools.sandbox.LIMITS (set c.SandboxedKernelManager.memory_limit_mb,
# total_memory_mb, process_limit, scratch_mb or threads here to change one for this course).
c.Autograde.autograde_preprocessors = [SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]

# Edited test cells are overwritten from the gradebook; deleted ones are put back and run.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, ForgetBrokenCellMetadata,
                                      OverwriteKernelspec, RestoreDeletedCells, CheckCellMetadata]
c.OverwriteCells.add_missing_cells = True

# Feedback shows every test's outcome and points, but never the code of hidden tests; a written
# answer that nobody graded yet says "not graded yet" instead of 0 (the course's template,
# coursetools/templates/course_feedback, decides it cell by cell).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, MarkUngraded,
                                    CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = FeedbackExporter
c.FeedbackExporter.template_name = FEEDBACK_TEMPLATE
c.FeedbackExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS
c.FeedbackExporter.extra_template_paths = FEEDBACK_TEMPLATE_PATHS

# `nbgrader export` writes the grades.csv of `make grade` (nbgrader's columns, then status,
# detail, points_to_grade_by_hand, suspicious), from the statuses of make grade's last run.
c.ExportApp.plugin_class = CourseCsvExport

# Releases: hidden tests and solutions are stripped; test cells are locked (checksummed).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True

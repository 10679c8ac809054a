"""``grades.csv``: nbgrader's CSV columns and four of the course's, through nbgrader's own
extension point for exports (an :class:`~nbgrader.plugins.ExportPlugin`).

`make grade` writes what the gradebook cannot hold (the status of every student x assignment,
why, what the static scan found) into ``grading-status.json`` and exports with this plugin;
``nbgrader export`` in the course folder uses it too (``c.ExportApp.plugin_class`` in
``nbgrader_config.py``) and writes the same file from the last run's statuses.
"""
import csv
import json
import pathlib

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from coursetools.grade.submission import SCORED, Status, Submission

STATUSES = "grading-status.json"
FIELDS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
          "email", "raw_score", "late_submission_penalty", "score", "max_score", "status",
          "detail", "points_to_grade_by_hand", "suspicious"]


def write_statuses(course: pathlib.Path, results: dict[tuple[str, str], Submission]):
    """What `make grade` decided about every student x assignment, for the exporter."""
    statuses = {f"{sub.student}/{sub.assignment}": {
        "status": str(sub.status), "detail": sub.detail, "suspicious": sub.suspicious}
        for sub in results.values()}
    (course / STATUSES).write_text(json.dumps(statuses, indent=1, sort_keys=True))


class CourseCsvExport(ExportPlugin):
    """One row per student and assignment, with a ``status`` (graded, timed out, kernel
    died, not submitted, ungradable), its ``detail``, the points of written answers nobody
    graded yet and what the static scan found (``suspicious``)."""

    statuses = Unicode(STATUSES, help="the statuses `make grade` wrote (a path, relative to "
                       "the folder nbgrader runs in)").tag(config=True)

    def read_statuses(self) -> dict[str, dict]:
        try:
            return json.loads(pathlib.Path(self.statuses).read_text())
        except FileNotFoundError:
            self.log.warning("no %s: run make grade first; statuses are taken from the "
                             "gradebook alone", self.statuses)
            return {}

    def rows(self, gradebook: Gradebook) -> list[dict]:
        statuses = self.read_statuses()
        people = {s.id: s for s in gradebook.students}
        students = sorted({key.split("/")[0] for key in statuses} or set(people))
        if self.student:
            students = [s for s in students if s in {str(x) for x in self.student}]
        rows = []
        for assignment in gradebook.assignments:
            if self.assignment and assignment.name not in {str(x) for x in self.assignment}:
                continue
            for student_id in students:
                known = statuses.get(f"{student_id}/{assignment.name}")
                if known is None:        # not in make grade's last run
                    submitted = any(s.student.id == student_id for s in assignment.submissions)
                    known = {"status": Status.GRADED if submitted else Status.NOT_SUBMITTED,
                             "detail": "", "suspicious": []}
                row = dict.fromkeys(FIELDS, "")
                row.update(assignment=assignment.name, duedate=assignment.duedate or "",
                           student_id=student_id, max_score=assignment.max_score,
                           status=known["status"], detail=known["detail"],
                           suspicious="; ".join(known["suspicious"]))
                student = people.get(student_id)
                if student is not None:
                    row.update(last_name=student.last_name or "",
                               first_name=student.first_name or "", email=student.email or "")
                if known["status"] in SCORED:
                    row.update(self._scores(gradebook, assignment.name, student_id))
                rows.append(row)
        return rows

    @staticmethod
    def _scores(gradebook: Gradebook, assignment: str, student_id: str) -> dict:
        submission = gradebook.find_submission(assignment, student_id)
        penalty = submission.late_submission_penalty or 0.0
        by_hand = sum(g.max_score for nb in submission.notebooks for g in nb.grades
                      if g.manual_score is None and g.auto_score is None)
        return {"timestamp": submission.timestamp or "", "raw_score": submission.score,
                "late_submission_penalty": penalty,
                "score": max(0.0, submission.score - penalty), "points_to_grade_by_hand": by_hand}

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        self.log.info("Exporting grades and statuses to %s", dest)
        with open(dest, "w", newline="") as handle:
            writer = csv.DictWriter(handle, FIELDS)
            writer.writeheader()
            writer.writerows(self.rows(gradebook))

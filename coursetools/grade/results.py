"""Results: the final status of every submission, and the table and summary `make grade`
prints (read back from ``grades.csv``, so the table shows what the file says)."""
import csv
import io
import os
import pathlib
import stat

import nbformat

from coursetools.grade.intake import autograded, kind, written_since
from coursetools.grade.submission import DETAIL, SCORED, Status, Submission
from coursetools.grading import notebook_status


def settle(course: pathlib.Path, results: dict[tuple[str, str], Submission],
           failures: dict[tuple[str, str], str], assignments: dict[str, list[str]]):
    """Final status of every submission (from intake, the autograded notebook, this run)."""
    for sub in results.values():
        if sub.status not in (Status.TO_GRADE, Status.GRADED):
            continue
        if sub.key in failures or not written_since(course, sub, 0):
            sub.fail(failures.get(sub.key, "nbgrader did not grade it (see grading.log)"))
            continue
        statuses = {Status(notebook_status(nbformat.read(path, as_version=4)))
                    for path in autograded(course, sub)}
        sub.status = next((s for s in (Status.TIMED_OUT, Status.KERNEL_DIED) if s in statuses),
                          Status.GRADED)
        sub.detail = DETAIL.get(sub.status, "")
        missing = [name for name in assignments[sub.assignment]
                   if f"{name}.ipynb" not in sub.files]
        if missing:
            sub.detail = "; ".join(filter(None, [sub.detail, f"missing notebooks {missing}"]))


def clean_autograded(course: pathlib.Path, problems: list[str]):
    """autograded/ is written by nbgrader from the staged copies only; anything in it that is
    not a regular file or folder (left by an older grader, or put there by hand) is removed
    before generate_feedback, which would follow and copy it."""
    root = course / "autograded"
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = pathlib.Path(folder) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                problems.append(f"{path.relative_to(course)} was {kind(mode)}: removed")
                path.unlink()


def read_csv(path: pathlib.Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def table(rows: list[dict], assignments: list[str]) -> str:
    """Student x assignment: score/max, timed out, not submitted, ungradable."""
    cells = {}
    for row in rows:
        status = row["status"]
        if status in SCORED:
            text = f"{float(row['score']):g}/{float(row['max_score']):g}"
            text += f" {status}" if status != Status.GRADED else (
                "*" if float(row["points_to_grade_by_hand"] or 0) else "")
            text += " !" if row.get("suspicious") else ""
        else:
            text = status
        cells[(row["student_id"], row["assignment"])] = text
    students = sorted({key[0] for key in cells})
    short = [name.split("_")[0] for name in assignments]
    width = max([len(c) for c in cells.values()] + [len(s) for s in short] + [5])
    first = max([len(s) for s in students] + [7])
    out = io.StringIO()
    out.write("student".ljust(first) + " | " + " | ".join(s.ljust(width) for s in short) + "\n")
    out.write("-" * first + "-+-" + "-+-".join("-" * width for _ in short) + "\n")
    for student in students:
        out.write(student.ljust(first) + " | " + " | ".join(
            cells[(student, a)].ljust(width) for a in assignments) + "\n")
    return out.getvalue()


def summary(results: dict[tuple[str, str], Submission], problems: list[str],
            rows: list[dict], assignments: list[str]) -> tuple[str, int]:
    """The table and what went wrong; and how many submissions or folders were left
    ungraded (the exit status is not 0 when there are any)."""
    subs = list(results.values())
    count = {status: sum(sub.status == status for sub in subs)
             for status in (*SCORED, Status.NOT_SUBMITTED, Status.UNGRADABLE)}
    out = io.StringIO()
    students = {sub.student for sub in subs}
    if len(students) <= 60:
        out.write(table(rows, assignments))
    else:
        with_problem = {sub.student for sub in subs
                        if sub.status not in (Status.GRADED, Status.NOT_SUBMITTED)}
        shown = [row for row in rows if row["student_id"] in with_problem]
        out.write(f"{len(students)} students: the table shows only those with a problem "
                  "(all are in grades.csv)\n")
        if shown:
            out.write(table(shown, assignments))
    out.write(f"\n{count[Status.GRADED]} graded, {count[Status.TIMED_OUT]} timed out, "
              f"{count[Status.KERNEL_DIED]} kernel died, "
              f"{count[Status.NOT_SUBMITTED]} not submitted, "
              f"{count[Status.UNGRADABLE]} ungradable\n")
    by_hand = sum(1 for row in rows if float(row["points_to_grade_by_hand"] or 0) > 0)
    if by_hand:
        out.write(f"* {by_hand} graded submissions have written answers to grade by hand "
                  "(Formgrader), then run make grade again\n")
    for sub in subs:
        if sub.status == Status.UNGRADABLE:
            out.write(f"UNGRADABLE {sub.student}/{sub.assignment}: {sub.detail}\n")
        elif sub.status in (Status.TIMED_OUT, Status.KERNEL_DIED):
            out.write(f"{sub.status.upper()} {sub.student}/{sub.assignment}: {sub.detail}\n")
        if sub.ignored:
            out.write(f"IGNORED in submitted/{sub.student}/{sub.assignment}/ (not read, not "
                      f"copied): {', '.join(sub.ignored)}\n")
    flagged = [f"{sub.student}/{sub.assignment}" for sub in subs if sub.suspicious]
    if flagged:
        out.write(f"SUSPICIOUS (!), read these notebooks (points unchanged; what was found is in "
                  f"grades.csv): {', '.join(flagged)}\n")
    left_out = 0
    for problem in problems:
        left_out += problem.startswith("LEFT OUT")
        out.write(problem + "\n" if problem.startswith("LEFT OUT") else f"IGNORED {problem}\n")
    return out.getvalue(), count[Status.UNGRADABLE] + left_out

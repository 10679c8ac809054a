"""The command: ``python -m coursetools.grade [--course DIR] [--jobs N] [--force]``."""
import argparse
import pathlib
import sys
import tempfile
import time

from nbgrader.api import Gradebook

from coursetools.grade import export, intake, results, workers
from coursetools.grade.submission import SCORED, Status


def _db_url(course: pathlib.Path) -> str:
    return "sqlite:///" + str(course / "gradebook.db")


def release_if_needed(course: pathlib.Path, log_path: pathlib.Path):
    if (course / "gradebook.db").exists():
        return
    print("no gradebook.db yet (fresh clone): releasing first")
    status = workers.run_nbgrader(course, ["generate_assignment", "*", "--force",
                                           "--log-level=WARN"], log_path, "nbgrader release")
    if status != 0:
        raise SystemExit(f"make grade: releasing failed, see {log_path}")


def main(argv=None) -> int:
    import coursetools.grade
    parser = argparse.ArgumentParser(description=coursetools.grade.__doc__.splitlines()[0])
    parser.add_argument("--course", default=".", help="the course folder (default: here)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    parser.add_argument("--force", action="store_true", help="grade again what was graded")
    args = parser.parse_args(argv)
    course = pathlib.Path(args.course).resolve()
    jobs = max(1, args.jobs)
    if not (course / "submitted").is_dir():
        print(f"no submitted/ folder in {course}: nothing to grade")
        return 1
    from coursetools.sandbox import opted_out, sandbox_problem
    problem = None if opted_out() else sandbox_problem()
    if problem:
        print("make grade refuses:", problem)
        return 1
    log_path = course / "grading.log"
    log_path.write_text(f"make grade, {time.strftime('%Y-%m-%d %H:%M:%S')}, jobs={jobs}\n")
    started = time.monotonic()
    phases = {}
    release_if_needed(course, log_path)
    with Gradebook(_db_url(course)) as gb:
        assignments = {a.name: sorted(nb.name for nb in a.notebooks)
                       for a in sorted(gb.assignments, key=lambda a: a.name)}
        known = [s.id for s in gb.students]
    subs, problems = intake.intake(course, assignments, known)
    digests = intake.read_digests(course)
    todo = []
    for sub in subs.values():
        if sub.status != Status.TO_GRADE:
            continue
        if not args.force and intake.fresh(course, sub, digests):
            sub.status = Status.GRADED                 # graded by an earlier run
        else:
            todo.append(sub)
    with Gradebook(_db_url(course)) as gb:             # before the workers: no race on these
        for student in sorted({sub.student for sub in todo}):
            gb.update_or_create_student(student)
    phases["intake"] = time.monotonic() - started
    print(f"grading {len(todo)} submissions with {jobs} worker(s); full log: {log_path}")
    failures = {}
    if todo:
        with tempfile.TemporaryDirectory(prefix="grading-") as staging:
            failures = workers.autograde(course, todo, jobs, pathlib.Path(staging), log_path)
    phases["autograde"] = time.monotonic() - started - sum(phases.values())
    results.settle(course, subs, failures, assignments)
    for sub in todo:                                   # what these grades were computed from
        if sub.status in SCORED:
            digests[f"{sub.student}/{sub.assignment}"] = sub.digest
    intake.write_digests(course, digests)
    results.clean_autograded(course, problems)
    graded = [sub for sub in subs.values() if sub.status in SCORED]
    if graded:
        workers.feedback(course, sorted({sub.student for sub in graded}), jobs, log_path)
    phases["feedback"] = time.monotonic() - started - sum(phases.values())
    export.write_statuses(course, subs)
    with Gradebook(_db_url(course)) as gb:
        export.CourseCsvExport(to=str(course / "grades.csv"),
                               statuses=str(course / export.STATUSES)).export(gb)
    rows = results.read_csv(course / "grades.csv")
    phases["export"] = time.monotonic() - started - sum(phases.values())
    with open(log_path, "a") as log:
        log.write("\n==== seconds: " + ", ".join(f"{name} {seconds:.1f}"
                                               for name, seconds in phases.items()) + " ====\n")
    missing_feedback = [sub for sub in graded
                        if not all((course / "feedback" / sub.student / sub.assignment /
                                    f"{name[:-6]}.html").is_file() for name in sub.notebooks)]
    text, ungradable = results.summary(subs, problems, rows, list(assignments))
    print(text, end="")
    for sub in missing_feedback:
        print(f"NO FEEDBACK {sub.student}/{sub.assignment}: generate_feedback failed "
              "(see grading.log)")
    print(f"grades: {course / 'grades.csv'}, feedback: {course / 'feedback'}/, "
          f"log: {log_path} ({workers.duration(time.monotonic() - started)})")
    return 1 if ungradable or missing_feedback else 0


if __name__ == "__main__":
    sys.exit(main())

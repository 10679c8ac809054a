"""Seconds for `make grade` to grade a class, at JOBS=1 and JOBS=2 (or other values).

A scratch course gets ``--students`` students who each submit all the assignments (the
instructor's answers, so every notebook runs to the end, as most real submissions do); the
same class is then graded from scratch once per JOBS value, with the command `make grade`
runs (``python -m coursetools.grade --jobs N``): intake, sandboxed autograding, feedback,
export. The grades of every run must be identical. Prints one table, with the load average
of the machine before and after each run (a busy machine slows everything down: rerun it
idle for numbers to quote).

A second table says where the time of one submission goes, per assignment (medians over the
run's submissions): the nbgrader child's wall time from its fork to its exit, and inside it
the phases the grader's executor reports (kernel start, the course's given code, the
student's answers, the trusted checks of the test cells, kernel stop); "nbgrader" is the
rest (configuration, gradebook, reading and writing the notebook); feedback is the feedback
step's seconds per page.

    .venv/bin/python benchmarks/grading_jobs.py                  # 5 students x 11 = 55
    .venv/bin/python benchmarks/grading_jobs.py --students 10 --jobs 1 2 4
    .venv/bin/python benchmarks/grading_jobs.py --students 3 --jobs 1 --only ex03 ex07 ex09
"""
import argparse
import csv
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))
from test_grading_helpers import solution_answers


def prepare(base: pathlib.Path, students: int, only: list[str]) -> tuple[pathlib.Path, int]:
    """A released course with ``students`` x assignments submissions (the assignments whose
    name starts with one of ``only``, or all)."""
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", "*", "--force",
                    "--log-level=WARN"], cwd=course, env=env, check=True, capture_output=True)
    slugs = sorted(p.name for p in (course / "exercises").iterdir() if p.is_dir()
                   and (not only or p.name.startswith(tuple(only))))
    for slug in slugs:
        answers = solution_answers(slug)
        nb = nbformat.read(course / "exercises" / slug / f"{slug}.ipynb", as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        for k in range(students):
            path = course / "submitted" / f"student{k:03d}" / slug / f"{slug}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
    return course, students * len(slugs)


CPUACCT = pathlib.Path("/sys/fs/cgroup/cpuacct")


def cpu_group(name: str) -> pathlib.Path | None:
    """A cgroup-v1 cpuacct group to count the CPU time of a run and all its descendants
    (sandboxed kernels included, which getrusage misses); None where we cannot make one."""
    group = CPUACCT / name
    try:
        group.mkdir()
    except OSError:
        return None
    return group


def grade(template: pathlib.Path, base: pathlib.Path, jobs: int) -> dict:
    course = base / f"jobs{jobs}"
    shutil.copytree(template, course, symlinks=True)
    group = cpu_group(f"grading-jobs-{os.getpid()}-{jobs}")
    join = (lambda: (group / "tasks").write_text(str(os.getpid()))) if group else None
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "coursetools.grade", "--course", str(course),
                             "--jobs", str(jobs)], cwd=ROOT, capture_output=True, text=True,
                            check=False, preexec_fn=join)
    seconds = time.perf_counter() - start
    cpu = None
    if group:
        cpu = int((group / "cpuacct.usage").read_text()) / 1e9
        group.rmdir()
    if result.returncode != 0:
        raise SystemExit(f"JOBS={jobs} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    with open(course / "grades.csv") as handle:
        grades = {(r["student_id"], r["assignment"]): (r["status"], r["score"])
                  for r in csv.DictReader(handle)}
    log = (course / "grading.log").read_text()
    phases = re.search(r"==== seconds: .*autograde ([\d.]+), feedback ([\d.]+)", log)
    return {"jobs": jobs, "seconds": seconds, "cpu": cpu, "load_before": load_before,
            "load_after": os.getloadavg()[0], "grades": grades,
            "autograde": float(phases.group(1)), "feedback": float(phases.group(2)),
            "per_submission": where_time_goes(log)}


PHASES = ("kernel start", "given code", "answers", "trusted checks", "kernel stop")


def where_time_goes(log: str) -> dict[str, dict[str, float]]:
    """{assignment: {phase: median seconds}} from grading.log: the child's wall time per
    submission (its title line) and the executor's phases per notebook."""
    process = {}
    for student, slug, seconds in re.findall(
            r"==== nbgrader autograde ([^/\s]+)/(\S+): exit status -?\d+, ([\d.]+) s ====", log):
        process.setdefault(slug, []).append(float(seconds))
    phases = {}
    for slug, detail in re.findall(r"^\s+[\d.]+\s+[^/\s]+/(\S+)/\S+\s+.*?\((.*)\)$", log,
                                   flags=re.MULTILINE):
        parts = dict(part.rsplit(" ", 1) for part in detail.split(", "))
        for name in PHASES:
            phases.setdefault(slug, {}).setdefault(name, []).append(float(parts.get(name, 0)))
    table = {}
    for slug, walls in process.items():
        row = {"process": statistics.median(walls)}
        row.update({name: statistics.median(values)
                    for name, values in phases.get(slug, {}).items()})
        row["nbgrader"] = row["process"] - sum(row.get(name, 0.0) for name in PHASES)
        table[slug] = row
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="*", default=[],
                        help="assignments whose name starts so (e.g. ex03 ex07); default all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-jobs-") as tmp:
        template, count = prepare(pathlib.Path(tmp), args.students, args.only)
        runs = [grade(template, pathlib.Path(tmp), jobs) for jobs in args.jobs]
    for run in runs[1:]:
        if run["grades"] != runs[0]["grades"]:
            raise SystemExit(f"JOBS={run['jobs']} gave other grades than JOBS={runs[0]['jobs']}")
    print(f"make grade of {count} submissions ({args.students} students x "
          f"{count // args.students} assignments), {os.cpu_count()} CPU cores "
          f"({platform.machine()}); grades identical in every run")
    print("seconds: wall clock; CPU s: user + system time of make grade and everything it "
          "started, kernels included (a cpuacct cgroup; n/a where none can be made)")
    print("| JOBS | seconds | autograde | feedback | s per submission | speed-up | CPU s "
          "| CPU s per submission | load before | load after |")
    print("|------|---------|-----------|----------|------------------|----------|-------"
          "|----------------------|-------------|------------|")
    for run in runs:
        cpu = f"{run['cpu']:5.0f} | {run['cpu'] / count:20.1f}" if run["cpu"] else (
            f"{'n/a':>5} | {'n/a':>20}")
        print(f"| {run['jobs']:4} | {run['seconds']:7.0f} | {run['autograde']:9.0f} | "
              f"{run['feedback']:8.0f} | {run['seconds'] / count:16.1f} | "
              f"{runs[0]['seconds'] / run['seconds']:7.2f}x | {cpu} | {run['load_before']:11.1f} | "
              f"{run['load_after']:10.1f} |")
    for run in runs:
        print(f"\nJOBS={run['jobs']}: where one submission's time goes, median seconds per "
              f"assignment (load {run['load_before']:.1f} -> {run['load_after']:.1f}); "
              f"feedback {run['feedback'] / count:.2f} s per page")
        print("| assignment | process | nbgrader | " + " | ".join(PHASES) + " |")
        print("|---" * (len(PHASES) + 3) + "|")
        for slug, row in sorted(run["per_submission"].items()):
            print(f"| {slug} | {row['process']:.2f} | {row['nbgrader']:.2f} | "
                  + " | ".join(f"{row.get(name, 0.0):.2f}" for name in PHASES) + " |")


if __name__ == "__main__":
    main()

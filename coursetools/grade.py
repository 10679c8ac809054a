"""`make grade`: grade every gradable submission of a course, in parallel, and say what happened.

    python -m coursetools.grade [--course DIR] [--jobs N] [--force]

1. **Intake.** Every folder ``submitted/<student>/<assignment>/`` is read without following
   anything: only the assignment's notebooks (regular files, opened with ``O_NOFOLLOW``, valid
   JSON notebooks) and a valid ``timestamp.txt`` are copied into a private staging folder.
   Symlinks, fifos, devices, sub-folders and extra files are reported and left alone; nbgrader
   never reads ``submitted/`` itself, so it cannot follow or copy them into ``autograded/`` or
   ``feedback/``.
2. **Autograde.** The staged submissions are graded by ``nbgrader autograde`` processes
   (nbgrader grades one notebook at a time), ``--jobs`` at once, each on a shard of them and
   all on the same gradebook; every kernel runs in the sealed sandbox
   (:mod:`coursetools.sandbox`). A count and an ETA are printed while they run; the full log
   goes to ``grading.log``.
3. **Feedback and grades.** ``nbgrader generate_feedback`` (in shards too) writes the pages;
   ``grades.csv`` gets a ``status`` column: graded, timed out, not submitted, ungradable.
4. **Summary.** A table student x assignment, the problems found, and an exit status that
   is not 0 when a submission could not be graded.

The results do not depend on ``--jobs``: each submission is graded alone, its kernel uses a
fixed number of threads, and the gradebook rows of two submissions never overlap.
"""
import argparse
import csv
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from coursetools import exchange
from coursetools.grading import notebook_status
from coursetools.launch import given_by_the_course
from coursetools.verdicts import is_test_cell, suspicious

BIN = pathlib.Path(sys.executable).parent
NOTEBOOK_LIMIT = 20 * 1024 * 1024          # bytes; a bigger notebook is not graded
# the files `nbgrader submit` writes beside the notebooks (the exchange needs them back, in
# feedback/, to release the feedback); every other entry of a submission folder is ignored
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
CSV_FIELDS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
              "email", "raw_score", "late_submission_penalty", "score", "max_score", "status",
              "detail", "points_to_grade_by_hand", "suspicious"]
# statuses of a submission that has scores (the others: not submitted, ungradable)
SCORED = ("graded", "timed out", "kernel died")
DIGESTS = "grading-digests.json"   # what was graded: {student/assignment: sha256 of its files}


@dataclasses.dataclass
class Submission:
    student: str
    assignment: str
    status: str = "not submitted"   # not submitted | ungradable | to grade | or one of SCORED
    detail: str = ""
    ignored: list = dataclasses.field(default_factory=list)   # entries not read, and why
    files: dict = dataclasses.field(default_factory=dict)     # name -> bytes to stage
    newest: float = 0.0                                        # mtime of the newest staged file
    suspicious: list = dataclasses.field(default_factory=list)  # static scan: for a human to read

    @property
    def digest(self) -> str:
        """sha256 of the staged files: a resubmission is graded again whatever its mtime."""
        hasher = hashlib.sha256()
        for name in sorted(self.files):
            hasher.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return hasher.hexdigest()

    @property
    def key(self):
        return self.student, self.assignment


# ---- intake: read a submission folder without following anything -------------------------

def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a fifo"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "a file"


def _describe(name: str, dir_fd: int) -> str:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    kind = _kind(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        kind += f" to {os.readlink(name, dir_fd=dir_fd)}"
    return f"{name} ({kind})"


def _read_regular(name: str, dir_fd: int, limit: int) -> tuple[bytes, float]:
    """The bytes of a regular file ``name`` in the folder ``dir_fd``; never follows a link,
    never blocks on a fifo, never opens a device."""
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{name} is {_kind(info.st_mode)}, not a file")
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):          # swapped after the check above
            raise ValueError(f"{name} is {_kind(opened.st_mode)}, not a file")
        if opened.st_size > limit:
            raise ValueError(f"{name} is larger than {limit // 2**20} MiB")
        return handle.read(limit + 1)[:limit], opened.st_mtime


def _open_folder(path: pathlib.Path, dir_fd: int | None = None) -> int:
    """A file descriptor of the real folder ``path`` (a symlink raises OSError)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                   dir_fd=dir_fd)


def inspect(sub: Submission, folder_fd: int, notebooks: list[str]) -> Submission:
    """Fill ``sub`` from the submission folder open as ``folder_fd``."""
    wanted = {f"{name}.ipynb" for name in notebooks}
    sub.status = "to grade"
    for name in sorted(os.listdir(folder_fd)):
        if name not in wanted and name not in EXCHANGE_FILES:
            sub.ignored.append(_describe(name, folder_fd))
            continue
        try:
            data, mtime = _read_regular(name, folder_fd,
                                        NOTEBOOK_LIMIT if name in wanted else 1024)
        except (OSError, ValueError) as err:
            if name in wanted:
                sub.status, sub.detail = "ungradable", str(err)
                return sub
            sub.ignored.append(_describe(name, folder_fd))
            continue
        if name == "timestamp.txt":
            try:
                parse_utc(data.decode().strip())
            except (ValueError, UnicodeDecodeError, OverflowError):
                sub.status, sub.detail = "ungradable", "timestamp.txt does not hold a time"
                return sub
        elif name == "submission_secret.txt":
            if not re.fullmatch(rb"[0-9a-f]{1,256}", data.strip()):
                sub.ignored.append(f"{name} (not a submission secret)")
                continue
        else:
            try:
                nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
            except (ValueError, KeyError, TypeError, AttributeError,
                    nbformat.ValidationError) as err:   # all mean "not a notebook"
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                sub.status = "ungradable"
                sub.detail = f"{name} is not a valid notebook ({reason[:120]})"
                return sub
        sub.files[name] = data
        sub.newest = max(sub.newest, mtime)
        if name in wanted:
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            # the environment cell as the course gave it runs pip: the course's code, not theirs
            sub.suspicious += suspicious(c.source for c in nb.cells
                                         if c.cell_type == "code" and not is_test_cell(c)
                                         and not given_by_the_course(c))
    if not wanted & set(sub.files):
        sub.status = "ungradable"
        sub.detail = f"no {' or '.join(sorted(wanted))} in the folder"
    return sub


def intake(course: pathlib.Path, assignments: dict[str, list[str]], known: list[str]):
    """{(student, assignment): Submission} for every student (folder or gradebook) and
    assignment, and the list of problems found outside any one submission."""
    submitted = course / "submitted"
    root_fd = os.open(submitted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    problems, folders = exchange.refuse_impostors(course), {}   # impostors: refused, kept
    try:
        for name in sorted(os.listdir(root_fd)):
            if not STUDENT_ID.fullmatch(name):
                problems.append(f"LEFT OUT submitted/{name!r}: not a valid student id (letters, "
                                "digits and ._@+- only; rename the folder and grade again)")
                continue
            try:
                folders[name] = _open_folder(name, root_fd)
            except OSError:
                problems.append(f"submitted/{_describe(name, root_fd)}: not a folder, ignored")
        results = {}
        for student in sorted(set(folders) | set(known)):
            student_fd = folders.get(student)
            entries = set(os.listdir(student_fd)) if student_fd is not None else set()
            for name in sorted(entries - set(assignments)):
                meant = [a for a in assignments if a.split("_")[0] == name.split("_")[0]]
                hint = f" (rename it {meant[0]}?)" if meant else ""
                problems.append(f"LEFT OUT submitted/{student}/{_describe(name, student_fd)}: "
                                f"not an assignment{hint}")
            for assignment, notebooks in assignments.items():
                sub = Submission(student, assignment)
                results[sub.key] = sub
                if assignment not in entries:
                    continue
                try:
                    folder_fd = _open_folder(assignment, student_fd)
                except OSError:
                    sub.status = "ungradable"
                    sub.detail = f"{_describe(assignment, student_fd)} is not a folder"
                    continue
                try:
                    inspect(sub, folder_fd, notebooks)
                finally:
                    os.close(folder_fd)
    finally:
        for fd in folders.values():
            os.close(fd)
        os.close(root_fd)
    return results, problems


# ---- nbgrader in worker processes ------------------------------------------------------

def nbgrader(course: pathlib.Path, *args, log=None, env=None, wait=True):
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   **(env or {})}
    command = [str(BIN / "nbgrader"), *args]
    if not wait:
        return subprocess.Popen(command, cwd=course, env=environment, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return subprocess.run(command, cwd=course, env=environment, stdout=log,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)


def shards(items: list, count: int) -> list[list]:
    """``count`` shards, round-robin over ``items`` sorted by assignment: similar mixes."""
    ordered = sorted(items, key=lambda sub: (sub.assignment, sub.student))
    return [ordered[k::count] for k in range(count) if ordered[k::count]]


class Progress:
    """Counts the notebooks the workers report done and prints a count with an ETA."""

    def __init__(self, total: int, files: list[pathlib.Path], out=sys.stdout):
        self.total, self.files, self.out = total, files, out
        self.started = time.monotonic()
        self.shown, self.last_print = -1, 0.0
        self.tty = out.isatty()

    def done(self) -> int:
        return sum(len(f.read_text().splitlines()) for f in self.files if f.exists())

    def show(self, final: bool = False):
        done = min(self.done(), self.total)
        now = time.monotonic()
        if not final and (done == self.shown or done == self.total):
            return
        if not (self.tty or final or now - self.last_print >= 30):
            return
        elapsed = now - self.started
        eta = f", about {_duration(elapsed / done * (self.total - done))} left" if (
            0 < done < self.total) else ""
        line = f"graded {done}/{self.total} notebooks in {_duration(elapsed)}{eta}"
        print(("\r" + line.ljust(70)) if self.tty else line, end="" if self.tty else "\n",
              file=self.out, flush=True)
        if self.tty and final:
            print(file=self.out)
        self.shown, self.last_print = done, now


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def autograde(course, todo, jobs, staging, log_path):
    """Grade ``todo`` with at most ``jobs`` nbgrader processes at once; {key: why} for those
    that failed.

    With several jobs the submissions are cut into two shards per job, and a process is
    started on the next shard whenever one ends, so that a shard of slow notebooks does not keep the others
    waiting (each process costs nbgrader's start, a few seconds). nbgrader stops a whole run
    on some errors (a notebook whose metadata claims an old format, a locked database): what
    a stopped process never started is graded again, one submission per process, so a
    poisonous submission costs only itself."""
    failures, attempts = {}, {sub.key: 0 for sub in todo}
    progress = Progress(len(todo), [])
    queue = shards(todo, 1 if jobs == 1 else min(len(todo), 2 * jobs))
    running = {}                       # slot (0 .. jobs-1) -> worker
    try:
        while queue or running:
            while queue and len(running) < jobs:
                slot = min(set(range(jobs)) - set(running))
                running[slot] = _start(course, queue.pop(0), slot, staging, progress, attempts)
            progress.show()
            time.sleep(0.5)
            for slot, worker in list(running.items()):
                if worker["process"].poll() is None:
                    continue
                del running[slot]
                queue += [[sub] for sub in _finish(course, worker, log_path, failures, attempts)]
    finally:                           # interrupted (Ctrl-C): no worker outlives make grade
        for worker in running.values():
            worker["process"].terminate()
    progress.show(final=True)
    _log_times(progress.files, log_path)
    return failures


def _start(course, group, slot, staging, progress, attempts) -> dict:
    """nbgrader autograde on ``group``, staged in a folder of its own."""
    run = len(progress.files) + 1
    folder = staging / f"run{run}"
    for sub in group:
        attempts[sub.key] += 1
        target = folder / sub.student / sub.assignment
        target.mkdir(parents=True, exist_ok=True)
        for name, data in sub.files.items():
            (target / name).write_bytes(data)
    progress_file = staging / f"progress{run}.jsonl"
    progress.files.append(progress_file)
    started = time.time()
    log_file = staging / f"log{run}.txt"
    with open(log_file, "w") as log:
        process = nbgrader(course, "autograde", "*", "--create", "--force",
                           f"--CourseDirectory.submitted_directory={folder}",
                           "--log-level=INFO", log=log, wait=False,
                           env={"COURSETOOLS_PROGRESS": str(progress_file),
                                "COURSETOOLS_WORKER": str(slot)})
    return {"process": process, "log": log_file, "group": group, "folder": folder,
            "progress": progress_file, "started": started}


def _finish(course, worker, log_path, failures, attempts) -> list:
    """Log a finished worker; note what failed; the submissions to try again."""
    text = worker["log"].read_text(errors="replace")
    with open(log_path, "a") as log:
        log.write(f"\n==== nbgrader autograde ({worker['folder'].name}): {len(worker['group'])} "
                  f"submissions, exit status {worker['process'].returncode} ====\n{text}")
    started, retry = _started(worker["progress"]), []
    for sub in worker["group"]:
        if _written_since(course, sub, worker["started"]):
            failures.pop(sub.key, None)
            continue
        failures[sub.key] = _failure_reason(text, worker["folder"] / sub.student / sub.assignment)
        if (sub.key not in started or "database is locked" in failures[sub.key]) and (
                attempts[sub.key] < 2):
            retry.append(sub)
    return retry


def _log_times(progress_files, log_path):
    """Seconds per notebook, slowest first, into grading.log."""
    entries = [json.loads(line) for f in progress_files if f.exists()
               for line in f.read_text().splitlines() if line]
    with open(log_path, "a") as log:
        log.write("\n==== seconds per notebook (kernel start included), slowest first ====\n")
        log.writelines(f"{e['seconds']:8.1f}  {e['student']}/{e['assignment']}/{e['notebook']}"
                       f"  {e['status']}\n" for e in sorted(entries, key=lambda e: -e["seconds"]))


def _started(progress_file: pathlib.Path) -> set:
    if not progress_file.exists():
        return set()
    lines = [json.loads(line) for line in progress_file.read_text().splitlines() if line]
    return {(entry["student"], entry["assignment"]) for entry in lines}


def _failure_reason(log_text: str, folder: pathlib.Path) -> str:
    """The last line of the traceback nbgrader logged for ``folder``, or else the first error
    of a run that stopped (the run of this submission alone, when it is tried again)."""
    marker = f"There was an error processing assignment: {folder}"
    at = log_text.find(marker)
    if at < 0:
        errors = [line.split("ERROR]", 1)[1].strip() for line in log_text.splitlines()
                  if "| ERROR]" in line and "Removing failed" not in line]
        return (errors[0][:160] if errors else "nbgrader did not grade it") + " (see grading.log)"
    lines = [line.strip() for line in log_text[at + len(marker):].splitlines()[1:40]]
    block = []
    for line in lines:
        if line.startswith("[Autograde") and block:
            break
        if line and not line.startswith("[Autograde"):
            block.append(line)
    return (block[-1][:160] if block else "nbgrader failed") + " (see grading.log)"


def _autograded(course, sub) -> list[pathlib.Path]:
    folder = course / "autograded" / sub.student / sub.assignment
    return [folder / name for name in sub.files if name.endswith(".ipynb")]


def _written_since(course, sub, since: float) -> bool:
    """Autograded notebooks exist for every staged notebook, written at ``since`` or later."""
    paths = _autograded(course, sub)
    try:
        return bool(paths) and all(p.lstat().st_mtime >= since - 1 and p.is_file() and
                                   not p.is_symlink() for p in paths)
    except OSError:
        return False


def _digests(course) -> dict:
    try:
        return json.loads((course / DIGESTS).read_text())
    except (OSError, ValueError):
        return {}


def _fresh(course, sub, digests: dict) -> bool:
    """Graded already, from exactly these files (by content, not by file times)."""
    return digests.get(f"{sub.student}/{sub.assignment}") == sub.digest and \
        _written_since(course, sub, 0)


# ---- feedback, grades, summary ------------------------------------------------------------

def clean_autograded(course: pathlib.Path, problems: list):
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
                problems.append(f"{path.relative_to(course)} was {_kind(mode)}: removed")
                path.unlink()


def feedback(course, graded, jobs, log_path):
    """generate_feedback for every autograded submission, students split into shards: one
    process per 100 pages or so (each costs nbgrader's start), ``jobs`` at most."""
    students = sorted({sub.student for sub in graded})
    count = max(1, min(jobs, len(graded) // 100))
    groups = [students[k::count] for k in range(count) if students[k::count]]
    logs, processes = [], []
    for group in groups:
        others = sorted(set(students) - set(group))
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed below)
        args = ["generate_feedback", "*", "--force", "--log-level=INFO"]
        if others:
            args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
        processes.append(nbgrader(course, *args, log=log, wait=False))
        logs.append(log)
    with open(log_path, "a") as out:
        for k, (process, log) in enumerate(zip(processes, logs)):
            process.wait()
            log.seek(0)
            out.write(f"\n==== nbgrader generate_feedback, worker {k}: exit status "
                      f"{process.returncode} ====\n")
            shutil.copyfileobj(log, out)
            log.close()


def settle(course, results, failures, assignments):
    """Final status of every submission (from intake, the autograded notebook, this run)."""
    for sub in results.values():
        if sub.status not in ("to grade", "graded"):
            continue
        if sub.key in failures or not _written_since(course, sub, 0):
            sub.status = "ungradable"
            sub.detail = failures.get(sub.key, "nbgrader did not grade it (see grading.log)")
            continue
        statuses = {notebook_status(nbformat.read(path, as_version=4))
                    for path in _autograded(course, sub)}
        sub.status = next((s for s in ("timed out", "kernel died") if s in statuses), "graded")
        if sub.status == "timed out":
            sub.detail = "ran past the notebook time limit; the cells after it score 0"
        elif sub.status == "kernel died":
            sub.detail = "the kernel died; the cells from there on score 0"
        missing = [name for name in assignments[sub.assignment]
                   if f"{name}.ipynb" not in sub.files]
        if missing:
            sub.detail = "; ".join(filter(None, [sub.detail, f"missing notebooks {missing}"]))


def export(course, results, out_path):
    """grades.csv: one row per student and assignment, with a status column."""
    rows = []
    with Gradebook(_db_url(course)) as gb:
        students = {s.id: s for s in gb.students}
        for assignment in gb.assignments:
            for student_id in sorted({key[0] for key in results}):
                sub = results[(student_id, assignment.name)]
                student = students.get(student_id)
                row = dict.fromkeys(CSV_FIELDS, "")
                row.update(assignment=assignment.name, duedate=assignment.duedate or "",
                           student_id=student_id, max_score=assignment.max_score,
                           status=sub.status, detail=sub.detail,
                           suspicious="; ".join(sub.suspicious))
                if student is not None:
                    row.update(last_name=student.last_name or "",
                               first_name=student.first_name or "", email=student.email or "")
                if sub.status in SCORED:
                    submission = gb.find_submission(assignment.name, student_id)
                    penalty = submission.late_submission_penalty or 0.0
                    by_hand = sum(g.max_score for nb in submission.notebooks for g in nb.grades
                                  if g.manual_score is None and g.auto_score is None)
                    row.update(timestamp=submission.timestamp or "",
                               raw_score=submission.score, late_submission_penalty=penalty,
                               score=max(0.0, submission.score - penalty),
                               points_to_grade_by_hand=by_hand)
                rows.append(row)
    with open(out_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _db_url(course: pathlib.Path) -> str:
    return "sqlite:///" + str(course / "gradebook.db")


def table(rows, assignments) -> str:
    """Student x assignment: score/max, timed out, not submitted, ungradable."""
    cells = {}
    for row in rows:
        status = row["status"]
        if status in SCORED:
            text = f"{float(row['score']):g}/{float(row['max_score']):g}"
            text += f" {status}" if status != "graded" else (
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


def summary(results, problems, rows, assignments) -> tuple[str, int]:
    subs = list(results.values())
    count = {status: sum(sub.status == status for sub in subs)
             for status in (*SCORED, "not submitted", "ungradable")}
    out = io.StringIO()
    students = {sub.student for sub in subs}
    if len(students) <= 60:
        out.write(table(rows, list(assignments)))
    else:
        shown = [row for row in rows if row["student_id"] in
                 {sub.student for sub in subs if sub.status not in ("graded", "not submitted")}]
        out.write(f"{len(students)} students: the table shows only those with a problem "
                  "(all are in grades.csv)\n")
        if shown:
            out.write(table(shown, list(assignments)))
    out.write(f"\n{count['graded']} graded, {count['timed out']} timed out, "
              f"{count['kernel died']} kernel died, "
              f"{count['not submitted']} not submitted, {count['ungradable']} ungradable\n")
    by_hand = sum(1 for row in rows if float(row["points_to_grade_by_hand"] or 0) > 0)
    if by_hand:
        out.write(f"* {by_hand} graded submissions have written answers to grade by hand "
                  "(Formgrader), then run make grade again\n")
    for sub in subs:
        if sub.status == "ungradable":
            out.write(f"UNGRADABLE {sub.student}/{sub.assignment}: {sub.detail}\n")
        elif sub.status in ("timed out", "kernel died"):
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
    return out.getvalue(), count["ungradable"] + left_out


# ---- the command ----------------------------------------------------------------------

def release_if_needed(course, log_path):
    if (course / "gradebook.db").exists():
        return
    print("no gradebook.db yet (fresh clone): releasing first")
    with open(log_path, "a") as log:
        result = nbgrader(course, "generate_assignment", "*", "--force", "--log-level=WARN",
                          log=log)
    if result.returncode != 0:
        raise SystemExit(f"make grade: releasing failed, see {log_path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    results, problems = intake(course, assignments, known)
    digests = _digests(course)
    todo = [sub for sub in results.values() if sub.status == "to grade"
            and (args.force or not _fresh(course, sub, digests))]
    for sub in results.values():
        if sub.status == "to grade" and _fresh(course, sub, digests) and not args.force:
            sub.status = "graded"                      # graded by an earlier run
    with Gradebook(_db_url(course)) as gb:             # before the workers: no race on these
        for student in sorted({sub.student for sub in todo}):
            gb.update_or_create_student(student)
    phases["intake"] = time.monotonic() - started
    print(f"grading {len(todo)} submissions with {jobs} worker(s); full log: {log_path}")
    failures = {}
    if todo:
        with tempfile.TemporaryDirectory(prefix="grading-") as staging:
            failures = autograde(course, todo, jobs, pathlib.Path(staging), log_path)
    phases["autograde"] = time.monotonic() - started - sum(phases.values())
    settle(course, results, failures, assignments)
    for sub in todo:                                   # what these grades were computed from
        if sub.status in SCORED:
            digests[f"{sub.student}/{sub.assignment}"] = sub.digest
    (course / DIGESTS).write_text(json.dumps(digests, indent=0, sort_keys=True))
    clean_autograded(course, problems)
    graded = [sub for sub in results.values() if sub.status in SCORED]
    if graded:
        feedback(course, graded, jobs, log_path)
    phases["feedback"] = time.monotonic() - started - sum(phases.values())
    rows = export(course, results, course / "grades.csv")
    phases["export"] = time.monotonic() - started - sum(phases.values())
    with open(log_path, "a") as log:
        log.write("\n==== seconds: " + ", ".join(f"{name} {seconds:.1f}"
                                               for name, seconds in phases.items()) + " ====\n")
    missing_feedback = [sub for sub in results.values() if sub.status in SCORED
                        and not all((course / "feedback" / sub.student / sub.assignment /
                                     f"{name[:-6]}.html").is_file()
                                    for name in sub.files if name.endswith(".ipynb"))]
    text, ungradable = summary(results, problems, rows, assignments)
    print(text, end="")
    for sub in missing_feedback:
        print(f"NO FEEDBACK {sub.student}/{sub.assignment}: generate_feedback failed "
              "(see grading.log)")
    print(f"grades: {course / 'grades.csv'}, feedback: {course / 'feedback'}/, "
          f"log: {log_path} ({_duration(time.monotonic() - started)})")
    return 1 if ungradable or missing_feedback else 0


if __name__ == "__main__":
    sys.exit(main())

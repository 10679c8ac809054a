"""Scheduling: nbgrader processes, one submission each, ``--jobs`` at a time from one queue.

nbgrader grades one notebook at a time, so `make grade` runs several ``nbgrader autograde``
processes on the same gradebook. Each process grades ONE submission: a worker that ends takes
the next submission from the queue, so a submission that runs to its notebook time limit
holds one worker and nobody else (with shards of several submissions per process, its shard
mates waited for it). What makes one process per submission affordable is that a process is
not started from scratch: :func:`start_nbgrader` forks this process, which has imported
nbgrader and the course's preprocessors once, and the child runs nbgrader's own command line
(``NbGraderApp``) in the course folder. A fresh ``nbgrader`` costs about 2.5 CPU seconds of
imports (more where jsonschema finds ``rfc3987_syntax``, which the lock leaves out); a
fork costs a few milliseconds, and the child's own work (configuration, gradebook) well
under a second.
"""
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback

from coursetools import sandbox
from coursetools.grade.intake import written_since
from coursetools.grade.submission import Submission

BIN = pathlib.Path(sys.executable).parent
POLL = 0.1                       # seconds between looks at the workers


def preload(course: pathlib.Path | None = None, assignments: set[str] = frozenset()):
    """Import, once and before any fork, what every nbgrader child needs, and the modules the
    given code of ``assignments`` imports (the trusted side runs that code for every
    submission: ex07's PyTorch and scikit-learn cost a child 3 s otherwise). Importing runs
    no parallel work, so the children inherit no busy thread pool."""
    import nbconvert.exporters.html  # noqa: F401
    import nbformat
    import nbgrader.apps.nbgraderapp  # noqa: F401

    import coursetools.grading  # noqa: F401  (nbgrader_config.py imports it)
    from coursetools.verdicts import preload as preload_given_imports
    for assignment in sorted(assignments):
        for path in sorted((course / "solutions" / assignment).glob("*.ipynb")):
            preload_given_imports(nbformat.read(path, as_version=4))


def start_nbgrader(course: pathlib.Path, args: list[str], log: pathlib.Path,
                   env: dict[str, str] | None = None) -> int:
    """Fork a child that runs ``nbgrader *args`` in ``course``, its output into ``log``;
    its process id (wait for it with :func:`exit_status`)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:                                         # the child: never returns into the parent's code
        # Ctrl-C reaches the child too, as KeyboardInterrupt (nbclient then stops its kernel)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.chdir(course)
        os.environ.update(env or {})
        # nbgrader starts `alembic` by name
        os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        from nbgrader.apps.nbgraderapp import NbGraderApp
        sys.argv = ["nbgrader", *args]
        NbGraderApp.launch_instance(argv=list(args))
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:                        # noqa: BLE001 (reported in the log)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def exit_status(pid: int, block: bool = False) -> int | None:
    """The exit status of the child ``pid``, or None while it runs (``block``: wait)."""
    done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    return os.waitstatus_to_exitcode(status) if done else None


def run_nbgrader(course: pathlib.Path, args: list[str], log_path: pathlib.Path,
                 title: str) -> int:
    """``nbgrader *args`` to its end; its output appended to ``log_path`` under ``title``."""
    with tempfile.NamedTemporaryFile(prefix="nbgrader-", suffix=".log") as log:
        status = exit_status(start_nbgrader(course, args, pathlib.Path(log.name)), block=True)
        append_log(log_path, f"{title}: exit status {status}", pathlib.Path(log.name))
    return status


def append_log(log_path: pathlib.Path, title: str, part: pathlib.Path):
    with open(log_path, "a") as out, open(part, errors="replace") as text:
        out.write(f"\n==== {title} ====\n")
        shutil.copyfileobj(text, out)


def claim_slot(taken) -> tuple[int, socket.socket | None]:
    """The lowest worker slot not in ``taken`` whose sandbox user (``FIRST_UID + slot``) no other
    grader on this machine runs kernels as now, and the claim that holds it.

    Grading as root, every grader (a second ``make grade``, the hub's autograde service) draws
    its kernels' uids from the same range, and the sandbox's process limit counts a uid's
    processes: two graders sharing a uid would share that limit. The claim is an abstract Unix
    socket bound to a name made of the uid: the kernel refuses a second bind of the name on
    this machine and frees it when the socket is closed or its process ends, however it ends,
    and nothing is written to disk. Without root the kernels run as the grader's own uid in a
    user namespace, with a process limit of their own: no claim is needed."""
    slot = 0
    while True:
        if slot not in taken:
            if not sandbox.privileged():
                return slot, None
            claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                claim.bind(f"\0rnn-course-sandbox-uid-{sandbox.FIRST_UID + slot}")
                return slot, claim
            except OSError:             # another grader's kernels run as this uid now
                claim.close()
        slot += 1


@dataclasses.dataclass
class Worker:
    """One ``nbgrader autograde`` child grading one submission, staged in ``folder``."""
    pid: int
    slot: int                    # which sandbox user its kernels run as (FIRST_UID + slot)
    submission: Submission
    folder: pathlib.Path
    log: pathlib.Path
    started: float               # time.time() at its start: its notebooks are newer
    claim: socket.socket | None = None      # holds the slot against other graders

    def exit_status(self) -> int | None:
        return exit_status(self.pid)

    def release(self):
        if self.claim is not None:
            self.claim.close()

    def stop(self):
        """Interrupted (Ctrl-C): no worker outlives make grade (called only on a worker not
        yet reaped, so its pid is still ours)."""
        os.kill(self.pid, signal.SIGTERM)
        exit_status(self.pid, block=True)
        self.release()


class Progress:
    """Counts the notebooks the workers report done (one JSON line each in ``file``) and
    prints a count with an ETA."""

    def __init__(self, total: int, file: pathlib.Path, out=sys.stdout):
        self.total, self.file, self.out = total, file, out
        self.started = time.monotonic()
        self.shown, self.last_print = -1, 0.0
        self.tty = out.isatty()

    def entries(self) -> list[dict]:
        if not self.file.exists():
            return []
        return [json.loads(line) for line in self.file.read_text().splitlines() if line]

    def started_on(self, sub: Submission) -> bool:
        """Whether nbgrader reached the notebooks of ``sub`` (it reports each one executed)."""
        return any((e["student"], e["assignment"]) == sub.key for e in self.entries())

    def show(self, final: bool = False):
        done = min(len(self.entries()), self.total)
        now = time.monotonic()
        if not final and (done == self.shown or done == self.total):
            return
        if not (self.tty or final or now - self.last_print >= 30):
            return
        elapsed = now - self.started
        eta = f", about {duration(elapsed / done * (self.total - done))} left" if (
            0 < done < self.total) else ""
        line = f"graded {done}/{self.total} notebooks in {duration(elapsed)}{eta}"
        print(("\r" + line.ljust(70)) if self.tty else line, end="" if self.tty else "\n",
              file=self.out, flush=True)
        if self.tty and final:
            print(file=self.out)
        self.shown, self.last_print = done, now


def duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def autograde(course: pathlib.Path, todo: list[Submission], jobs: int,
              staging: pathlib.Path, log_path: pathlib.Path) -> dict[tuple[str, str], str]:
    """Grade ``todo`` with at most ``jobs`` nbgrader children at once, one submission each;
    {key: why} for those that failed.

    A submission whose process met a locked database, or ended before it reached the
    notebooks, is tried once more."""
    preload(course, {sub.assignment for sub in todo})
    failures, attempts = {}, {sub.key: 0 for sub in todo}
    progress = Progress(len(todo), staging / "progress.jsonl")
    queue = sorted(todo, key=lambda sub: (sub.assignment, sub.student))
    running: dict[int, Worker] = {}              # slot -> worker
    runs = 0
    try:
        while queue or running:
            while queue and len(running) < jobs:
                slot, claim = claim_slot(running)
                sub = queue.pop(0)
                attempts[sub.key] += 1
                runs += 1
                running[slot] = _start(course, sub, slot, staging / f"run{runs}", progress)
                running[slot].claim = claim
            progress.show()
            time.sleep(POLL)
            for slot, worker in list(running.items()):
                status = worker.exit_status()
                if status is None:
                    continue
                del running[slot]
                worker.release()
                if _finish(course, worker, status, progress, log_path, failures) and \
                        attempts[worker.submission.key] < 2:
                    queue.append(worker.submission)
    finally:
        for worker in running.values():
            worker.stop()
    progress.show(final=True)
    log_times(progress.entries(), log_path)
    return failures


def _start(course, sub: Submission, slot: int, folder: pathlib.Path,
           progress: Progress) -> Worker:
    """nbgrader autograde of ``sub``, staged in a folder of its own."""
    target = folder / "submitted" / sub.student / sub.assignment
    target.mkdir(parents=True)
    for name, data in sub.files.items():
        (target / name).write_bytes(data)
    started = time.time()
    log = folder / "log.txt"
    pid = start_nbgrader(course, ["autograde", sub.assignment, "--create", "--force",
                                  f"--CourseDirectory.student_id={sub.student}",
                                  f"--CourseDirectory.submitted_directory={target.parents[1]}",
                                  "--log-level=INFO"], log,
                         env={"COURSETOOLS_PROGRESS": str(progress.file),
                              "COURSETOOLS_WORKER": str(slot)})
    return Worker(pid, slot, sub, folder, log, started)


def _finish(course, worker: Worker, status: int, progress: Progress,
            log_path: pathlib.Path, failures: dict) -> bool:
    """Log a finished worker and note whether it failed; True: worth another try."""
    sub = worker.submission
    append_log(log_path, f"nbgrader autograde {sub.student}/{sub.assignment}: exit status "
               f"{status}, {time.time() - worker.started:.2f} s", worker.log)
    if written_since(course, sub, worker.started):
        failures.pop(sub.key, None)
        return False
    text = worker.log.read_text(errors="replace")
    failures[sub.key] = failure_reason(text, worker.folder / "submitted" / sub.student /
                                       sub.assignment)
    return not progress.started_on(sub) or "database is locked" in failures[sub.key]


def log_times(entries: list[dict], log_path: pathlib.Path):
    """Seconds per notebook, slowest first, with where they went, into grading.log."""
    with open(log_path, "a") as log:
        log.write("\n==== seconds per notebook (kernel start included), slowest first ====\n")
        for e in sorted(entries, key=lambda e: -e["seconds"]):
            phases = ", ".join(f"{name} {seconds:.2f}"
                               for name, seconds in e.get("phases", {}).items())
            log.write(f"{e['seconds']:8.1f}  {e['student']}/{e['assignment']}/{e['notebook']}"
                      f"  {e['status']}{f'  ({phases})' if phases else ''}\n")


def failure_reason(log_text: str, folder: pathlib.Path) -> str:
    """The last line of the traceback nbgrader logged for ``folder``, or else its first
    error."""
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


def feedback(course: pathlib.Path, students: list[str], jobs: int, log_path: pathlib.Path):
    """generate_feedback for every autograded submission of ``students``, split into
    groups: one child per hundred pages or so, ``jobs`` at most."""
    preload()
    count = max(1, min(jobs, len(students) // 100))
    groups = [students[k::count] for k in range(count) if students[k::count]]
    with tempfile.TemporaryDirectory(prefix="feedback-") as tmp:
        running = {}                             # pid -> (k, its log)
        try:
            for k, group in enumerate(groups):
                others = sorted(set(students) - set(group))
                args = ["generate_feedback", "*", "--force", "--log-level=INFO"]
                if others:
                    args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
                log = pathlib.Path(tmp) / f"log{k}.txt"
                running[start_nbgrader(course, args, log)] = (k, log)
            for pid, (k, log) in sorted(running.items(), key=lambda item: item[1][0]):
                status = exit_status(pid, block=True)
                del running[pid]
                append_log(log_path, f"nbgrader generate_feedback, worker {k}: exit status "
                           f"{status}", log)
        finally:                                 # interrupted: no child outlives make grade
            for pid in running:
                os.kill(pid, signal.SIGTERM)
                exit_status(pid, block=True)

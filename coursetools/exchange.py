"""The nbgrader exchange, collected with its owners checked.

nbgrader's ``collect`` takes the newest folder ``inbound/<student>+<assignment>+<time>+<random>``
per student id without asking who wrote it, so ``nbgrader submit --student someone`` hands
in work under someone else's name. On a hub every student is a unix account, and the owner
of a submission's folder is the account that wrote it: a folder whose owner is not the
student it names (or that is not a real folder, or holds a notebook someone else wrote) is
an *impostor*. The collector here refuses it, copies it under ``refused/`` in the course
folder for the instructor to look at, reports it, and collects the newest genuine
submission of that student instead.

    python -m coursetools.exchange collect ASSIGNMENT [--course DIR]   # instead of nbgrader collect

The autograde service (:mod:`coursetools.hub.autograde`) collects with :func:`collect`;
``make grade`` calls :func:`refuse_impostors` on what ``nbgrader collect`` put in
``submitted/`` (it finds the inbound folder each submission came from by its time).
"""
import argparse
import dataclasses
import json
import os
import pathlib
import pwd
import shutil
import stat
import sys
import time

from nbgrader.utils import parse_utc

REFUSED = "refused"                 # in the course folder: impostors, kept for the instructor
REFUSED_LOG = "refused.jsonl"       # one line per refusal, in REFUSED/
# what a submission folder may hold that the grader reads; anything else stays behind
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
FILE_LIMIT = 20 * 1024 * 1024


@dataclasses.dataclass
class Inbound:
    """One folder of ``inbound/``: who it says it is from, and who wrote it."""
    name: str
    student: str
    assignment: str
    timestamp: str
    owner: str | None                # the account that owns the folder (None: unknown uid)
    problem: str | None = None       # why it is not the named student's own work

    @property
    def sort_key(self):
        try:
            return parse_utc(self.timestamp).timestamp()
        except (ValueError, OverflowError):
            return 0.0


def _account(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def examine(inbound: pathlib.Path, name: str) -> Inbound | None:
    """The folder ``inbound/name`` as an :class:`Inbound` (None: not a submission's name).

    Its ``problem`` says why it is refused: not a real folder, owned by another account than
    the student it names, or holding a file another account wrote."""
    parts = name.rsplit("+", 3)
    if len(parts) < 3:
        return None
    student, assignment, timestamp = parts[0], parts[1], parts[2]
    info = (inbound / name).lstat()
    entry = Inbound(name, student, assignment, timestamp, _account(info.st_uid))
    if not stat.S_ISDIR(info.st_mode):
        entry.problem = f"{name} is not a folder"
    elif entry.owner != student:
        entry.problem = (f"submitted as {student!r} by the account {entry.owner or info.st_uid!r}")
    else:
        try:
            for child in os.scandir(inbound / name):
                uid = child.stat(follow_symlinks=False).st_uid
                if uid != info.st_uid:
                    entry.problem = (f"{child.name} in it was written by the account "
                                     f"{_account(uid) or uid!r}, not by {student!r}")
                    break
        except OSError as err:
            entry.problem = f"cannot be read ({err.strerror})"
    return entry


def inbound_entries(inbound: pathlib.Path, assignment: str | None = None) -> list[Inbound]:
    """Every submission folder in ``inbound`` (of ``assignment``), oldest first."""
    entries = []
    for name in sorted(os.listdir(inbound)):
        entry = examine(inbound, name)
        if entry is not None and assignment in (None, entry.assignment):
            entries.append(entry)
    return sorted(entries, key=lambda e: (e.sort_key, e.name))


def _copy_regular(source: pathlib.Path, target: pathlib.Path):
    """Copy a regular file without following a link or blocking on a fifo."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError(f"{source.name} is not a file")
        data = handle.read(FILE_LIMIT + 1)
    if len(data) > FILE_LIMIT:
        raise ValueError(f"{source.name} is larger than {FILE_LIMIT // 2**20} MiB")
    target.write_bytes(data)


def copy_submission(source: pathlib.Path, target: pathlib.Path) -> list[str]:
    """Copy the notebooks and exchange files of a submission folder into ``target`` (made
    anew); returns what was left behind (links, folders, other files)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    left = []
    if source.is_symlink() or not source.is_dir():
        return [f"{source.name} (not a folder)"]
    for child in sorted(os.scandir(source), key=lambda c: c.name):
        path = pathlib.Path(child.path)
        if child.name.endswith(".ipynb") or child.name in EXCHANGE_FILES:
            try:
                _copy_regular(path, target / child.name)
                continue
            except (OSError, ValueError) as err:
                left.append(f"{child.name} ({err})")
                continue
        left.append(child.name)
    return left


def refuse(course: pathlib.Path, entry: Inbound, source: pathlib.Path, why: str) -> dict:
    """Keep an impostor's folder under ``refused/`` and log it; returns the log record."""
    kept = course / REFUSED / entry.name
    if source.is_symlink() or not source.is_dir():
        kept.parent.mkdir(parents=True, exist_ok=True)
        left = [f"{source.name} (not a folder: nothing copied)"]
    else:
        left = copy_submission(source, kept)
    record = {"time": time.time(), "folder": entry.name, "claimed": entry.student,
              "owner": entry.owner, "assignment": entry.assignment, "why": why,
              "kept": str(kept.relative_to(course)), "left_behind": left}
    with open(course / REFUSED / REFUSED_LOG, "a") as log:
        log.write(json.dumps(record) + "\n")
    return record


def refused_before(course: pathlib.Path) -> set[str]:
    log = course / REFUSED / REFUSED_LOG
    if not log.exists():
        return set()
    return {json.loads(line)["folder"] for line in log.read_text().splitlines() if line}


@dataclasses.dataclass
class Collected:
    collected: dict = dataclasses.field(default_factory=dict)  # (student, assignment) -> folder
    refused: list = dataclasses.field(default_factory=list)    # log records of this run


def collect(course: pathlib.Path, inbound: pathlib.Path, assignment: str | None = None,
            students: set | None = None, only: set | None = None) -> Collected:
    """Copy the newest genuine submission of every student (of ``assignment``; of
    ``students`` only, when given) into ``submitted/<student>/<assignment>/``; impostors go to
    ``refused/``. ``only``: the inbound folder names to consider (the service's new ones)."""
    result, seen = Collected(), refused_before(course)
    newest = {}
    for entry in inbound_entries(inbound, assignment):
        if students is not None and entry.student not in students:
            continue
        if entry.problem:
            if entry.name not in seen:
                result.refused.append(refuse(course, entry, inbound / entry.name,
                                             entry.problem))
                seen.add(entry.name)
            continue
        if only is None or entry.name in only:
            newest[(entry.student, entry.assignment)] = entry       # oldest first: last wins
    for (student, name), entry in newest.items():
        copy_submission(inbound / entry.name, course / "submitted" / student / name)
        result.collected[(student, name)] = entry.name
    return result


# ---- make grade: submissions that `nbgrader collect` took without looking -------------------

def nbgrader_config(course: pathlib.Path):
    """nbgrader's configuration as a command run in ``course`` sees it."""
    from nbgrader.apps.nbgraderapp import NbGraderApp
    here = os.getcwd()
    try:
        os.chdir(course)
        app = NbGraderApp()
        app.load_config_file()
        return app.config
    finally:
        os.chdir(here)


def exchange_of(course: pathlib.Path) -> tuple[pathlib.Path, str] | None:
    """(inbound folder, course id) from nbgrader's configuration as seen from ``course``
    (the accounts' jupyter config path, then the course's nbgrader_config.py), or None when
    no exchange is configured or its inbound folder cannot be listed."""
    try:
        config = nbgrader_config(course)
    except Exception:       # noqa: BLE001 (a broken configuration: make grade says so itself)
        return None
    root = config.get("Exchange", {}).get("root")
    course_id = config.get("CourseDirectory", {}).get("course_id")
    if not root or not course_id:
        return None
    inbound = pathlib.Path(root) / course_id / "inbound"
    return (inbound, course_id) if os.access(inbound, os.R_OK | os.X_OK) else None


def refuse_impostors(course: pathlib.Path) -> list[str]:
    """Before ``make grade`` reads ``submitted/``: every ``submitted/<student>/<assignment>/``
    whose inbound folder (the one with its student, assignment and time) is an impostor is
    moved to ``refused/``, and the newest genuine submission of that student is collected in
    its place. Returns the problems to report. Nothing happens without a readable exchange."""
    found = exchange_of(course)
    if found is None or not (course / "submitted").is_dir():
        return []
    inbound, _ = found
    entries = inbound_entries(inbound)
    by_origin = {(e.student, e.assignment, e.timestamp): e for e in entries}
    problems = []
    for folder in sorted((course / "submitted").glob("*/*/timestamp.txt")):
        submission = folder.parent
        student, assignment = submission.parent.name, submission.name
        try:
            timestamp = folder.read_text().strip()
        except OSError:
            continue
        entry = by_origin.get((student, assignment, timestamp))
        if entry is None or not entry.problem:
            continue
        if entry.name not in refused_before(course):
            refuse(course, entry, inbound / entry.name, entry.problem)
        shutil.rmtree(submission)
        again = collect(course, inbound, assignment, students={student})
        instead = ("its newest genuine submission was collected instead"
                   if (student, assignment) in again.collected else "no genuine submission")
        problems.append(f"submitted/{student}/{assignment}: REFUSED, {entry.problem}; kept in "
                        f"{REFUSED}/{entry.name}; {instead}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="collect submissions, refusing impostors")
    parser.add_argument("command", choices=["collect"])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=".")
    args = parser.parse_args(argv)
    course = pathlib.Path(args.course).resolve()
    found = exchange_of(course)
    if found is None:
        print("no readable exchange configured (Exchange.root, CourseDirectory.course_id)")
        return 1
    result = collect(course, found[0], args.assignment)
    for (student, assignment), name in sorted(result.collected.items()):
        print(f"collected {student}/{assignment} from {name}")
    for record in result.refused:
        print(f"REFUSED {record['folder']}: {record['why']}; kept in {record['kept']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

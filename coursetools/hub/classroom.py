"""A class on one machine: accounts, the exchange, the course folder and who may read what.

Every step of instructors/deployment.md is a function here; ``make hub``, the hub's
configuration (jupyterhub_config.py), the autograde service and tests/test_hub.py all call
these, so the guide describes code that runs. Everything lives under one folder (``root``:
``/srv/rnn-hub`` for ``make hub``) except the accounts and their homes:

    root/class.json          the class: accounts, course id, assignments, ports (root only)
    root/passwords.txt       the demo accounts' passwords (root only)
    root/state/              the hub's database and cookie secret (root only)
    root/exchange/           nbgrader's exchange: 1777; root/exchange/<course> 2775 instructor:course group
    root/etc/jupyter*/       the accounts' Jupyter configuration: common, instructor, student

The course folder is ``~instructor/<course id>``, mode 2770, group ``<prefix>course``: the
instructor and the grading service's account (``<prefix>grader``) are in that group, no
student is. nbgrader's ``groupshared`` mode keeps what either writes there (and the
exchange's ``inbound/``) readable and writable by that group only.
"""
import dataclasses
import grp
import json
import os
import pathlib
import pwd
import secrets
import shutil
import subprocess
import sys

PROJECT = pathlib.Path(__file__).resolve().parents[2]
BIN = PROJECT / ".venv" / "bin"
COURSE_ID = "rnn-course"
DEMO_PREFIX = "rnndemo-"
DEMO_STUDENTS = ("ada", "ben", "cy")
DEMO_ROOT = pathlib.Path("/srv/rnn-hub")
# the umask of each role's processes: students keep everything private; the instructor and
# the grader share the course folder through its group
UMASK = {"student": 0o077, "instructor": 0o007, "grader": 0o007}
# nbgrader's JupyterLab and server extensions that a student does not get
STUDENT_SERVER_OFF = ("nbgrader.server_extensions.formgrader",
                      "nbgrader.server_extensions.course_list")
STUDENT_LAB_OFF = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                   "@jupyter/nbgrader:create-assignment")
# JupyterLab asks every new user whether to fetch news from the internet: not on a class hub
EVERYONE_LAB_OFF = ("@jupyterlab/apputils-extension:announcements",)
DEFAULT_AUTOGRADE = {"per_hour": 3, "jobs": 1, "poll_seconds": 1.0, "settle_seconds": 2.0,
                     "assignments": {}}


@dataclasses.dataclass
class Classroom:
    root: pathlib.Path
    prefix: str = DEMO_PREFIX
    students: tuple = DEMO_STUDENTS
    assignments: tuple = ("ex01_rnn_forward",)
    course_id: str = COURSE_ID
    port: int = 8000                     # where people log in (the proxy)
    hub_port: int = 8081                 # the hub's own API, for the proxy and the servers
    proxy_api_port: int = 8001
    service_port: int = 10101            # the autograde service

    @property
    def instructor(self) -> str:
        return self.prefix + "instructor"

    @property
    def grader(self) -> str:
        return self.prefix + "grader"

    @property
    def group(self) -> str:
        return self.prefix + "course"

    @property
    def student_accounts(self) -> list[str]:
        return [self.prefix + name for name in self.students]

    @property
    def accounts(self) -> list[str]:
        return [self.instructor, self.grader, *self.student_accounts]

    @property
    def exchange(self) -> pathlib.Path:
        return self.root / "exchange"

    @property
    def inbound(self) -> pathlib.Path:
        return self.exchange / self.course_id / "inbound"

    @property
    def course(self) -> pathlib.Path:
        return pathlib.Path(f"~{self.instructor}").expanduser() / self.course_id

    @property
    def state(self) -> pathlib.Path:
        return self.root / "state"

    def config_dir(self, role: str) -> pathlib.Path:
        return self.root / "etc" / ("jupyter" if role == "common" else f"jupyter-{role}")

    def role(self, account: str) -> str:
        if account == self.instructor:
            return "instructor"
        if account == self.grader:
            return "grader"
        return "student"

    def save(self):
        data = {k: (str(v) if isinstance(v, pathlib.Path) else v)
                for k, v in dataclasses.asdict(self).items()}
        write_private(self.root / "class.json", json.dumps(data, indent=1))

    @classmethod
    def load(cls, root) -> "Classroom":
        data = json.loads((pathlib.Path(root) / "class.json").read_text())
        data["root"] = pathlib.Path(data["root"])
        data["students"], data["assignments"] = (tuple(data["students"]),
                                                 tuple(data["assignments"]))
        return cls(**data)


def write_private(path: pathlib.Path, text: str):
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


def environment(classroom: Classroom, account: str) -> dict:
    """The variables every process of ``account`` gets (single-user server, service, tests):
    the course's environment first on PATH (nbgrader starts `alembic` by name) and the
    Jupyter configuration of the account's role."""
    role = classroom.role(account)
    config = [classroom.config_dir("grader" if role == "grader" else role),
              classroom.config_dir("common")]
    return {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, config)),
            "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0",
            "RNNLAB_STATIC_OUTPUT": "1"}


def run_as_user(user: pwd.struct_passwd, command: str, env: dict, umask: int, cwd=None,
                stdin: str | None = None) -> subprocess.CompletedProcess:
    """``command`` in bash as ``user`` (setpriv: its uid, gid and groups), with exactly the
    environment ``env`` and the umask ``umask``, in ``cwd`` (default: its home)."""
    return subprocess.run(
        ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
         "env", "-i", *(f"{k}={v}" for k, v in env.items()),
         "bash", "-c", f"umask {umask:03o} && cd {cwd or user.pw_dir} && {command}"],
        input=stdin, capture_output=True, text=True, check=False)


def run_as(classroom: Classroom, account: str, command: str, cwd=None, stdin=None,
           check=True) -> subprocess.CompletedProcess:
    """``command`` in bash as ``account``, with its role's umask and environment."""
    user = pwd.getpwnam(account)
    env = {"HOME": user.pw_dir, "USER": account, "LOGNAME": account,
           **environment(classroom, account)}
    result = run_as_user(user, command, env, UMASK[classroom.role(account)], cwd, stdin)
    if check and result.returncode != 0:
        raise RuntimeError(f"as {account}: {command}\n{result.stdout[-3000:]}\n"
                           f"{result.stderr[-3000:]}")
    return result


# ---- step 1: the environment, reachable by every account ---------------------------------

# folders opened for the classes on this machine: {folder: {"mode": old mode, "classes": [roots]}}
# (two classes, e.g. make hub and the test, share the folders: the last one out closes them)
OPENED = pathlib.Path("/var/lib/rnn-course-hub/opened-folders.json")


def make_reachable(classroom: Classroom):
    """Let every account traverse (not list) the folders above the course's environment and
    the interpreter it was made from (a pyenv Python under /root, mode 700, cannot start for
    anyone else). The old modes are recorded; ``remove`` puts them back."""
    OPENED.parent.mkdir(parents=True, exist_ok=True)
    opened = json.loads(OPENED.read_text()) if OPENED.exists() else {}
    for place in (os.path.realpath(sys.base_prefix), str(PROJECT)):
        for folder in [*reversed(pathlib.Path(place).parents), pathlib.Path(place)]:
            mode = folder.stat().st_mode & 0o7777
            entry = opened.get(str(folder))
            if entry is None and not mode & 0o001:
                entry = opened[str(folder)] = {"mode": mode, "classes": []}
                folder.chmod(mode | 0o001)
            if entry is not None and str(classroom.root) not in entry["classes"]:
                entry["classes"].append(str(classroom.root))
    write_private(OPENED, json.dumps(opened, indent=1))


def close_reachable(classroom: Classroom):
    if not OPENED.exists():
        return
    opened = json.loads(OPENED.read_text())
    for folder, entry in list(opened.items()):
        if str(classroom.root) in entry["classes"]:
            entry["classes"].remove(str(classroom.root))
        if not entry["classes"]:
            if os.path.isdir(folder):
                os.chmod(folder, entry["mode"])
            del opened[folder]
    write_private(OPENED, json.dumps(opened, indent=1))


# ---- step 2: accounts with private homes ---------------------------------------------------

def add_accounts(classroom: Classroom, passwords: dict | None = None) -> dict:
    """The instructor, the grader and the students; homes 0700; the course group holds the
    instructor and the grader. Returns {account: password} (the grader gets none: it never
    logs in)."""
    passwords = dict(passwords or {})
    if not _group_exists(classroom.group):
        subprocess.run(["groupadd", classroom.group], check=True, capture_output=True)
    for account in classroom.accounts:
        try:
            pwd.getpwnam(account)
        except KeyError:
            subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
                            account], check=True, capture_output=True)
        pathlib.Path(pwd.getpwnam(account).pw_dir).chmod(0o700)
        if classroom.role(account) != "student":
            subprocess.run(["usermod", "--append", "--groups", classroom.group, account],
                           check=True, capture_output=True)
        if account != classroom.grader:
            passwords.setdefault(account, secrets.token_urlsafe(9))
    subprocess.run(["chpasswd"], input="".join(f"{a}:{p}\n" for a, p in passwords.items()),
                   text=True, check=True, capture_output=True)
    write_private(classroom.root / "passwords.txt",
                  "".join(f"{a} {p}\n" for a, p in passwords.items()))
    return passwords


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


# ---- step 3: the exchange and everyone's configuration ------------------------------------

def make_exchange(classroom: Classroom):
    """exchange/ 1777 (anyone creates, nobody renames or deletes another's entry); the
    course's folder in it belongs to the instructor and the course group from the start
    (setgid: inbound/ and feedback/ inherit the group)."""
    instructor = pwd.getpwnam(classroom.instructor)
    group = grp.getgrnam(classroom.group).gr_gid
    classroom.exchange.mkdir(parents=True, exist_ok=True)
    classroom.exchange.chmod(0o1777)
    course = classroom.exchange / classroom.course_id
    course.mkdir(exist_ok=True)
    os.chown(course, instructor.pw_uid, group)
    course.chmod(0o2775)


def write_configuration(classroom: Classroom):
    """The Jupyter configuration of each role (JUPYTER_CONFIG_PATH: role first, then common)."""
    common = classroom.config_dir("common")
    for role in ("common", "instructor", "grader", "student"):
        classroom.config_dir(role).mkdir(parents=True, exist_ok=True)
        classroom.config_dir(role).chmod(0o755)
    (common / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {classroom.course_id!r}\n"
        f"c.Exchange.root = {str(classroom.exchange)!r}\n")
    # the course's own settings (the sandbox, feedback without hidden tests' code) hold in
    # Formgrader too, whose server does not run in the course folder
    staff = ("c = get_config()  # noqa: F821\n"
             f"load_subconfig({str(classroom.course / 'nbgrader_config.py')!r})  # noqa: F821\n"
             f"c.CourseDirectory.root = {str(classroom.course)!r}\n"
             "# the course folder and inbound/ are shared by the instructor and the grader\n"
             "c.CourseDirectory.groupshared = True\n")
    for role in ("instructor", "grader"):
        (classroom.config_dir(role) / "nbgrader_config.py").write_text(staff)
    for role in ("common", "student"):
        off = EVERYONE_LAB_OFF + (STUDENT_LAB_OFF if role == "student" else ())
        (classroom.config_dir(role) / "labconfig").mkdir(exist_ok=True)
        (classroom.config_dir(role) / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": dict.fromkeys(off, True)}, indent=1))
    student = classroom.config_dir("student")
    (student / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": dict.fromkeys(STUDENT_SERVER_OFF, False)}},
        indent=1))
    for path in classroom.root.joinpath("etc").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


# ---- step 4: the course folder, the instructor's and the grader's only ---------------------

def make_course(classroom: Classroom, autograde: dict | None = None):
    """~instructor/<course>: 2770 instructor:course; the course's nbgrader settings and the
    solutions of the class's assignments; the release generated and put in the exchange;
    the autograde settings (autograde.json, the instructor edits it)."""
    instructor = pwd.getpwnam(classroom.instructor)
    group = grp.getgrnam(classroom.group).gr_gid
    # the grader may pass through the instructor's home to the course folder, not list it
    os.chown(instructor.pw_dir, instructor.pw_uid, group)
    os.chmod(instructor.pw_dir, 0o710)
    course = classroom.course
    course.mkdir(exist_ok=True)
    os.chown(course, instructor.pw_uid, group)
    course.chmod(0o2770)
    copies = " && ".join(f"cp -r {PROJECT}/solutions/{name} solutions/"
                         for name in classroom.assignments)
    run_as(classroom, classroom.instructor,
           f"cp {PROJECT}/nbgrader_config.py . && mkdir -p solutions && {copies}", cwd=course)
    settings = {**DEFAULT_AUTOGRADE, **(autograde or {})}
    settings.setdefault("assignments", {})
    run_as(classroom, classroom.instructor, "cat > autograde.json", cwd=course,
           stdin=json.dumps(settings, indent=1) + "\n")
    release(classroom, *classroom.assignments)
    # SQLite creates the gradebook 0644 whatever the umask: the grader writes it too
    (course / "gradebook.db").chmod(0o660)


def release(classroom: Classroom, *assignments: str):
    """Step 5, as the instructor in the course folder: ``nbgrader generate_assignment`` and
    ``nbgrader release_assignment`` of each assignment (in one process: nbgrader's start-up
    costs more than the work)."""
    run_as(classroom, classroom.instructor,
           f"python -m coursetools.hub.classroom release {' '.join(assignments)}",
           cwd=classroom.course)


def release_here(assignments):
    """generate_assignment then release_assignment, here (the course folder)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from coursetools.exchange import nbgrader_config
    config = nbgrader_config(pathlib.Path.cwd())
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for assignment in assignments:
        for step in (api.generate_assignment, api.release_assignment):
            if assignment in api.get_released_assignments() and step == api.release_assignment:
                continue
            result = step(assignment)
            if not result["success"]:
                raise SystemExit(f"{step.__name__} {assignment} failed:\n"
                                 f"{result.get('error', '')}\n{result.get('log', '')}")


def create(classroom: Classroom, passwords: dict | None = None,
           autograde: dict | None = None) -> dict:
    """Steps 1-5 in order; returns the passwords of the accounts that log in."""
    classroom.root.mkdir(parents=True, exist_ok=True)
    classroom.root.chmod(0o755)
    classroom.state.mkdir(exist_ok=True)
    classroom.state.chmod(0o700)
    classroom.save()
    make_reachable(classroom)
    passwords = add_accounts(classroom, passwords)
    make_exchange(classroom)
    write_configuration(classroom)
    make_course(classroom, autograde)
    return passwords


def remove(root: pathlib.Path) -> list[str]:
    """Undo ``create``: the class's accounts (with their homes and processes), its group,
    the folder modes changed, and ``root``. Nothing else. Returns what it removed."""
    root = pathlib.Path(root)
    if not (root / "class.json").exists():
        return []
    classroom = Classroom.load(root)
    removed = []
    for account in classroom.accounts:
        try:
            pwd.getpwnam(account)
        except KeyError:
            continue
        subprocess.run(["pkill", "--uid", account], capture_output=True, check=False)
        subprocess.run(["userdel", "--remove", "--force", account], capture_output=True,
                       check=False)
        removed.append(account)
    for group in (classroom.group, *classroom.accounts):
        if _group_exists(group):
            subprocess.run(["groupdel", group], capture_output=True, check=False)
    close_reachable(classroom)
    shutil.rmtree(root, ignore_errors=True)
    removed.append(str(root))
    return removed


if __name__ == "__main__":
    if sys.argv[1:2] == ["release"]:
        release_here(sys.argv[2:])

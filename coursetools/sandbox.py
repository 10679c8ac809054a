"""The sealed sandbox in which a graded notebook's kernel runs (bubblewrap, an allow-list).

The kernel sees a file system built from nothing, where nothing names the host's layout:

* the Python environment, read-only, at neutral paths: the interpreter's library at
  ``/opt/python`` (its ``lib/`` and the interpreter alone), the virtual environment's
  ``lib/`` at ``/opt/venv``, the readers' library at ``/opt/course/rnnlab``; the few files of
  the environment that name where it lives on the host (``pyvenv.cfg``, ``.pth`` files, the
  editable install's finder, the build's ``_sysconfigdata``) are shown rewritten to those paths;
* the system's shared libraries (``/usr/lib``, ``/usr/lib64``) and two programs that set
  the limits (``prlimit``, ``setpriv``), read-only;
* a minimal ``/etc`` written for the sandbox (``passwd`` and ``group`` naming the sandbox
  user, ``hosts``, and the linker's cache), a private ``/proc`` and a minimal ``/dev``;
* a writable scratch folder (the notebook's working folder ``/submission``, with read-only
  copies of the assignment's data files) and ``/tmp``: both memory file systems of a fixed
  size that vanish with the kernel;
* the folder of the kernel's Unix sockets at ``/run/kernel`` (how nbgrader talks to it) and
  its connection file at ``/run/connection.json``.

No course folder, no other clone of the course, no exchange, no home, no ``/srv`` or ``/var``,
no network (an empty network namespace), no environment variable of the grader but a short
allow-list. bwrap reads its arguments from a file descriptor (``--args``), so ``/proc/1/cmdline``
names no host folder either. The kernel runs as an unprivileged user (a dedicated uid when the
grader is root, the grader's own uid in a user namespace otherwise) without capabilities,
under ``prlimit``: address space, number of processes, file size, no core dumps.

What an assignment allows is declared in its source notebook's metadata
(:func:`allowed_libraries`); every other library that could do an exercise's work (PyTorch,
TensorFlow, Keras, JAX, rnnlab's answer modules) is *absent* from its sandbox: its folder holds
nothing but a stub that raises ``ModuleNotFoundError``.

The limits of a graded notebook (:data:`LIMITS`) live here and nowhere else.
"""
import ast
import contextlib
import dataclasses
import functools
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from coursetools.ownwork import ALLOWED, FORBIDDEN

PROJECT = pathlib.Path(__file__).resolve().parents[1]
LIBRARY = PROJECT / "rnnlab"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one graded notebook may use. ``nbgrader_config.py`` and the kernel manager read
    these; a test that needs a shorter limit sets it in its own configuration."""
    memory_mb: int = 3072          # address space of each kernel process (prlimit --as)
    total_memory_mb: int = 4096    # all of a kernel's processes together, its memory file
                                   # systems included (a cgroup, when grading as root)
    processes: int = 256           # processes and threads of the kernel's user (RLIMIT_NPROC)
    scratch_mb: int = 256          # the working folder and /tmp, each (memory file systems)
    shm_mb: int = 64               # /dev/shm
    file_mb: int = 256             # the largest file the kernel may write
    threads: int = 1               # NumPy/PyTorch/TensorFlow threads: grades independent of JOBS
    cell_timeout_s: int = 30       # one cell
    notebook_timeout_s: int = 300  # a whole notebook, kernel start included


LIMITS = Limits()
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

# where the kernel finds what it is given: neutral paths, the same on every host
SCRATCH = "/submission"                  # the notebook's working folder
PYTHON_INSIDE = "/opt/python"            # the interpreter's installation (lib/ and the binary)
VENV_INSIDE = "/opt/venv"                # the virtual environment (lib/ only)
COURSE_INSIDE = "/opt/course"            # the course's repository (rnnlab/ only)
SOCKETS_INSIDE = "/run/kernel"           # the kernel's Unix sockets
CONNECTION_INSIDE = "/run/connection.json"

OPT_OUT_VARIABLE = "GRADE_UNSANDBOXED"
# the only variables of the grader's environment a kernel gets
PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ", "PYTHONHASHSEED", "TF_CPP_MIN_LOG_LEVEL",
                    "RNNLAB_SCALE", "NBGRADER_EXECUTION")
TOOLS = tuple(shutil.which(tool, path="/usr/bin:/bin:/usr/sbin:/sbin") or f"/usr/bin/{tool}"
              for tool in ("prlimit", "setpriv"))
# the system's shared libraries; on a merged-/usr system /lib and /lib64 are links into /usr
SYSTEM_LIBRARIES = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32")
# the installed top-level folders of each library
LIBRARY_FOLDERS = {"torch": ("torch", "functorch", "torchgen"), "tensorflow": ("tensorflow",),
                   "keras": ("keras",), "jax": ("jax", "jaxlib")}
METADATA_KEY = "rnn_course"              # notebook metadata: {"allowed_libraries": [...]}
FIRST_UID = 2_000_000_000               # sandbox uids when grading as root: FIRST_UID + worker


def opted_out() -> bool:
    return os.environ.get(OPT_OUT_VARIABLE, "") not in ("", "0")


def privileged() -> bool:
    """Grading as root: bwrap runs without a user namespace and setpriv drops to a sandbox uid."""
    return os.geteuid() == 0


def sandbox_uid() -> int:
    """The uid a kernel runs as when the grader is root: one per worker of ``make grade``, so
    that a process limit counts one kernel's processes only."""
    return FIRST_UID + int(os.environ.get("COURSETOOLS_WORKER", "0"))


def sandbox_problem() -> str | None:
    """Why a sandbox cannot start here (bwrap or a tool missing, namespaces blocked), or None."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bwrap was not found on PATH: install bubblewrap (`make sandbox`, or "
                "`apt-get install -y bubblewrap`), or, at your own risk, grade without a "
                f"sandbox with {OPT_OUT_VARIABLE}=1")
    missing = [tool for tool in TOOLS if not os.access(tool, os.X_OK)]
    if missing:
        return f"{', '.join(missing)} missing (util-linux): the sandbox sets its limits with them"
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as probe_dir:
        probe = subprocess.run(
            bwrap_command(["/usr/bin/true" if os.path.exists("/usr/bin/true") else "/bin/true"],
                          private=pathlib.Path(probe_dir), binds=["/usr/bin/true"]),
            capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return (f"bwrap is installed but cannot create a sandbox here ({probe.stderr.strip()}); "
                "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1).")
    return None


def allowed_libraries(source_nb) -> list[str]:
    """What the assignment of ``source_nb`` (its source notebook, in ``solutions/``) declares
    it needs of the libraries that could do its work: names of :data:`FORBIDDEN` and
    ``rnnlab.<module>`` entries, from the notebook's metadata
    ``{"rnn_course": {"allowed_libraries": [...]}}``. Missing means none: the strictest
    sandbox. Never read from a submission."""
    declared = source_nb.get("metadata", {}).get(METADATA_KEY, {}).get("allowed_libraries", [])
    return [str(name) for name in declared]


def sandbox_forbids(source_nb) -> dict[str, list[str]]:
    """What the assignment's sandbox leaves out: every library of :data:`FORBIDDEN` it does not
    allow, and of rnnlab every module but the plumbing (:data:`ALLOWED`) and those it allows."""
    allowed = allowed_libraries(source_nb)
    return {"libraries": [name for name in FORBIDDEN if name not in allowed],
            "rnnlab_modules": sorted({name.split(".")[1] for name in allowed
                                      if name.startswith("rnnlab.")})}


def given_imports(source_nb) -> set[str]:
    """The modules the source notebook's given code and model answers import (its test cells
    aside): what its sandbox must hold, checked against the declaration by the tests."""
    used = set()
    for cell in source_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                used.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                used.add(node.module)
                used.update(f"{node.module}.{alias.name}" for alias in node.names)
    return used


@dataclasses.dataclass
class Layout:
    """How the host's Python environment appears in the sandbox."""
    python: str                           # the kernel's interpreter, inside
    prefixes: dict[str, str]              # {host folder: its path inside}, longest first
    binds: dict[str, str]                 # read-only {inside: host path}
    links: dict[str, str]                 # symlinks {inside: target}
    rewritten: dict[str, str]             # {inside: text} shown instead of a host file
    site: tuple[str, str] | None          # the venv's site-packages (host, inside)
    masked: list[str]                     # folders inside shown empty
    env: dict[str, str]


def _venv_home(venv: pathlib.Path) -> str | None:
    config = venv / "pyvenv.cfg"
    if not config.is_file():
        return None
    for line in config.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return value.strip()
    return None


@functools.lru_cache(maxsize=8)
def python_layout(kernel_python: str) -> Layout:
    """The interpreter's ``lib/`` and binary at :data:`PYTHON_INSIDE`, the venv's ``lib/`` at
    :data:`VENV_INSIDE` (with a ``pyvenv.cfg`` that points at the former), rnnlab at
    :data:`COURSE_INSIDE`; the environment's files that name host folders, rewritten."""
    venv = pathlib.Path(os.path.abspath(kernel_python)).parent.parent
    binary = os.path.realpath(kernel_python)
    home = _venv_home(venv)
    base = os.path.dirname(os.path.realpath(home) if home else os.path.dirname(binary))
    prefixes = {}
    for outside, inside in ((venv, VENV_INSIDE), (base, PYTHON_INSIDE), (PROJECT, COURSE_INSIDE),
                            (sys.base_prefix, PYTHON_INSIDE)):
        for variant in {os.path.abspath(outside), os.path.realpath(outside)}:
            prefixes.setdefault(variant, inside)
    prefixes = dict(sorted(prefixes.items(), key=lambda item: -len(item[0])))
    inside_binary = f"{PYTHON_INSIDE}/bin/{os.path.basename(binary)}"
    binds = {f"{PYTHON_INSIDE}/lib": os.path.join(base, "lib"), inside_binary: binary,
             f"{COURSE_INSIDE}/rnnlab": str(LIBRARY)}
    links, rewritten, site, python = {}, {}, None, inside_binary
    translate = functools.partial(_translate, prefixes=prefixes)
    if home:
        binds[f"{VENV_INSIDE}/lib"] = str(venv / "lib")
        python = f"{VENV_INSIDE}/bin/python"
        links[python] = inside_binary
        config = (venv / "pyvenv.cfg").read_text()
        rewritten[f"{VENV_INSIDE}/pyvenv.cfg"] = "".join(
            f"{line}\n" for line in (translate(line) for line in config.splitlines())
            if not line.startswith("command"))
        sites = sorted((venv / "lib").glob("python*/site-packages"))
        if sites:
            site = (str(sites[0]), translate(str(sites[0])))
            candidates = [*sites[0].glob("*.pth"), *sites[0].glob("__editable__*.py"),
                          *sites[0].glob("*.dist-info/direct_url.json")]
            for path in candidates:
                text = path.read_text(errors="replace")
                if translate(text) != text:
                    rewritten[translate(str(path))] = translate(text)
    for path in pathlib.Path(base, "lib").glob("python*/_sysconfigdata_*.py"):
        rewritten[translate(str(path))] = translate(path.read_text(errors="replace"))
    # the build's Makefile and scripts name the folders the interpreter was built in
    masked = [translate(str(p)) for p in pathlib.Path(base, "lib").glob("python*/config-*")]
    env = {"LD_LIBRARY_PATH": f"{PYTHON_INSIDE}/lib"}
    return Layout(python, prefixes, binds, links, rewritten, site, masked, env)


def _translate(text: str, prefixes: dict[str, str]) -> str:
    for outside, inside in prefixes.items():
        if outside != "/":
            text = text.replace(outside, inside)
    return text


ABSENT_STUB = ("raise ModuleNotFoundError(\"No module named {name!r}: this assignment's sandbox "
               "does not hold it\", name={name!r})\n")


def _absent(private: pathlib.Path, forbids: dict, layout: Layout) -> tuple[dict, list]:
    """Read-only binds {inside: host path} that leave the forbidden libraries' folders holding
    only a stub that raises ModuleNotFoundError (their metadata folders empty), and the
    rnnlab entries the sandbox keeps (None: all of it)."""
    binds = {}
    libraries = forbids.get("libraries", [])
    gone = {folder for name in libraries for folder in LIBRARY_FOLDERS.get(name, ())}
    if gone and layout.site:
        site, inside = layout.site
        stubs = private / "absent"
        (stubs / "empty").mkdir(parents=True, exist_ok=True)
        for entry in sorted(os.listdir(site)):
            name = entry.split("-")[0].split(".")[0]
            if name.lower() not in gone:
                continue
            path = os.path.join(site, entry)
            if os.path.isdir(path) and not entry.endswith((".dist-info", ".egg-info")):
                stub = stubs / name
                stub.mkdir(exist_ok=True)
                (stub / "__init__.py").write_text(ABSENT_STUB.format(name=name))
                for item in (stubs, stub, stub / "__init__.py"):
                    item.chmod(0o755 if item.is_dir() else 0o644)
                binds[f"{inside}/{entry}"] = str(stub)
            elif os.path.isdir(path):
                binds[f"{inside}/{entry}"] = str(stubs / "empty")
            else:
                binds[f"{inside}/{entry}"] = "/dev/null"
        (stubs / "empty").chmod(0o755)
        stubs.chmod(0o755)
    keep = None
    if "rnnlab" in libraries and layout.site and os.path.isdir(f"{layout.site[0]}/rnnlab"):
        raise RuntimeError("rnnlab is installed into site-packages (not editable from the "
                           "course's checkout): its answer modules cannot be left out of the "
                           "sandbox. Install it editable (`make venv`, `pip install -e .`)")
    if "rnnlab" in libraries:
        modules = {m.split(".")[1] for m in ALLOWED} | set(forbids.get("rnnlab_modules", []))
        keep = sorted(entry for entry in os.listdir(LIBRARY)
                      if entry.split(".")[0] in modules | {"__init__"})
    return binds, keep


def memory_cgroup(name: str, limit_mb: int) -> str | None:
    """A fresh memory cgroup (v2, or v1's memory controller) under the grader's own, capping
    all the processes of one kernel together at ``limit_mb`` (swap included), or None where
    the grader may not make one (not root, no writable cgroup file system)."""
    if not privileged():
        return None
    try:
        own = pathlib.Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in own:
        _, controllers, path = line.split(":", 2)
        if controllers == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            base, files = "/sys/fs/cgroup", {"memory.max": limit_mb, "memory.swap.max": 0}
        elif "memory" in controllers.split(","):
            base, files = "/sys/fs/cgroup/memory", {"memory.limit_in_bytes": limit_mb,
                                                    "memory.memsw.limit_in_bytes": limit_mb}
        else:
            continue
        folder = os.path.join(base + path, name)
        try:
            os.mkdir(folder)
            for file, mb in files.items():
                try:
                    with open(os.path.join(folder, file), "w") as handle:
                        handle.write(str(mb * 2**20))
                except OSError:
                    if file.startswith(("memory.max", "memory.limit_in_bytes")):
                        raise
            return folder
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
    return None


def write_etc(folder: pathlib.Path, uid: int, gid: int) -> dict[str, str]:
    """The sandbox's /etc, written into ``folder``: {path inside: file outside}."""
    folder.mkdir(exist_ok=True)
    files = {
        "passwd": f"root:x:0:0::/nonexistent:/usr/sbin/nologin\n"
                  f"student:x:{uid}:{gid}:graded notebook:/tmp:/usr/sbin/nologin\n",
        "group": f"root:x:0:\nstudent:x:{gid}:\n",
        "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    }
    mapping = {}
    for name, text in files.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)
        mapping[f"/etc/{name}"] = str(folder / name)
    if os.path.isfile("/etc/ld.so.cache"):
        mapping["/etc/ld.so.cache"] = "/etc/ld.so.cache"
    return mapping


def bwrap_command(cmd: list[str], *, private: pathlib.Path, python: str | None = None,
                  connection_file: str | None = None, binds: list[str] = (),
                  scratch_files: dict[str, str] | None = None, socket_dir: str | None = None,
                  forbids: dict | None = None, limits: Limits = LIMITS,
                  env: dict[str, str] | None = None) -> list[str]:
    """bwrap + prlimit (+ setpriv as root) around ``cmd``; bwrap's options are written to a
    file of ``private`` and read through ``--args``, so its command line names no host folder.

    ``private`` is a host folder of this sandbox (its /etc and rewritten files go there);
    ``python`` is the kernel's interpreter on the host: the environment is shown at neutral
    paths and ``cmd``'s host paths are translated; ``connection_file`` (in ``socket_dir``) is
    shown at :data:`CONNECTION_INSIDE` with its sockets at :data:`SOCKETS_INSIDE`;
    ``binds`` are extra read-only paths (the same inside); ``scratch_files`` {name: host file}
    are put read-only into the scratch folder; ``forbids`` (:func:`sandbox_forbids`) says
    which libraries are absent.
    """
    root = privileged()
    uid, gid = (sandbox_uid(), sandbox_uid()) if root else (os.getuid(), os.getgid())
    args = ["--die-with-parent", "--new-session"]
    if root:     # no user namespace: setpriv below becomes a real, unprivileged uid
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try"]
    else:        # the user namespace maps the grader's own (unprivileged) uid
        args += ["--unshare-all", "--unshare-user", "--disable-userns"]
    args += ["--hostname", "sandbox", "--clearenv"]
    links = {path: os.readlink(path) for path in (*SYSTEM_LIBRARIES, "/bin")
             if os.path.islink(path)}
    read_only = {path: path for path in (*SYSTEM_LIBRARIES, *TOOLS, *binds)
                 if os.path.exists(path) and path not in links}
    read_only.update(write_etc(private / "etc", uid, gid))
    read_only.update({f"{SCRATCH}/{name}": outside
                      for name, outside in (scratch_files or {}).items()})
    writable, empty, variables = {}, [], {}
    translate = {}
    if python:
        layout = python_layout(python)
        absent, keep = _absent(private, forbids or {}, layout)
        rnnlab = layout.binds[f"{COURSE_INSIDE}/rnnlab"]
        read_only.update({k: v for k, v in layout.binds.items() if k != f"{COURSE_INSIDE}/rnnlab"})
        if keep is None:
            read_only[f"{COURSE_INSIDE}/rnnlab"] = rnnlab
        else:            # rnnlab holds the modules the assignment allows, nothing else
            read_only.update({f"{COURSE_INSIDE}/rnnlab/{entry}": os.path.join(rnnlab, entry)
                              for entry in keep})
        files = private / "files"
        files.mkdir(exist_ok=True)
        for number, (inside, text) in enumerate(sorted(layout.rewritten.items())):
            (files / str(number)).write_text(text)
            (files / str(number)).chmod(0o644)
            read_only[inside] = str(files / str(number))
        files.chmod(0o755)
        read_only.update(absent)
        links.update(layout.links)
        empty += layout.masked
        variables.update(layout.env)
        translate = dict(layout.prefixes)
    if socket_dir:
        writable[SOCKETS_INSIDE] = socket_dir
        translate = {socket_dir: SOCKETS_INSIDE, **translate}
    if connection_file:
        with open(connection_file) as handle:
            info = json.load(handle)
        if isinstance(info.get("ip"), str) and socket_dir:
            info["ip"] = info["ip"].replace(socket_dir, SOCKETS_INSIDE)
        (private / "connection.json").write_text(json.dumps(info))
        (private / "connection.json").chmod(0o644)
        read_only[CONNECTION_INSIDE] = str(private / "connection.json")
        translate = {connection_file: CONNECTION_INSIDE, **translate}
    program = cmd[0] if cmd else ""
    cmd = [_translate(arg, translate) for arg in cmd]
    if python and os.path.abspath(python) == os.path.abspath(program):
        cmd[0] = layout.python
    mib = 1024 * 1024
    size = str(limits.scratch_mb * mib)
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.shm_mb * mib), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
             "--size", size, "--perms", "1777", "--tmpfs", SCRATCH]
    # bwrap would create the folders leading to a mount point with mode 0700 (as root):
    # make them traversable, and nothing more
    tmpfs = {"/", "/tmp", "/dev", "/dev/shm", "/proc", SCRATCH}
    mounted = [*read_only, *writable, *links]
    parents = sorted({str(parent) for inside in mounted
                      for parent in pathlib.PurePath(inside).parents} - tmpfs)
    # a parent that is itself mounted (a folder bound whole) is not made by bwrap
    covered = [inside for inside in read_only if os.path.isdir(read_only[inside])]
    parents = [p for p in parents if not any(p == c or p.startswith(c + "/") for c in covered)]
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for inside in sorted(read_only, key=lambda path: (path.count("/"), path)):
        args += ["--ro-bind", read_only[inside], inside]
    for inside, outside in writable.items():
        args += ["--bind", outside, inside]
    for folder in empty:
        args += ["--perms", "0755", "--tmpfs", folder, "--remount-ro", folder]
    for link, target in links.items():
        args += ["--symlink", target, link]
    variables.update({name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ})
    variables.update({"HOME": "/tmp", "USER": "student", "LOGNAME": "student",
                      "MPLCONFIGDIR": "/tmp", "PATH": "/usr/bin", "PYTHONDONTWRITEBYTECODE": "1",
                      **{name: str(limits.threads) for name in THREAD_VARIABLES}, **(env or {})})
    for name, value in variables.items():
        args += ["--setenv", name, value]
    args += ["--chdir", SCRATCH, "--remount-ro", "/"]
    options = private / "bwrap.args"
    options.write_bytes(b"".join(arg.encode() + b"\0" for arg in args))
    options.chmod(0o600)
    command = [TOOLS[0], f"--as={limits.memory_mb * mib}", f"--nproc={limits.processes}",
               f"--fsize={limits.file_mb * mib}", "--core=0", "--"]
    if root:
        command += [TOOLS[1], f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                    "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    # the shell opens the options' file as descriptor 3 and becomes bwrap
    return ["/bin/sh", "-c", 'options=$1; shift; exec "$0" --args 3 "$@" 3< "$options"',
            shutil.which("bwrap") or "bwrap", str(options), "--", *command, *cmd]

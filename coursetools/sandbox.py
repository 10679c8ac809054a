"""The sealed sandbox in which a graded notebook's kernel runs (bubblewrap, an allow-list).

The kernel sees a file system built from nothing: a private root holding only

* the Python environment, read-only: the interpreter's installation, the virtual
  environment of the kernel, and the readers' library ``rnnlab/`` (which the environment's
  editable install points at); nothing else of the folders these live in;
* the system's shared libraries (``/usr/lib``, ``/usr/lib64``) and two programs that set
  the limits (``prlimit``, ``setpriv``), read-only;
* a minimal ``/etc`` written for the sandbox (``passwd`` and ``group`` naming the sandbox
  user, ``hosts``, and the linker's cache), a private ``/proc`` and a minimal ``/dev``;
* a writable scratch folder (the notebook's working folder, with read-only copies of the
  assignment's data files) and ``/tmp``: both memory file systems of a fixed size that vanish
  with the kernel;
* the folder of the kernel's Unix sockets (how nbgrader talks to it).

No course folder, no other clone of the course, no exchange, no home, no ``/srv`` or ``/var``
(of the folder the environment lives in, only the environment and ``rnnlab``), no network (an empty network namespace), no environment variable of the grader
but a short allow-list. The kernel runs as an unprivileged user (a dedicated uid when the
grader is root, the grader's own uid in a user namespace otherwise) without capabilities,
under ``prlimit``: address space, number of processes, file size, no core dumps.
"""
import ast
import contextlib
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile

PROJECT = pathlib.Path(__file__).resolve().parents[1]
LIBRARY = PROJECT / "rnnlab"
SCRATCH = "/submission"                  # the notebook's working folder inside the sandbox
INSTALL_HINT = ("bubblewrap is required to grade safely: install it with "
                "`apt-get install -y bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`; "
                "or, at your own risk, grade without a sandbox with GRADE_UNSANDBOXED=1")
OPT_OUT_VARIABLE = "GRADE_UNSANDBOXED"
# the only variables of the grader's environment a kernel gets
PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ", "PYTHONHASHSEED", "TF_CPP_MIN_LOG_LEVEL",
                    "RNNLAB_SCALE", "NBGRADER_EXECUTION")
TOOLS = tuple(shutil.which(tool, path="/usr/bin:/bin:/usr/sbin:/sbin") or f"/usr/bin/{tool}"
              for tool in ("prlimit", "setpriv"))
# the system's shared libraries; on a merged-/usr system /lib and /lib64 are links into /usr
SYSTEM_LIBRARIES = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32")
# "Forbidden means absent": the installed folders of each library an assignment forbids are
# not in its sandbox at all (and rnnlab holds only the modules it allows), so importing one
# fails with ModuleNotFoundError however the code reaches for it.
LIBRARY_FOLDERS = {"torch": ("torch", "functorch", "torchgen"), "tensorflow": ("tensorflow",),
                   "keras": ("keras",), "jax": ("jax", "jaxlib")}
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
        return "bwrap was not found on PATH. " + INSTALL_HINT
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


def environment_paths(kernel_python: str) -> list[str]:
    """The folders the kernel's Python needs: interpreter installation, venv(s), rnnlab."""
    venv = os.path.dirname(os.path.dirname(os.path.abspath(kernel_python)))
    interpreter = os.path.dirname(os.path.dirname(os.path.realpath(kernel_python)))
    paths = [sys.base_prefix, sys.prefix, venv, interpreter, str(LIBRARY)]
    return [p for p in dict.fromkeys(os.path.realpath(p) for p in paths) if os.path.isdir(p)]


def sandbox_forbids(source_nb) -> dict[str, list[str]]:
    """What an assignment's sandbox leaves out: torch, TensorFlow, Keras, JAX and rnnlab's
    answer modules, except what the source notebook's own given code or model answers import
    (so an exercise written in the course's style needs no entry anywhere). The decision is
    read from the source notebook (solutions/), never from a submission."""
    from coursetools.ownwork import FORBIDDEN
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
    return {"libraries": [name for name in FORBIDDEN
                          if name == "rnnlab" or not any(u.split(".")[0] == name for u in used)],
            "rnnlab_modules": sorted({u.split(".")[1] for u in used if u.startswith("rnnlab.")})}


def masked_folders(forbids: dict) -> dict[str, list[str]]:
    """{folder: the entries of it the sandbox keeps} for the site-packages folder and rnnlab,
    from :func:`sandbox_forbids`."""
    from coursetools.ownwork import ALLOWED
    masks = {}
    libraries = forbids.get("libraries", [])
    gone = {folder for name in libraries for folder in LIBRARY_FOLDERS.get(name, ())}
    if gone:
        site = sysconfig.get_paths()["purelib"]
        masks[os.path.realpath(site)] = [
            entry for entry in sorted(os.listdir(site))
            if entry.split("-")[0].split(".")[0].lower() not in gone]
    if "rnnlab" in libraries:
        modules = {m.split(".")[1] for m in ALLOWED} | set(forbids.get("rnnlab_modules", []))
        masks[str(LIBRARY)] = sorted(entry for entry in os.listdir(LIBRARY)
                                     if entry.split(".")[0] in modules | {"__init__"})
    return masks


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


def bwrap_command(cmd: list[str], *, private: pathlib.Path, binds: list[str] = (),
                  scratch_files: dict[str, str] | None = None, socket_dir: str | None = None,
                  memory_mb: int = 3072, processes: int = 256, scratch_mb: int = 256,
                  file_mb: int = 256, env: dict[str, str] | None = None,
                  masks: dict[str, list[str]] | None = None) -> list[str]:
    """bwrap + prlimit (+ setpriv as root) around ``cmd``.

    ``private`` is a host folder of this sandbox (its /etc files are written there);
    ``binds`` are extra read-only folders or files (the Python environment);
    ``scratch_files`` {name: host file} are put read-only into the scratch folder;
    ``socket_dir`` is bound writable (the kernel's Unix sockets);
    ``masks`` {folder: entries} shows only those entries of each folder (read-only).
    """
    root = privileged()
    uid, gid = (sandbox_uid(), sandbox_uid()) if root else (os.getuid(), os.getgid())
    args = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session"]
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
    read_only.update({inside: outside
                      for inside, outside in write_etc(private / "etc", uid, gid).items()})
    read_only.update({f"{SCRATCH}/{name}": outside
                      for name, outside in (scratch_files or {}).items()})
    writable = {socket_dir: socket_dir} if socket_dir else {}
    size = str(scratch_mb * 1024 * 1024)
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(64 * 1024 * 1024), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
             "--size", size, "--perms", "1777", "--tmpfs", SCRATCH]
    # bwrap would create the folders leading to a mount point with mode 0700 (as root):
    # make them traversable, and nothing more
    tmpfs = {"/", "/tmp", "/dev", "/dev/shm", "/proc", SCRATCH}
    parents = sorted({str(parent) for inside in (*read_only, *writable)
                      for parent in pathlib.PurePath(inside).parents} - tmpfs)
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for inside, outside in read_only.items():
        args += ["--ro-bind", outside, inside]
    for inside, outside in writable.items():
        args += ["--bind", outside, inside]
    for folder, keep in (masks or {}).items():          # an empty folder, then what it keeps
        args += ["--perms", "0755", "--tmpfs", folder]
        for entry in keep:
            args += ["--ro-bind", os.path.join(folder, entry), os.path.join(folder, entry)]
        args += ["--remount-ro", folder]
    for link, target in links.items():
        args += ["--symlink", target, link]
    variables = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    variables.update({"HOME": "/tmp", "USER": "student", "LOGNAME": "student",
                      "MPLCONFIGDIR": "/tmp", "PATH": "/usr/bin", "PYTHONDONTWRITEBYTECODE": "1",
                      **(env or {})})
    for name, value in variables.items():
        args += ["--setenv", name, value]
    args += ["--chdir", SCRATCH, "--remount-ro", "/"]
    mib = 1024 * 1024
    args += ["--", TOOLS[0], f"--as={memory_mb * mib}", f"--nproc={processes}",
             f"--fsize={file_mb * mib}", "--core=0", "--"]
    if root:
        args += [TOOLS[1], f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return args + list(cmd)

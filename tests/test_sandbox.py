"""The grading sandbox, seen from inside a kernel that runs in it: nothing of the host's layout
shows, and what an assignment does not declare is absent (coursetools/sandbox.py)."""
import json
import os
import sys
import tempfile

import nbformat
import pytest
from course import ASSIGNMENTS, ROOT
from test_grading_helpers import require_sandbox

from coursetools.ownwork import ALLOWED, FORBIDDEN
from coursetools.sandbox import allowed_libraries, given_imports, sandbox_forbids

LOOK_AROUND = r'''
import json, os, sys
import numpy, rnnlab.data

def read(path):
    try:
        return open(path, "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError as err:
        return f"unreadable: {err}"

# /proc/self/mountinfo: the mount point (5th field) of each mount
mounts = [line.split()[4] for line in read("/proc/self/mountinfo").splitlines()]
print(json.dumps({"/proc/1/cmdline": read("/proc/1/cmdline"),
                  "/proc/self/cmdline": read("/proc/self/cmdline"),
                  "/proc/self/environ": read("/proc/self/environ"),
                  "mount points": mounts, "os.environ": dict(os.environ), "sys.path": sys.path,
                  "sys.executable": sys.executable, "prefixes": [sys.prefix, sys.base_prefix],
                  "module files": [numpy.__file__, rnnlab.data.__file__], "cwd": os.getcwd()}))
'''

TRY_IMPORTS = r'''
import importlib, json
outcome = {}
for name in NAMES:
    try:
        importlib.import_module(name)
        outcome[name] = "imported"
    except ImportError as err:
        outcome[name] = type(err).__name__
print(json.dumps(outcome))
'''


def run_in_sandbox(code: str, source_nb, folder) -> dict:
    """Run ``code`` in a sandboxed kernel set up as autograde sets it up for ``source_nb``
    (working folder ``folder``); the JSON it printed."""
    from nbclient import NotebookClient

    from coursetools.grading import SandboxedKernelManager
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    from jupyter_core.utils import run_sync

    km = SandboxedKernelManager(kernel_name="python3")
    km.forbids = sandbox_forbids(source_nb)
    try:
        NotebookClient(nb, km=km, timeout=120,
                       resources={"metadata": {"path": str(folder)}}).execute()
    finally:   # nbclient leaves a kernel it was given running: stop it, and its private folder
        run_sync(km.shutdown_kernel)(now=True)
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def source(slug: str):
    return nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4)


def host_paths(course_folder) -> list[str]:
    """Folders of this host that a kernel in the sandbox must not be able to name."""
    candidates = {str(ROOT), os.path.realpath(ROOT), str(course_folder),
                  os.path.realpath(course_folder), sys.prefix, os.path.realpath(sys.prefix),
                  sys.base_prefix, os.path.realpath(sys.base_prefix),
                  os.path.join(tempfile.gettempdir(), "nbgrader-kernel-")}
    # a system interpreter lives in /usr, which the sandbox shows (its shared libraries)
    return sorted(path for path in candidates if path not in ("/", "/usr", "/usr/local"))


def test_the_sandbox_shows_no_host_path(tmp_path):
    require_sandbox()
    course = tmp_path / "course" / "submitted" / "alice" / "ex01_rnn_forward"
    course.mkdir(parents=True)
    (course / "data.txt").write_text("a data file beside the notebook\n")
    seen = run_in_sandbox(LOOK_AROUND, source("ex01_rnn_forward"), course)
    assert seen["cwd"] == "/submission"
    assert seen["sys.executable"].startswith("/opt/"), seen["sys.executable"]
    for what, value in seen.items():
        text = json.dumps(value)
        for path in host_paths(course):
            assert path not in text, f"{what} inside the sandbox names the host's {path}: {text}"


def test_an_assignment_declares_what_its_sandbox_holds():
    """Every source notebook says which of the libraries that could do its work it allows,
    names only those, and its given code imports nothing it does not declare (it would fail
    in its own sandbox)."""
    rnnlab_modules = {p.stem for p in (ROOT / "rnnlab").iterdir() if not p.name.startswith("_")}
    for slug in ASSIGNMENTS:
        nb = source(slug)
        assert "allowed_libraries" in nb.metadata.get("rnn_course", {}), (
            f"{slug}: declare the libraries its sandbox holds in the notebook's metadata, "
            '{"rnn_course": {"allowed_libraries": [...]}}')
        allowed = allowed_libraries(nb)
        for name in allowed:
            assert name in FORBIDDEN or (name.startswith("rnnlab.")
                                         and name.split(".")[1] in rnnlab_modules), (slug, name)
        forbids = sandbox_forbids(nb)
        for module in given_imports(nb):
            top, _, rest = module.partition(".")
            if top in forbids["libraries"] and top != "rnnlab":
                pytest.fail(f"{slug}: its given code imports {module}, not declared")
            if top == "rnnlab" and rest:
                sub = rest.split(".")[0]
                kept = {m.split(".")[1] for m in ALLOWED} | set(forbids["rnnlab_modules"])
                assert sub in kept or sub not in rnnlab_modules, (
                    f"{slug}: its given code imports rnnlab.{sub}, not declared")


@pytest.mark.parametrize(("slug", "expected"), [
    ("ex01_rnn_forward", {"torch": "ModuleNotFoundError", "tensorflow": "ModuleNotFoundError",
                          "keras": "ModuleNotFoundError", "torch.nn": "ModuleNotFoundError",
                          "functorch": "ModuleNotFoundError",
                          "rnnlab.numpy_nets": "ModuleNotFoundError",
                          "rnnlab.torch_models": "ModuleNotFoundError",
                          "rnnlab.data": "imported", "sklearn": "imported"}),
    ("ex05_gated_cells", {"torch": "imported", "torch.nn": "imported",
                          "tensorflow": "ModuleNotFoundError", "keras": "ModuleNotFoundError",
                          "rnnlab.numpy_nets": "ModuleNotFoundError",
                          "rnnlab.torch_models": "ModuleNotFoundError"}),
])
def test_what_an_assignment_does_not_declare_is_absent(tmp_path, slug, expected):
    require_sandbox()
    code = f"NAMES = {sorted(expected)!r}\n" + TRY_IMPORTS + r'''
import glob, sys
site = [p for p in sys.path if p.endswith("site-packages")][0]
print(json.dumps({**outcome, "torch files": len(glob.glob(site + "/torch/**", recursive=True))}))
'''
    seen = run_in_sandbox(code, source(slug), tmp_path)
    files = seen.pop("torch files")
    assert seen == expected
    if "torch" not in allowed_libraries(source(slug)):
        assert files <= 2, f"torch's folder holds {files} entries: only its stub may be there"

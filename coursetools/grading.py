"""Grading student notebooks safely: a sandboxed kernel for ``nbgrader autograde`` and
feedback that reports hidden tests' outcomes without their code.

nbgrader runs a submission with the grader's own rights, so a notebook could read the
solutions or ``gradebook.db``, overwrite files, use the network or eat the machine's memory.
Here the kernel of every graded notebook starts inside bubblewrap (``bwrap``):

* the course folder and the project folder are hidden behind empty tmpfs mounts (so
  ``solutions/``, ``gradebook.db``, ``submitted/`` and other students' work are invisible);
  only the Python environment and ``rnnlab`` come back, read-only;
* the whole file system is read-only except the notebook's own folder and a private /tmp;
* the kernel has its own, empty network namespace (no loopback to the host, no internet);
  it talks to nbgrader through Unix sockets in a private folder (ZeroMQ ``ipc`` transport);
* ``prlimit`` caps the address space, so a huge allocation raises ``MemoryError`` inside the
  notebook instead of exhausting the machine.

Used from ``nbgrader_config.py``: ``Autograde.autograde_preprocessors`` runs
:class:`SandboxedExecute` instead of nbgrader's ``Execute`` (it also scores a notebook whose
kernel died cell by cell instead of dropping it), ``Autograde.sanitize_preprocessors`` runs
:class:`RestoreDeletedCells` (deleted test cells come back even next to a deleted answer), and
``GenerateFeedback`` runs :class:`HideHiddenTests`. The guide is ``instructors/grading.md``.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Integer, List, Unicode

PROJECT = pathlib.Path(__file__).resolve().parents[1]
INSTALL_HINT = ("bubblewrap is required to grade safely: install it with "
                "`apt-get install -y bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`; "
                "or, at your own risk, grade without a sandbox with GRADE_UNSANDBOXED=1")
OPT_OUT_VARIABLE = "GRADE_UNSANDBOXED"


def sandbox_problem() -> str | None:
    """Why a sandbox cannot start here (bwrap missing or user namespaces blocked), or None."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap was not found on PATH. " + INSTALL_HINT
    probe = subprocess.run([bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                            "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return (f"bwrap is installed but cannot create a sandbox here ({probe.stderr.strip()}); "
                "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1).")
    return None


def opted_out() -> bool:
    return os.environ.get(OPT_OUT_VARIABLE, "") not in ("", "0")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs inside bwrap, reached over Unix sockets."""

    memory_limit_mb = Integer(3072, help="address-space limit of the kernel (MiB)").tag(config=True)
    hidden_paths = List(Unicode(), help="extra folders to hide from the kernel").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Sockets and connection file live in a private folder bound into the sandbox.
        self._socket_dir = tempfile.mkdtemp(prefix="nbgrader-kernel-")
        self.transport = "ipc"
        self.connection_file = os.path.join(self._socket_dir, "kernel.json")
        self.ip = os.path.join(self._socket_dir, "socket")

    def _hidden(self, cwd: str) -> list[str]:
        """Folders replaced by empty tmpfs: the course root, the project, home, extra ones."""
        hidden = {str(PROJECT), os.path.expanduser("~"),
                  *(os.path.realpath(p) for p in self.hidden_paths)}
        hidden.discard(cwd)
        return sorted(p for p in hidden if p and p != "/" and os.path.isdir(p))

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        # A signal sent to bwrap's process group does not reach the kernel inside its pid
        # namespace: interrupt it with a message on the control channel instead.
        self.kernel_spec.interrupt_mode = "message"
        cwd = os.path.realpath(self._launch_args.get("cwd") or os.getcwd())
        args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent",
                "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        hidden = self._hidden(cwd)
        for path in hidden:
            args += ["--tmpfs", path]
        # Bring back, read-only, what the kernel needs: the environment (also when the
        # kernel's python lives in another, e.g. a symlinked, venv) and rnnlab.
        environments = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.dirname(cmd[0]))]
        for path in dict.fromkeys((*environments, str(PROJECT / "rnnlab"))):
            args += ["--ro-bind", path, path]
        args += ["--bind", self._socket_dir, self._socket_dir, "--bind", cwd, cwd,
                 "--chdir", cwd, "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp",
                 # its parent pid differs in the new pid namespace: bwrap ends it instead
                 "--unsetenv", "JPY_PARENT_PID"]
        for path in hidden:             # the empty stand-ins are read-only too
            args += ["--remount-ro", path]
        limit = self.memory_limit_mb * 1024 * 1024
        return args + ["prlimit", f"--as={limit}", "--core=0", "--"] + cmd

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the sandbox; refuses to run without one."""

    sandbox = Bool(True, help="run kernels in bwrap (opt out: GRADE_UNSANDBOXED=1)").tag(config=True)

    def __init__(self, *args, **kwargs):
        use_sandbox = kwargs.pop("sandbox", None)
        super().__init__(*args, **kwargs)
        if use_sandbox is not None:
            self.sandbox = use_sandbox
        if opted_out():
            self.log.warning("%s is set: grading WITHOUT a sandbox; submissions run with "
                             "your rights", OPT_OUT_VARIABLE)
            self.sandbox = False
        if self.sandbox:
            problem = sandbox_problem()
            if problem:
                raise RuntimeError("refusing to grade: " + problem)
            self.kernel_manager_class = SandboxedKernelManager

    def preprocess_cell(self, cell, resources, index):
        self._cell_index = index
        return super().preprocess_cell(cell, resources, index)

    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb``; if the kernel dies (``os._exit``, ``exit()``, a segfault, the memory
        limit), every cell from the one that killed it on gets an error output, so its tests
        score 0 while the cells that ran before keep their points. Without this nbgrader would
        drop the whole submission, or count a test cell that never ran as passed."""
        self._cell_index = 0
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:
            self.log.warning("the kernel died at cell %d; the cells from there on score 0",
                             self._cell_index)
            for cell in nb.cells[self._cell_index:]:
                if cell.cell_type == "code":
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="DeadKernelError",
                        evalue="the kernel died before this cell finished",
                        traceback=["DeadKernelError: the kernel died before this cell finished"]))
            return nb, resources


class RestoreDeletedCells(OverwriteCells):
    """nbgrader's OverwriteCells, but a deleted test cell is put back even when the cell
    before it (say, the answer it tests) was deleted too; nbgrader 0.9.6 then fails the whole
    submission with a KeyError. The test cell goes after the nearest earlier cell that is still
    there, so it runs and scores 0 for the missing answer."""

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = source_nb.source_cells
        order = [cell.name for cell in source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): index
                       for index, cell in enumerate(nb.cells)}
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook",
                             grade_cell.name)
            position = order.index(grade_cell.name)
            cell = self.missing_cell_transform(source_cells[position], grade_cell.max_score,
                                               is_solution=grade_cell.name in solution_ids)
            before = [present[name] for name in order[:position] if name in present]
            nb.cells.insert(max(before) + 1 if before else 0, cell)
        return nb, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows whether hidden tests passed, never their code.

    In every cell holding a ``### BEGIN HIDDEN TESTS`` region the region is removed (as
    nbgrader's ``ClearHiddenTests`` does for releases) and an error output is cut down to its
    name and message, because a traceback quotes the failing source lines.
    """

    # accepted (and unused) like GetGrades does, so the feedback exporter's setting of the
    # same name does not log a "not recognized" warning
    display_data_priority = List(Unicode()).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        clear = ClearHiddenTests(enforce_metadata=False)
        clear._remove_hidden_test_region(cell)
        cell.source = cell.source.rstrip() + "\n# (hidden tests ran here; their code is not shown)"
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources

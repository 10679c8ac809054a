"""Grading student notebooks safely: nbgrader's autograde with every kernel in the sealed
sandbox of :mod:`coursetools.sandbox`, a time limit per notebook, and feedback that reports
hidden tests' outcomes without their code and written answers as "not graded yet".

Used from ``nbgrader_config.py``: ``Autograde.autograde_preprocessors`` runs
:class:`SandboxedExecute` instead of nbgrader's ``Execute`` (it also scores a notebook whose
kernel died, or that ran past its time limit, cell by cell instead of dropping it),
``Autograde.sanitize_preprocessors`` runs :class:`RestoreDeletedCells` (deleted test cells
come back even next to a deleted answer), ``GenerateFeedback`` runs :class:`HideHiddenTests`
and :class:`MarkUngraded` and writes pages with :class:`FeedbackExporter`. The orchestration
(what is graded, in how many processes, the results table) is :mod:`coursetools.grade`; the
guide is ``instructors/grading.md``.
"""
import collections
import dataclasses
import json
import math
import os
import pathlib
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time

import nbformat
import nbgrader
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbconvert.exporters import HTMLExporter
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Dict, Integer, List, Unicode, default

from coursetools.launch import given_by_the_course
from coursetools.sandbox import (
    LIMITS,
    OPT_OUT_VARIABLE,
    bwrap_command,
    memory_cgroup,
    opted_out,
    privileged,
    sandbox_forbids,
    sandbox_problem,
    sandbox_uid,
)
from coursetools.verdicts import (
    ANSWER_LIMIT,
    Kernel,
    KernelGone,
    StudentError,
    TrustedNotebook,
    is_test_cell,
)

TAIL_BYTES = 64 * 1024                     # of the kernel's own stdout/stderr, kept to explain a death
TIME_LIMIT_ERROR = "NotebookTimeLimit"     # ename of the cells cut or skipped by the limit
DEAD_KERNEL_ERROR = "DeadKernelError"


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the sealed sandbox, reached over Unix sockets.

    The kernel's working folder is a fresh memory file system holding read-only copies of the
    assignment's data files: the kernel never writes where nbgrader writes (``autograded/``),
    so nothing it creates, links or replaces there can be followed or copied by nbgrader.
    """

    # defaults: coursetools.sandbox.LIMITS, the one home of the limits
    memory_limit_mb = Integer(LIMITS.memory_mb, help="address-space limit of each kernel "
                              "process (MiB)").tag(config=True)
    total_memory_mb = Integer(LIMITS.total_memory_mb, help="memory of the kernel's processes "
                              "together, its memory file systems included (a cgroup, when "
                              "grading as root)").tag(config=True)
    process_limit = Integer(LIMITS.processes, help="processes and threads of the kernel's user "
                            "(RLIMIT_NPROC)").tag(config=True)
    scratch_mb = Integer(LIMITS.scratch_mb, help="size of the working folder and of /tmp "
                         "(memory file systems)").tag(config=True)
    threads = Integer(LIMITS.threads, help="threads of NumPy/PyTorch/TensorFlow in the kernel; "
                      "fixed so that grades do not depend on how many notebooks run at once"
                      ).tag(config=True)
    forbids = Dict(help="libraries left out of the sandbox (set per notebook by "
                   "SandboxedExecute from the source notebook)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._private = tempfile.mkdtemp(prefix="nbgrader-kernel-")
        os.chmod(self._private, 0o711)
        self._socket_dir = os.path.join(self._private, "sockets")
        os.mkdir(self._socket_dir, 0o700)
        if privileged():        # the kernel (an unprivileged uid) creates its sockets here
            os.chown(self._socket_dir, sandbox_uid(), sandbox_uid())
        self.transport = "ipc"
        self.connection_file = os.path.join(self._socket_dir, "kernel.json")
        self.ip = os.path.join(self._socket_dir, "socket")
        self._stderr = collections.deque()

    def scratch_files(self, cwd: str) -> dict[str, str]:
        """The assignment's data files beside the notebook: regular files only, no notebook,
        none of the exchange's bookkeeping."""
        files = {}
        for entry in os.scandir(cwd):
            if (entry.is_file(follow_symlinks=False) and not entry.name.endswith(".ipynb")
                    and entry.name not in ("timestamp.txt", "submission_secret.txt")):
                files[entry.name] = entry.path
        return files

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        # A signal sent to bwrap's process group does not reach the kernel inside its pid
        # namespace: interrupt it with a message on the control channel instead.
        self.kernel_spec.interrupt_mode = "message"
        if privileged() and os.path.exists(self.connection_file):
            os.chown(self.connection_file, sandbox_uid(), sandbox_uid())
        cwd = os.path.realpath(self._launch_args.get("cwd") or os.getcwd())
        self._cgroup = memory_cgroup(os.path.basename(self._private), self.total_memory_mb)
        # the command joins the cgroup before it becomes bwrap: every process of it is inside
        enter = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self._cgroup] \
            if self._cgroup else []
        limits = dataclasses.replace(LIMITS, memory_mb=self.memory_limit_mb,
                                     processes=self.process_limit, scratch_mb=self.scratch_mb,
                                     threads=self.threads)
        return enter + bwrap_command(
            cmd, private=pathlib.Path(self._private), python=cmd[0],
            connection_file=self.connection_file, scratch_files=self.scratch_files(cwd),
            socket_dir=self._socket_dir, forbids=self.forbids, limits=limits)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # the kernel's own stdout/stderr (banners, a flood of os.write(2, ...)) never reach
        # the grader's terminal or log: keep the last lines, to explain a kernel that died
        reader, writer = os.pipe()
        kw.update(stdout=writer, stderr=writer, stdin=subprocess.DEVNULL)
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            os.close(writer)
        threading.Thread(target=self._drain, args=(reader,), daemon=True).start()
        threading.Thread(target=self._guard_sockets, args=(self.provisioner.process,),
                         daemon=True).start()

    def _guard_sockets(self, process):
        """The socket folder is the one folder of the host the kernel can write to. As root,
        it is handed back to root once the kernel has made its sockets (before any cell
        runs); in any case a kernel that stores more than sockets there is killed. When the
        kernel has ended, its private folder goes (whichever way nbclient cleans up)."""
        sealed = not privileged()
        try:
            while process.poll() is None:
                time.sleep(0.2)
                try:
                    entries = list(os.scandir(self._socket_dir))
                    modes = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
                except OSError:       # an entry vanished while we looked: look again
                    continue
                sockets = sum(stat.S_ISSOCK(info.st_mode) for _, info in modes)
                stored = sum(info.st_size for name, info in modes
                             if stat.S_ISREG(info.st_mode) and name != "kernel.json")
                if stored > 2**20 or len(entries) > 32:
                    self.log.warning("the kernel wrote %d bytes in %d entries into its socket "
                                     "folder: killed", stored, len(entries))
                    process.kill()
                    process.wait()
                elif not sealed and sockets >= 5:
                    os.chown(self._socket_dir, 0, 0)
                    os.chmod(self._socket_dir, 0o755)
                    sealed = True
        finally:
            shutil.rmtree(self._private, ignore_errors=True)
            self._remove_cgroup()

    def _remove_cgroup(self):
        for _ in range(50):                      # its last processes may still be exiting
            if not getattr(self, "_cgroup", None):
                return
            try:
                os.rmdir(self._cgroup)
                self._cgroup = None
            except FileNotFoundError:
                self._cgroup = None
            except OSError:
                time.sleep(0.1)

    def _drain(self, reader: int):
        """Read the kernel's own output in fixed chunks and keep a bounded tail: a kernel that
        writes gigabytes without a newline costs the grader 64 KiB, not gigabytes."""
        with os.fdopen(reader, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                self._stderr.append(chunk)
                while sum(len(c) for c in self._stderr) > TAIL_BYTES and len(self._stderr) > 1:
                    self._stderr.popleft()

    def stderr_tail(self) -> str:
        text = b"".join(self._stderr)[-TAIL_BYTES:].decode(errors="replace")
        return "\n".join(line[:300] for line in text.splitlines()[-40:])

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self._private, ignore_errors=True)


class SandboxKernel(Kernel):
    """A probe runs as a cell of its own in the notebook's sandboxed kernel, through the same
    nbclient client and timeouts as the student's cells; nothing it prints is kept but its
    answer, read up to :data:`ANSWER_LIMIT` bytes."""

    def __init__(self, executor: "SandboxedExecute", index: int):
        self.executor, self.index = executor, index

    def run(self, code: str) -> str:
        executor = self.executor
        if executor._past_deadline():
            executor._timed_out = True
            raise StudentError("the notebook ran past its time limit before this test finished")
        executor._probe = []
        executor._probe_bytes = 0
        test_cell = executor.nb.cells[self.index]       # nbclient stores the cell it ran there
        try:
            executor.execute_cell(nbformat.v4.new_code_cell(code), self.index, store_history=False)
        except DeadKernelError as err:
            executor._kernel_died = True
            raise KernelGone(str(err)) from None
        finally:
            answer, executor._probe = "".join(executor._probe or []), None
            executor.nb.cells[self.index] = test_cell
        if executor._past_deadline():
            executor._timed_out = True
        return answer


def _error_output(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the sandbox and a wall-time limit per notebook;
    refuses to run without a sandbox unless GRADE_UNSANDBOXED=1."""

    sandbox = Bool(True, help="run kernels in bwrap (opt out: GRADE_UNSANDBOXED=1)").tag(config=True)
    notebook_timeout = Integer(300, help="wall-clock seconds for a whole notebook, kernel start "
                               "included; the cell running at the limit is interrupted and the "
                               "cells after it are not run (they score 0)").tag(config=True)
    source_root = Unicode("", help="the folder of the source notebooks (solutions/): their given "
                          "code and test cells are what the trusted side runs").tag(config=True)
    output_limit_mb = Integer(16, help="what a notebook may print and display in all; beyond it "
                              "prints and displays are dropped (errors are kept, cut short), so "
                              "a flood of output cannot exhaust the grader's memory"
                              ).tag(config=True)

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
        self._deadline = None
        self._probe, self._verdicts, self._kernel_died, self._no_verdicts = None, None, False, ""
        self.timeout_func = self.cell_timeout     # nbclient's public hook for per-cell timeouts
        self._phases, self._clock = {}, None

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if isinstance(km, SandboxedKernelManager):
            km.forbids = dict(getattr(self, "_forbids", {}))
        return km

    def cell_timeout(self, cell) -> int | None:
        """nbclient's ``timeout_func``: a cell gets the per-cell timeout, or what is left of
        the notebook's time, whichever is shorter."""
        timeout = self.timeout if self.timeout and self.timeout > 0 else None
        if self._deadline is None:
            return timeout
        left = max(1, math.ceil(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if self._probe is not None:          # a probe's answer: kept apart, bounded, never shown
            text = content.get("text", "") if msg.get("msg_type") == "stream" else ""
            if self._probe_bytes + len(text) <= ANSWER_LIMIT:
                self._probe.append(text)
                self._probe_bytes += len(text)
            return None
        if msg.get("msg_type") == "error":
            content["evalue"] = str(content.get("evalue", ""))[:10_000]
            content["traceback"] = [str(line)[:10_000] for line in content.get("traceback", [])[:200]]
            return super().output(outs, msg, display_id, cell_index)
        values = [content.get("text", "")] + list((content.get("data") or {}).values())
        self._output_bytes += sum(len(str(value)) for value in values)
        if self._output_bytes > self.output_limit_mb * 2**20:
            if not self._output_cut:
                self._output_cut = True
                outs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                    f"[output cut: this notebook printed more than {self.output_limit_mb} MiB; "
                    "what it prints or displays from here on is dropped]\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _lap(self, phase: str):
        """Adds the seconds since the last lap to ``phase`` (where a notebook's time goes)."""
        now = time.monotonic()
        self._phases[phase] = self._phases.get(phase, 0.0) + now - self._clock
        self._clock = now

    def preprocess_cell(self, cell, resources, index):
        if self._cell_index is None:            # the kernel is up: the first cell comes
            self._lap("kernel start")
        self._cell_index = index
        try:
            return self._preprocess_cell(cell, resources, index)
        finally:
            self._lap("trusted checks" if is_test_cell(cell) else
                      "answers" if cell.metadata.get("nbgrader", {}).get("solution") else
                      "given code")

    def _preprocess_cell(self, cell, resources, index):
        if is_test_cell(cell):
            return self.judge(cell, index), resources
        if cell.cell_type == "code" and given_by_the_course(cell):
            # the environment cell exactly as the course gave it installs what a platform
            # lacks; the sandbox has what the assignment allows and no network, so in an
            # assignment whose sandbox leaves out part of rnnlab it only waited for pip's
            # retries (9 s of ex07's 25). Not run; a cell changed by the student is run.
            return cell, resources
        if cell.cell_type == "code" and self._past_deadline():
            self._timed_out = True
            cell.outputs = [_error_output(TIME_LIMIT_ERROR, (
                f"the notebook ran past its time limit of {self.notebook_timeout} s: "
                "this cell was not run"))]
            return cell, resources
        result = super().preprocess_cell(cell, resources, index)
        if cell.cell_type == "code" and self._past_deadline():
            self._timed_out = True
            cell.outputs.append(_error_output(TIME_LIMIT_ERROR, (
                f"the notebook ran past its time limit of {self.notebook_timeout} s "
                "while this cell ran: it was interrupted")))
        return result

    def judge(self, cell, index):
        """A test cell never reaches the kernel: the source notebook's version of it runs in
        the trusted namespace, and its outcome becomes the cell's only output."""
        cell.outputs, cell.execution_count = [], None
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if self._verdicts is None:
            outcome = ("NotGradable", self._no_verdicts)
        elif self._past_deadline():
            self._timed_out = True
            outcome = (TIME_LIMIT_ERROR, (f"the notebook ran past its time limit of "
                                          f"{self.notebook_timeout} s: this test was not run"))
        elif grade_id not in self._verdicts.test_ids:
            outcome = ("NotGradable", "this test cell is not one of the assignment's tests")
        else:
            self._verdicts.kernel.index = index
            outcome = self._verdicts.run_test(grade_id)
        if outcome is not None:
            cell.outputs = [_error_output(*outcome)]
        if self._kernel_died:
            raise DeadKernelError("the kernel died while a test asked it")
        return cell

    def _trusted(self, nb, resources):
        """The trusted side of this notebook, or None (and why) without its source."""
        info = (resources or {}).get("nbgrader", {})
        path = pathlib.Path(self.source_root) / str(info.get("assignment")) / f"{info.get('notebook')}.ipynb"
        if not self.source_root or not path.is_file():
            self._no_verdicts = f"the source notebook {path} was not found: tests cannot run"
            return None
        source_nb = nbformat.read(path, as_version=4)
        self._forbids = sandbox_forbids(source_nb)
        submitted = [c.source for c in nb.cells if c.cell_type == "code" and not is_test_cell(c)]
        engine = TrustedNotebook(source_nb, SandboxKernel(self, 0), submitted)
        engine.test_ids = {c.metadata["nbgrader"]["grade_id"] for c in source_nb.cells if is_test_cell(c)}
        return engine

    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb``; if the kernel dies (``os._exit``, ``exit()``, a segfault, the memory
        limit), every cell from the one that killed it on gets an error output, so its tests
        score 0 while the cells that ran before keep their points. Without this nbgrader would
        drop the whole submission, or count a test cell that never ran as passed."""
        self._cell_index = None
        self._timed_out = False
        self._output_bytes, self._output_cut = 0, False
        self._probe, self._kernel_died, self._no_verdicts = None, False, ""
        self._forbids = {}
        started = self._clock = time.monotonic()
        self._phases = {}
        self._verdicts = self._trusted(nb, resources)
        self._lap("trusted checks")
        self._deadline = started + self.notebook_timeout if self.notebook_timeout > 0 else None
        status = "graded"
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:
            status = "kernel died"
            tail = self.km.stderr_tail() if hasattr(self.km, "stderr_tail") else ""
            died_at = self._cell_index or 0
            self.log.warning("the kernel died at cell %d; the cells from there on score 0%s",
                             died_at, f"; its last words:\n{tail}" if tail else "")
            for cell in nb.cells[died_at:]:
                if cell.cell_type == "code" and not (is_test_cell(cell) and cell.outputs):
                    cell.outputs.append(_error_output(
                        DEAD_KERNEL_ERROR, "the kernel died before this cell finished"))
            return nb, resources
        finally:
            status = "timed out" if self._timed_out else status
            self._lap("kernel start" if self._cell_index is None else "kernel stop")
            report_progress(resources, status, time.monotonic() - started, self._phases)


def report_progress(resources, status: str, seconds: float, phases: dict | None = None):
    """One JSON line per executed notebook into $COURSETOOLS_PROGRESS (read by make grade):
    its status, its seconds, and where they went (kernel start, given code, answers, trusted
    checks, kernel stop)."""
    path = os.environ.get("COURSETOOLS_PROGRESS")
    if not path or not resources or "nbgrader" not in resources:
        return
    info = resources["nbgrader"]
    line = json.dumps({"student": info.get("student"), "assignment": info.get("assignment"),
                       "notebook": info.get("notebook"), "status": status,
                       "seconds": round(seconds, 2),
                       "phases": {k: round(v, 3) for k, v in (phases or {}).items()}})
    with open(path, "a") as handle:
        handle.write(line + "\n")


def notebook_status(nb) -> str:
    """"timed out" or "kernel died" when the executed notebook ``nb`` says so, else "graded"."""
    names = {output.get("ename") for cell in nb.cells for output in cell.get("outputs", [])
             if output.get("output_type") == "error"}
    if TIME_LIMIT_ERROR in names:
        return "timed out"
    if DEAD_KERNEL_ERROR in names:
        return "kernel died"
    return "graded"


class ForgetBrokenCellMetadata(NbGraderPreprocessor):
    """After nbgrader's DeduplicateIds: a cell whose nbgrader metadata is empty (the earlier
    of two copies of a test cell, which DeduplicateIds emptied) or has no grade id (edited by
    hand) becomes a plain cell of the student's, with a sentence in the log; the test cells
    themselves come back from the gradebook. nbgrader 0.9.6 otherwise stops the submission
    with a bare KeyError 'grade_id'."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader")
        if meta is not None and (not meta or not meta.get("grade_id")):
            self.log.warning("cell %d carried copied or edited test metadata without a grade "
                             "id: it is graded as a cell of the student's own", cell_index)
            del cell.metadata["nbgrader"]
        return cell, resources


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
            # a cell id from the grade id, not a random one: grading twice gives the same page
            taken = {c.get("id") for c in nb.cells}
            cell_id = re.sub(r"[^A-Za-z0-9_-]", "-", f"restored-{grade_cell.name}")[:56]
            cell["id"] = next(f"{cell_id}-{k}" if k else cell_id for k in range(len(taken) + 1)
                              if (f"{cell_id}-{k}" if k else cell_id) not in taken)
            before = [present[name] for name in order[:position] if name in present]
            nb.cells.insert(max(before) + 1 if before else 0, cell)
        return nb, resources


HIDDEN_REGION = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.DOTALL)


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
        # everything from the first BEGIN marker on goes: an unclosed region hides the rest
        cell.source = HIDDEN_REGION.sub("", cell.source).rstrip()
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
        cell.source += "\n# (hidden tests ran here; their code is not shown)"
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


class MarkUngraded(NbGraderPreprocessor):
    """Runs after GetGrades: notes the grade cells nobody has graded yet (a written answer
    before hand-grading) in ``resources["nbgrader"]["ungraded"]`` (grade id -> points), for
    the feedback template to show "not graded yet", not 0."""

    display_data_priority = List(Unicode()).tag(config=True)    # as in HideHiddenTests

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        ungraded = {}
        with Gradebook(info["db_url"]) as gb:
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if not meta.get("grade") and not meta.get("task"):
                    continue
                grade = gb.find_grade(meta["grade_id"], info["notebook"], info["assignment"],
                                      info["student"])
                if grade.manual_score is None and grade.auto_score is None:
                    ungraded[meta["grade_id"]] = grade.max_score
        info["ungraded"] = ungraded
        return nb, resources


# The course's feedback template (coursetools/templates/course_feedback) extends nbgrader's
# ("feedback/index.html.j2", found in nbgrader's template folder), which includes Bootstrap's
# CSS from nbgrader's static folder.
_FORMGRADER = pathlib.Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
FEEDBACK_TEMPLATE = "course_feedback"
FEEDBACK_TEMPLATE_DIRS = [str(pathlib.Path(__file__).parent / "templates")]
FEEDBACK_TEMPLATE_PATHS = [
    str(_FORMGRADER / "templates"),
    str(_FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
]


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page through the course's template, which shows "not graded yet"
    where a cell awaits hand-grading (see :class:`MarkUngraded`).

    ``nbgrader_config.py`` sets the three template settings to these defaults for this
    class too, because GenerateFeedback configures every HTMLExporter with nbgrader's own
    template (and a setting for a subclass wins over one for its parent)."""

    @default("template_name")
    def _template_name_default(self):
        return FEEDBACK_TEMPLATE

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self):
        return list(FEEDBACK_TEMPLATE_DIRS)

    @default("extra_template_paths")
    def _extra_template_paths_default(self):
        return list(FEEDBACK_TEMPLATE_PATHS)

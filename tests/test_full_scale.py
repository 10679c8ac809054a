"""Every chapter's full-scale code path runs: RNNLAB_SCALE=full (the GPU default, which no CPU
test would otherwise reach) with RNNLAB_MAX_STEPS capping training at a few updates.

The full scale's sizes (more data, bigger models, longer sequences) and its branches are
executed; only the number of updates is cut (rnnlab.device.steps, rnnlab's training loops and
device.keras_callbacks honour the cap), and what a chapter evaluates on (rnnlab.device.capped:
chapter 9 would otherwise score four models on the whole held-out text). A mistake that only the full scale reaches, a typo in a
``full=`` branch or a shape that only the bigger sizes produce, fails here. The executed
notebooks are thrown away: the book shows the quick scale on a CPU.

The chapters run two at a time (the one with the most code first), each in its own process and
kernel, by coursetools.execute, which also runs the book's chapters. They start in the
background as soon as the session has collected them, at the lowest CPU priority
(``start_in_background``, called by conftest.py), and their checks run last: the rest of the
suite leaves about 40 % of two cores idle (nbgrader, the hub and the browser mostly wait),
which these runs take, instead of adding their ~80 s to the session. Only a chapter that can
run other code at the full scale is run here: one that asks the scale for a value
(``device.pick(quick=..., full=...)`` or ``device.scale()``, in its own cells or through an
rnnlab module that does) or reads an RNNLAB_ variable itself. Asking only for a number of
updates (``device.steps``) or capping an evaluation (``device.capped``) changes how long the
same code runs, not which code: under the cap such a chapter would run the book's quick-scale
code with fewer updates, which proves nothing the book's execution has not. What asks is found
in the code (calls, imports), not listed by hand, and a test checks that only rnnlab.device
reads the scale's variables.
"""
import ast
import concurrent.futures
import pathlib
import re

import nbformat
import pytest
from course import CHAPTERS, ROOT

from coursetools import execute

RNNLAB = ROOT / "rnnlab"
SCALE_VARIABLES = re.compile(r"RNNLAB_(SCALE|MAX_STEPS)\b")   # what rnnlab.device reads

MAX_STEPS = "2"
# Seconds for a whole chapter (kernel start included) at the full scale with the cap: more than
# a quick-scale run needs on two loaded cores, far less than a full-scale training takes.
CHAPTER_BUDGET = 240
# In the background a run gets only the CPU the other tests leave: it may wait for minutes
# while they keep both cores busy. An uncapped full-scale training still takes far longer.
BACKGROUND_BUDGET = 900
LOWEST_PRIORITY = 19
FULL_SCALE = {"RNNLAB_SCALE": "full", "RNNLAB_MAX_STEPS": MAX_STEPS}


def _rnnlab_imports(source: str, package: str = "rnnlab") -> set[str]:
    """The rnnlab modules that ``source`` imports (``from rnnlab import train``, ``import
    rnnlab.charlm``, ``from .device import pick``, ...), wherever the import stands."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("rnnlab.")}
        elif isinstance(node, ast.ImportFrom):
            module = (package if node.level else "") + ("." + node.module if node.level and node.module
                                                        else "" if node.level else node.module or "")
            if module == "rnnlab":
                found |= {f"rnnlab.{alias.name}" for alias in node.names}
            elif module.startswith("rnnlab."):
                found.add(module)
    return found


ASKS = {"pick", "scale"}     # rnnlab.device's functions whose answer depends on the scale


def asks_the_scale(source: str) -> bool:
    """True when ``source`` calls pick() or scale(), by any name (``device.pick``,
    ``rnn_device.scale``, ``pick`` imported from rnnlab.device), outside rnnlab.device."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(
                function, "id", None)
            if name in ASKS:
                return True
    return False


def modules_reaching_the_scale(package_folder: pathlib.Path = RNNLAB) -> set[str]:
    """The rnnlab modules that ask the scale (rnnlab.device itself aside: it answers), and every
    rnnlab module that imports one of them, directly or through another."""
    imports, asking = {}, set()
    for path in package_folder.rglob("*.py"):
        parts = path.relative_to(package_folder.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if parts[-1] == "__init__" else name.rsplit(".", 1)[0]
        source = path.read_text()
        imports[name] = _rnnlab_imports(source, package)
        if name != "rnnlab.device" and asks_the_scale(source):
            asking.add(name)
    reaching, grew = asking, True
    while grew:
        more = {name for name, used in imports.items() if used & reaching} - reaching
        reaching |= more
        grew = bool(more)
    return reaching


def _code(path) -> str:
    """A notebook's code cells as one module (IPython's magics and shell lines left out)."""
    cells = nbformat.read(path, as_version=4).cells
    lines = [line for cell in cells if cell.cell_type == "code" for line in cell.source.splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def reaches_the_scale(path, reaching: set[str]) -> bool:
    """True when a notebook can run other code at the full scale than at the quick one: it
    asks the scale itself, imports a module of ``reaching`` or names the scale's variables."""
    code = _code(path)
    return (asks_the_scale(code) or bool(_rnnlab_imports(code) & reaching)
            or bool(SCALE_VARIABLES.search(code)))


REACHING = modules_reaching_the_scale()
SCALED = [path for path in CHAPTERS if reaches_the_scale(path, REACHING)]


def explained(problem: str | None) -> str | None:
    if problem and problem.startswith("ran past"):
        problem += (" (does its training take its length from rnnlab.device.steps, or stop "
                    "under RNNLAB_MAX_STEPS? does it evaluate on rnnlab.device.capped data?)")
    return problem


_background: concurrent.futures.Future | None = None


def start_in_background(tmp_path_factory=None) -> None:
    """Start the full-scale runs in a thread of this process, their runners and kernels at the
    lowest CPU priority (once; conftest.py calls this before the session's first test when it
    has collected test_the_full_scale_runs)."""
    global _background
    if _background is None:
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="full-scale")
        _background = pool.submit(execute.run_notebooks, SCALED, execute.default_jobs(),
                                  env=FULL_SCALE, budget=BACKGROUND_BUDGET,
                                  niceness=LOWEST_PRIORITY)
        pool.shutdown(wait=False)


def stop_the_background() -> None:
    """At the session's end (conftest.py): runs still going (the session failed early, or was
    interrupted) end, kernels included, so that nothing outlives pytest."""
    if _background is not None and not _background.done():
        execute.stop_all()
        concurrent.futures.wait([_background])


@pytest.fixture(scope="module")
def full_scale_runs() -> dict:
    start_in_background()       # started already when conftest.py saw these tests collected
    runs = _background.result()
    return {path.name: (explained(problem), seconds) for path, (problem, seconds) in runs.items()}


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", SCALED, ids=lambda p: p.stem)
def test_the_full_scale_runs(path, full_scale_runs, record_property):
    """Proves: this chapter runs top to bottom at RNNLAB_SCALE=full (its full= sizes, models
    and branches), training capped at MAX_STEPS updates and evaluating on device.capped
    data, within BACKGROUND_BUDGET. Chapters that never reach the scale are not listed here:
    they run the same code as the book's quick-scale execution."""
    problem, seconds = full_scale_runs[path.name]
    record_property("full_scale_seconds", seconds)      # listed at the end of the run (conftest)
    print(f"{path.name}: {seconds:.0f} s at RNNLAB_SCALE=full, RNNLAB_MAX_STEPS={MAX_STEPS}")
    assert problem is None, f"{path.name} at RNNLAB_SCALE=full, RNNLAB_MAX_STEPS={MAX_STEPS} {problem}"


@pytest.mark.slow
@pytest.mark.notebooks
def test_a_failing_full_branch_is_reported(tmp_path):
    """The runner reports a cell that fails only at the full scale."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from rnnlab import device\nassert device.pick(quick=1, full=2) == 1, 'full branch'")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    problem, _ = execute.run_notebook(path, env=FULL_SCALE, budget=CHAPTER_BUDGET)
    assert problem is not None and "full branch" in problem


def test_only_rnnlab_device_reads_the_scale():
    """The premise of leaving chapters out: rnnlab reads RNNLAB_SCALE and RNNLAB_MAX_STEPS in
    rnnlab/device.py only, so that a module reaches the scale only by importing it."""
    readers = sorted(path.relative_to(ROOT).as_posix() for path in RNNLAB.rglob("*.py")
                     if any(SCALE_VARIABLES.search(text) for text in _strings(path.read_text())))
    assert readers == ["rnnlab/device.py"], readers


def _strings(source: str) -> list[str]:
    """The string constants of a module's code (docstrings left out: prose may name them)."""
    tree = ast.parse(source)
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]


def test_what_reaches_the_scale_is_found(tmp_path):
    """A chapter that asks the scale (in any form) is run, one that only asks for a number of
    updates or caps an evaluation is not; an rnnlab module that asks the scale makes every
    module importing it reach it too; every chapter that calls pick() or scale() is run."""
    for code, reaches in (("from rnnlab import device\nn = device.pick(quick=1, full=2)", True),
                          ("from rnnlab.device import pick as p, scale\nscale()", True),
                          ("import rnnlab.device as d\nd.steps(quick=10, full=100)", False),
                          ("from rnnlab import device\nx = device.capped([1, 2])", False),
                          ("import os\nos.environ.get('RNNLAB_SCALE')", True),
                          ("# RNNLAB_INSTALL_SOURCE: where rnnlab comes from", False),
                          ("import rnnlab\nfrom rnnlab import train, charlm", False)):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nbformat.write(notebook, tmp_path / "n.ipynb")
        assert reaches_the_scale(tmp_path / "n.ipynb", REACHING) == reaches, code
    # a library where one module asks the scale, one imports that module, one only steps
    library = tmp_path / "lib" / "rnnlab"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text("")
    (library / "device.py").write_text("def scale():\n    return 'quick'\n"
                                       "def pick(quick, full):\n    return quick\n")
    (library / "sizes.py").write_text("from . import device\nWIDTH = device.pick(8, 512)\n")
    (library / "models.py").write_text("from rnnlab.sizes import WIDTH\n")
    (library / "loops.py").write_text("from rnnlab import device\nN = device.steps(1, 9)\n")
    assert modules_reaching_the_scale(library) == {"rnnlab.sizes", "rnnlab.models"}
    assert "rnnlab.device" not in REACHING and "rnnlab.numpy_nets" not in REACHING
    asks = [path for path in CHAPTERS if asks_the_scale(_code(path))]
    assert asks and set(asks) <= set(SCALED)
    print(f"full-scale smoke: {len(SCALED)} of {len(CHAPTERS)} chapters reach the scale; "
          f"left out: {sorted(p.stem for p in CHAPTERS if p not in SCALED)}")

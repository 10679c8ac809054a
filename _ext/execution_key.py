"""A Sphinx extension of the book: executed chapters are kept only as long as what they ran.

jupyter-cache, which myst-nb uses to keep executed notebooks, keys each one by the hash of its
code cells. A chapter also runs rnnlab and the installed libraries, so an edit to rnnlab or to
the lock would leave pages executed against the old code. The *execution key* is a hash of
everything a chapter runs besides its own cells (``INPUTS``); the executed notebooks live under
``_build/.jupyter_cache/<key>/``, so a new key starts an empty cache and every chapter is
executed again. The folder is a Sphinx setting (``nb_execution_cache_path``) that Sphinx
compares between builds, so a new key also marks every page as outdated: the pages are rebuilt
from the new executions. Folders of older keys are removed.

conftest.py uses the same functions, so nbval's executions (``make test`` first) and the
book's (``make book`` first) land in, and are found in, the same place. The GitHub workflows
key their cache of ``_build/.jupyter_cache`` with the same ``INPUTS`` (tests/test_workflows.py).
"""
import hashlib
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[1]
# What a chapter runs besides its own cells: the library, the pinned environment, and the
# measured results that chapter 9 reads. Glob patterns relative to the repository's root.
INPUTS = ("rnnlab/**/*.py", "requirements.lock", "benchmarks/results/*")


def input_files(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """The files ``INPUTS`` names, sorted (a missing pattern contributes nothing)."""
    found = {path for pattern in INPUTS for path in root.glob(pattern) if path.is_file()}
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def execution_key(root: pathlib.Path = ROOT) -> str:
    """16 hex digits of the SHA-256 of every input's path and bytes."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def cache_path(build: pathlib.Path, root: pathlib.Path = ROOT, prune: bool = True) -> pathlib.Path:
    """``build/.jupyter_cache/<key>``, the jupyter-cache of this key; with ``prune``, the
    folders of other keys (and a cache of the older, unkeyed layout) are removed."""
    caches = build / ".jupyter_cache"
    here = caches / execution_key(root)
    if prune and caches.is_dir():
        for entry in caches.iterdir():
            if entry != here:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return here


def _use_keyed_cache(app, config):
    root = pathlib.Path(app.srcdir)
    config.nb_execution_cache_path = str(cache_path(pathlib.Path(app.outdir).parent, root))


def setup(app):
    app.connect("config-inited", _use_keyed_cache)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Environments for the student-path tests (tests/test_launch.py), built from the course's own
.venv without any network: the installed files of the very wheels that requirements.lock
pins.

- :func:`closure`: a set of distributions and everything they require, as installed here;
- :func:`installed_bytes`: what those distributions occupy once installed (from their RECORD);
- :func:`platform_environment`: a fresh virtual environment holding only a closure, its files
  hard-linked (copied across file systems) from this environment: what Colab preinstalls;
- :func:`repack_wheel`: a pure-Python distribution installed here, packed back into a wheel
  for a local "index" (pip's ``--find-links``).
"""
import base64
import csv
import hashlib
import importlib.metadata
import io
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SKIPPED_METADATA = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json", "uv_cache.json"}


def _distribution(name: str) -> importlib.metadata.Distribution:
    for candidate in (name, name.replace("-", "_"), name.replace("_", "-")):
        try:
            return importlib.metadata.distribution(candidate)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise importlib.metadata.PackageNotFoundError(name)


def closure(names) -> dict[str, importlib.metadata.Distribution]:
    """{normalised name: distribution} of ``names`` and, recursively, what each requires
    (extras left out, environment markers evaluated here)."""
    found, todo = {}, [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = dist = _distribution(name)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            todo.append(canonicalize_name(requirement.name))
    return found


def _site_files(dist):
    """(relative path, absolute path) of a distribution's files inside site-packages."""
    for entry in dist.files or []:
        if entry.parts[0] == "..":              # console scripts, data outside site-packages
            continue
        yield entry.as_posix(), pathlib.Path(dist.locate_file(entry))


def installed_bytes(dists) -> int:
    """Bytes the distributions' files occupy in site-packages (byte-code caches left out)."""
    total = 0
    for dist in dists:
        for relative, path in _site_files(dist):
            if "__pycache__" not in relative and path.is_file():
                total += path.stat().st_size
    return total


def _link(source: pathlib.Path, target: pathlib.Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:                             # another file system: copy
        shutil.copy2(source, target)


def platform_environment(folder: pathlib.Path, names) -> pathlib.Path:
    """A new virtual environment in ``folder`` holding the closure of ``names`` (and nothing
    else besides the standard library); returns its Python. Byte-code caches are linked too,
    so that the first imports do not compile what this environment compiled already."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = pathlib.Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    here = pathlib.Path(sysconfig.get_paths()["purelib"])
    tag = sys.implementation.cache_tag
    for dist in closure(names).values():
        for relative, path in _site_files(dist):
            if not path.is_file() or "__pycache__" in relative:
                continue
            _link(path, site / relative)
            if path.suffix == ".py":
                cached = path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc"
                if cached.is_file():
                    _link(cached, site / pathlib.Path(relative).parent / "__pycache__" / cached.name)
    assert here != site
    return python


def repack_wheel(name: str, folder: pathlib.Path) -> pathlib.Path:
    """The installed pure-Python distribution ``name`` as a wheel file in ``folder``."""
    dist = _distribution(name)
    info = next(pathlib.Path(dist.locate_file(f)).parent for f in dist.files
                if f.name == "METADATA" and f.parent.name.endswith(".dist-info"))
    wheel_info = (info / "WHEEL").read_text()
    assert "Root-Is-Purelib: true" in wheel_info, f"{name} is not pure Python"
    tag = next(line.split(": ", 1)[1] for line in wheel_info.splitlines() if line.startswith("Tag: "))
    project = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    target = folder / f"{project}-{dist.version}-{tag}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for relative, path in _site_files(dist):
            if "__pycache__" in relative or path.name in SKIPPED_METADATA or not path.is_file():
                continue
            data = path.read_bytes()
            wheel.writestr(relative, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            writer.writerow([relative, f"sha256={digest}", len(data)])
        record_name = f"{info.name}/RECORD"
        writer.writerow([record_name, "", ""])
        wheel.writestr(record_name, record.getvalue())
    return target

"""requirements.lock: the whole environment, every transitive version, compiled from
requirements.txt (the direct dependencies, pinned by hand).

    python coursetools/lock.py compile   # `make lock`: resolve requirements.txt, write the lock
    python coursetools/lock.py check     # exit 1, saying why, when the lock is out of date

``compile`` asks pip's own resolver what it would install into an empty environment
(``pip install --dry-run --ignore-installed --report``), so the lock holds what pip installs
with this machine's settings: Python 3.11 on Linux x86_64, and torch's CPU build (from a local
wheel where pip is configured to find one, else from PyTorch's CPU index,
``--extra-index-url https://download.pytorch.org/whl/cpu``). The lock's header stores the
SHA-256 of requirements.txt, so ``check`` needs no network: the lock is up to date when that
hash matches and every pin of requirements.txt appears in the lock with the same version.
Standard library only: the Makefile runs ``check`` before any virtual environment exists.
"""
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
LOCK = ROOT / "requirements.lock"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")
HASH_LINE = re.compile(r"^# requirements\.txt sha256: ([0-9a-f]{64})$", re.MULTILINE)


def normalise(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_hash(path: pathlib.Path = REQUIREMENTS) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pins(text: str) -> dict[str, str]:
    """{normalised name: version} of every ``name==version`` line of a requirements text."""
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[normalise(match[1])] = match[2]
    return found


def problems(requirements: pathlib.Path = REQUIREMENTS, lock: pathlib.Path = LOCK) -> list[str]:
    """Why the lock does not match requirements.txt (empty when it does)."""
    if not lock.exists():
        return [f"{lock.name} is missing"]
    text = lock.read_text()
    stored = HASH_LINE.search(text)
    found = []
    if not stored or stored[1] != requirements_hash(requirements):
        found.append(f"{requirements.name} changed since {lock.name} was compiled")
    locked = pins(text)
    for name, version in pins(requirements.read_text()).items():
        # a local version label (torch 2.13.0+cpu) satisfies the pin 2.13.0, as in pip
        if locked.get(name, "").split("+")[0] != version.split("+")[0]:
            found.append(f"{name}=={version} is locked at {locked.get(name, 'nothing')}")
    if "-e ." in requirements.read_text().splitlines() and "-e ." not in text.splitlines():
        found.append(f"{lock.name} does not install the course's own package (-e .)")
    return found


def compile_lock(requirements: pathlib.Path = REQUIREMENTS, lock: pathlib.Path = LOCK,
                 python: str = sys.executable) -> int:
    """Resolve requirements.txt with pip and write the lock; returns the number of packages."""
    version = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.split()
    if version != ["3", "11"]:
        raise SystemExit(f"compile the lock with Python 3.11 (the course's), not {'.'.join(version)}:"
                         " make lock PYTHON=python3.11")
    lines = requirements.read_text().splitlines()
    editable = [line for line in lines if line.strip().startswith("-e ")]
    with tempfile.TemporaryDirectory() as scratch:
        direct = pathlib.Path(scratch, "requirements.txt")
        direct.write_text("\n".join(line for line in lines if line not in editable) + "\n")
        report = pathlib.Path(scratch, "report.json")
        subprocess.run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                        "--quiet", "--disable-pip-version-check", "--report", str(report),
                        "-r", str(direct)], check=True)
        installed = json.loads(report.read_text())["install"]
    resolved = sorted((normalise(item["metadata"]["name"]), item["metadata"]["version"])
                      for item in installed)
    if not dict(resolved).get("torch", "+cpu").endswith("+cpu"):
        raise SystemExit(f"pip resolved torch {dict(resolved)['torch']}, not the CPU build: "
                         f"give pip PyTorch's CPU index (--extra-index-url {TORCH_CPU_INDEX}, "
                         "e.g. in PIP_EXTRA_INDEX_URL) and run `make lock` again")
    header = [
        "# The whole environment that `make venv` installs, every transitive version.",
        "# Compiled from requirements.txt by `make lock` (coursetools/lock.py, pip's resolver,",
        "# Python 3.11, Linux x86_64). Do not edit by hand: edit requirements.txt, run `make lock`.",
        f"# torch is the CPU build: pip takes it from PyTorch's CPU index ({TORCH_CPU_INDEX}).",
        f"# requirements.txt sha256: {requirements_hash(requirements)}",
    ]
    body = [f"{name}=={version}" for name, version in resolved] + editable
    lock.write_text("\n".join(header + body) + "\n")
    return len(resolved)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "compile":
        count = compile_lock()
        print(f"{LOCK.name}: {count} packages, compiled from {REQUIREMENTS.name}")
        return 0
    if command == "check":
        found = problems()
        for problem in found:
            print(f"{LOCK.name} is out of date: {problem}; run `make lock`", file=sys.stderr)
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

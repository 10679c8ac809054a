"""The Python code (rnnlab, coursetools, tests, benchmarks, the Sphinx extensions, the chapter
and solution notebooks) passes ruff."""
import pathlib
import shutil
import subprocess
import sys

import pytest
from course import CHAPTERS, ROOT, SOLUTIONS


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (it is pinned in requirements.txt)")
    paths = ["rnnlab", "coursetools", "tests", "benchmarks", "conftest.py", "_ext", "nbgrader_config.py",
             *(str(path.relative_to(ROOT)) for path in CHAPTERS + SOLUTIONS)]
    assert CHAPTERS and SOLUTIONS
    result = subprocess.run([ruff, "check", "--output-format", "concise", *paths], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

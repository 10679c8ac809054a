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


def test_the_tests_take_the_course_paths_from_one_module():
    """ROOT, CHAPTERS and ASSIGNMENTS are defined in tests/course.py only: a test file that
    computes its own (``ROOT = pathlib.Path(__file__)...``) is a copy that can drift."""
    import ast

    copies = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == "course.py":
            continue
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            if names & {"ROOT", "CHAPTERS", "ASSIGNMENTS"}:
                copies.append(f"{path.name}:{node.lineno}")
    assert not copies, f"defined again outside tests/course.py: {copies}"

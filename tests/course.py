"""Where the course's parts are, for every test: imported as ``from course import ROOT, ...``
(pytest puts this folder on the import path), so that no test keeps a copy."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# nbgrader's source notebooks (with solutions and hidden tests) and their releases
ASSIGNMENTS = sorted(path.name for path in (ROOT / "solutions").iterdir() if path.is_dir())
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASES = sorted((ROOT / "exercises").glob("*/*.ipynb"))

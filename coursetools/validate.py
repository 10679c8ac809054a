"""``make validate``: every solution passes its tests and every blank release fails them; the exit
status says whether both hold.

    python -m coursetools.validate      # in the course folder (solutions/, exercises/)

``nbgrader validate`` prints its verdicts but exits 0 either way. This is nbgrader's own
validate app with the course's nbgrader_config.py, deciding from the results of nbgrader's
``Validator.validate`` (which cells passed, failed or changed) instead of printing them.
"""
import logging
import pathlib
import sys

from nbgrader.apps.validateapp import ValidateApp
from nbgrader.validator import Validator

SOLUTIONS = "solutions/*/*.ipynb"    # must pass every test
RELEASES = "exercises/*/*.ipynb"     # blank: must pass none


def problem(results: dict, blank: bool) -> str | None:
    """Why a notebook's validation ``results`` are wrong, or None. A solution fails any test
    it should pass; a blank release passes a test it should fail; either one has cells whose
    type or locked content changed since the release."""
    if results.get("type_changed"):
        return f"{len(results['type_changed'])} cell(s) changed type"
    if results.get("changed"):
        return f"{len(results['changed'])} read-only cell(s) changed"
    wrong = results.get("passed" if blank else "failed", [])
    if wrong:
        first = wrong[0]["source"].strip().splitlines()[0] if wrong[0]["source"].strip() else ""
        return f"{len(wrong)} test cell(s) {'pass' if blank else 'fail'}, first: {first}"
    return None


class CourseValidateApp(ValidateApp):
    """nbgrader's validate app, judging the course's solutions and releases by their results."""

    def _log_level_default(self):   # one line per notebook is ours; nbgrader's INFO lines go
        return logging.WARNING

    def start(self):
        folder = pathlib.Path.cwd()
        verdicts = []
        for pattern, blank, what in ((SOLUTIONS, False, "solutions pass their tests"),
                                     (RELEASES, True, "blank releases fail their tests")):
            validator = Validator(parent=self, invert=blank)
            paths = sorted(folder.glob(pattern))
            good = 0
            for path in paths:
                why = problem(validator.validate(str(path)), blank)
                print(f"{'ok  ' if why is None else 'FAIL'} {path.relative_to(folder)}"
                      + ("" if why is None else f": {why}"), flush=True)
                good += why is None
            verdicts.append((good, len(paths), what))
        for good, total, what in verdicts:
            print(f"validate: {good} of {total} {what}")
        if any(good != total for good, total, _ in verdicts):
            self.exit(1)
        print("validate: all solutions pass, all blank releases fail")


def main(argv=None) -> None:
    CourseValidateApp.launch_instance(argv=argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()

"""The probe runtime is sent to the kernel once and kept there (coursetools/verdicts.py): fewer
bytes per probe, and nothing the notebook does to the kept runtime decides a verdict."""
import sys

import nbformat
import numpy as np
import pytest

from coursetools.verdicts import (
    RUNTIME,
    RUNTIME_MODULE,
    InProcessKernel,
    StudentError,
    TrustedNotebook,
)


class CountingKernel(InProcessKernel):
    """The student's namespace in this process, counting the probes that carry the runtime."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.runs, self.with_runtime = 0, 0

    def run(self, code):
        self.runs += 1
        self.with_runtime += repr(RUNTIME) in code
        return super().run(code)


def engine(namespace):
    sys.modules.pop(RUNTIME_MODULE, None)          # as in a fresh kernel
    kernel = CountingKernel(namespace)
    return TrustedNotebook(nbformat.v4.new_notebook(), kernel), kernel


def call(trusted, name, *args):
    return trusted.ask("call", {"$": "ref", "name": name}, *args)


def test_the_runtime_goes_to_the_kernel_once():
    trusted, kernel = engine({"double": lambda x: 2 * x})
    for k in range(5):
        assert call(trusted, "double", np.arange(3) + k).tolist() == [2 * (i + k) for i in range(3)]
    assert (kernel.runs, kernel.with_runtime) == (5, 1)


def test_a_notebook_that_removes_the_runtime_is_answered_all_the_same():
    def double(x):
        sys.modules.pop(RUNTIME_MODULE, None)       # the student's code throws it away
        return 2 * x
    trusted, kernel = engine({"double": double})
    assert call(trusted, "double", 3) == 6
    assert call(trusted, "double", 4) == 8
    assert kernel.with_runtime == 2 and kernel.runs == 3    # one probe asked for it again


def test_a_notebook_that_always_claims_the_runtime_is_missing_gets_no_answer():
    """A forged "missing" answer (the nonce is in the probe's source, which the notebook can
    read) is believed once: after the runtime was sent again it is no answer, not a loop."""
    class Forger(CountingKernel):
        def run(self, code):
            super().run(code)
            nonce = code.split('"nonce": "')[1].split('"')[0]
            return f'\n{nonce}{{"runtime": "missing"}}{nonce}\n'
    sys.modules.pop(RUNTIME_MODULE, None)
    kernel = Forger({"double": lambda x: 2 * x})
    trusted = TrustedNotebook(nbformat.v4.new_notebook(), kernel)
    with pytest.raises(StudentError, match="gave no answer"):
        call(trusted, "double", 3)
    trusted.runtime_sent = True
    with pytest.raises(StudentError, match="gave no answer"):
        call(trusted, "double", 3)
    assert kernel.runs == 3


@pytest.mark.parametrize(("slug", "expected"), [
    ("ex07_many_to_one", {"torch": True, "sklearn.model_selection": True}),
    ("ex03_bptt", {"torch": False, "sklearn.model_selection": False}),
])
def test_preload_imports_what_the_given_code_imports_and_nothing_more(slug, expected):
    """What a forking grader imports once per assignment (in a fresh interpreter: this test
    process has imported far more)."""
    import json
    import subprocess

    from course import ROOT
    code = ("import json, sys, nbformat; from coursetools.verdicts import preload\n"
            f"missing = preload(nbformat.read({str(ROOT / 'solutions' / slug / (slug + '.ipynb'))!r}, 4))\n"
            f"print(json.dumps([missing, {{m: m in sys.modules for m in {sorted(expected)!r}}}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    missing, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert missing == [] and imported == expected

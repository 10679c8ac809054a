"""coursetools.ownwork, the exercises' own-work check: it judges code, never comments or strings.

Each case is a notebook cell written the way a student writes it, run as a notebook runs it
(module ``__main__``, source in linecache). Correct answers that merely *mention* a library
pass; answers that reach one by any route (alias, helper, import machinery) fail.
"""
import sys

import numpy as np
import pytest
from exercise_runner import run_cell

from coursetools.ownwork import (
    assert_own_work,
    find_library_use,
    is_forbidden,
    run_blocked,
)


def notebook(source: str) -> dict:
    """Run ``source`` as a notebook cell; return the notebook's namespace."""
    namespace = {"__name__": "__main__"}
    error = run_cell(source, namespace)
    assert error is None, error
    return namespace


ARGS = (np.ones((2, 3)), np.zeros((2, 4)), np.full((4, 3), 0.1), np.eye(4), np.zeros(4))
WANT = np.tanh(ARGS[0] @ ARGS[2].T)

FAIR = {
    "comment naming torch": '''
import numpy as np
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    # unlike torch, written by hand; no rnnlab, no tensorflow
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
''',
    "docstring and strings naming libraries": '''
import numpy as np
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """Same as torch.nn.RNNCell and rnnlab.numpy_nets.rnn_step, in NumPy."""
    if x_t.ndim != 2:
        raise ValueError("like torch, expect (batch, input); import torch is not needed")
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
''',
    "loops instead of matrix products": '''
import math
import numpy as np
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    B, H = h_prev.shape
    out = np.zeros((B, H))
    for b in range(B):
        for i in range(H):
            a = b_h[i]
            for j in range(x_t.shape[1]):
                a += W_xh[i, j] * x_t[b, j]
            for j in range(H):
                a += W_hh[i, j] * h_prev[b, j]
            out[b, i] = math.tanh(a)
    return out
''',
    "a NumPy helper, a class and a local named torch": '''
import numpy as np
class Squash:
    def __call__(self, a):
        return np.tanh(a)
squash = Squash()
def affine(x, W):
    return x @ W.T
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    torch = affine(x_t, W_xh) + affine(h_prev, W_hh)     # a local variable, not the library
    return squash(torch + b_h)
''',
    "numpy imported under a library's name, data helpers of rnnlab": '''
import numpy as torch
from rnnlab.data import one_hot
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    assert one_hot(np_ids, 3).shape == (2, 3)
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
np_ids = torch.array([0, 2])
''',
    "a fallback when an import fails": '''
import numpy as np
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    try:
        import scipy.special as sp
        tanh = lambda a: 2 * sp.expit(2 * a) - 1
    except ImportError:
        tanh = np.tanh
    return tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
''',
}

SHORTCUTS = {
    "aliased module": ('''
from rnnlab import numpy_nets as nn
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return nn.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
''', "rnnlab.numpy_nets"),
    "imported function": ("from rnnlab.numpy_nets import rnn_step", "imported from rnnlab.numpy_nets"),
    "renamed import": ("from rnnlab import numpy_nets\nrnn_step = numpy_nets.rnn_step",
                       "imported from rnnlab.numpy_nets"),
    "torch helper": ('''
import numpy as np
import torch as T
def _tanh(a):
    return T.tanh(T.from_numpy(a)).numpy()
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return _tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
''', "library torch"),
    "from torch import": ('''
from torch import tanh, from_numpy
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return tanh(from_numpy(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)).numpy()
''', "library torch"),
    "import inside": ('''
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    import torch.nn.functional as F
    return F.tanh(x_t)
''', "imports the library torch"),
    "importlib": ('''
import importlib
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    nets = importlib.import_module("rnn" + "lab.numpy_nets")
    return nets.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
''', "import machinery"),
    "importlib at the top": ('''
import importlib
nets = importlib.import_module("rnnlab.numpy_nets")
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return nets.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
''', "rnnlab.numpy_nets"),
    "__import__": ('''
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return __import__("rnnlab.numpy_nets", fromlist=["x"]).rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
''', "loads code by name"),
    "getattr on a module": ('''
import rnnlab
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return getattr(rnnlab, "numpy" + "_nets").rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
''', "rnnlab"),
    "getattr with a computed name on an allowed module": ('''
import numpy as np
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return getattr(np, "".join(["tan", "h"]))(x_t)
''', "computed name in the module numpy"),
    "sys.modules": ('''
import sys
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return sys.modules["rnnlab.numpy_nets"].rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
''', "sys.modules"),
    "eval": ('''
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return eval("nets.rnn_step")(x_t, h_prev, W_xh, W_hh, b_h)
''', "loads code by name"),
    "a helper class calling torch": ('''
import torch
class Cell:
    def step(self, a):
        return torch.tanh(torch.tensor(a)).numpy()
cell = Cell()
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return cell.step(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
''', "library torch"),
    "a default argument": ('''
from rnnlab import numpy_nets
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h, step=numpy_nets.rnn_step):
    return step(x_t, h_prev, W_xh, W_hh, b_h)
''', "rnnlab.numpy_nets"),
    "a closure": ('''
def make():
    import torch
    def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
        return torch.tanh(torch.from_numpy(x_t)).numpy()
    return rnn_step
rnn_step = make()
''', "torch"),
    "a decorator": ('''
import numpy as np
import torch
@torch.no_grad()
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t)
''', "torch"),
    "code made by exec": ('''
import torch
exec("def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\\n    return torch.tanh(torch.from_numpy(x_t)).numpy()")
''', "torch"),
}


@pytest.mark.parametrize("case", FAIR)
def test_a_fair_answer_passes_both_checks(case):
    space = notebook(FAIR[case])
    assert find_library_use(space["rnn_step"]) is None
    assert_own_work(space["rnn_step"])
    assert np.allclose(run_blocked(space["rnn_step"], *ARGS), WANT)


@pytest.mark.parametrize("case", SHORTCUTS)
def test_a_shortcut_is_named(case):
    source, words = SHORTCUTS[case]
    space = notebook(source)
    problem = find_library_use(space["rnn_step"])
    assert problem is not None and words in problem, problem
    with pytest.raises(AssertionError, match="Do the work yourself"):
        assert_own_work(space["rnn_step"])


@pytest.mark.parametrize("case", ["torch helper", "from torch import", "import inside",
                                  "importlib", "aliased module", "a helper class calling torch",
                                  "code made by exec", "a closure"])
def test_a_shortcut_fails_when_the_libraries_are_blocked(case):
    space = notebook(SHORTCUTS[case][0])
    modules, names = dict(sys.modules), dict(space)
    with pytest.raises(AssertionError, match="needs a library to work"):
        run_blocked(space["rnn_step"], *ARGS)
    assert sys.modules == modules and space == names, "everything is put back"


def test_an_exercise_can_allow_pytorch_and_still_forbid_rnnlab():
    space = notebook('''
import torch
from rnnlab import torch_models
class Fine(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(8, 4, batch_first=True)
    def forward(self, x):
        return self.rnn(x)[0][:, -1]
class Borrowed(torch_models.CharRNN):
    pass
''')
    torch_ok = ("rnnlab", "tensorflow", "keras", "jax")
    assert find_library_use(space["Fine"], forbidden=torch_ok) is None
    assert "torch_models" in find_library_use(space["Borrowed"], forbidden=torch_ok)
    assert "torch" in find_library_use(space["Fine"])       # the default forbids PyTorch


def test_module_names_match_by_package_not_by_text():
    assert is_forbidden("torch") and is_forbidden("torch.nn.functional")
    assert is_forbidden("rnnlab.numpy_nets") and is_forbidden("rnnlab")
    assert not is_forbidden("rnnlab.data") and not is_forbidden("rnnlab.video")
    assert not is_forbidden("torchvision_like") and not is_forbidden("numpy")
    assert not is_forbidden("torch", forbidden=("rnnlab",))

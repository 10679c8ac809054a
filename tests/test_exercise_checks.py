"""The exercises' tests are fair: submissions written the way students write them, graded in
this process by tests/exercise_runner.py (the solution notebooks' test cells, hidden tests
included, as autograde runs them; `make validate` and test_grading.py cover real kernels).

- A correct answer gets full marks however it is written: with loops instead of matrix
  products, or with a comment or string that names torch.
- A shortcut through a library gets no points, by any route: an aliased import of rnnlab,
  a helper that calls torch, importlib, autograd.
- A typical mistake gets partial marks, and the hint names the mistake it made.
- Every hidden test is seeded; every public assertion says what is wrong; no written
  question describes a hidden test.
"""
import ast
import itertools
import re

import nbformat
import pytest
from course import ASSIGNMENTS, ROOT
from exercise_runner import grade, release_answers
from test_grading_helpers import solution_answers

OURS = ASSIGNMENTS                       # every exercise in solutions/, a new one included
TRAINING = {"ex07_many_to_one", "ex09_frame_sequences"}   # their solutions train a model
FAST = [s for s in OURS if s not in TRAINING]


def _cells(slug):
    return nbformat.read(ROOT / "solutions" / slug / f"{slug}.ipynb", as_version=4).cells


def _with(slug, **changes):
    """The solution's answers with some replaced (grade_id=source)."""
    return {**solution_answers(slug), **changes}


def _replace(slug, grade_id, old, new):
    answer = solution_answers(slug)[grade_id]
    assert old in answer, f"{slug}/{grade_id} no longer contains {old!r}"
    return _with(slug, **{grade_id: answer.replace(old, new)})


# ---- the solution gets full marks, the blank release none ----------------------------------

@pytest.mark.parametrize("slug", FAST)
def test_the_solution_gets_full_marks(slug):
    grades = grade(slug)
    assert grades.total == sum(grades.possible.values()), grades.messages


@pytest.mark.parametrize("slug", OURS)
def test_the_blank_release_gets_zero(slug):
    grades = grade(slug, release_answers(slug))
    assert grades.possible and grades.total == 0, grades.points


# ---- ex01: comments never cost points, shortcuts never earn them --------------------------

EX01 = "ex01_rnn_forward"
COMMENTED = '''def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """Like torch.nn.RNNCell, or rnnlab.numpy_nets.rnn_step, but mine."""
    # unlike torch, written by hand (no tensorflow, no keras, no jax)
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)'''
LOOPS = '''import math

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    B, H = len(x_t), len(b_h)
    h = np.zeros((B, H))
    for b in range(B):
        for i in range(H):
            a = b_h[i]
            for j in range(len(x_t[b])):
                a += W_xh[i][j] * x_t[b][j]
            for j in range(H):
                a += W_hh[i][j] * h_prev[b][j]
            h[b, i] = math.tanh(a)
    return h'''
LOOPS_FORWARD = '''def rnn_forward(X, W_xh, W_hh, b_h, h0=None):
    states = []
    h = h0 if h0 is not None else np.zeros((X.shape[0], W_hh.shape[0]))
    for t in range(X.shape[1]):
        h = rnn_step(X[:, t], h, W_xh, W_hh, b_h)
        states.append(h)
    return np.array(states).transpose(1, 0, 2)'''
SHORTCUTS = {
    "aliased import": ('''from rnnlab import numpy_nets as nn

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return nn.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)''', "rnnlab.numpy_nets"),
    "torch helper": ('''import torch

def _squash(a):
    return torch.tanh(torch.from_numpy(a)).numpy()

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return _squash(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)''', "torch"),
    "importlib": ('''import importlib

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    nets = importlib.import_module("rnnlab." + "numpy_nets")
    return nets.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)''', "importlib"),
    "__import__": ('''def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    nets = __import__("rnnlab.numpy_nets", fromlist=["rnn_step"])
    return nets.rnn_step(x_t, h_prev, W_xh, W_hh, b_h)''', "__import__"),
    "imported function": ("from rnnlab.numpy_nets import rnn_step", "rnnlab.numpy_nets"),
}


def test_ex01_a_comment_naming_torch_gets_full_marks():
    grades = grade(EX01, _with(EX01, rnn_step=COMMENTED))
    assert grades.total == 10, grades.messages


def test_ex01_loops_instead_of_matrix_products_get_full_marks():
    grades = grade(EX01, _with(EX01, rnn_step=LOOPS, rnn_forward=LOOPS_FORWARD))
    assert grades.total == 10, grades.messages


@pytest.mark.parametrize("case", SHORTCUTS)
def test_ex01_a_shortcut_earns_nothing(case):
    source, named = SHORTCUTS[case]
    grades = grade(EX01, _with(EX01, rnn_step=source))
    # the step's points are lost; the forward pass built on it is judged on its own code
    assert grades.points == {"test_rnn_step": 0, "test_rnn_forward": 4, "test_checked_forward": 2}
    assert named in grades.messages["test_rnn_step"], grades.messages


@pytest.mark.parametrize(("old", "new", "hint"), [
    # starts from zeros, but stores h_0 .. h_{T-1}: the hint must not say "start from zeros"
    ("        h = rnn_step(X[:, t], h, W_xh, W_hh, b_h)\n        hs[:, t] = h",
     "        hs[:, t] = h\n        h = rnn_step(X[:, t], h, W_xh, W_hh, b_h)", "hs[:, 0] is all zeros"),
    ("h = np.zeros((B, H)) if h0 is None else h0", "h = np.ones((B, H)) if h0 is None else h0",
     "h_1 was computed from h_0 = [1. 1. 1. 1. 1.], ...: with h0=None, start from zeros"),
    ("h = np.zeros((B, H)) if h0 is None else h0", "h = np.zeros((B, H))", "h0 is ignored"),
])
def test_ex01_forward_mistakes_get_the_hint_that_fits(old, new, hint):
    grades = grade(EX01, _replace(EX01, "rnn_forward", old, new))
    assert grades.failed == ["test_rnn_forward"] and grades.total == 6, grades.messages
    assert hint in grades.messages["test_rnn_forward"], grades.messages
    if "h0=None" not in hint:
        assert "zeros of shape" not in grades.messages["test_rnn_forward"]


def test_ex01_own_work_check_in_a_real_kernel():
    """The same verdicts in an IPython kernel, where cells' code lives in IPython's linecache."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from coursetools.launch import is_environment_cell

    def run(rnn_step):
        nb = nbformat.read(ROOT / "solutions" / EX01 / f"{EX01}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code" and not is_environment_cell(c)]
        nb.cells = code[:3]   # setup, answer, test
        nb.cells[1].source = rnn_step
        try:
            NotebookClient(nb, timeout=60, kernel_name="python3").execute()
        except CellExecutionError as err:
            return str(err)
        return None

    assert run(COMMENTED) is None
    assert "rnnlab.numpy_nets" in run(SHORTCUTS["aliased import"][0])


# ---- ex03: one test per gradient, hints that name the cause -------------------------------

EX03 = "ex03_bptt"
AUTOGRAD = '''def backward(X, targets, params, cache):
    # autograd does it for me
    import torch
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = torch.zeros(X.shape[0], P["W_hh"].shape[0], dtype=torch.float64)
    loss = 0
    for t in range(X.shape[1]):
        h = torch.tanh(torch.tensor(X[:, t]) @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])
        y = h @ P["W_hy"].T + P["b_y"]
        loss = loss + torch.nn.functional.cross_entropy(y, torch.tensor(targets[:, t]), reduction="sum")
    (loss / X.shape[0]).backward()
    return {k: p.grad.numpy() for k, p in P.items()}'''
PER_EXAMPLE = '''def backward(X, targets, params, cache):
    hs, probs = cache
    B, T, _ = X.shape
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    for b in range(B):                       # one sequence at a time, like min-char-rnn
        dh_next = np.zeros(params["W_hh"].shape[0])
        for t in range(T - 1, -1, -1):
            dy = probs[b, t].copy()
            dy[targets[b, t]] -= 1
            dy /= B
            grads["W_hy"] += np.outer(dy, hs[b, t])
            grads["b_y"] += dy
            da = (params["W_hy"].T @ dy + dh_next) * (1 - hs[b, t] ** 2)
            h_prev = hs[b, t - 1] if t > 0 else np.zeros_like(da)
            grads["W_xh"] += np.outer(da, X[b, t])
            grads["W_hh"] += np.outer(da, h_prev)
            grads["b_h"] += da
            dh_next = params["W_hh"].T @ da
    return grads'''


def test_ex03_per_example_loops_get_full_marks():
    grades = grade(EX03, _with(EX03, backward=PER_EXAMPLE))
    assert grades.total == 10, grades.messages


def test_ex03_autograd_earns_nothing():
    grades = grade(EX03, _with(EX03, backward=AUTOGRAD))
    assert grades.total == 0 and all("torch" in m for m in grades.messages.values()), grades.messages


@pytest.mark.parametrize(("old", "new", "score", "failed", "hint"), [
    ('dh = dy[:, t] @ params["W_hy"] + dh_next', 'dh = dy[:, t] @ params["W_hy"]', 3,
     ["test_db_h", "test_dW_xh", "test_dW_hh"], "explicit part only"),
    ('grads["W_hh"] += da.T @ h_prev', 'grads["W_hh"] += da.T @ hs[:, t]', 7,
     ["test_dW_hh"], "db_h is right"),
    ("h_prev = hs[:, t - 1] if t > 0 else np.zeros_like(dh_next)", "h_prev = hs[:, t - 1]", 7,
     ["test_dW_hh"], "zeros at t = 1"),
    ('grads["W_hh"] += da.T @ h_prev', 'grads["W_hh"] += h_prev.T @ da', 7,
     ["test_dW_hh"], "transposed"),
    ("dy /= B", "pass", 0,
     ["test_output_layer", "test_db_h", "test_dW_xh", "test_dW_hh"], "B = 3 times too large"),
])
def test_ex03_a_mistake_costs_its_part_with_the_right_hint(old, new, score, failed, hint):
    grades = grade(EX03, _replace(EX03, "backward", old, new))
    assert grades.total == score and grades.failed == failed, grades.messages
    assert all(hint in grades.messages[gid] for gid in failed), grades.messages
    assert all("dh_next" not in grades.messages[gid] for gid in failed if hint != "explicit part only")


def test_ex03_a_wrong_output_layer_is_not_blamed_on_dh_next():
    grades = grade(EX03, _replace(EX03, "backward", "np.put_along_axis(dy", "0 and np.put_along_axis(dy"))
    assert grades.total == 0
    assert "onehot" in grades.messages["test_output_layer"]
    assert all("fix the output layer first" in grades.messages[g] for g in ("test_db_h", "test_dW_hh"))


# ---- ex05: erratum 17, a comment naming torch -----------------------------------------------

EX05 = "ex05_gated_cells"


def test_ex05_a_comment_naming_torch_gets_full_marks():
    answers = _with(EX05, lstm_step='''def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    # same gate order as torch.nn.LSTMCell (i, f, g, o), but no torch here
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    i, f, g, o = np.split(gates, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_new), c_new''')
    assert grade(EX05, answers).total == 10


def test_ex05_torch_inside_the_step_earns_nothing_for_it():
    step = solution_answers(EX05)["lstm_step"].replace(
        "h_new = sigmoid(o) * np.tanh(c_new)",
        "h_new = torch.sigmoid(torch.from_numpy(o)).numpy() * np.tanh(c_new)")
    grades = grade(EX05, _with(EX05, lstm_step=step))
    assert grades.points == {"test_lstm_step": 0, "test_lstm_forward": 4}
    assert "torch" in grades.messages["test_lstm_step"]


def test_ex05_a_wrong_gate_order_gets_the_gate_order_hint():
    grades = grade(EX05, _replace(EX05, "lstm_step", "i, f, c_tilde, o = np.split",
                                  "i, f, o, c_tilde = np.split"))
    assert grades.total == 0 and "order of the stacked rows" in grades.messages["test_lstm_step"]


# ---- the NumPy exercises without a shortcut to rnnlab ------------------------------------

@pytest.mark.parametrize(("slug", "grade_id", "source", "lost"), [
    ("ex02_unfolding", "shared_gradient", '''import torch
def shared_gradient(per_copy):
    return {k: torch.stack([torch.from_numpy(g[k]) for g in per_copy]).sum(0).numpy() for k in per_copy[0]}''',
     "test_shared_gradient"),
    ("ex04_truncated_bptt_clipping", "clip", '''from rnnlab import numpy_nets as nets
def clip_by_global_norm(grads, max_norm):
    return nets.clip_by_global_norm(grads, max_norm)''', "test_clip"),
    ("ex06_sampling", "temperature", '''from rnnlab.sampling import temperature_probs as probs
def apply_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    return probs(logits, temperature)''', "test_temperature"),
])
def test_a_numpy_exercise_scores_its_shortcut_zero_and_the_rest_in_full(slug, grade_id, source, lost):
    grades = grade(slug, _with(slug, **{grade_id: source}))
    assert grades.failed == lost.split(), grades.messages
    assert all("Do the work yourself" in grades.messages[gid] for gid in lost.split())


def test_ex08_baselines_from_rnnlab_earn_nothing_and_a_model_may_use_statsmodels():
    borrowed = solution_answers("ex08_forecasting")["baselines"].replace(
        "def mae(actual, forecast):", "from rnnlab import series\n\n\ndef mae(actual, forecast):\n"
        "    return series.mae(np.asarray(forecast), np.asarray(actual))\n\n\ndef _unused(actual, forecast):")
    grades = grade("ex08_forecasting", _with("ex08_forecasting", baselines=borrowed))
    assert grades.points == {"test_baselines": 0, "test_model": 6}, grades.messages
    assert "rnnlab.series" in grades.messages["test_baselines"]


# ---- ex07 and ex09: the last time step, scored on its own ----------------------------------

@pytest.mark.parametrize(("old", "new", "hint"), [
    ("return self.head(h_last[-1])", "return self.head(self.rnn(x)[0][:, 0])", "come from h_1"),
    ("return self.head(h_last[-1])", "return self.head(self.rnn(x)[0].mean(dim=1))", "mean of all hidden states"),
    ("return self.head(h_last[-1])", "return self.head(self.rnn(x)[0][:, 7])", "any height"),
])
def test_ex07_not_reading_the_last_step_fails_its_own_test(old, new, hint):
    grades = grade("ex07_many_to_one", _replace("ex07_many_to_one", "model", old, new),
                   stop_after="test_last_step")
    assert grades.points == {"test_model": 2, "test_last_step": 0}, grades.messages
    assert hint in grades.messages["test_last_step"]


def test_ex09_full_marks_and_partial_marks_for_typical_mistakes():
    slug = "ex09_frame_sequences"
    assert grade(slug).total == 10
    rows_first = _replace(slug, "frame_profiles", "[clips.mean(axis=2), clips.mean(axis=3)]",
                          "[clips.mean(axis=3), clips.mean(axis=2)]")
    first_state = _replace(slug, "model", "states[:, -1]", "states[:, 0]")
    torch_profiles = _with(slug, frame_profiles='''import torch
def frame_profiles(clips):
    c = torch.as_tensor(clips, dtype=torch.float32)
    return torch.cat([c.mean(dim=2), c.mean(dim=3)], dim=2).numpy()''')
    for answers, failed, hint, last in [(rows_first, ["test_profiles"], "column profile", "test_order_blind"),
                                        (first_state, ["test_model"], "h_1", "test_model"),
                                        (torch_profiles, ["test_profiles"], "torch", "test_profiles")]:
        grades = grade(slug, answers, stop_after=last)
        assert grades.failed == failed, grades.messages
        assert hint in grades.messages[failed[0]], grades.messages


# ---- ex10: each part scored on its own, the hint naming the mistake ---------------------

EX10 = "ex10_parallel_scan"


@pytest.mark.parametrize(("grade_id", "old", "new", "failed", "hint"), [
    ("combine_log", "np.logaddexp(alpha2 + beta1, beta2)",
     "np.log(np.exp(alpha2 + beta1) + np.exp(beta2))",
     ["test_combine_log", "test_scan_parallel_log"], "do not exponentiate"),
    ("combine_log", "alpha1 + alpha2,", "alpha1 * alpha2,",
     ["test_combine_log", "test_scan_parallel_log"], "their logarithms add"),
    ("scan_parallel_log", "np.logaddexp(A + log_h0[:, None], B)",
     "np.log(np.exp(A + log_h0[:, None]) + np.exp(B))", ["test_scan_parallel_log"],
     "stay in log space to the end"),
    ("mingru_gradients", 'd_z = grads["a"] - grads["b"] * h_tilde', 'd_z = grads["a"]',
     ["test_gate_gradient"], "dL/dz_t = dL/da_t - dL/db_t * h~_t"),
    ("mingru_gradients", "np.where(u_h >= 0, 1.0, sigmoid(u_h) * (1.0 - sigmoid(u_h)))", "1.0",
     ["test_candidate_gradient"], "look at g' below 0"),
])
@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")  # the mistake
def test_ex10_a_mistake_costs_its_part_with_the_right_hint(grade_id, old, new, failed, hint):
    grades = grade(EX10, _replace(EX10, grade_id, old, new))
    assert grades.failed == failed, grades.messages
    assert hint in grades.messages[failed[0]], grades.messages
    assert 0 < grades.total < 12


def test_ex10_a_loop_over_time_is_not_a_scan():
    loop = '''def scan_parallel_log(log_a, log_b, log_h0):
    out, h = np.empty_like(log_b), log_h0
    for t in range(log_b.shape[1]):
        h = np.logaddexp(log_a[:, t] + h, log_b[:, t])
        out[:, t] = h
    return out'''
    grades = grade(EX10, _with(EX10, scan_parallel_log=loop))
    assert grades.failed == ["test_scan_parallel_log"], grades.messages
    assert "once per round" in grades.messages["test_scan_parallel_log"]


def test_ex10_torch_autograd_earns_nothing_for_the_gradients():
    autograd = '''import torch
def mingru_gradients(u_z, u_h, h0, dhs):
    uz, uh = (torch.tensor(u, requires_grad=True) for u in (u_z, u_h))
    z, h = torch.sigmoid(uz), torch.tensor(h0)
    candidate = torch.where(uh >= 0, uh + 0.5, torch.sigmoid(uh))
    states = []
    for t in range(uz.shape[1]):
        h = z[:, t] * h + (1 - z[:, t]) * candidate[:, t]
        states.append(h)
    (torch.stack(states, 1) * torch.tensor(dhs)).sum().backward()
    return {"u_z": uz.grad.numpy(), "u_h": uh.grad.numpy()}'''
    grades = grade(EX10, _with(EX10, mingru_gradients=autograd))
    assert grades.failed == ["test_gate_gradient", "test_candidate_gradient"], grades.messages
    assert all("Do the work yourself" in grades.messages[g] for g in grades.failed)


# ---- the tests themselves ---------------------------------------------------------------

def _regions(slug):
    for cell in _cells(slug):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            visible, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
            yield meta["grade_id"], visible, rest.partition("### END HIDDEN TESTS")[0]


DRAWS = re.compile(r"torch\.(rand\w*|randperm|normal)\(|np\.random\.(?!default_rng)\w+\(|\brng\.")
SEEDED = re.compile(r"manual_seed\(\d+\)|default_rng\(\d+\)")


@pytest.mark.parametrize("slug", OURS)
def test_every_hidden_test_that_draws_random_numbers_seeds_them(slug):
    for grade_id, _, hidden in _regions(slug):
        if DRAWS.search(hidden):
            assert SEEDED.search(hidden), f"{slug}/{grade_id}: hidden test draws unseeded numbers"


@pytest.mark.parametrize("slug", OURS)
def test_every_public_assertion_says_what_is_wrong(slug):
    for grade_id, visible, _ in _regions(slug):
        for node in ast.walk(ast.parse(visible)):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"{slug}/{grade_id}: `{ast.unparse(node)}` has no message"


@pytest.mark.parametrize("slug", OURS)
def test_own_work_is_checked_by_code_not_by_text(slug):
    hidden = "\n".join(h for _, _, h in _regions(slug))
    assert "inspect.getsource" not in hidden and "sys.modules" not in hidden
    assert "assert_own_work(" in hidden, f"{slug}: no own-work check"


def test_no_written_question_describes_a_hidden_test():
    for slug in OURS:
        cells = _cells(slug)
        for before, cell in itertools.pairwise(cells):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "markdown":
                assert "hidden" not in before.source.lower(), f"{slug}: {before.source[:80]}"


# ---- the trusted engine, in-process (tests/test_grading.py runs it against real kernels) ----

def test_redefining_the_checking_helpers_earns_nothing(monkeypatch):
    """The test cells run in the trusted namespace: the student's own check_gradients is
    never called, all-zero gradients score 0 with the course's hint."""
    import sys

    from test_grading_helpers import KERNEL_ATTACKS, ZERO_BACKWARD

    # The in-process "kernel" is this interpreter: the attack's fake coursetools.ownwork
    # lands in this sys.modules, and must not outlive the test (later tests import it).
    import coursetools.ownwork
    monkeypatch.setitem(sys.modules, "coursetools.ownwork", coursetools.ownwork)
    grades = grade(EX03, _with(EX03, backward=ZERO_BACKWARD),
                   extra={"gradient_diagnosis": KERNEL_ATTACKS["redefined checking helpers"]})
    assert grades.total == 0, grades.messages
    assert "dW_hy is wrong" in grades.messages["test_output_layer"]


LIAR = '''class Always(np.ndarray):
    """An array that says it equals anything, even under np.allclose."""
    def __eq__(self, other):
        return True
    def __array_function__(self, func, types, args, kwargs):
        return True

def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.zeros((len(x_t), len(b_h))).view(Always)'''


def test_an_answer_comes_back_as_plain_data():
    """A result whose type lies about equality reaches the test as a plain array."""
    grades = grade(EX01, _with(EX01, rnn_step=LIAR))
    assert grades.points["test_rnn_step"] == 0, grades.messages


def test_what_cannot_be_sent_fails_loudly():
    from coursetools.verdicts import InProcessKernel, TrustedNotebook
    engine = TrustedNotebook(nbformat.v4.new_notebook(), InProcessKernel({"f": len}))
    with pytest.raises(TypeError, match="cannot send"):
        engine.ask("call", {"$": "ref", "name": "f"}, object())
    with pytest.raises(TypeError):                  # the student's exception, by its name
        engine.ask("call", {"$": "ref", "name": "f"}, 3)


def test_the_static_scan_flags_the_machinery_not_the_answers():
    from test_grading_helpers import KERNEL_ATTACKS, LEAKS

    from coursetools.launch import given_by_the_course
    from coursetools.verdicts import suspicious
    for form, source in {**KERNEL_ATTACKS, **LEAKS}.items():
        assert suspicious([source]), form
    for slug in OURS:
        code = [c.source for c in _cells(slug) if c.cell_type == "code"
                and not (c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))
                and not given_by_the_course(c)]      # the environment cell runs pip: ours
        assert suspicious(code) == [], slug

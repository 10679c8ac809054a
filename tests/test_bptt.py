"""rnnlab.numpy_nets.rnn_backward: backpropagation through time, checked three ways
(finite differences, PyTorch autograd, TensorFlow's GradientTape), with checks that bite."""
import numpy as np
import pytest
from course import ROOT

from rnnlab import gradcheck, numpy_nets

B, T, D, H, O = 3, 7, 4, 5, 6
TOL = 1e-6


@pytest.fixture()
def case():
    """A float64 RNN with weights large enough that the recurrence matters (tanh not flat)."""
    rng = np.random.default_rng(0)
    params = {name: 2 * value for name, value in
              numpy_nets.init_rnn_params(D, H, O, rng).items()}
    X = rng.normal(size=(B, T, D))
    targets = rng.integers(0, O, size=(B, T))
    h0 = 0.5 * rng.normal(size=(B, H))
    return params, X, targets, h0


def loss_of(params, X, targets, h0):
    return lambda: numpy_nets.cross_entropy(numpy_nets.rnn_forward(X, params, h0=h0)[1], targets)


def backward(params, X, targets, h0, K=None):
    """(grads, dh0) of the mean cross-entropy, full BPTT or truncated every K steps."""
    hs, ys = numpy_nets.rnn_forward(X, params, h0=h0)
    _, dys = numpy_nets.softmax_cross_entropy_grad(ys, targets)
    return numpy_nets.rnn_backward(X, params, hs, dys=dys, h0=h0, K=K)


def test_softmax_cross_entropy_grad_matches_finite_differences(case):
    rng = np.random.default_rng(1)
    logits, targets = rng.normal(size=(B, T, O)), case[2]
    loss, dlogits = numpy_nets.softmax_cross_entropy_grad(logits, targets)
    assert loss == pytest.approx(numpy_nets.cross_entropy(logits, targets))
    numeric = gradcheck.numerical_gradient(lambda: numpy_nets.cross_entropy(logits, targets),
                                           logits)
    assert gradcheck.relative_error(dlogits, numeric) < TOL


def test_rnn_backward_matches_finite_differences(case):
    params, X, targets, h0 = case
    grads, dh0 = backward(params, X, targets, h0)
    assert set(grads) == set(numpy_nets.PARAM_NAMES)     # parameters only: dh0 comes apart
    errors = gradcheck.check_gradients(loss_of(params, X, targets, h0), params, grads)
    assert max(errors.values()) < TOL, errors
    numeric_dh0 = gradcheck.numerical_gradient(loss_of(params, X, targets, h0), h0)
    assert gradcheck.relative_error(dh0, numeric_dh0) < TOL


def test_rnn_backward_grads_can_be_clipped_and_applied_as_returned(case):
    """Chapter 10's loop: the returned dict is exactly the parameters' gradients, so global-
    norm clipping sees no state gradient and every parameter gets its update."""
    params, X, targets, h0 = case
    grads, dh0 = backward(params, X, targets, h0)
    clipped, norm = numpy_nets.clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    assert set(clipped) == set(params) and dh0.shape == h0.shape


def test_rnn_backward_with_relu_matches_finite_differences(case):
    """activation=numpy_nets.relu (chapter 9's SimpleRNN variant): the backward uses relu',
    not tanh'. With tanh' hard-coded the relative error was above 1."""
    params, X, targets, h0 = case
    relu = numpy_nets.relu
    def loss():
        return numpy_nets.cross_entropy(
            numpy_nets.rnn_forward(X, params, h0=h0, activation=relu)[1], targets)
    hs, ys = numpy_nets.rnn_forward(X, params, h0=h0, activation=relu)
    assert (hs == 0).any() and (hs > 1).any()           # both sides of the kink are visited
    _, dys = numpy_nets.softmax_cross_entropy_grad(ys, targets)
    grads, dh0 = numpy_nets.rnn_backward(X, params, hs, dys=dys, h0=h0, activation=relu)
    errors = gradcheck.check_gradients(loss, params, grads)
    assert max(errors.values()) < TOL, errors
    assert gradcheck.relative_error(dh0, gradcheck.numerical_gradient(loss, h0)) < TOL
    tanh_grads, _ = numpy_nets.rnn_backward(X, params, hs, dys=dys, h0=h0)
    assert gradcheck.relative_error(tanh_grads["W_hh"], grads["W_hh"]) > 0.5


@pytest.mark.parametrize("activation", [np.sin, lambda a: np.maximum(a, 0.0), None])
def test_rnn_backward_refuses_an_activation_it_cannot_differentiate(case, activation):
    params, X, _, h0 = case
    hs, ys = numpy_nets.rnn_forward(X, params, h0=h0)
    with pytest.raises(ValueError, match=r"np\.tanh.*numpy_nets\.relu"):
        numpy_nets.rnn_backward(X, params, hs, dys=ys, activation=activation)


def test_no_truncated_alias():
    """One function, one name: truncation is rnn_backward(..., K=K)."""
    assert not hasattr(numpy_nets, "rnn_backward_truncated")


def test_rnn_backward_with_dhs_only_matches_finite_differences(case):
    """Many-to-one: the loss sees only h_T (no output layer), L = sum(G * h_T)."""
    params, X, _, h0 = case
    params = {name: params[name] for name in ("W_xh", "W_hh", "b_h")}
    G = np.random.default_rng(2).normal(size=(B, H))
    def loss():
        return float(np.sum(G * numpy_nets.rnn_forward(X, params, h0=h0)[0][:, -1]))
    hs, _ = numpy_nets.rnn_forward(X, params, h0=h0)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = G
    grads, _ = numpy_nets.rnn_backward(X, params, hs, dhs=dhs, h0=h0)
    assert set(grads) == {"W_xh", "W_hh", "b_h"}
    assert max(gradcheck.check_gradients(loss, params, grads).values()) < TOL


def test_dropping_the_implicit_part_is_caught(case):
    """The checks bite: K=1 keeps only the explicit parts (no gradient from h_t to h_{t-1});
    finite differences report it, for every recurrent weight."""
    params, X, targets, h0 = case
    grads, _ = backward(params, X, targets, h0, K=1)
    errors = gradcheck.check_gradients(loss_of(params, X, targets, h0), params, grads)
    assert min(errors["W_xh"], errors["W_hh"], errors["b_h"]) > 1e-2, errors


def test_loss_on_the_last_state_only_is_caught(case):
    """The article's 'L depends on h_3' is wrong for a loss at every step: backpropagating
    only the last step's dL/dy_T misses most of the gradient, and the check says so."""
    params, X, targets, h0 = case
    hs, ys = numpy_nets.rnn_forward(X, params, h0=h0)
    _, dys = numpy_nets.softmax_cross_entropy_grad(ys, targets)
    dys[:, :-1] = 0.0
    grads, _ = numpy_nets.rnn_backward(X, params, hs, dys=dys, h0=h0)
    errors = gradcheck.check_gradients(loss_of(params, X, targets, h0), params, grads)
    assert max(errors.values()) > 0.5, errors


def test_truncation_with_K_at_least_T_is_full_bptt(case):
    params, X, targets, h0 = case
    full, full_dh0 = backward(params, X, targets, h0)
    for K in (T, T + 3):
        cut, cut_dh0 = backward(params, X, targets, h0, K=K)
        for name in full:
            np.testing.assert_allclose(cut[name], full[name], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(cut_dh0, full_dh0, rtol=1e-12, atol=1e-15)
    partial, _ = backward(params, X, targets, h0, K=3)
    assert gradcheck.relative_error(partial["W_hh"], full["W_hh"]) > 1e-3


@pytest.mark.parametrize("K", [None, 1, 3])
def test_torch_autograd_agrees(case, K):
    """Full BPTT equals autograd; truncated BPTT equals autograd with h.detach() every K."""
    torch = pytest.importorskip("torch")
    params, X, targets, h0 = case
    tp = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    th0 = torch.tensor(h0, requires_grad=True)
    h, logits = th0, []
    for t in range(T):
        if K is not None and t > 0 and t % K == 0:
            h = h.detach()
        h = torch.tanh(torch.tensor(X[:, t]) @ tp["W_xh"].T + h @ tp["W_hh"].T + tp["b_h"])
        logits.append(h @ tp["W_hy"].T + tp["b_y"])
    logits = torch.stack(logits, dim=1)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, O),
                                             torch.tensor(targets).reshape(-1))
    loss.backward()
    grads, dh0 = backward(params, X, targets, h0, K=K)
    for name in numpy_nets.PARAM_NAMES:
        assert gradcheck.relative_error(grads[name], tp[name].grad.numpy()) < TOL, name
    assert gradcheck.relative_error(dh0, th0.grad.numpy()) < TOL


def test_torch_nn_rnn_agrees(case):
    torch = pytest.importorskip("torch")
    from rnnlab import transfer
    params, X, targets, h0 = case
    rnn = torch.nn.RNN(D, H, batch_first=True).double()
    linear = torch.nn.Linear(H, O).double()
    transfer.rnn_params_to_torch(params, rnn, linear)
    out, _ = rnn(torch.tensor(X), torch.tensor(h0)[None])
    loss = torch.nn.functional.cross_entropy(linear(out).reshape(-1, O),
                                             torch.tensor(targets).reshape(-1))
    loss.backward()
    grads, _ = backward(params, X, targets, h0)
    assert gradcheck.relative_error(grads["W_hh"], rnn.weight_hh_l0.grad.numpy()) < TOL
    assert gradcheck.relative_error(grads["W_xh"], rnn.weight_ih_l0.grad.numpy()) < TOL
    assert gradcheck.relative_error(grads["b_h"], rnn.bias_ih_l0.grad.numpy()) < TOL
    assert gradcheck.relative_error(grads["b_h"], rnn.bias_hh_l0.grad.numpy()) < TOL
    assert gradcheck.relative_error(grads["W_hy"], linear.weight.grad.numpy()) < TOL


@pytest.mark.slow
def test_tensorflow_gradient_tape_agrees(case):
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    params, X, targets, h0 = case
    rnn = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    dense = keras.layers.Dense(O, dtype="float64")
    inputs = keras.Input(shape=(T, D), dtype="float64")
    keras.Model(inputs, dense(rnn(inputs)))
    rnn.set_weights([params["W_xh"].T, params["W_hh"].T, params["b_h"]])
    dense.set_weights([params["W_hy"].T, params["b_y"]])
    with tf.GradientTape() as tape:
        logits = dense(rnn(tf.constant(X), initial_state=[tf.constant(h0)]))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            tf.constant(targets), logits))
    kernel, recurrent, bias = rnn.cell.kernel, rnn.cell.recurrent_kernel, rnn.cell.bias
    g = tape.gradient(loss, [kernel, recurrent, bias, dense.kernel, dense.bias])
    ours, _ = backward(params, X, targets, h0)
    for name, theirs in zip(("W_xh", "W_hh", "b_h", "W_hy", "b_y"), g):
        theirs = np.asarray(theirs)
        theirs = theirs.T if theirs.ndim == 2 else theirs      # Keras kernels are transposed
        assert gradcheck.relative_error(ours[name], theirs) < TOL, name


def test_wrong_shapes_name_both_shapes(case):
    params, X, _, h0 = case
    hs, ys = numpy_nets.rnn_forward(X, params, h0=h0)
    with pytest.raises(ValueError, match=rf"\({B}, {T}, {H}\).*\({B}, {H}, {T}\)"):
        numpy_nets.rnn_backward(X, params, hs.transpose(0, 2, 1), dys=ys)
    with pytest.raises(ValueError, match=rf"\({B}, {T}, {O}\).*\({B}, {T}, {H}\)"):
        numpy_nets.rnn_backward(X, params, hs, dys=hs)
    with pytest.raises(ValueError, match=rf"\({B}, {H}\).*\({H}, {B}\)"):
        numpy_nets.rnn_backward(X, params, hs, dys=ys, h0=h0.T)
    with pytest.raises(ValueError, match="dys"):
        numpy_nets.rnn_backward(X, params, hs)
    with pytest.raises(ValueError, match="K must be"):
        numpy_nets.rnn_backward(X, params, hs, dys=ys, K=0)


def test_clip_by_global_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grads = {"a": rng.normal(size=(4, 3)), "b": rng.normal(size=5)}
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    clipped, before = numpy_nets.clip_by_global_norm(grads, max_norm=1.0)
    assert before == pytest.approx(norm)
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.0)
    for t, name in zip(tensors, grads):
        np.testing.assert_allclose(clipped[name], t.grad.numpy(), rtol=1e-12)
    small, _ = numpy_nets.clip_by_global_norm(grads, max_norm=10 * norm)
    for name, value in grads.items():
        np.testing.assert_array_equal(small[name], value)   # below the threshold: unchanged


@pytest.mark.slow
def test_benchmark_prints_its_table():
    """benchmarks/numpy_vs_torch.py runs (gradients agree, then timing) and prints two rows."""
    pytest.importorskip("torch")
    import subprocess
    import sys

    script = ROOT / "benchmarks" / "numpy_vs_torch.py"
    result = subprocess.run([sys.executable, str(script), "--repeats", "2", "--threads", "1"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.strip().startswith(("128", "256"))]
    assert len(rows) == 2, result.stdout
    for row in rows:
        assert float(row.split("|")[-1]) > 0

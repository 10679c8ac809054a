"""LSTM, GRU and bidirectional layers: NumPy (rnnlab.numpy_nets), torch.nn and keras.layers
agree to 1e-5 on the same weights, and the checks catch a wrong gate order."""
import numpy as np
import pytest

from rnnlab import numpy_nets, transfer

B, T, D, H = 3, 7, 4, 5


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)


def _params(cell, seed):
    rng = np.random.default_rng(seed)
    if cell == "lstm":
        return numpy_nets.init_lstm_params(D, H, rng, dtype=np.float32)
    if cell == "gru":
        params = numpy_nets.init_gru_params(D, H, rng, dtype=np.float32)
        params["b_hn"] = params["b_hn"] + 0.5  # make b_hn's placement inside r_t matter
        return params
    return numpy_nets.init_rnn_params(D, H, 1, rng, dtype=np.float32)


def _numpy_states(cell, X, params):
    if cell == "lstm":
        return numpy_nets.lstm_forward(X, params)[0]
    if cell == "gru":
        return numpy_nets.gru_forward(X, params)
    return numpy_nets.rnn_forward(X, params)[0]


def _torch_states(cell, X, load, **kwargs):
    torch = pytest.importorskip("torch")
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        D, H, batch_first=True, **kwargs)
    load(module)
    with torch.no_grad():
        return module(torch.from_numpy(X))[0].numpy()


def _keras_states(layer, X, load):
    keras = pytest.importorskip("keras")
    layer(keras.Input(shape=(T, D)))  # builds the weights
    load(layer)
    return np.asarray(layer(X))


# ---- hand-checkable facts about the NumPy cells --------------------------------------------

def test_lstm_step_matches_equations_by_hand():
    """With all weights zero and a bias per gate, every gate is a constant we can compute."""
    params = {k: np.zeros_like(v) for k, v in
              numpy_nets.init_lstm_params(2, 1, np.random.default_rng(0)).items()}
    params.update(b_i=np.array([0.0]), b_f=np.array([np.log(3.0)]),   # i = 0.5, f = 0.75
                  b_c=np.array([np.arctanh(0.4)]), b_o=np.array([0.0]))  # c~ = 0.4, o = 0.5
    h, c = numpy_nets.lstm_step(np.ones((1, 2)), np.zeros((1, 1)), np.full((1, 1), 2.0), params)
    assert c[0, 0] == pytest.approx(0.75 * 2.0 + 0.5 * 0.4)
    assert h[0, 0] == pytest.approx(0.5 * np.tanh(1.7))


def test_gru_update_gate_one_keeps_the_state():
    params = numpy_nets.init_gru_params(D, H, np.random.default_rng(0))
    params["b_z"] = np.full(H, 50.0)  # z_t = 1: h_t = h_{t-1}
    h_prev = np.random.default_rng(1).normal(size=(B, H))
    h = numpy_nets.gru_step(np.ones((B, D)), h_prev, params)
    np.testing.assert_allclose(h, h_prev, atol=1e-12)


def test_reset_after_changes_the_result():
    params = _params("gru", 3)
    x = np.asarray(np.random.default_rng(2).normal(size=(B, D)))
    h_prev = np.ones((B, H))
    after = numpy_nets.gru_step(x, h_prev, params, reset_after=True)
    before = numpy_nets.gru_step(x, h_prev, params, reset_after=False)
    assert np.abs(after - before).max() > 1e-3


@pytest.mark.parametrize("step", ["lstm", "gru"])
def test_wrong_shapes_raise_clear_errors(step):
    params = _params(step, 0)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(batch, hidden\)"):
        if step == "lstm":
            numpy_nets.lstm_step(np.ones((B, D)), np.ones((B, H + 1)), np.ones((B, H)), params)
        else:
            numpy_nets.gru_step(np.ones((B, D)), np.ones((B, H + 1)), params)
    with pytest.raises(ValueError, match="W_x"):
        forward = numpy_nets.lstm_forward if step == "lstm" else numpy_nets.gru_forward
        forward(np.ones((B, T, D + 1)), params)


# ---- PyTorch ------------------------------------------------------------------------------

def test_torch_lstm_matches_numpy(X):
    params = _params("lstm", 0)
    expected = _numpy_states("lstm", X, params)
    out = _torch_states("lstm", X, lambda m: transfer.lstm_params_to_torch(params, m))
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_torch_gru_matches_numpy(X):
    params = _params("gru", 0)
    expected = _numpy_states("gru", X, params)
    out = _torch_states("gru", X, lambda m: transfer.gru_params_to_torch(params, m))
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_torch_bidirectional_matches_numpy(X, cell):
    fwd, bwd = _params(cell, 10), _params(cell, 11)
    expected = numpy_nets.bidirectional_forward(X, fwd, bwd, cell)
    assert expected.shape == (B, T, 2 * H)
    out = _torch_states(cell, X, lambda m: transfer.bidirectional_params_to_torch(fwd, bwd, m, cell),
                        bidirectional=True)
    np.testing.assert_allclose(out, expected, atol=1e-5)


# ---- Keras --------------------------------------------------------------------------------

def test_keras_lstm_matches_numpy(X):
    keras = pytest.importorskip("keras")
    params = _params("lstm", 0)
    out = _keras_states(keras.layers.LSTM(H, return_sequences=True), X,
                        lambda layer: transfer.lstm_params_to_keras(params, layer))
    np.testing.assert_allclose(out, _numpy_states("lstm", X, params), atol=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_gru_matches_numpy(X, reset_after):
    keras = pytest.importorskip("keras")
    params = _params("gru", 0)
    out = _keras_states(keras.layers.GRU(H, return_sequences=True, reset_after=reset_after), X,
                        lambda layer: transfer.gru_params_to_keras(params, layer))
    expected = numpy_nets.gru_forward(X, params, reset_after=reset_after)
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_keras_bidirectional_matches_numpy(X, cell):
    keras = pytest.importorskip("keras")
    fwd, bwd = _params(cell, 10), _params(cell, 11)
    inner = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
             "gru": keras.layers.GRU}[cell](H, return_sequences=True)
    out = _keras_states(keras.layers.Bidirectional(inner), X,
                        lambda layer: transfer.bidirectional_params_to_keras(fwd, bwd, layer, cell))
    np.testing.assert_allclose(out, numpy_nets.bidirectional_forward(X, fwd, bwd, cell), atol=1e-5)


# ---- the checks bite ----------------------------------------------------------------------

def test_pytorch_gru_order_in_keras_is_caught(X):
    """Loading the GRU into Keras in PyTorch's order (r, z, n instead of z, r, h) is wrong,
    and the parity check sees it."""
    keras = pytest.importorskip("keras")
    params = _params("gru", 0)
    out = _keras_states(keras.layers.GRU(H, return_sequences=True), X,
                        lambda layer: transfer.gru_params_to_keras(
                            params, layer, order=transfer.TORCH_GRU_ORDER))
    assert np.abs(out - _numpy_states("gru", X, params)).max() > 1e-3


def test_swapped_lstm_gates_in_torch_are_caught(X):
    params = _params("lstm", 0)
    out = _torch_states("lstm", X, lambda m: transfer.lstm_params_to_torch(
        params, m, order=("f", "i", "c", "o")))
    assert np.abs(out - _numpy_states("lstm", X, params)).max() > 1e-3


def test_gru_bias_in_the_wrong_torch_slot_is_caught(X):
    """b_hn sits inside r_t * (...): moving it to bias_ih (as if the biases simply added) is
    a different network."""
    torch = pytest.importorskip("torch")
    params = _params("gru", 0)

    def load_summed(module):
        transfer.gru_params_to_torch(params, module)
        with torch.no_grad():
            module.bias_ih_l0[2 * H:] += module.bias_hh_l0[2 * H:]
            module.bias_hh_l0.zero_()

    out = _torch_states("gru", X, load_summed)
    assert np.abs(out - _numpy_states("gru", X, params)).max() > 1e-3


def test_unreversed_backward_direction_is_caught(X):
    """A 'bidirectional' NumPy layer that forgets to flip the backward states back into time
    order disagrees with PyTorch."""
    fwd, bwd = _params("gru", 10), _params("gru", 11)
    out = _torch_states("gru", X, lambda m: transfer.bidirectional_params_to_torch(fwd, bwd, m, "gru"),
                        bidirectional=True)
    wrong = np.concatenate([numpy_nets.gru_forward(X, fwd),
                            numpy_nets.gru_forward(X[:, ::-1], bwd)], axis=-1)
    assert np.abs(out - wrong).max() > 1e-3


# ---- the NumPy backward passes --------------------------------------------------------------

def _backward_case(cell):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(B, T, D))
    R = rng.normal(size=(B, T, H))           # loss L = sum(R * h): dL/dh_t = R_t
    if cell == "lstm":
        params = numpy_nets.init_lstm_params(D, H, rng)
        *_, cache = numpy_nets.lstm_forward(X, params, return_cache=True)
        grads, _, _ = numpy_nets.lstm_backward(R, cache)
        loss = lambda: float((numpy_nets.lstm_forward(X, params)[0] * R).sum())
    else:
        params = numpy_nets.init_gru_params(D, H, rng)
        params["b_hn"] = params["b_hn"] + 0.5
        _, cache = numpy_nets.gru_forward(X, params, return_cache=True)
        grads, _ = numpy_nets.gru_backward(R, cache)
        loss = lambda: float((numpy_nets.gru_forward(X, params) * R).sum())
    return X, R, params, grads, loss


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_backward_matches_finite_differences(cell):
    from rnnlab.gradcheck import check_gradients

    _, _, params, grads, loss = _backward_case(cell)
    errors = check_gradients(loss, params, grads)
    assert set(errors) == set(params)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_backward_matches_torch_autograd(cell):
    torch = pytest.importorskip("torch")
    X, R, params, grads, _ = _backward_case(cell)
    module = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(D, H, batch_first=True).double()
    load = transfer.lstm_params_to_torch if cell == "lstm" else transfer.gru_params_to_torch
    load(params, module)
    h0 = torch.zeros(1, B, H, dtype=torch.float64, requires_grad=True)
    state = (h0, torch.zeros(1, B, H, dtype=torch.float64)) if cell == "lstm" else h0
    out, _ = module(torch.from_numpy(X), state)
    (out * torch.from_numpy(R)).sum().backward()
    np.testing.assert_allclose(module.weight_hh_l0.grad.numpy(),
                               np.concatenate([grads[f"W_h{g}"] for g in
                                               (transfer.LSTM_ORDER if cell == "lstm"
                                                else transfer.TORCH_GRU_ORDER)]), atol=1e-10)
    state_grads = _state_gradients(cell)
    np.testing.assert_allclose(h0.grad[0].numpy(), state_grads[0], atol=1e-10)


def _state_gradients(cell):
    """The backward's gradients with respect to the initial states: (dh0, dc0) or (dh0,)."""
    X, R, params, _, _ = _backward_case(cell)
    if cell == "lstm":
        *_, cache = numpy_nets.lstm_forward(X, params, return_cache=True)
        return numpy_nets.lstm_backward(R, cache)[1:]
    _, cache = numpy_nets.gru_forward(X, params, return_cache=True)
    return numpy_nets.gru_backward(R, cache)[1:]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_backward_returns_state_gradients_apart(cell):
    """grads holds the parameters' gradients only; dh0 (and dc0) come back separately and
    match finite differences taken at non-zero initial states."""
    from rnnlab.gradcheck import check_gradients, numerical_gradient, relative_error

    X, R, params, _, _ = _backward_case(cell)
    rng = np.random.default_rng(8)
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    if cell == "lstm":
        cache = numpy_nets.lstm_forward(X, params, h0, c0, return_cache=True)[2]
        grads, dh0, dc0 = numpy_nets.lstm_backward(R, cache)
        loss = lambda: float((numpy_nets.lstm_forward(X, params, h0, c0)[0] * R).sum())
        assert relative_error(dc0, numerical_gradient(loss, c0)) < 1e-6
    else:
        _, cache = numpy_nets.gru_forward(X, params, h0, return_cache=True)
        grads, dh0 = numpy_nets.gru_backward(R, cache)
        loss = lambda: float((numpy_nets.gru_forward(X, params, h0) * R).sum())
    assert set(grads) == set(params)
    assert max(check_gradients(loss, params, grads).values()) < 1e-6
    assert relative_error(dh0, numerical_gradient(loss, h0)) < 1e-6


def test_gru_backward_refuses_a_cache_of_reset_after_false():
    """gru_backward differentiates reset_after=True only; given the other placement's forward
    pass it raises instead of returning wrong gradients."""
    X, R, params, _, _ = _backward_case("gru")
    _, cache = numpy_nets.gru_forward(X, params, reset_after=False, return_cache=True)
    with pytest.raises(ValueError, match="reset_after=True"):
        numpy_nets.gru_backward(R, cache)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_forward_returns_the_states_it_returns_without_a_cache(cell):
    X, _, params, _, _ = _backward_case(cell)
    forward = numpy_nets.lstm_forward if cell == "lstm" else numpy_nets.gru_forward
    plain, cached = forward(X, params), forward(X, params, return_cache=True)
    states = plain if cell == "lstm" else (plain,)
    for state, again in zip(states, cached[:-1]):
        np.testing.assert_array_equal(state, again)


def test_gradient_check_catches_swapped_gate_gradients():
    """The check can fail: the input and forget gates' gradients exchanged are caught."""
    from rnnlab.gradcheck import check_gradients

    _, _, params, grads, loss = _backward_case("lstm")
    swapped = dict(grads, W_xi=grads["W_xf"], W_xf=grads["W_xi"])
    assert check_gradients(loss, params, swapped)["W_xi"] > 1e-2


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_one_mapping_between_pytorch_and_keras_and_back(cell, gates):
    """transfer.torch_to_keras is the one mapping (NumPy loads, CharRNN copies): kernels
    transposed, the GRU's r and z swapped, biases summed except the GRU's two; keras_to_torch
    undoes it."""
    rng = np.random.default_rng(3)
    H, D = 2, 3
    tensors = {"weight_ih": rng.normal(size=(gates * H, D)),
               "weight_hh": rng.normal(size=(gates * H, H)),
               "bias_ih": rng.normal(size=gates * H),
               "bias_hh": rng.normal(size=gates * H) if cell == "gru" else np.zeros(gates * H)}
    kernel, recurrent, bias = transfer.torch_to_keras(tensors, cell)
    assert kernel.shape == (D, gates * H) and recurrent.shape == (H, gates * H)
    if cell == "gru":   # Keras' first block is z, PyTorch's second
        np.testing.assert_array_equal(kernel[:, :H], tensors["weight_ih"][H:2 * H].T)
        np.testing.assert_array_equal(bias[1, 2 * H:], tensors["bias_hh"][2 * H:])
    else:
        np.testing.assert_array_equal(kernel, tensors["weight_ih"].T)
    back = transfer.keras_to_torch([kernel, recurrent, bias], cell)
    for name, value in tensors.items():
        np.testing.assert_array_equal(back[name], value)

"""The NumPy RNN, torch.nn.RNN and keras.layers.SimpleRNN agree on the same weights."""
import numpy as np
import pytest

from rnnlab import numpy_nets, transfer

B, T, D, H, O = 3, 6, 4, 5, 2


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    params = numpy_nets.init_rnn_params(D, H, O, rng, dtype=np.float32)
    X = rng.normal(size=(B, T, D)).astype(np.float32)
    hs, ys = numpy_nets.rnn_forward(X, params)
    return params, X, hs, ys


def test_torch_rnn_matches_numpy(case):
    torch = pytest.importorskip("torch")
    params, X, hs, ys = case
    rnn, linear = torch.nn.RNN(D, H, batch_first=True), torch.nn.Linear(H, O)
    transfer.rnn_params_to_torch(params, rnn, linear)
    with torch.no_grad():
        out, h_last = rnn(torch.from_numpy(X))
        y = linear(out)
    np.testing.assert_allclose(out.numpy(), hs, atol=1e-5)
    np.testing.assert_allclose(h_last[0].numpy(), hs[:, -1], atol=1e-5)
    np.testing.assert_allclose(y.numpy(), ys, atol=1e-5)
    back = transfer.rnn_params_from_torch(rnn, linear)
    for name in numpy_nets.PARAM_NAMES:
        np.testing.assert_allclose(back[name], params[name], atol=1e-7)


def test_keras_simple_rnn_matches_numpy(case):
    keras = pytest.importorskip("keras")
    params, X, hs, ys = case
    rnn = keras.layers.SimpleRNN(H, return_sequences=True)
    dense = keras.layers.Dense(O)
    inputs = keras.Input(shape=(T, D))
    model = keras.Model(inputs, dense(rnn(inputs)))
    transfer.rnn_params_to_keras(params, rnn, dense)
    np.testing.assert_allclose(np.asarray(rnn(X)), hs, atol=1e-5)
    np.testing.assert_allclose(np.asarray(model(X)), ys, atol=1e-5)


def test_parity_check_detects_untransposed_keras_kernel():
    """The parity test can fail: loading W_xh without the transpose is caught."""
    keras = pytest.importorskip("keras")
    square = numpy_nets.init_rnn_params(H, H, O, np.random.default_rng(5), dtype=np.float32)
    Xs = np.random.default_rng(6).normal(size=(B, T, H)).astype(np.float32)
    expected, _ = numpy_nets.rnn_forward(Xs, square)
    rnn = keras.layers.SimpleRNN(H, return_sequences=True)
    rnn.build((None, T, H))
    rnn.set_weights([square["W_xh"], square["W_hh"].T, square["b_h"]])  # W_xh not transposed
    assert not np.allclose(np.asarray(rnn(Xs)), expected, atol=1e-5)

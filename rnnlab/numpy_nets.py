"""Recurrent networks in NumPy, written the way the chapters derive them.

Notation (chapter "Notation"): x_t is the input at step t, h_t the hidden state, y_t the
output. The weights keep the math's shapes, W_xh is (H, D), W_hh is (H, H), W_hy is (O, H),
as PyTorch stores them; data is batch-first, X is (B, T, D). With a batch of row vectors
the equation h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h) becomes
``h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)``: the same sum, one row per sequence.

Parameters travel as a dict with the keys of ``PARAM_NAMES`` so that gradients, which use
the same keys, can be compared entry by entry.
"""
import numpy as np

from rnnlab.shapes import expect_shape

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_rnn_params(input_size: int, hidden_size: int, output_size: int,
                    rng: np.random.Generator, dtype=np.float64) -> dict[str, np.ndarray]:
    """Random weights for a vanilla RNN, uniform in +-1/sqrt(H) as torch.nn.RNN draws them."""
    bound = 1.0 / np.sqrt(hidden_size)

    def uniform(*shape):
        return rng.uniform(-bound, bound, size=shape).astype(dtype)

    return {
        "W_xh": uniform(hidden_size, input_size),
        "W_hh": uniform(hidden_size, hidden_size),
        "b_h": uniform(hidden_size),
        "W_hy": uniform(output_size, hidden_size),
        "b_y": uniform(output_size),
    }


def rnn_step(x_t: np.ndarray, h_prev: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray,
             b_h: np.ndarray | None = None, activation=np.tanh) -> np.ndarray:
    """One step of the recurrence, h_t = f(W_xh x_t + W_hh h_{t-1} + b_h).

    The article writes it h = f(U x + W h_prev + B), with U = W_xh, W = W_hh, B = b_h.
    ``x_t`` is (B, D), ``h_prev`` is (B, H); returns h_t, (B, H).
    """
    if x_t.ndim != 2 or h_prev.ndim != 2:
        raise ValueError(
            f"x_t must have shape (batch, input) and h_prev (batch, hidden); "
            f"got x_t {x_t.shape} and h_prev {h_prev.shape}"
        )
    batch, input_size = x_t.shape
    hidden_size = W_hh.shape[0]
    expect_shape("W_hh", W_hh, (hidden_size, hidden_size), "(hidden, hidden)")
    expect_shape("W_xh", W_xh, (hidden_size, input_size), "(hidden, input)")
    expect_shape("h_prev", h_prev, (batch, hidden_size), "(batch, hidden)")
    pre_activation = x_t @ W_xh.T + h_prev @ W_hh.T
    if b_h is not None:
        expect_shape("b_h", b_h, (hidden_size,), "(hidden,)")
        pre_activation = pre_activation + b_h
    return activation(pre_activation)


def rnn_output(h_t: np.ndarray, W_hy: np.ndarray, b_y: np.ndarray | None = None) -> np.ndarray:
    """The output layer, y_t = W_hy h_t + b_y (the article's Y = O(V h + C) before O)."""
    expect_shape("W_hy", W_hy, (None, h_t.shape[-1]), "(output, hidden)")
    y_t = h_t @ W_hy.T
    return y_t if b_y is None else y_t + b_y


def rnn_forward(X: np.ndarray, params: dict[str, np.ndarray], h0: np.ndarray | None = None,
                activation=np.tanh) -> tuple[np.ndarray, np.ndarray]:
    """Run the RNN over a batch of sequences.

    ``X`` is (B, T, D); ``params`` holds W_xh, W_hh, b_h and, for outputs, W_hy and b_y;
    ``h0`` is (B, H), zeros when omitted. Returns ``(hs, ys)``: every hidden state, (B, T, H),
    and every output, (B, T, O) (``ys`` is None when params has no W_hy). The loop is the
    unrolled network: the same weights at every step.
    """
    if X.ndim != 3:
        raise ValueError(f"X must have shape (batch, time, input), got {X.shape}")
    batch, steps, _ = X.shape
    hidden_size = params["W_hh"].shape[0]
    h = np.zeros((batch, hidden_size), dtype=X.dtype) if h0 is None else h0
    expect_shape("h0", h, (batch, hidden_size), "(batch, hidden)")
    hs = np.empty((batch, steps, hidden_size), dtype=np.result_type(X, params["W_hh"]))
    for t in range(steps):
        h = rnn_step(X[:, t], h, params["W_xh"], params["W_hh"], params.get("b_h"), activation)
        hs[:, t] = h
    if "W_hy" not in params:
        return hs, None
    return hs, rnn_output(hs, params["W_hy"], params.get("b_y"))


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: subtracting the max changes nothing but avoids overflow."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean negative log-likelihood in nats of integer ``targets`` under softmax(``logits``).

    ``logits`` is (..., V) and ``targets`` the matching (...) array of class indices.
    """
    expect_shape("targets", targets, logits.shape[:-1], "logits.shape[:-1]")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    return float(-picked.mean())

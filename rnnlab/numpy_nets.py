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


def rnn_backward(X: np.ndarray, params: dict[str, np.ndarray], hs: np.ndarray,
                 dys: np.ndarray | None = None, dhs: np.ndarray | None = None,
                 h0: np.ndarray | None = None, *, k: int | None = None
                 ) -> dict[str, np.ndarray]:
    """Backpropagation through time for the tanh RNN of :func:`rnn_forward` (chapter 5).

    ``X`` (B, T, D) and ``hs`` (B, T, H) come from the forward pass. The loss reaches the
    network through ``dys`` = dL/dy_t, (B, T, O), and/or ``dhs`` = dL/dh_t taken directly,
    (B, T, H) (e.g. only the last step is non-zero for a many-to-one model). Going
    backwards, the total gradient at h_t is the part arriving at step t plus ``dh_next``,
    the part coming back from h_{t+1}:

        dh_t      = W_hy^T dy_t + dL/dh_t + dh_next            (total derivative at h_t)
        dh_raw_t  = (1 - h_t^2) * dh_t                         (through tanh)
        dh_next   = W_hh^T dh_raw_t                            (the implicit part, to h_{t-1})
        dW_xh = sum_t dh_raw_t x_t^T,  dW_hh = sum_t dh_raw_t h_{t-1}^T,  db_h = sum_t dh_raw_t

    The three sums are the explicit ("immediate") parts; they are taken after the loop as
    one matrix product each. ``k`` truncates: the gradient is cut between h_{t-1} and h_t
    whenever t is a multiple of k (t > 0), as ``h.detach()`` every k steps does in PyTorch.
    Returns the gradients under the keys of ``params`` plus ``"dh0"``, dL/dh_0, (B, H).
    """
    if X.ndim != 3:
        raise ValueError(f"X must have shape (batch, time, input), got {X.shape}")
    B, T, D = X.shape
    W_xh, W_hh = params["W_xh"], params["W_hh"]
    H = W_hh.shape[0]
    expect_shape("W_xh", W_xh, (H, D), "(hidden, input)")
    expect_shape("hs", hs, (B, T, H), "(batch, time, hidden)")
    if dys is None and dhs is None:
        raise ValueError("give dys (dL/dy_t) or dhs (dL/dh_t), or both")
    if k is not None and k < 1:
        raise ValueError(f"k must be a positive number of steps, got {k}")
    dtype = np.result_type(X, hs, W_hh)
    h0 = np.zeros((B, H), dtype) if h0 is None else h0
    expect_shape("h0", h0, (B, H), "(batch, hidden)")
    grads = {}
    if dhs is not None:
        expect_shape("dhs", dhs, (B, T, H), "(batch, time, hidden)")
    if dys is not None:
        W_hy = params["W_hy"]
        expect_shape("dys", dys, (B, T, W_hy.shape[0]), "(batch, time, output)")
        grads["W_hy"] = dys.reshape(B * T, -1).T @ hs.reshape(B * T, H)   # sum_t dy_t h_t^T
        grads["b_y"] = dys.sum(axis=(0, 1))
    dh_raw = np.empty((B, T, H), dtype)              # dL/da_t, kept for the explicit parts
    dh_next = np.zeros((B, H), dtype)
    for t in reversed(range(T)):
        dh = dh_next if dhs is None else dh_next + dhs[:, t]
        if dys is not None:
            dh = dh + dys[:, t] @ W_hy                # W_hy^T dy_t, one row per sequence
        np.multiply(1.0 - hs[:, t] * hs[:, t], dh, out=dh_raw[:, t])   # through tanh
        dh_next = dh_raw[:, t] @ W_hh                 # rows: (W_hh^T dh_raw_t)^T
        if k is not None and t % k == 0 and t > 0:
            dh_next[...] = 0.0                        # truncation: h_{t-1} is a constant
    h_prev = np.concatenate([h0[:, None].astype(dtype), hs[:, :-1]], axis=1)   # h_{t-1}
    flat = dh_raw.reshape(B * T, H)
    grads["W_xh"] = flat.T @ X.reshape(B * T, D)
    grads["W_hh"] = flat.T @ h_prev.reshape(B * T, H)
    grads["b_h"] = flat.sum(axis=0)
    grads["dh0"] = dh_next
    return grads


def rnn_backward_truncated(X: np.ndarray, params: dict[str, np.ndarray], hs: np.ndarray,
                           dys: np.ndarray | None = None, dhs: np.ndarray | None = None,
                           h0: np.ndarray | None = None, *, k: int) -> dict[str, np.ndarray]:
    """Truncated BPTT: :func:`rnn_backward` with the gradient cut every ``k`` steps.

    The sequence is read in chunks of ``k`` steps (the hidden state still flows forward
    across chunks), and no gradient crosses a chunk boundary: the result is the sum of the
    chunks' gradients, what training with ``h = h.detach()`` every k steps computes.
    ``k >= T`` gives full BPTT; ``k = 1`` keeps only the explicit parts.
    """
    return rnn_backward(X, params, hs, dys=dys, dhs=dhs, h0=h0, k=k)


def softmax_cross_entropy_grad(logits: np.ndarray, targets: np.ndarray
                               ) -> tuple[float, np.ndarray]:
    """The loss of :func:`cross_entropy` (the mean over every position) and its gradient
    dL/dy = (softmax(y) - onehot(target)) / N, the ``dys`` that :func:`rnn_backward` takes."""
    loss = cross_entropy(logits, targets)
    dlogits = softmax(logits)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    return loss, dlogits / targets.size


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float
                        ) -> tuple[dict[str, np.ndarray], float]:
    """Gradient clipping by global norm (Pascanu et al., 2013): when the norm of all
    gradients together, ||g|| = sqrt(sum_i ||g_i||^2), exceeds ``max_norm``, scale every
    gradient by max_norm / ||g||, keeping its direction. Returns (clipped, ||g|| before)."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    scale = min(1.0, max_norm / (norm + 1e-6))
    return {name: g * scale for name, g in grads.items()}, norm


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

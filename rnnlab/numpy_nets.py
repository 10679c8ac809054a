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


def relu(a: np.ndarray) -> np.ndarray:
    """The rectifier max(0, a), an activation :func:`rnn_forward` and :func:`rnn_backward`
    both accept (chapter 9's SimpleRNN variants use it)."""
    return np.maximum(a, 0.0)


# The derivative of each activation :func:`rnn_backward` can differentiate, written with the
# activation's output h = f(a), which is what the forward pass keeps.
_DERIVATIVE_FROM_OUTPUT = {
    np.tanh: lambda h: 1.0 - h * h,           # tanh'(a) = 1 - tanh(a)^2
    relu: lambda h: (h > 0).astype(h.dtype),  # relu'(a) = 1 where a > 0, i.e. where h > 0
}


def _activation_derivative(activation):
    try:
        return _DERIVATIVE_FROM_OUTPUT[activation]
    except (KeyError, TypeError):
        name = getattr(activation, "__name__", repr(activation))
        raise ValueError(f"rnn_backward differentiates activation=np.tanh or "
                         f"activation=numpy_nets.relu only, got {name}") from None


def rnn_backward(X: np.ndarray, params: dict[str, np.ndarray], hs: np.ndarray,
                 dys: np.ndarray | None = None, dhs: np.ndarray | None = None,
                 h0: np.ndarray | None = None, *, activation=np.tanh, K: int | None = None
                 ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Backpropagation through time for the RNN of :func:`rnn_forward` (chapter 5).

    ``X`` (B, T, D) and ``hs`` (B, T, H) come from the forward pass. The loss reaches the
    network through ``dys`` = dL/dy_t, (B, T, O), and/or ``dhs`` = dL/dh_t taken directly,
    (B, T, H) (e.g. only the last step is non-zero for a many-to-one model). Going
    backwards, the total gradient at h_t is the part arriving at step t plus ``dh_next``,
    the part coming back from h_{t+1}:

        dh_t      = W_hy^T dy_t + dL/dh_t + dh_next            (delta_t, the total at h_t)
        dh_raw_t  = f'(a_t) * dh_t = (1 - h_t^2) * dh_t        (through f = tanh)
        dh_next   = W_hh^T dh_raw_t = J_t^T delta_t            (what h_{t-1} receives)
        dW_xh = sum_t dh_raw_t x_t^T,  dW_hh = sum_t dh_raw_t h_{t-1}^T,  db_h = sum_t dh_raw_t

    Each term of the three sums is delta_t times step t's explicit ("immediate") part, the
    derivative of h_t with h_{t-1} held fixed; the implicit parts (through the earlier
    states) are what ``dh_next`` carries back. The sums are taken after the loop as one
    matrix product each. ``activation`` must be the one the forward pass used: np.tanh
    or :func:`relu` (f'(a) = 1 where h_t > 0); any other raises ValueError.

    ``K`` truncates (truncated BPTT with truncation length K): the sequence is read in
    chunks of K steps, the hidden state still flows forward across chunks, but the gradient
    is cut between h_{t-1} and h_t whenever t is a multiple of K (t > 0), as ``h.detach()``
    every K steps does in PyTorch. ``K >= T`` is full BPTT; ``K = 1`` keeps only the
    explicit parts.

    Returns ``(grads, dh0)``: the gradients under the keys of ``params`` and nothing else
    (W_hy and b_y get zeros when no ``dys`` is given), and dL/dh_0, (B, H), the gradient with
    respect to the initial state, kept apart so that ``grads`` can be clipped and applied
    as it is.
    """
    if X.ndim != 3:
        raise ValueError(f"X must have shape (batch, time, input), got {X.shape}")
    derivative = _activation_derivative(activation)
    B, T, D = X.shape
    W_xh, W_hh = params["W_xh"], params["W_hh"]
    H = W_hh.shape[0]
    expect_shape("W_xh", W_xh, (H, D), "(hidden, input)")
    expect_shape("hs", hs, (B, T, H), "(batch, time, hidden)")
    if dys is None and dhs is None:
        raise ValueError("give dys (dL/dy_t) or dhs (dL/dh_t), or both")
    if K is not None and K < 1:
        raise ValueError(f"K must be a positive number of steps, got {K}")
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
        np.multiply(derivative(hs[:, t]), dh, out=dh_raw[:, t])   # through the activation
        dh_next = dh_raw[:, t] @ W_hh                 # rows: (W_hh^T dh_raw_t)^T
        if K is not None and t % K == 0 and t > 0:
            dh_next[...] = 0.0                        # truncation: h_{t-1} is a constant
    h_prev = np.concatenate([h0[:, None].astype(dtype), hs[:, :-1]], axis=1)   # h_{t-1}
    flat = dh_raw.reshape(B * T, H)
    grads["W_xh"] = flat.T @ X.reshape(B * T, D)
    grads["W_hh"] = flat.T @ h_prev.reshape(B * T, H)
    grads["b_h"] = flat.sum(axis=0)
    # one gradient per parameter: W_hy and b_y get zeros when no loss reaches the outputs
    return {name: grads.get(name, np.zeros_like(value)) for name, value in params.items()}, dh_next


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


# ----------------------------------------------------------------------------------------
# Gated cells and bidirectional layers (chapter 7). Each gate has its own pair of weights,
# named after the gate: W_xi (H, D) and W_hi (H, H) feed the input gate i, and so on.
# ----------------------------------------------------------------------------------------

LSTM_GATES = ("i", "f", "c", "o")   # input gate, forget gate, candidate cell, output gate
GRU_GATES = ("r", "z", "n")         # reset gate, update gate, candidate state ("new")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-a), written to avoid overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _uniform_params(names_shapes, hidden_size, rng, dtype):
    bound = 1.0 / np.sqrt(hidden_size)
    return {name: rng.uniform(-bound, bound, size=shape).astype(dtype)
            for name, shape in names_shapes}


def init_lstm_params(input_size: int, hidden_size: int, rng: np.random.Generator,
                     dtype=np.float64) -> dict[str, np.ndarray]:
    """Random LSTM weights, uniform in +-1/sqrt(H) as torch.nn.LSTM draws them.

    Keys: W_x<g> (H, D), W_h<g> (H, H) and b_<g> (H,) for each gate g in i, f, c, o.
    """
    D, H = input_size, hidden_size
    names_shapes = [(f"{kind}{g}", shape) for g in LSTM_GATES
                    for kind, shape in (("W_x", (H, D)), ("W_h", (H, H)), ("b_", (H,)))]
    return _uniform_params(names_shapes, H, rng, dtype)


def _gate(x_t, h_prev, params, g):
    """The affine part every gate shares: W_xg x_t + W_hg h_{t-1} + b_g (batch of rows)."""
    return x_t @ params[f"W_x{g}"].T + h_prev @ params[f"W_h{g}"].T + params[f"b_{g}"]


def _check_step(x_t, h_prev, params, gates):
    if x_t.ndim != 2:
        raise ValueError(f"x_t must have shape (batch, input), got {x_t.shape}")
    batch, input_size = x_t.shape
    hidden_size = params[f"W_h{gates[0]}"].shape[0]
    expect_shape("h_prev", h_prev, (batch, hidden_size), "(batch, hidden)")
    for g in gates:
        expect_shape(f"W_x{g}", params[f"W_x{g}"], (hidden_size, input_size), "(hidden, input)")
        expect_shape(f"W_h{g}", params[f"W_h{g}"], (hidden_size, hidden_size), "(hidden, hidden)")
    return batch, hidden_size


def _sequence_sizes(X, W_h):
    """(batch, steps, hidden, dtype) of a run over X (B, T, D), with W_h one (H, H) matrix."""
    if X.ndim != 3:
        raise ValueError(f"X must have shape (batch, time, input), got {X.shape}")
    return X.shape[0], X.shape[1], W_h.shape[0], np.result_type(X, W_h)


def _initial_state(name, given, batch, hidden_size, dtype):
    """The given initial state, checked to be (B, H), or zeros."""
    if given is None:
        return np.zeros((batch, hidden_size), dtype=dtype)
    expect_shape(name, given, (batch, hidden_size), "(batch, hidden)")
    return given


def lstm_step(x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray,
              params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step (Hochreiter & Schmidhuber 1997, with a forget gate):

        i_t = sigmoid(W_xi x_t + W_hi h_{t-1} + b_i)     input gate
        f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f)     forget gate
        c~_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)       candidate cell
        o_t = sigmoid(W_xo x_t + W_ho h_{t-1} + b_o)     output gate
        c_t = f_t * c_{t-1} + i_t * c~_t                 cell state (additive update)
        h_t = o_t * tanh(c_t)                            hidden state

    ``x_t`` is (B, D), ``h_prev`` and ``c_prev`` (B, H); returns ``(h_t, c_t)``.
    """
    batch, hidden_size = _check_step(x_t, h_prev, params, LSTM_GATES)
    expect_shape("c_prev", c_prev, (batch, hidden_size), "(batch, hidden)")
    return _lstm_step(x_t, h_prev, c_prev, params)[:2]


def _lstm_step(x_t, h_prev, c_prev, params):
    """:func:`lstm_step` without the checks, also returning its gates {i, f, c (= c~), o}."""
    gates = {"i": sigmoid(_gate(x_t, h_prev, params, "i")),
             "f": sigmoid(_gate(x_t, h_prev, params, "f")),
             "c": np.tanh(_gate(x_t, h_prev, params, "c")),
             "o": sigmoid(_gate(x_t, h_prev, params, "o"))}
    c_t = gates["f"] * c_prev + gates["i"] * gates["c"]
    h_t = gates["o"] * np.tanh(c_t)
    return h_t, c_t, gates


def lstm_forward(X: np.ndarray, params: dict[str, np.ndarray], h0: np.ndarray | None = None,
                 c0: np.ndarray | None = None, return_cache: bool = False):
    """Run :func:`lstm_step` over ``X`` (B, T, D). Returns ``(hs, cs)``: every hidden state
    and every cell state, both (B, T, H); h0 and c0 are zeros when omitted. With
    ``return_cache``, ``(hs, cs, cache)``: what :func:`lstm_backward` needs (the inputs,
    states and every step's gates), so that the backward pass recomputes nothing."""
    batch, steps, H, dtype = _sequence_sizes(X, params["W_hi"])
    h, c = _initial_state("h0", h0, batch, H, dtype), _initial_state("c0", c0, batch, H, dtype)
    cache = {"X": X, "params": params, "h0": h, "c0": c,
             "gates": {g: np.empty((batch, steps, H), dtype=dtype) for g in LSTM_GATES}}
    hs, cs = np.empty((batch, steps, H), dtype=dtype), np.empty((batch, steps, H), dtype=dtype)
    if steps:
        _check_step(X[:, 0], h, params, LSTM_GATES)     # once: every step has these shapes
    for t in range(steps):
        h, c, gates = _lstm_step(X[:, t], h, c, params)
        hs[:, t], cs[:, t] = h, c
        for g, value in gates.items():
            cache["gates"][g][:, t] = value
    if not return_cache:
        return hs, cs
    return hs, cs, {**cache, "hs": hs, "cs": cs}


def init_gru_params(input_size: int, hidden_size: int, rng: np.random.Generator,
                    dtype=np.float64) -> dict[str, np.ndarray]:
    """Random GRU weights, uniform in +-1/sqrt(H) as torch.nn.GRU draws them.

    Keys: W_x<g> (H, D), W_h<g> (H, H) for g in r, z, n; biases b_r, b_z, and for the
    candidate two biases, b_xn (outside the reset gate) and b_hn (inside it).
    """
    D, H = input_size, hidden_size
    names_shapes = [(f"{kind}{g}", shape) for g in GRU_GATES
                    for kind, shape in (("W_x", (H, D)), ("W_h", (H, H)))]
    names_shapes += [("b_r", (H,)), ("b_z", (H,)), ("b_xn", (H,)), ("b_hn", (H,))]
    return _uniform_params(names_shapes, H, rng, dtype)


def gru_step(x_t: np.ndarray, h_prev: np.ndarray, params: dict[str, np.ndarray],
             reset_after: bool = True) -> np.ndarray:
    """One GRU step (Cho et al. 2014):

        r_t = sigmoid(W_xr x_t + W_hr h_{t-1} + b_r)               reset gate
        z_t = sigmoid(W_xz x_t + W_hz h_{t-1} + b_z)               update gate
        n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))  candidate
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    ``reset_after=True`` is PyTorch's and Keras' default placement of r_t, applied after
    the product with W_hn. ``reset_after=False`` is the original paper's:
    n_t = tanh(W_xn x_t + W_hn (r_t * h_{t-1}) + b_xn + b_hn).
    ``x_t`` is (B, D) and ``h_prev`` (B, H); returns h_t, (B, H).
    """
    _check_step(x_t, h_prev, params, GRU_GATES)
    return _gru_step(x_t, h_prev, params, reset_after)[0]


def _gru_step(x_t, h_prev, params, reset_after):
    """:func:`gru_step` without the checks, also returning {r, z, n, m}, where m is what the
    reset gate scales (reset_after=True: m = W_hn h_{t-1} + b_hn)."""
    r_t = sigmoid(x_t @ params["W_xr"].T + h_prev @ params["W_hr"].T + params["b_r"])
    z_t = sigmoid(x_t @ params["W_xz"].T + h_prev @ params["W_hz"].T + params["b_z"])
    if reset_after:
        m_t = h_prev @ params["W_hn"].T + params["b_hn"]
        recurrent = r_t * m_t
    else:
        m_t = r_t * h_prev
        recurrent = m_t @ params["W_hn"].T + params["b_hn"]
    n_t = np.tanh(x_t @ params["W_xn"].T + params["b_xn"] + recurrent)
    return (1.0 - z_t) * n_t + z_t * h_prev, {"r": r_t, "z": z_t, "n": n_t, "m": m_t}


def gru_forward(X: np.ndarray, params: dict[str, np.ndarray], h0: np.ndarray | None = None,
                reset_after: bool = True, return_cache: bool = False):
    """Run :func:`gru_step` over ``X`` (B, T, D); returns every hidden state, (B, T, H).
    With ``return_cache``, ``(hs, cache)``: what :func:`gru_backward` needs (the inputs,
    states and every step's gates), so that the backward pass recomputes nothing."""
    batch, steps, H, dtype = _sequence_sizes(X, params["W_hr"])
    h = _initial_state("h0", h0, batch, H, dtype)
    cache = {"X": X, "params": params, "h0": h, "reset_after": reset_after,
             "gates": {g: np.empty((batch, steps, H), dtype=dtype) for g in "rznm"}}
    hs = np.empty((batch, steps, H), dtype=dtype)
    if steps:
        _check_step(X[:, 0], h, params, GRU_GATES)      # once: every step has these shapes
    for t in range(steps):
        h, gates = _gru_step(X[:, t], h, params, reset_after)
        hs[:, t] = h
        for g, value in gates.items():
            cache["gates"][g][:, t] = value
    return (hs, {**cache, "hs": hs}) if return_cache else hs


def _hidden_states(cell: str, X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    if cell == "rnn":
        return rnn_forward(X, params)[0]
    if cell == "lstm":
        return lstm_forward(X, params)[0]
    if cell == "gru":
        return gru_forward(X, params)
    raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")


def bidirectional_forward(X: np.ndarray, params_forward: dict[str, np.ndarray],
                          params_backward: dict[str, np.ndarray], cell: str = "rnn"
                          ) -> np.ndarray:
    """A bidirectional layer (Schuster & Paliwal 1997): two independent recurrent
    layers, one reading x_1 .. x_T, the other x_T .. x_1, their states side by side:

        h->_t = cell(x_t, h->_{t-1})      h<-_t = cell(x_t, h<-_{t+1})
        h_t = [h->_t ; h<-_t]

    ``cell`` is "rnn", "lstm" or "gru"; each params dict is that cell's. ``X`` is
    (B, T, D); returns (B, T, 2H), forward half first, as PyTorch and Keras
    (merge_mode="concat") do.
    """
    if X.ndim != 3:
        raise ValueError(f"X must have shape (batch, time, input), got {X.shape}")
    h_forward = _hidden_states(cell, X, params_forward)
    # The backward layer reads X reversed; its states are flipped back into time order.
    h_backward = _hidden_states(cell, X[:, ::-1], params_backward)[:, ::-1]
    expect_shape("backward states", h_backward, h_forward.shape,
                 "forward states' shape")
    return np.concatenate([h_forward, h_backward], axis=-1)


def lstm_backward(dhs: np.ndarray, cache: dict
                  ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Backpropagation through time for :func:`lstm_forward` (chapter 7).

    ``dhs`` = dL/dh_t, (B, T, H), is what the loss sends to each hidden state; ``cache``
    comes from ``lstm_forward(..., return_cache=True)`` and holds the states and the gates
    of every step. With dh the total gradient at h_t and dc the one at c_t:

        do = dh * tanh(c_t)                  dc = dc_next + dh * o_t * (1 - tanh(c_t)^2)
        di = dc * c~_t    dc~ = dc * i_t     df = dc * c_{t-1}    dc_next = dc * f_t
        da_g = dg * g(1 - g) for the sigmoid gates, dc~ * (1 - c~^2) for the candidate
        dW_xg += da_g^T x_t,  dW_hg += da_g^T h_{t-1},  db_g += sum da_g
        dh_next = sum_g W_hg^T da_g

    ``dc_next = dc * f_t`` is the gated path: the gradient along the cell is only scaled by
    the forget gate. Returns ``(grads, dh0, dc0)``: the gradients under the keys of
    ``params``, and dL/dh_0 and dL/dc_0, both (B, H).
    """
    X, params, hs, cs, gates = (cache[k] for k in ("X", "params", "hs", "cs", "gates"))
    batch, steps, H = hs.shape
    expect_shape("dhs", dhs, (batch, steps, H), "(batch, time, hidden)")
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next, dc_next = np.zeros((batch, H), hs.dtype), np.zeros((batch, H), hs.dtype)
    for t in reversed(range(steps)):
        x_t = X[:, t]
        h_prev = hs[:, t - 1] if t > 0 else cache["h0"]
        c_prev = cs[:, t - 1] if t > 0 else cache["c0"]
        i_t, f_t, c_tilde, o_t = (gates[g][:, t] for g in LSTM_GATES)
        tanh_c = np.tanh(cs[:, t])
        dh = dhs[:, t] + dh_next
        dc = dc_next + dh * o_t * (1.0 - tanh_c ** 2)
        da = {"i": dc * c_tilde * i_t * (1.0 - i_t),
              "f": dc * c_prev * f_t * (1.0 - f_t),
              "c": dc * i_t * (1.0 - c_tilde ** 2),
              "o": dh * tanh_c * o_t * (1.0 - o_t)}
        dh_next = np.zeros_like(dh)
        for g, da_g in da.items():
            grads[f"W_x{g}"] += da_g.T @ x_t
            grads[f"W_h{g}"] += da_g.T @ h_prev
            grads[f"b_{g}"] += da_g.sum(axis=0)
            dh_next += da_g @ params[f"W_h{g}"]
        dc_next = dc * f_t
    return grads, dh_next, dc_next


def gru_backward(dhs: np.ndarray, cache: dict) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Backpropagation through time for :func:`gru_forward` with ``reset_after=True``.

    ``dhs`` = dL/dh_t, (B, T, H); ``cache`` comes from ``gru_forward(..., return_cache=True)``
    and holds the states and the gates of every step. With dh the total gradient at h_t and
    m_t = W_hn h_{t-1} + b_hn (the part the reset gate scales):

        dn = dh * (1 - z_t)      dz = dh * (h_{t-1} - n_t)      dh_prev = dh * z_t
        da_n = dn * (1 - n_t^2)  dr = da_n * m_t                dm = da_n * r_t
        da_r = dr * r(1 - r)     da_z = dz * z(1 - z)
        dh_prev += W_hr^T da_r + W_hz^T da_z + W_hn^T dm

    ``dh_prev = dh * z_t`` is the GRU's gated path. Returns ``(grads, dh0)``: the gradients
    under the keys of ``params``, and dL/dh_0, (B, H). Only ``reset_after=True`` is
    differentiated here: a cache of the other placement raises a ValueError.
    """
    if not cache["reset_after"]:
        raise ValueError("gru_backward differentiates reset_after=True only; this cache comes "
                         "from gru_forward(..., reset_after=False)")
    X, params, hs, gates = (cache[k] for k in ("X", "params", "hs", "gates"))
    batch, steps, H = hs.shape
    expect_shape("dhs", dhs, (batch, steps, H), "(batch, time, hidden)")
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next = np.zeros((batch, H), hs.dtype)
    for t in reversed(range(steps)):
        x_t = X[:, t]
        h_prev = hs[:, t - 1] if t > 0 else cache["h0"]
        r_t, z_t, n_t, m_t = (gates[g][:, t] for g in "rznm")
        dh = dhs[:, t] + dh_next
        da_n = dh * (1.0 - z_t) * (1.0 - n_t ** 2)
        dm = da_n * r_t
        da_r = da_n * m_t * r_t * (1.0 - r_t)
        da_z = dh * (h_prev - n_t) * z_t * (1.0 - z_t)
        for g, da_g in (("r", da_r), ("z", da_z), ("n", da_n)):
            grads[f"W_x{g}"] += da_g.T @ x_t
        grads["W_hr"] += da_r.T @ h_prev
        grads["W_hz"] += da_z.T @ h_prev
        grads["W_hn"] += dm.T @ h_prev
        grads["b_r"] += da_r.sum(axis=0)
        grads["b_z"] += da_z.sum(axis=0)
        grads["b_xn"] += da_n.sum(axis=0)
        grads["b_hn"] += dm.sum(axis=0)
        dh_next = (dh * z_t + da_r @ params["W_hr"] + da_z @ params["W_hz"]
                   + dm @ params["W_hn"])
    return grads, dh_next

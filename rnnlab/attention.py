"""Additive (Bahdanau) attention in NumPy: one decoder step, forward and backward (chapter 13).

The decoder's state s (B, S) looks at the encoder's states h_1 .. h_T, H (B, T, D):

    u_j = W_s s + W_h h_j              (B, T, A)    the score's hidden layer
    e_j = v . tanh(u_j)                (B, T)       one score per encoder position
    alpha = softmax over real j of e   (B, T)       the attention weights, 0 at padding
    c = sum_j alpha_j h_j              (B, D)       the context vector of this step

(Bahdanau, Cho and Bengio 2015). Weights keep the math's shapes, as PyTorch's Linear does:
W_s is (A, S), W_h is (A, D), v is (A,). ``mask`` (B, T) is True at the word's own positions
and False at padding: a padded position gets weight exactly 0 and no gradient.

The backward pass of :func:`additive_attention_backward`, for an upstream gradient dc:

    dalpha_j = dc . h_j
    de_j     = alpha_j (dalpha_j - sum_k alpha_k dalpha_k)       (the softmax's Jacobian)
    dh_j     = alpha_j dc + W_h^T du_j,   du_j = de_j v * (1 - tanh(u_j)^2)
    dv = sum_j de_j tanh(u_j),  dW_s = sum_j du_j s^T,  dW_h = sum_j du_j h_j^T,
    ds = W_s^T sum_j du_j
"""
import numpy as np

from rnnlab.shapes import expect_shape


def init_attention_params(state_size: int, encoder_size: int, attention_size: int,
                          rng: np.random.Generator, dtype=np.float64) -> dict[str, np.ndarray]:
    """W_s (A, S), W_h (A, D) and v (A,), uniform in +-1/sqrt(fan-in) like PyTorch's Linear."""
    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(dtype)

    return {"W_s": uniform((attention_size, state_size), state_size),
            "W_h": uniform((attention_size, encoder_size), encoder_size),
            "v": uniform((attention_size,), attention_size)}


def _check(s, H, params, mask):
    B, T, D = np.shape(H)
    A, S = np.shape(params["W_s"])
    expect_shape("s", s, (B, S), "the decoder state (batch, state)")
    expect_shape("W_h", params["W_h"], (A, D), "(attention, encoder state)")
    expect_shape("v", params["v"], (A,), "(attention,)")
    if mask is None:
        return np.ones((B, T), dtype=bool)
    expect_shape("mask", mask, (B, T), "(batch, encoder steps), True at real positions")
    mask = np.asarray(mask, dtype=bool)
    if not mask.any(axis=1).all():
        raise ValueError("every row of mask needs at least one True position")
    return mask


def masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, over the positions where ``mask`` is True only: the
    others get exactly 0. The largest real score is subtracted first (no overflow)."""
    shifted = np.where(mask, scores, -np.inf)
    shifted = shifted - shifted.max(axis=-1, keepdims=True)
    weights = np.where(mask, np.exp(shifted), 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)


def additive_attention(s, H, params, mask=None):
    """One step of additive attention: ``(c, alpha, cache)`` with the context c (B, D), the
    weights alpha (B, T) and what the backward pass needs."""
    mask = _check(s, H, params, mask)
    u = (s @ params["W_s"].T)[:, None, :] + H @ params["W_h"].T
    a = np.tanh(u)
    e = a @ params["v"]
    alpha = masked_softmax(e, mask)
    c = np.einsum("bt,btd->bd", alpha, H)
    return c, alpha, (s, H, a, alpha)


def additive_attention_backward(dc, cache, params, dalpha=None):
    """Gradients of a loss with respect to s, H, W_s, W_h and v, from dc = dL/dc (B, D)
    and, when the loss also reads the weights, ``dalpha`` = dL/dalpha (B, T)."""
    s, H, a, alpha = cache
    d_alpha = np.einsum("bd,btd->bt", dc, H) + (0.0 if dalpha is None else dalpha)
    de = alpha * (d_alpha - (alpha * d_alpha).sum(axis=1, keepdims=True))
    du = de[:, :, None] * params["v"] * (1.0 - a**2)           # (B, T, A)
    dH = alpha[:, :, None] * dc[:, None, :] + du @ params["W_h"]
    return {"s": du.sum(axis=1) @ params["W_s"],
            "H": dH,
            "W_s": np.einsum("bta,bs->as", du, s),
            "W_h": np.einsum("bta,btd->ad", du, H),
            "v": np.einsum("bt,bta->a", de, a)}

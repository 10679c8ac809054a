"""Linear recurrences as scans, in NumPy (chapter 12).

The recurrence, for t = 1 .. T, element-wise over the hidden units,

    h_t = a_t * h_{t-1} + b_t                                        (1)

is *linear in h*: a_t (what is kept of the old state) and b_t (what is added) may depend on
the input x_t but never on h_{t-1}. One step is then the pair (a_t, b_t), and two steps in a
row are again one step of the same form, by the combine operator

    (a1, b1) o (a2, b2) = (a1 * a2,  a2 * b1 + b2)                   (2)

(first do (a1, b1), then (a2, b2)). It is associative, so the prefixes
(a_1, b_1) o ... o (a_t, b_t) = (A_t, B_t) can be computed in log2(T) rounds of whole-array
operations instead of T sequential steps, and h_t = A_t * h_0 + B_t.

Arrays are batch-first: ``a`` and ``b`` are (B, T, H), ``h0`` is (B, H) (zeros if omitted);
every function returns all states, (B, T, H). Functions:

* :func:`scan_hillis_steele` -- (2) applied at distance 1, 2, 4, ... (Hillis & Steele 1986);
* :func:`scan_blelloch` -- the work-efficient up-sweep / down-sweep (Blelloch 1990);
* :func:`scan_log` -- (1) in log space with a cumulative sum and logcumsumexp, for a > 0,
  b > 0 (the form the minGRU paper trains with);
* :func:`scan_backward` -- the gradients, itself a linear recurrence run backwards;
* :func:`mingru_forward` / :func:`mingru_backward` -- the minGRU (Feng et al. 2024) in the
  book's convention, z_t weighting the old state.
"""
import numpy as np

from rnnlab.numpy_nets import sigmoid
from rnnlab.shapes import expect_shape


def _check(a, b, h0=None):
    """Shapes of (1): a is (B, T, H), b the same, h0 (B, H). Returns (a, b, h0 or zeros)."""
    a, b = np.asarray(a), np.asarray(b)
    expect_shape("a", a, (None, None, None), "(batch, time, hidden)")
    expect_shape("b", b, a.shape, "the shape of a, (batch, time, hidden)")
    batch, _, hidden = a.shape
    if h0 is None:
        return a, b, np.zeros((batch, hidden), dtype=np.result_type(a, b))
    h0 = np.asarray(h0)
    expect_shape("h0", h0, (batch, hidden), "(batch, hidden)")
    return a, b, h0


def combine(first, second):
    """Equation (2): the pair that does step ``first`` = (a1, b1), then ``second`` = (a2, b2).

    h -> a2 * (a1 * h + b1) + b2 = (a1 * a2) * h + (a2 * b1 + b2). Associative, not
    commutative: the order of the two arguments is the order in time.
    """
    (a1, b1), (a2, b2) = first, second
    return a1 * a2, a2 * b1 + b2


def scan_hillis_steele(a, b, h0=None):
    """All prefixes (A_t, B_t) of (2) in ceil(log2 T) rounds, then h_t = A_t * h0 + B_t.

    Round with distance d: every t >= d takes (A_{t-d}, B_{t-d}) o (A_t, B_t), so after it
    (A_t, B_t) covers steps max(1, t - 2d + 1) .. t. Each round is one whole-array operation
    over batch, time and hidden units; it does T - d combines (about T log2 T in all).
    """
    a, b, h0 = _check(a, b, h0)
    A, B = a.astype(np.result_type(a, b), copy=True), b.astype(np.result_type(a, b), copy=True)
    d = 1
    while d < A.shape[1]:
        # the right-hand sides are computed from the old arrays before anything is written
        A[:, d:], B[:, d:] = combine((A[:, :-d], B[:, :-d]), (A[:, d:], B[:, d:]))
        d *= 2
    return A * h0[:, None] + B


def scan_blelloch(a, b, h0=None):
    """The work-efficient scan (Blelloch 1990): 2 log2 T rounds, about 2T combines.

    Time is padded to a power of two with the identity step (1, 0). The up-sweep combines
    neighbours into a balanced tree of partial products; the down-sweep hands every node the
    product of everything to its left (an *exclusive* prefix E_t); then h_t comes from
    E_t o (a_t, b_t) applied to h0.
    """
    a, b, h0 = _check(a, b, h0)
    batch, steps, hidden = a.shape
    n = 1 << max(0, steps - 1).bit_length()            # next power of two
    A = np.ones((batch, n, hidden), dtype=np.result_type(a, b))
    B = np.zeros_like(A)
    A[:, :steps], B[:, :steps] = a, b
    d = 1
    while d < n:                                        # up-sweep: right child <- left o right
        left, right = slice(d - 1, n, 2 * d), slice(2 * d - 1, n, 2 * d)
        A[:, right], B[:, right] = combine((A[:, left], B[:, left]), (A[:, right], B[:, right]))
        d *= 2
    A[:, n - 1], B[:, n - 1] = 1, 0                     # nothing lies left of the whole
    while d > 1:                                        # down-sweep
        d //= 2
        left, right = slice(d - 1, n, 2 * d), slice(2 * d - 1, n, 2 * d)
        subtree = A[:, left].copy(), B[:, left].copy()  # the left child's own product
        A[:, left], B[:, left] = A[:, right], B[:, right]          # what lies left of it
        A[:, right], B[:, right] = combine((A[:, right], B[:, right]), subtree)
    A, B = combine((A[:, :steps], B[:, :steps]), (a, b))   # exclusive -> inclusive prefixes
    return A * h0[:, None] + B


def log_g(x):
    """ln g(x) for the minGRU's positive candidate g(x) = x + 1/2 (x >= 0), sigmoid(x) (x < 0).

    g is continuous (both pieces give 1/2 at 0) with a kink there (slopes 1 and 1/4)."""
    x = np.asarray(x)
    return np.where(x >= 0, np.log(np.maximum(x, 0) + 0.5), -np.logaddexp(0, -x))


def g(x):
    """The minGRU's positive candidate: x + 1/2 for x >= 0, sigmoid(x) for x < 0."""
    x = np.asarray(x)
    return np.where(x >= 0, x + 0.5, sigmoid(x))


def scan_log(log_a, log_b, log_h0=None):
    """Equation (1) for a > 0, b > 0, computed on logarithms (Feng et al. 2024):

        a*_t = ln a_1 + ... + ln a_t          (a cumulative sum; a*_0 = 0)
        ln h_t = a*_t + ln sum_{k<=t} exp(ln b_k - a*_k)      (ln b_0 = ln h_0)

    which is h_t = A_t (h_0 + sum_k b_k / A_k) with A_t = a_1 ... a_t, without ever forming
    the vanishing product A_t or the exploding quotient b_k / A_k. Returns h (not ln h).
    """
    given = log_h0 is not None                          # no h0 means h0 = 0: no k = 0 term
    log_a, log_b, log_h0 = _check(log_a, log_b, log_h0)
    a_star = np.cumsum(log_a, axis=1)
    terms = log_b - a_star
    if not given:
        return np.exp(a_star + np.logaddexp.accumulate(terms, axis=1))
    terms = np.concatenate([log_h0[:, None], terms], axis=1)
    return np.exp(a_star + np.logaddexp.accumulate(terms, axis=1)[:, 1:])


def scan_closed_form(a, b, h0=None):
    """h_t = A_t (h_0 + sum_{k<=t} b_k / A_k), A_t = a_1 ... a_t: parallel (a cumulative
    product and a cumulative sum) but unstable, since A_t underflows for long sequences."""
    a, b, h0 = _check(a, b, h0)
    A = np.cumprod(a, axis=1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return A * (h0[:, None] + np.cumsum(b / A, axis=1))


def scan_backward(a, hs, dhs, h0=None, scan=scan_hillis_steele):
    """Gradients of a loss L through (1), given g_t = dhs[:, t], the gradient that reaches
    h_t from the loss directly. The total gradient delta_t = dL/dh_t obeys

        delta_t = g_t + a_{t+1} * delta_{t+1},      delta_T = g_T,

    again a linear recurrence, run from t = T down to 1: ``scan`` does it on reversed time.
    Then dL/db_t = delta_t, dL/da_t = delta_t * h_{t-1}, dL/dh_0 = a_1 * delta_1.
    Returns ``{"a": da, "b": db, "h0": dh0}``.
    """
    a, _, h0 = _check(a, a, h0)
    expect_shape("hs", hs, a.shape, "the shape of a, (batch, time, hidden)")
    expect_shape("dhs", dhs, a.shape, "the shape of a, (batch, time, hidden)")
    a_next = np.concatenate([a[:, 1:], np.zeros_like(a[:, :1])], axis=1)   # a_{t+1}; none after T
    delta = scan(a_next[:, ::-1], dhs[:, ::-1])[:, ::-1]
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    return {"a": delta * h_prev, "b": delta, "h0": a[:, 0] * delta[:, 0]}


def init_mingru_params(input_size: int, hidden_size: int, rng: np.random.Generator,
                       dtype=np.float64) -> dict[str, np.ndarray]:
    """minGRU weights W_xz, b_z, W_xh, b_h, uniform in +-1/sqrt(D) as torch.nn.Linear draws
    them (W_xz and W_xh are (H, D), the math's shapes)."""
    bound = 1.0 / np.sqrt(input_size)
    shapes = {"W_xz": (hidden_size, input_size), "b_z": (hidden_size,),
              "W_xh": (hidden_size, input_size), "b_h": (hidden_size,)}
    return {name: rng.uniform(-bound, bound, size=s).astype(dtype) for name, s in shapes.items()}


def mingru_coefficients(X, params):
    """The minGRU's (a_t, b_t), in the book's convention (z_t weights the old state):

        z_t = sigmoid(W_xz x_t + b_z),   h~_t = g(W_xh x_t + b_h),
        h_t = z_t * h_{t-1} + (1 - z_t) * h~_t,   so  a_t = z_t,  b_t = (1 - z_t) * h~_t.

    Feng et al. write z_t for our 1 - z_t. Returns (a, b, cache) for :func:`mingru_backward`.
    """
    X = np.asarray(X)
    expect_shape("X", X, (None, None, params["W_xz"].shape[1]), "(batch, time, input)")
    k = X @ params["W_xz"].T + params["b_z"]            # gate pre-activation
    u = X @ params["W_xh"].T + params["b_h"]            # candidate pre-activation
    z, h_tilde = sigmoid(k), g(u)
    return z, (1 - z) * h_tilde, (z, h_tilde, u)


def mingru_forward(X, params, h0=None, scan=scan_hillis_steele):
    """All states of a minGRU layer over X (B, T, D), computed by ``scan``: (B, T, H)."""
    a, b, _ = mingru_coefficients(X, params)
    return scan(a, b, h0)


def mingru_backward(X, params, hs, dhs, h0=None):
    """Gradients of the minGRU's weights (and h0) from dhs = dL/dh_t (direct part): the
    reverse scan of :func:`scan_backward`, then the chain rule through
    a = z, b = (1 - z) h~, z = sigmoid(k), h~ = g(u)."""
    a, _, (z, h_tilde, u) = mingru_coefficients(X, params)
    grad = scan_backward(a, hs, dhs, h0)
    dz = grad["a"] - grad["b"] * h_tilde                # a = z and b = (1 - z) h~ both hold z
    dk = dz * z * (1 - z)
    du = grad["b"] * (1 - z) * np.where(u >= 0, 1.0, sigmoid(u) * (1 - sigmoid(u)))
    return {"W_xz": np.einsum("bth,btd->hd", dk, X), "b_z": dk.sum(axis=(0, 1)),
            "W_xh": np.einsum("bth,btd->hd", du, X), "b_h": du.sum(axis=(0, 1)),
            "h0": grad["h0"]}

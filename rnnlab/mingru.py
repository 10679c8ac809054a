"""minGRU and minLSTM in PyTorch (Feng et al. 2024): trained by a scan, run step by step.

Both cells are the linear recurrence of :mod:`rnnlab.scan`, h_t = a_t * h_{t-1} + b_t, with
a_t and b_t computed from x_t alone. In the book's convention (z_t weights the old state,
as in ``torch.nn.GRU``; Feng et al. write z_t for our 1 - z_t):

    minGRU:   z_t = sigmoid(W_xz x_t + b_z),   h~_t = g(W_xh x_t + b_h)
              h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
    minLSTM:  f_t = sigmoid(W_xf x_t + b_f),   i_t = sigmoid(W_xi x_t + b_i)
              h_t = f_t/(f_t + i_t) * h_{t-1} + i_t/(f_t + i_t) * h~_t

with g(x) = x + 1/2 for x >= 0 and sigmoid(x) below, so that h~_t > 0 and, from h_0 >= 0,
every h_t > 0. Training runs the recurrence over the whole sequence at once by a scan:
:func:`scan_hillis_steele` (log2 T rounds, and a reverse scan for the backward pass) or, as
Feng et al. do, on logarithms (:func:`scan_log`: a cumulative sum and
``torch.logcumsumexp``, which needs the positive h). Generation calls ``step``, one h_t from
h_{t-1}. The scan runs in float32 or wider even under bfloat16 autocast: its products and
cumulative sums lose too many digits in bfloat16.

:class:`CharMinGRU` is a character model with the interface of
:class:`rnnlab.torch_models.CharRNN` (``forward(ids, state) -> (logits, state)``), so the
training, scoring and sampling of :mod:`rnnlab.charlm` take it as they are.
"""
import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.shapes import expect_shape


def g(x: torch.Tensor) -> torch.Tensor:
    """The positive candidate: x + 1/2 for x >= 0, sigmoid(x) for x < 0."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: torch.Tensor) -> torch.Tensor:
    """ln g(x), computed without forming g(x) where that would underflow."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def scan_log(log_a: torch.Tensor, log_b: torch.Tensor, log_h0: torch.Tensor | None = None):
    """h_t = a_t * h_{t-1} + b_t for every t, from ln a and ln b (B, T, H) and ln h0 (B, H):

        ln h_t = a*_t + logcumsumexp_k (ln b_k - a*_k),   a*_t = ln a_1 + ... + ln a_t,

    with ln b_0 = ln h_0 and a*_0 = 0 when log_h0 is given (none means h0 = 0): the PyTorch
    twin of :func:`rnnlab.scan.scan_log`, with the same arguments. Returns h (not ln h)."""
    expect_shape("log_a", log_a, (None, None, None), "(batch, time, hidden)")
    expect_shape("log_b", log_b, tuple(log_a.shape), "the shape of log_a, (batch, time, hidden)")
    a_star = torch.cumsum(log_a, dim=1)
    terms = log_b - a_star
    if log_h0 is None:
        return torch.exp(a_star + torch.logcumsumexp(terms, dim=1))
    expect_shape("log_h0", log_h0, (log_a.shape[0], log_a.shape[2]), "(batch, hidden)")
    terms = torch.cat([log_h0.to(terms.dtype)[:, None], terms], dim=1)
    return torch.exp(a_star + torch.logcumsumexp(terms, dim=1)[:, 1:])


def _prefixes(a: torch.Tensor, b: torch.Tensor):
    """(A_t, B_t) for every t by ceil(log2 T) rounds of (A1, B1) o (A2, B2) = (A1 A2, A2 B1 + B2)
    at distance 1, 2, 4, ... (:func:`rnnlab.scan.scan_hillis_steele`); no autograd."""
    A, B, d = a.clone(), b.clone(), 1
    while d < a.shape[1]:
        B[:, d:] = A[:, d:] * B[:, :-d] + B[:, d:]      # the right side is computed first
        A[:, d:] = A[:, d:] * A[:, :-d]
        d *= 2
    return A, B


class _LinearScan(torch.autograd.Function):
    """h_t = a_t h_{t-1} + b_t by the scan, with the backward pass of chapter 12 as a second
    scan run backwards: delta_t = g_t + a_{t+1} delta_{t+1}, dL/db_t = delta_t,
    dL/da_t = delta_t h_{t-1}, dL/dh_0 = a_1 delta_1 (:func:`rnnlab.scan.scan_backward`)."""

    @staticmethod
    def forward(ctx, a, b, h0):
        A, hs = _prefixes(a, b)
        if h0 is not None:
            hs = hs + A * h0[:, None]
        ctx.save_for_backward(a, hs, h0)
        return hs

    @staticmethod
    def backward(ctx, dhs):
        a, hs, h0 = ctx.saved_tensors
        a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], dim=1)
        delta = _prefixes(a_next.flip(1), dhs.flip(1))[1].flip(1)
        first = torch.zeros_like(hs[:, :1]) if h0 is None else h0[:, None].to(hs.dtype)
        da = delta * torch.cat([first, hs[:, :-1]], dim=1)
        dh0 = None if h0 is None or not ctx.needs_input_grad[2] else a[:, 0] * delta[:, 0]
        return da, delta, dh0


def scan_hillis_steele(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None):
    """h_t = a_t * h_{t-1} + b_t for every t, a and b (B, T, H), h0 (B, H) or None (zeros):
    ceil(log2 T) rounds forward and as many backward (the reverse scan), no logarithms."""
    expect_shape("a", a, (None, None, None), "(batch, time, hidden)")
    expect_shape("b", b, tuple(a.shape), "the shape of a, (batch, time, hidden)")
    if h0 is not None:
        expect_shape("h0", h0, (a.shape[0], a.shape[2]), "(batch, hidden)")
    return _LinearScan.apply(a, b, h0)


SCANS = ("log", "hillis-steele")


class MinGRU(nn.Module):
    """A minGRU layer. ``linear`` holds [W_xz; W_xh] (2H, D) and [b_z; b_h], gate first.

    ``forward(x, h0)`` runs a scan over x (B, T, D) and returns all states (B, T, H):
    ``scan="hillis-steele"`` (a and b themselves, log2 T rounds of products and the reverse
    scan backward; it never divides, so it needs no logarithms to stay finite; the faster of
    the two on a CPU) or ``"log"`` (the paper's: ln a, ln b, a cumulative sum and
    ``torch.logcumsumexp``). ``step(x_t, h_prev)`` is one step;
    ``forward_sequential`` loops over ``step``.
    """

    def __init__(self, input_size: int, hidden_size: int, scan: str = "hillis-steele"):
        super().__init__()
        if scan not in SCANS:
            raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
        self.input_size, self.hidden_size, self.scan = input_size, hidden_size, scan
        self.linear = nn.Linear(input_size, 2 * hidden_size)

    def _pre(self, x):
        expect_shape("x", x, (None,) * (x.ndim - 1) + (self.input_size,), "(..., input)")
        k, u = self.linear(x).chunk(2, dim=-1)
        wide = torch.promote_types(k.dtype, torch.float32)   # bfloat16 -> float32 for the scan
        return k.to(wide), u.to(wide)

    def log_coefficients(self, x):
        """ln a_t = ln z_t = -softplus(-k), ln b_t = ln(1 - z_t) + ln h~_t."""
        k, u = self._pre(x)
        return -F.softplus(-k), -F.softplus(k) + log_g(u)

    def coefficients(self, x):
        """a_t = z_t and b_t = (1 - z_t) * h~_t, for x of shape (..., D)."""
        k, u = self._pre(x)
        z = torch.sigmoid(k)
        return z, (1 - z) * g(u)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        if self.scan == "log":
            log_h0 = None            # h0 > 0, as g keeps states; 0 -> tiny
            if h0 is not None:
                log_h0 = torch.log(h0.clamp_min(torch.finfo(h0.dtype).tiny))
            return scan_log(*self.log_coefficients(x), log_h0)
        return scan_hillis_steele(*self.coefficients(x), h0)

    def step(self, x_t: torch.Tensor,
             h_prev: torch.Tensor | None = None) -> torch.Tensor:
        """h_t = a_t * h_{t-1} + b_t for one step: x_t (B, D), h_prev (B, H) or None
        (zeros)."""
        a_t, b_t = self.coefficients(x_t)
        return b_t if h_prev is None else a_t * h_prev + b_t

    def forward_sequential(self, x, h0=None):
        """The same states as ``forward``, by T calls of ``step`` (the loop a GRU needs)."""
        h, hs = h0, []
        for t in range(x.shape[1]):
            h = self.step(x[:, t], h)
            hs.append(h)
        return torch.stack(hs, dim=1)


class MinLSTM(MinGRU):
    """A minLSTM layer: ``linear`` holds [W_xf; W_xi; W_xh] (3H, D), forget gate first.
    The two gates are normalised, f' = f/(f+i), i' = i/(f+i), so that h stays a weighted
    average of the old state and the candidate (and the log-space scan applies)."""

    def __init__(self, input_size: int, hidden_size: int, scan: str = "hillis-steele"):
        super().__init__(input_size, hidden_size, scan)
        self.linear = nn.Linear(input_size, 3 * hidden_size)

    def _pre(self, x):
        expect_shape("x", x, (None,) * (x.ndim - 1) + (self.input_size,), "(..., input)")
        wide = torch.promote_types(x.dtype, torch.float32)
        return self.linear(x).to(wide).chunk(3, dim=-1)

    def log_coefficients(self, x):
        """ln f' = -softplus(s), ln i' = -softplus(-s), with s = ln i - ln f."""
        k_f, k_i, u = self._pre(x)
        s = F.softplus(-k_f) - F.softplus(-k_i)
        return -F.softplus(s), -F.softplus(-s) + log_g(u)

    def coefficients(self, x):
        """a_t = f_t / (f_t + i_t) and b_t = i_t / (f_t + i_t) * h~_t."""
        k_f, k_i, u = self._pre(x)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return f / (f + i), i / (f + i) * g(u)


CELLS = {"mingru": MinGRU, "minlstm": MinLSTM}


class CharMinGRU(nn.Module):
    """A character model built from minGRU (or, with ``cell="minlstm"``, minLSTM) layers, for
    :mod:`rnnlab.charlm`.

    x^1_t = E[x_t] (an embedding of ``embed_size``, default ``hidden_size``, projected to
    ``hidden_size`` when smaller or larger). Per layer l: h^l = cell(LayerNorm(x^l)),
    x^{l+1} = x^l + h^l (a residual stream of width ``hidden_size``), and with ``ffn`` > 0 a
    position-wise
    feed-forward block after each cell, x <- x + W_2 gelu(W_1 LayerNorm(x)), W_1 being
    (ffn * H, H): the channel mixing that the element-wise recurrence lacks. Then
    logits y_t = W_hy LayerNorm(x_t) + b_y.

    ``scan`` chooses the training scan of every cell (:class:`MinGRU`).
    ``forward(ids, state)`` takes ids (B, T) and the states of every layer (num_layers, B, H)
    or None, and returns logits (B, T, V) and the new states. With T = 1 (generation) each
    layer takes one ``step``; longer inputs run the scan.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, embed_size: int | None = None,
                 num_layers: int = 2, cell: str = "mingru", ffn: int = 0, dropout: float = 0.0,
                 scan: str = "hillis-steele"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.vocab_size, self.hidden_size, self.cell = vocab_size, hidden_size, cell
        embed_size = embed_size or hidden_size
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.project = (nn.Identity() if embed_size == hidden_size
                        else nn.Linear(embed_size, hidden_size))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_size) for _ in range(num_layers))
        self.cells = nn.ModuleList(CELLS[cell](hidden_size, hidden_size, scan) for _ in range(num_layers))
        self.ffns = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(hidden_size), nn.Linear(hidden_size, ffn * hidden_size),
                          nn.GELU(), nn.Linear(ffn * hidden_size, hidden_size))
            for _ in range(num_layers if ffn else 0))
        self.drop = nn.Dropout(dropout)
        self.norm_out = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor, state: torch.Tensor | None = None):
        """Logits (B, T, V) for ids (B, T), and the last state of every layer (L, B, H)."""
        expect_shape("ids", ids, (None, None), "(batch, time)")
        x, last = self.project(self.embedding(ids)), []
        for layer, (norm, cell) in enumerate(zip(self.norms, self.cells)):
            h0 = None if state is None else state[layer]
            if ids.shape[1] == 1:
                h = cell.step(norm(x[:, 0]), h0)[:, None]
            else:
                h = cell(norm(x), h0)
            last.append(h[:, -1])
            x = x + self.drop(h.to(x.dtype))
            if self.ffns:
                x = x + self.drop(self.ffns[layer](x))
        return self.head(self.norm_out(x)), torch.stack(last)

"""Additive attention in NumPy (rnnlab.attention): forward, masks, and the backward pass,
checked against finite differences and PyTorch's autograd (chapter 13)."""
import numpy as np
import pytest
import torch

from rnnlab import attention, gradcheck
from rnnlab.seq2seq import AdditiveAttention


def problem(seed=0, B=3, T=5, S=4, D=6, A=3):
    rng = np.random.default_rng(seed)
    P = attention.init_attention_params(S, D, A, rng)
    P["s"], P["H"] = rng.normal(size=(B, S)), rng.normal(size=(B, T, D))
    mask = np.arange(T)[None, :] < np.array([T, T - 2, 1][:B])[:, None]
    return P, mask, rng


def test_padding_gets_no_weight_and_changes_nothing():
    P, mask, _ = problem()
    c, alpha, _ = attention.additive_attention(P["s"], P["H"], P, mask)
    assert np.all(alpha[~mask] == 0) and np.allclose(alpha.sum(axis=1), 1.0)
    assert np.allclose(alpha[2], [1, 0, 0, 0, 0]) and np.allclose(c[2], P["H"][2, 0])
    garbage = P["H"].copy()
    garbage[~mask] = 1e6
    c_garbage, _, _ = attention.additive_attention(P["s"], garbage, P, mask)
    assert np.allclose(c_garbage, c)
    # the word alone, with no padding at all, gives the same context
    n = int(mask[1].sum())
    c_alone, _, _ = attention.additive_attention(P["s"][1:2], P["H"][1:2, :n], P)
    assert np.allclose(c_alone[0], c[1])


def test_masked_softmax_is_stable_for_large_scores():
    scores = np.array([[1000.0, 999.0, -5.0], [0.0, 0.0, 1e308]])
    mask = np.array([[True, True, False], [True, True, False]])
    weights = attention.masked_softmax(scores, mask)
    assert np.all(np.isfinite(weights))
    assert np.allclose(weights, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0],
                                 [0.5, 0.5, 0]])


@pytest.mark.parametrize("with_dalpha", [False, True])
def test_backward_matches_finite_differences(with_dalpha):
    P, mask, rng = problem(seed=1)
    w, w_alpha = rng.normal(size=(3, 6)), rng.normal(size=(3, 5))

    def loss():
        c, alpha, _ = attention.additive_attention(P["s"], P["H"], P, mask)
        return float((w * c).sum() + (with_dalpha * w_alpha * alpha).sum())

    _, _, cache = attention.additive_attention(P["s"], P["H"], P, mask)
    grads = attention.additive_attention_backward(w, cache, P,
                                                  dalpha=w_alpha if with_dalpha else None)
    errors = gradcheck.check_gradients(loss, P, grads)
    assert set(errors) == {"s", "H", "W_s", "W_h", "v"}
    assert max(errors.values()) < 1e-7, errors
    assert np.all(grads["H"][~mask] == 0)


def test_a_missing_path_is_caught():
    """The check bites: dropping h_j's path through its score gives a large error."""
    P, mask, rng = problem(seed=2)
    w = rng.normal(size=(3, 6))
    _, alpha, cache = attention.additive_attention(P["s"], P["H"], P, mask)
    grads = attention.additive_attention_backward(w, cache, P)
    through_mean_only = alpha[:, :, None] * w[:, None, :]
    assert gradcheck.relative_error(grads["H"], through_mean_only) > 1e-2


def test_torch_layer_matches_numpy_forward_and_gradients():
    P, mask, rng = problem(seed=3)
    w = rng.normal(size=(3, 6))
    layer = AdditiveAttention(4, 6, 3).double()
    with torch.no_grad():
        layer.W_s.weight.copy_(torch.tensor(P["W_s"]))
        layer.W_h.weight.copy_(torch.tensor(P["W_h"]))
        layer.v.copy_(torch.tensor(P["v"]))
    s = torch.tensor(P["s"], requires_grad=True)
    H = torch.tensor(P["H"], requires_grad=True)
    c_t, alpha_t = layer(s, H, torch.tensor(mask))
    c, alpha, cache = attention.additive_attention(P["s"], P["H"], P, mask)
    assert gradcheck.relative_error(c_t.detach().numpy(), c) < 1e-10
    assert gradcheck.relative_error(alpha_t.detach().numpy(), alpha) < 1e-10
    (torch.tensor(w) * c_t).sum().backward()
    grads = attention.additive_attention_backward(w, cache, P)
    for name, tensor in (("s", s), ("H", H), ("W_s", layer.W_s.weight),
                         ("W_h", layer.W_h.weight), ("v", layer.v)):
        assert gradcheck.relative_error(grads[name], tensor.grad.numpy()) < 1e-10, name


def test_shape_errors_name_both_shapes():
    P, mask, _ = problem()
    with pytest.raises(ValueError, match=r"s must have shape .*\(3, 4\), got \(4, 3\)"):
        attention.additive_attention(P["s"].T, P["H"], P, mask)
    with pytest.raises(ValueError, match="mask must have shape"):
        attention.additive_attention(P["s"], P["H"], P, mask[:, :3])
    empty = mask.copy()
    empty[0] = False
    with pytest.raises(ValueError, match="at least one True"):
        attention.additive_attention(P["s"], P["H"], P, empty)

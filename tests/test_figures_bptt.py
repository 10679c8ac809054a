"""The diagrams of chapters 1-5 (rnnlab.figures.bptt and rnnlab.figures.forward): each draws,
carries the symbols the chapters' equations use, and the truncation diagram marks exactly
the states that rnn_backward(..., K=K) sends a loss's gradient to."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnnlab import numpy_nets
from rnnlab.figures import bptt, forward


def texts(ax) -> str:
    """Every string drawn on the axes: annotations, box labels and the legend."""
    found = [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        found += [t.get_text() for t in legend.get_texts()]
    return "\n".join(found)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_bptt_paths_show_each_use_of_W_hh_its_explicit_part_and_the_jacobians():
    ax = bptt.draw_bptt_paths(steps=3)
    drawn = texts(ax)
    assert drawn.count("$W_{hh}$") == 3, "one box per use of W_hh"
    for k in (1, 2, 3):
        assert rf"$\partial^{{+}} h_{k} / \partial W_{{hh}}$" in drawn
        assert f"use at step {k}" in drawn
    assert "$J_2$" in drawn and "$J_3$" in drawn and "$J_1$" not in drawn  # h_0 is given
    assert r"$\partial \mathcal{L} / \partial h_3$" in drawn
    assert "explicit part" in drawn and "later states" in drawn
    assert ax.figure.get_facecolor()[:3] == (1.0, 1.0, 1.0)


def test_bptt_recursion_shows_delta_flowing_back_and_the_sum_of_explicit_parts():
    ax = bptt.draw_bptt_recursion(steps=3)
    drawn = texts(ax)
    for t in (1, 2, 3):
        assert rf"$\delta_{t}$" in drawn and rf"$\partial \ell_{t} / \partial h_{t}$" in drawn
        assert rf"$\delta_{t}\, \partial^{{+}} h_{t} / \partial W_{{hh}}$" in drawn
    assert r"$J_{2}^{\top} \delta_{2}$" in drawn and r"$J_{3}^{\top} \delta_{3}$" in drawn
    assert r"$J_{4}^{\top}" not in drawn and r"$\delta_{4} = 0$" in drawn


@pytest.mark.parametrize("variant", ["chunks", "window"])
def test_truncated_bptt_draws_and_labels_the_reach_of_a_loss(variant):
    ax = bptt.draw_truncated_bptt(steps=12, K=4, variant=variant, highlight=(5, 8))
    drawn = texts(ax)
    assert "$h_{12}$" in drawn and r"$\ell_{12}$" in drawn
    if variant == "chunks":
        assert "chunk 3: steps 9–12" in drawn and drawn.count("detach") == 2
        assert r"$\ell_{5}$ reaches $h_{5}$ only" in drawn
        assert r"$\ell_{8}$ reaches $h_{5}$…$h_{8}$" in drawn
    else:
        assert "chunk" not in drawn and "detach" not in drawn
        assert r"$\ell_{5}$ reaches $h_{2}$…$h_{5}$" in drawn


def test_truncated_bptt_refuses_nonsense():
    with pytest.raises(ValueError, match="K"):
        bptt.draw_truncated_bptt(K=0)
    with pytest.raises(ValueError, match="highlight"):
        bptt.draw_truncated_bptt(steps=12, highlight=(13,))
    with pytest.raises(ValueError, match="variant"):
        bptt.draw_truncated_bptt(variant="sliding")


def test_truncation_reach_is_what_rnn_backward_computes():
    """A loss at step t only: the steps whose explicit part gets a gradient under
    rnn_backward(..., K=K) are exactly truncation_reach(t, K, "chunks")."""
    rng = np.random.default_rng(0)
    T, K, D, H, O = 11, 4, 3, 5, 2
    params = numpy_nets.init_rnn_params(D, H, O, rng)
    X = rng.normal(size=(1, T, D))
    hs, _ = numpy_nets.rnn_forward(X, params)
    for t in range(1, T + 1):
        dhs = np.zeros_like(hs)
        dhs[0, t - 1] = 1.0                                 # the loss of step t alone
        grads, _ = numpy_nets.rnn_backward(X, params, hs, dhs=dhs, K=K)
        steps = [s for s in range(1, T + 1)
                 if not np.allclose(_dW_xh_without(X, params, hs, dhs, K, s), grads["W_xh"])]
        assert steps == list(bptt.truncation_reach(t, K, "chunks")), t
    assert list(bptt.truncation_reach(5, 4, "window")) == [2, 3, 4, 5]
    assert list(bptt.truncation_reach(2, 4, "window")) == [1, 2]


def _dW_xh_without(X, params, hs, dhs, K, s):
    """dW_xh with the input of step s zeroed (the states kept): differs from the full one
    exactly when the gradient reaches h_s."""
    X_zeroed = X.copy()
    X_zeroed[:, s - 1] = 0.0
    return numpy_nets.rnn_backward(X_zeroed, params, hs, dhs=dhs, K=K)[0]["W_xh"]


def test_forward_diagrams_carry_the_chapters_symbols():
    drawn = texts(forward.draw_bag_vs_recurrence())
    assert drawn.count(r"$\Sigma_t\, x_t$") == 2 and "$h_3$" in drawn and "$h_0$" in drawn
    drawn = texts(forward.draw_architecture())
    for symbol, shape, letter in [("W_{xh}", r"H \times D", "U"), ("W_{hh}", r"H \times H", "W"),
                                  ("b_{h}", "H", "B"), ("W_{hy}", r"O \times H", "V"),
                                  ("b_{y}", "O", "C")]:
        assert f"${symbol}$ (${letter}$)\n${shape}$" in drawn
    assert "(" not in texts(forward.draw_architecture(article=False)).replace("$t+1$", "")
    drawn = texts(forward.draw_char_steps(text="To be"))
    assert "$x_1$: T" in drawn and r"$y^\star_4$ = e" in drawn and r"$\ell_4$" in drawn
    with pytest.raises(ValueError):
        forward.draw_char_steps(text="T")

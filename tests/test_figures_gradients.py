"""The diagrams of chapters 10, 11a and 11b say what the chapters' equations say.

Chapter 10 writes the gradient that reaches h_k as dL/dh_T J_T J_{T-1} ... J_{k+1}: the chain
must show J_{k+1} on the arrow next to h_k and J_T next to h_T, the forward arrows must point
forward in time and the gradient's arrows backward, and the measured curve beside it must be
the data it was given.
"""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch

from rnnlab.figures import applications, gradients


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax):
    return {t.get_text(): t.get_position() for t in ax.texts}


def _arrows(ax, colour):
    found = []
    for patch in ax.patches:
        if isinstance(patch, FancyArrowPatch) and matplotlib.colors.same_color(
                patch.get_edgecolor(), colour):
            (x0, _), (x1, _) = patch._posA_posB
            found.append((x0, x1))
    return found


def test_chain_puts_the_jacobians_in_the_product_order():
    ax = gradients.draw_jacobian_chain()
    texts = _texts(ax)
    order = ["J_{k+1}", "J_{k+2}", "J_{T-1}", "J_T"]
    xs = [texts[f"$\\times\\,{j}$"][0] for j in order]
    assert xs == sorted(xs), "J_{k+1} sits next to h_k, J_T next to h_T"
    states = {name: texts[f"${name}$"][0] for name in ("h_k", "h_{k+1}", "h_{T-1}", "h_T")}
    assert states["h_k"] < xs[0] < states["h_{k+1}"], "J_{k+1} is the step h_k -> h_{k+1}"
    assert states["h_{T-1}"] < xs[-1] < states["h_T"], "J_T is the step h_{T-1} -> h_T"
    product = [t for t in texts if t.startswith("back:")]
    assert product and "J_T\\,J_{T-1}\\cdots J_{k+1}" in product[0], product


def test_chain_arrows_point_forward_in_black_and_back_in_the_gradient_colour():
    ax = gradients.draw_jacobian_chain()
    forward = _arrows(ax, "black")
    back = _arrows(ax, gradients.GRADIENT_COLOUR)
    # four steps h_k -> ... -> h_T, plus h_T -> L
    assert len(forward) == len(back) == len(gradients.chain_labels())
    assert all(x1 > x0 for x0, x1 in forward), "forward arrows go from h_{t-1} to h_t"
    assert all(x1 < x0 for x0, x1 in back), "the gradient travels from h_t back to h_{t-1}"


def test_chain_figure_plots_the_measured_norms_on_a_log_scale():
    distance = np.arange(50)
    norms = {"radius 0.5": 0.5 ** distance, "radius 2": 1.1 ** distance}
    fig = gradients.jacobian_chain_figure(distance, norms, [0.5 ** distance, 1.2 ** distance],
                                          "no tanh", ylim=(1e-10, 1e10))
    _chain, curves = fig.axes
    assert matplotlib.colors.same_color(fig.get_facecolor(), "white")
    assert curves.get_yscale() == "log" and curves.get_ylim() == pytest.approx((1e-10, 1e10))
    plotted = {line.get_label(): line.get_ydata() for line in curves.get_lines()}
    for label, values in norms.items():
        np.testing.assert_array_equal(plotted[label], values)
    dotted = [line for line in curves.get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == 2 and [line.get_color() for line in dotted] == [
        line.get_color() for line in curves.get_lines()[:2]], "one reference per curve, same colour"
    assert "T - k" in curves.get_xlabel()


def test_forecast_window_names_the_window_and_the_horizon():
    left, right = applications.draw_forecast_window(T=7, horizon=3)
    labels = [t.get_text() for t in left.get_xticklabels()]
    assert labels == ["$t-T+1$", "$t$", "$t+\\Delta$"]
    ticks = left.get_xticks()
    assert ticks[1] - ticks[0] == 7 - 1 and ticks[2] - ticks[1] == 3, "T values, Delta ahead"
    texts = _texts(right)
    assert "$h_T$" in texts and "$\\hat{\\tilde x}_{t+1}$" in texts
    assert texts["$\\tilde x_{t-T+1}$"][0] < texts["$\\tilde x_t$"][0], "oldest value first"


@pytest.mark.parametrize("with_frames", [False, True])
def test_frames_to_label_reads_in_order_and_the_baseline_averages(with_frames):
    frames = np.random.default_rng(0).random((4, 6, 6)) if with_frames else None
    ax = applications.draw_frames_to_label(frames=frames)
    texts = [t.get_text() for t in ax.texts]
    assert {"$h_1$", "$h_T$", "$W_{hh}$", "$\\bar x$", "mean"} <= set(texts)
    if with_frames:
        images = ax.get_images()
        assert len(images) == 4 + 4 + 1, "four frames per row and their mean"
        np.testing.assert_allclose(images[-1].get_array(), frames.mean(axis=0))
    forward = _arrows(ax, "black")
    assert all(x1 >= x0 for x0, x1 in forward), "every arrow points forward in time or up"

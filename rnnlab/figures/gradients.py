"""Diagrams of how a gradient travels back through time (chapter 10).

The gradient that a loss at step T sends back to an earlier state h_k is a row vector
multiplied by one Jacobian per step, in order (notation page):

    dL/dh_k = dL/dh_T  J_T J_{T-1} ... J_{k+1},      J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh.

``draw_jacobian_chain`` draws that product as a chain of states, the forward arrows
h_{t-1} -> h_t on top and the gradient's way back underneath, one J_t per arrow;
``jacobian_chain_figure`` puts the chain beside a measured curve of the gradient norm
against the distance T - k.
"""
import matplotlib.pyplot as plt

from rnnlab.figures import GRADIENT, INITIAL, LINE_COLOURS, STATE, plot_lines
from rnnlab.figures.draw import arrow, node

GRADIENT_COLOUR = GRADIENT   # vermillion: the backward pass, in every gradient diagram
STATE_COLOUR = STATE         # orange: hidden states, as in draw_unrolled


def chain_labels() -> list[tuple[str, str]]:
    """The chain's states and the Jacobian on the arrow into each, left to right:
    ``[(state, jacobian into it), ...]``; the first state has none."""
    return [("h_k", ""), ("h_{k+1}", "J_{k+1}"), ("\\cdots", "J_{k+2}"),
            ("h_{T-1}", "J_{T-1}"), ("h_T", "J_T")]


def draw_jacobian_chain(ax=None):
    """The Jacobian product as a chain: h_k -> ... -> h_T -> loss forward (black arrows),
    and the gradient dL/dh_T travelling back (vermillion, dashed arcs underneath),
    multiplied by J_T, then J_{T-1}, ..., then J_{k+1}. Returns the axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(9.0, 2.4))
        fig.set_facecolor("white")   # readable on the theme's dark page too
    gap, half = 2.0, 0.5
    states = chain_labels() + [("\\mathcal{L}", "")]
    for i, (state, jacobian) in enumerate(states):
        x = i * gap
        if state == "\\cdots":
            ax.text(x, 0, f"${state}$", ha="center", va="center", fontsize=16)
        else:
            loss = i == len(states) - 1
            node(ax, (x, 0), f"${state}$", INITIAL if loss else STATE_COLOUR,
                 width=0.7 if loss else 2 * half)
        if i == 0:
            continue
        left, right = x - gap + half + 0.08, x - half - 0.08
        arrow(ax, (left, 0), (right, 0), width=1.4, head=13, shrink=2)
        arrow(ax, (right, -0.3), (left, -0.3), GRADIENT_COLOUR, "--", rad=-0.5, width=1.6,
              head=13, shrink=2)
        label = f"$\\times\\,{jacobian}$" if jacobian else \
            "$\\partial\\mathcal{L}/\\partial h_T$"
        ax.text(x - gap / 2, -0.85, label, ha="center", va="center", fontsize=12,
                color=GRADIENT_COLOUR)
    middle = (len(states) - 1) * gap / 2
    ax.text(middle, 0.75, "forward: $h_t = \\tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)$",
            ha="center", va="center", fontsize=12)
    ax.text(middle, -1.6, "back: $\\partial\\mathcal{L}/\\partial h_k = "
            "\\partial\\mathcal{L}/\\partial h_T\\; J_T\\,J_{T-1}\\cdots J_{k+1}$,   "
            "$J_t = \\operatorname{diag}(1 - h_t^2)\\,W_{hh}$",
            ha="center", va="center", fontsize=12, color=GRADIENT_COLOUR)
    ax.set_xlim(-half - 0.2, (len(states) - 1) * gap + 0.5)
    ax.set_ylim(-1.9, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def jacobian_chain_figure(distance, norms: dict, reference=None,
                          reference_label: str = "without the nonlinearity", ylim=None):
    """The chain (above) with the measured gradient norm against distance beside it (below).

    ``distance`` holds the values of T - k; ``norms`` maps a label to the measured
    ||dL/dh_k|| at each distance (log scale); ``reference`` lists one curve per entry of
    ``norms``, drawn thin, dotted and in the same colour (e.g. rho^(T-k), the network without
    tanh), under one legend entry ``reference_label``. Returns the figure.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9.0, 6.6),
                                      gridspec_kw={"height_ratios": [1, 1.5]})
    fig.set_facecolor("white")   # the diagram stays readable on the theme's dark page
    draw_jacobian_chain(top)
    plot_lines(bottom, distance, norms, xlabel="distance back, $T - k$",
               ylabel="$\\Vert \\partial\\mathcal{L}/\\partial h_k \\Vert$", logy=True,
               markevery=max(len(distance) // 10, 1))
    for i, (curve, colour) in enumerate(zip(reference or [], LINE_COLOURS)):
        bottom.plot(distance, curve, color=colour, linestyle=":", linewidth=1,
                    label=f"dotted: {reference_label}" if i == 0 else None)
    if reference is not None:
        bottom.legend(fontsize=8, ncol=2)
    if ylim is not None:
        bottom.set_ylim(*ylim)
    bottom.set_title("measured: the norm of the product, one more Jacobian per step back")
    return fig

"""Diagrams of backpropagation through time (chapter 5; chapter 9 reuses the truncation one).

The chapter's equations, which every arrow below follows (notation page):

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),     J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh
    dL/dW_hh = sum_k dL/dh_T  J_T ... J_{k+1}  d+h_k/dW_hh        (a loss on h_T only)
    delta_t  = dl_t/dh_t + J_{t+1}^T delta_{t+1},  delta_{T+1} = 0
    dL/dW_hh = sum_t delta_t d+h_t/dW_hh = sum_t ((1 - h_t^2) * delta_t) h_{t-1}^T

``draw_bptt_paths`` draws the first sum: W_hh used once per step, the explicit part
d+h_k/dW_hh of each use, and the way on through the later states (one J_t per arrow) to the
loss. ``draw_bptt_recursion`` draws the loop: delta_t travelling back in time, each step
adding delta_t times its explicit part. ``draw_truncated_bptt`` draws truncation: the stream
cut into chunks of K steps, the state carried forward across every border, the gradient
stopped at each one (or, with ``variant="window"``, each loss given its own window of K
steps). Every diagram is drawn on white, so that it reads on a dark page too.
"""
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from rnnlab.figures import BLUE, GRADIENT, INITIAL, INPUT, MUTED, PURPLE, STATE
from rnnlab.figures.draw import arrow, canvas, node

EXPLICIT = BLUE         # blue, solid: an explicit (immediate) part d+h_k/dW_hh
THROUGH = PURPLE        # purple, dash-dot: on through the later states, one J_t per arrow
GAP = 2.5               # the distance between two states in the BPTT diagrams


def _legend(ax, entries, **kwargs):
    handles = [Line2D([], [], color=colour, linestyle=dash, linewidth=2, label=label)
               for colour, dash, label in entries]
    ax.legend(handles=handles, frameon=False, fontsize=9, **kwargs)


def _chain(ax, steps: int, extra_width: float, height: float):
    """The start of the two BPTT diagrams: a white canvas (made when ``ax`` is None) with
    h_0 at the origin; the states h_1 .. h_steps follow every ``GAP`` units."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if ax is None:
        _, ax = plt.subplots(figsize=(GAP * steps + extra_width, height))
    canvas(ax)
    node(ax, (0, 0), "$h_0$", INITIAL, width=0.7)
    return ax


def draw_bptt_paths(ax=None, steps: int = 3):
    """The unrolled graph of a many-to-one loss, as the article's example: W_hh is used once
    per step; the blue arrow into h_k is the explicit part of that use, d+h_k/dW_hh (h_{k-1}
    held fixed); the purple arrows carry it on through the later states, one Jacobian J_t
    each, to h_T and the loss. Following use k to the loss multiplies
    dL/dh_T J_T ... J_{k+1} d+h_k/dW_hh: the k-th term of the sum. Returns the axes."""
    ax = _chain(ax, steps, 3.0, 4.4)
    gap = GAP
    for k in range(1, steps + 1):
        x = gap * k
        node(ax, (x, 0), f"$h_{k}$", STATE, width=0.7)
        node(ax, (x, -1.45), f"$x_{k}$", INPUT, width=0.7)
        arrow(ax, (x, -1.15), (x, -0.3), MUTED, label="$W_{xh}$",
              label_xy=(x + 0.45, -0.72), label_colour="black")
        node(ax, (x - 0.9, 1.55), "$W_{hh}$", "white", width=0.8)
        ax.text(x - 0.9, 2.05, f"use at step {k}", ha="center", va="center", fontsize=8,
                color=MUTED)
        arrow(ax, (x - 0.75, 1.25), (x - 0.12, 0.3), EXPLICIT, width=2.0,
              label=rf"$\partial^{{+}} h_{k} / \partial W_{{hh}}$", label_xy=(x - 0.1, 0.85),
              label_colour="black")
        arrow(ax, (x - gap + 0.4, 0), (x - 0.4, 0), THROUGH if k > 1 else MUTED,
              "-." if k > 1 else "-", width=2.0 if k > 1 else 1.2,
              label=f"$J_{k}$" if k > 1 else "", label_xy=(x - gap / 2, -0.28),
              label_colour="black")
    x_loss = gap * steps + 1.9
    node(ax, (x_loss, 0), r"$\mathcal{L}$", INITIAL, width=0.6)
    arrow(ax, (gap * steps + 0.4, 0), (x_loss - 0.35, 0), "black", width=1.6,
          label_colour="black", label=rf"$\partial \mathcal{{L}} / \partial h_{steps}$",
          label_xy=(gap * steps + 1.15, 0.35))
    _legend(ax, [(EXPLICIT, "-", (r"explicit part $\partial^{+} h_k/\partial W_{hh}$ "
                                  r"($h_{k-1}$ held fixed)")),
                 (THROUGH, "-.", (r"on through the later states: $J_t = \partial h_t/"
                                  r"\partial h_{t-1}$"))],
            loc="upper center", bbox_to_anchor=(0.5, 0.02), ncols=1)
    ax.set_xlim(-0.6, x_loss + 0.6)
    ax.set_ylim(-1.9, 2.3)
    return ax


def draw_bptt_recursion(ax=None, steps: int = 3):
    """The backward loop for a loss at every step: delta_t, the total gradient at h_t, is
    what the step's own loss sends (dl_t/dh_t, from above) plus what comes back from the
    next state (J_{t+1}^T delta_{t+1}, the vermillion arcs, right to left; delta_{T+1} = 0).
    Each step then adds delta_t times its explicit part to dL/dW_hh (blue, into the box
    underneath). Returns the axes."""
    ax = _chain(ax, steps, 2.4, 4.6)
    gap = GAP
    for t in range(1, steps + 1):
        x = gap * t
        node(ax, (x, 0), f"$h_{t}$", STATE, width=0.7)
        ax.text(x + 0.5, -0.42, rf"$\delta_{t}$", ha="center", va="center", fontsize=11,
                color=GRADIENT)
        node(ax, (x, 1.9), rf"$\ell_{t}$", INITIAL, width=0.6)
        arrow(ax, (x, 1.62), (x, 0.3), GRADIENT, "--", width=1.6,
              label=rf"$\partial \ell_{t} / \partial h_{t}$", label_xy=(x, 1.25),
              label_colour="black")
        arrow(ax, (x - gap + 0.4, -0.08), (x - 0.4, -0.08), MUTED, width=1.0)
        if t < steps:
            arrow(ax, (x + gap - 0.3, 0.3), (x + 0.3, 0.3), GRADIENT, "--", rad=0.45,
                  width=1.8, label=rf"$J_{{{t + 1}}}^{{\top}} \delta_{{{t + 1}}}$",
                  label_xy=(x + gap / 2, 0.95), label_colour="black")
        arrow(ax, (x, -0.3), (gap * (steps + 1) / 2 + (x - gap * (steps + 1) / 2) * 0.35,
                              -1.55), EXPLICIT, width=1.6,
              label=rf"$\delta_{t}\, \partial^{{+}} h_{t} / \partial W_{{hh}}$",
              label_xy=(x - 0.05, -0.95), label_colour="black")
    ax.text(gap * steps + 0.95, 0.35, rf"$\delta_{{{steps + 1}}} = 0$", ha="left",
            va="center", fontsize=10, color=GRADIENT)
    centre = gap * (steps + 1) / 2
    ax.text(centre, -1.85, r"$\partial \mathcal{L} / \partial W_{hh} = \sum_t \delta_t\, "
                           r"\partial^{+} h_t / \partial W_{hh}$",
            ha="center", va="center", fontsize=11,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": EXPLICIT})
    ax.annotate("", xy=(gap * 0.9, 2.55), xytext=(gap * steps, 2.55),
                arrowprops={"arrowstyle": "-|>", "color": GRADIENT, "linewidth": 1.2})
    ax.text(gap * (steps + 0.9) / 2, 2.8, "the backward pass runs back in time", ha="center",
            va="center", fontsize=9, color=GRADIENT)
    ax.set_xlim(-0.6, gap * steps + 1.9)
    ax.set_ylim(-2.2, 3.05)
    return ax


def truncation_reach(t: int, K: int, variant: str = "chunks") -> range:
    """The states h_k (1-based steps) that the gradient of the loss at step ``t`` reaches.

    ``"chunks"``: the stream is cut into chunks of K steps (steps 1..K, K+1..2K, ...), as
    ``h.detach()`` every K steps does; a loss at position j of its chunk reaches back j - 1
    steps, to the chunk's first state. ``"window"``: every loss reaches back K - 1 steps,
    as if each had its own window of K steps (sliding-window truncation)."""
    if K < 1 or t < 1:
        raise ValueError(f"t and K must be at least 1, got t={t}, K={K}")
    if variant == "chunks":
        return range((t - 1) // K * K + 1, t + 1)
    if variant == "window":
        return range(max(1, t - K + 1), t + 1)
    raise ValueError(f"variant must be 'chunks' or 'window', got {variant!r}")


def draw_truncated_bptt(ax=None, steps: int = 12, K: int = 4, variant: str = "chunks",
                        highlight=(), state_label: str = "h", loss_label: str = r"\ell",
                        legend: bool = True):
    """Truncated BPTT over a stream of ``steps`` steps with truncation length ``K``.

    The hidden state flows forward across every step (black arrows, also across chunk
    borders: the state is carried). With ``variant="chunks"`` the stream is cut into chunks
    of K steps (shaded) and the gradient (vermillion arcs, right to left) stops at each
    border (the bar marked "detach"); the short dashed arrows are each step's loss sending its
    gradient into h_t. ``highlight`` lists loss steps t whose reach is marked
    underneath: the states their gradient reaches (see :func:`truncation_reach`). With
    ``variant="window"`` no chunk is drawn and each highlighted loss gets a window of K
    steps. ``legend=False`` leaves out the legend (under the diagram). Returns the axes."""
    if steps < 1 or K < 1:
        raise ValueError(f"steps and K must be at least 1, got steps={steps}, K={K}")
    if variant not in ("chunks", "window"):
        raise ValueError(f"variant must be 'chunks' or 'window', got {variant!r}")
    highlight = tuple(highlight)
    if any(not 1 <= t <= steps for t in highlight):
        raise ValueError(f"highlight steps must lie in 1..{steps}, got {highlight}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.85 * steps + 1.6, 2.6 + 0.45 * len(highlight)))
    canvas(ax)
    if variant == "chunks":
        for c, start in enumerate(range(1, steps + 1, K)):
            end = min(start + K - 1, steps)
            ax.add_patch(Rectangle((start - 0.45, -0.75), end - start + 0.9, 2.25,
                                   facecolor=INPUT if c % 2 == 0 else STATE,
                                   alpha=0.15, edgecolor="none"))
            ax.text((start + end) / 2, 1.3, f"chunk {c + 1}: steps {start}–{end}",
                    ha="center", va="center", fontsize=10)
            if start > 1:
                ax.plot([start - 0.5] * 2, [-0.75, 1.05], color=GRADIENT, linewidth=2.2)
                ax.text(start - 0.5, -0.95, "detach", ha="center", va="center", fontsize=9,
                        color=GRADIENT)
    if variant == "chunks":   # the gradient crosses from h_t to h_{t-1} inside a chunk only
        back = {t for t in range(2, steps + 1) if (t - 1) % K != 0}
    else:                     # each highlighted loss, back through its own window
        back = {t for s in highlight for t in truncation_reach(s, K, variant)[1:]}
    for t in range(1, steps + 1):
        node(ax, (t, 0), f"${state_label}_{{{t}}}$", STATE, width=0.62, height=0.42)
        ax.text(t, 0.8, f"${loss_label}_{{{t}}}$", ha="center", va="center", fontsize=11)
        arrow(ax, (t, 0.66), (t, 0.26), GRADIENT, "--", width=0.9)
        if t > 1:
            arrow(ax, (t - 0.66, 0.05), (t - 0.34, 0.05), "black", width=1.1)
        if t in back:
            arrow(ax, (t - 0.2, -0.24), (t - 0.8, -0.24), GRADIENT, "--", rad=-0.6, width=1.2)
    for row, t in enumerate(highlight):
        reach = truncation_reach(t, K, variant)
        y = -1.25 - 0.45 * row
        ax.add_patch(Rectangle((reach.start - 0.35, y - 0.13), len(reach) - 0.3, 0.26,
                               facecolor=GRADIENT, alpha=0.35, edgecolor=GRADIENT))
        states = (f"${state_label}_{{{t}}}$ only" if len(reach) == 1 else
                  f"${state_label}_{{{reach.start}}}$…${state_label}_{{{t}}}$")
        ax.text(reach.start - 0.5, y, f"${loss_label}_{{{t}}}$ reaches {states}", ha="right",
                va="center", fontsize=10)
    if legend:
        carried = " (carried across borders)" if variant == "chunks" else ""
        _legend(ax, [("black", "-", f"state, forward{carried}"),
                     (GRADIENT, "--", "gradient, backward")],
                loc="upper center", bbox_to_anchor=(0.5, 0.02), ncols=2)
    ax.set_xlim(-1.4 if highlight else 0.4, steps + 0.6)
    ax.set_ylim(-1.5 - 0.45 * len(highlight), 1.55)
    return ax

"""Diagrams that state the idea of the application chapters (11a and 11b).

``draw_forecast_window``: a forecaster reads a window of the last T values of a series,
one per step, and forecasts the next Delta values (chapter 11a).
``draw_frames_to_label``: a recurrent network reads a sequence of frames in order and
gives one label; the order-blind baseline averages the frames first (chapter 11b).
"""
import matplotlib.pyplot as plt
import numpy as np

from rnnlab.figures import INPUT, LINE_COLOURS, OUTPUT, STATE
from rnnlab.figures.draw import arrow, node

INPUT_COLOUR, STATE_COLOUR, OUTPUT_COLOUR = INPUT, STATE, OUTPUT


def _input(ax, x, y, label, image=None):
    """An input: a labelled box, or the ``image`` (a frame) with its label beside it."""
    if image is None:
        node(ax, (x, y), f"${label}$", INPUT_COLOUR, width=1.05)
        return
    ax.imshow(image, cmap="gray_r", extent=(x - 0.45, x + 0.45, y - 0.45, y + 0.45), zorder=3)
    ax.text(x - 0.52, y, f"${label}$", ha="right", va="center", fontsize=11)


def _unrolled_row(ax, xs, y, inputs, states, output, images=None, gap_label="\\cdots"):
    """Inputs under states, W_hh arrows between states, the last state into ``output``.
    An input label equal to ``gap_label`` draws a gap (dots) instead of a column.
    Returns the height of the states' row."""
    images = iter(images if images is not None else [])
    rise = 1.3 if images is None else 1.6
    top = y + rise
    for i, (x, inp, state) in enumerate(zip(xs, inputs, states)):
        gap = inp == gap_label
        if gap:
            ax.text(x, top, f"${gap_label}$", ha="center", va="center", fontsize=14)
        else:
            _input(ax, x, y, inp, next(images, None))
            node(ax, (x, top), f"${state}$", STATE_COLOUR, width=1.05)
            arrow(ax, (x, y + rise - 1.0), (x, top - 0.3))
        if i > 0:
            after_gap = inputs[i - 1] == gap_label
            arrow(ax, (xs[i - 1] + (0.3 if after_gap else 0.58), top),
                  (x - (0.3 if gap else 0.58), top),
                  label="" if gap or after_gap else "$W_{hh}$", label_offset=(0, 0.28))
    node(ax, (xs[-1] + 1.8, top), f"${output}$", OUTPUT_COLOUR, width=1.05)
    arrow(ax, (xs[-1] + 0.58, top), (xs[-1] + 1.8 - 0.58, top), label="$W_{hy}$",
          label_offset=(0, 0.28))
    return top


def draw_forecast_window(ax=None, T: int = 10, horizon: int = 4, seed: int = 0):
    """Left: a series, the window of its last T values (shaded) and the Delta values to
    forecast. Right: the many-to-one RNN that reads the window, relative to its last value,
    one value per step and outputs the next value (iterated for Delta > 1). Returns the
    figure's two axes; ``ax`` may be a pair of axes to draw into."""
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10.0, 3.0), gridspec_kw={"width_ratios": [1, 1.3]})
        fig.set_facecolor("white")
    left, right = ax
    rng = np.random.default_rng(seed)
    n = T + horizon + 6
    time = np.arange(n)
    values = np.sin(2 * np.pi * time / 9) + 0.05 * time + 0.15 * rng.standard_normal(n)
    now = n - horizon - 1
    window = slice(now - T + 1, now + 1)
    left.plot(time[:now + 1], values[:now + 1], color="black", marker="o", markersize=3,
              linewidth=1)
    left.plot(time[now + 1:], values[now + 1:], color=LINE_COLOURS[1], marker="s",
              markersize=4, linestyle="--")
    left.axvspan(time[window][0] - 0.4, now + 0.4, color=INPUT_COLOUR, alpha=0.25)
    left.axvspan(now + 0.6, n - 0.6, color=LINE_COLOURS[1], alpha=0.12)
    top = values.max() + 0.45
    left.text((time[window][0] + now) / 2, top, f"window: $T = {T}$ values", ha="center")
    left.text(now + 1 + (horizon - 1) / 2, top + 0.45, f"$\\Delta = {horizon}$ ahead",
              ha="center")
    left.axvline(now + 0.5, color="grey", linestyle=":")
    left.set_ylim(values.min() - 0.3, top + 0.8)
    left.set_xticks([now - T + 1, now, now + horizon],
                    ["$t-T+1$", "$t$", "$t+\\Delta$"])
    left.set_yticks([])
    left.set_xlabel("time")
    left.grid(False)
    inputs = ["\\tilde x_{t-T+1}", "\\tilde x_{t-T+2}", "\\cdots", "\\tilde x_t"]
    states = ["h_1", "h_2", "", "h_T"]
    _unrolled_row(right, np.array([0.0, 1.8, 3.2, 4.6]), 0.0, inputs, states,
                  "\\hat{\\tilde x}_{t+1}")
    right.text(3.2, -0.7, "reads the window relative to its last value, one value per step;",
               ha="center", va="center", fontsize=9)
    right.text(3.2, -1.1, "for $\\Delta > 1$ the forecast becomes the newest value, and again",
               ha="center", va="center", fontsize=9)
    right.set_xlim(-0.7, 7.0)
    right.set_ylim(-1.4, 2.0)
    right.set_aspect("equal")
    right.axis("off")
    return left, right


def draw_frames_to_label(ax=None, frames=None, label: str = "y"):
    """Top: a recurrent network reads frames x_1..x_T in order, h_t carrying what it saw,
    and h_T gives the scores y. Bottom: the order-blind baseline averages the frames into
    one and classifies that. ``frames`` (optional, four images) are drawn as the inputs
    x_1, x_2, x_3, x_T. Returns the axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(9.0, 4.2))
        fig.set_facecolor("white")
    xs = np.array([0.0, 1.8, 3.6, 5.4, 7.2])
    inputs = ["x_1", "x_2", "x_3", "\\cdots", "x_T"]
    images = None if frames is None else list(frames)
    top = _unrolled_row(ax, xs, 2.1, inputs, ["h_1", "h_2", "h_3", "", "h_T"], label, images)
    ax.text(-0.8, top + 0.6, "recurrent network: reads the frames in order", fontsize=10)
    images = iter(images or [])   # the baseline: the same frames, averaged, one classifier
    for x, inp in zip(xs, inputs):
        if inp == "\\cdots":
            ax.text(x, 0, "$\\cdots$", ha="center", va="center", fontsize=14)
        else:
            _input(ax, x, 0, inp, next(images, None))
    mean_x = xs[-1] + 2.4
    _input(ax, mean_x, 0, "\\bar x", None if frames is None else np.mean(frames, axis=0))
    arrow(ax, (xs[-1] + 0.55, 0), (mean_x - 0.95, 0), label="mean", label_offset=(0, 0.3))
    node(ax, (mean_x + 2.5, 0), f"${label}$", OUTPUT_COLOUR, width=1.05)
    arrow(ax, (mean_x + 0.55, 0), (mean_x + 2.5 - 0.58, 0), label="classifier",
          label_offset=(0, 0.3))
    ax.text(-0.8, -0.85, "order-blind baseline: averages the frames, so their order is lost",
            fontsize=10)
    ax.set_xlim(-1.1, mean_x + 3.2)
    ax.set_ylim(-1.1, top + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax

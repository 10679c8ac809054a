"""The book's figures: one plot style (colour-blind safe) and the diagrams drawn by code.

Colours come from the Okabe-Ito palette, which stays distinct under the common forms of
colour blindness; lines also differ by marker or dash, so no figure relies on colour alone.
Every colour a figure uses is named here once: the palette, the order of plotted lines, and
the role a colour plays in every diagram (inputs, hidden states, outputs, h_0 and the loss,
gradients), so that x_t is the same blue in chapter 2 and in chapter 12. The diagrams of each
topic live in a module of this package (``figures.forward``, ``figures.bptt``, ...).
"""
import itertools

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from rnnlab.figures.draw import arrow, node

# Okabe & Ito (2008): black, orange, sky blue, bluish green, yellow, blue, vermillion, purple
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
BLACK, ORANGE, SKY_BLUE, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = PALETTE
LINE_COLOURS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY_BLUE, BLACK)  # plotted lines, in order
# The roles colours play in every diagram of the book.
INPUT = SKY_BLUE        # inputs x_t
STATE = ORANGE          # hidden states h_t
OUTPUT = GREEN          # outputs y_t
INITIAL = YELLOW        # the initial state h_0, and the loss
GRADIENT = VERMILLION   # the backward pass
MUTED = "#555555"       # grey, for what is only context (7.5:1 on white: readable as text)
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
DASHES = ("-", "--", "-.", ":")
HEATMAP = "cividis"   # perceptually uniform and readable with colour blindness
DIVERGING = "PuOr"    # for values around zero (weights, hidden states)


def use_book_style() -> None:
    """Set matplotlib's defaults to the book's style (call once per notebook)."""
    mpl.rcParams.update({
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "axes.prop_cycle": mpl.cycler(color=LINE_COLOURS),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "font.size": 10,
        "axes.titlesize": 11,
        "legend.frameon": False,
        "image.cmap": HEATMAP,
    })


def line_styles():
    """An endless cycle of (colour, marker, dash) so each line differs in more than colour."""
    return itertools.cycle(zip(LINE_COLOURS, MARKERS, itertools.cycle(DASHES)))


def plot_lines(ax, x, series: dict[str, np.ndarray], xlabel: str = "", ylabel: str = "",
               logy: bool = False, markevery=None):
    """Plot several named curves against ``x`` with distinct colour, marker and dash."""
    for (label, y), (colour, marker, dash) in zip(series.items(), line_styles()):
        ax.plot(x, y, color=colour, marker=marker, linestyle=dash, label=label,
                markevery=markevery, markersize=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend()
    return ax


def heatmap(ax, matrix: np.ndarray, xlabel: str = "", ylabel: str = "", diverging=True,
            colorbar_label: str = ""):
    """Show a matrix (e.g. hidden units by time steps) with a labelled colour bar."""
    matrix = np.asarray(matrix)
    if diverging:
        limit = float(np.abs(matrix).max()) or 1.0
        image = ax.imshow(matrix, aspect="auto", cmap=DIVERGING, vmin=-limit, vmax=limit,
                          interpolation="nearest")
    else:
        image = ax.imshow(matrix, aspect="auto", cmap=HEATMAP, interpolation="nearest")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    return image



def draw_rolled(ax=None, input_label="x_t", hidden_label="h_t", output_label="y_t"):
    """The recurrent neuron drawn rolled up: one cell whose state loops back into itself."""
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6, 3.4))
    node(ax, (0, 0), f"${input_label}$", INPUT)
    node(ax, (0, 1.3), f"${hidden_label}$", STATE)
    node(ax, (0, 2.6), f"${output_label}$", OUTPUT)
    arrow(ax, (0, 0.3), (0, 1.0), label="$W_{xh}$", label_offset=(0.35, 0))
    arrow(ax, (0, 1.6), (0, 2.3), label="$W_{hy}$", label_offset=(0.35, 0))
    arrow(ax, (0.45, 1.45), (0.45, 1.15), rad=-2.2, shrink=2)      # W_hh: the state loops back
    ax.text(1.05, 1.3, "$W_{hh}$", ha="left", va="center", fontsize=9)
    ax.set_xlim(-0.8, 1.5)
    ax.set_ylim(-0.5, 3.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_unrolled(steps: int = 4, ax=None, input_label="x", hidden_label="h",
                  output_label="y", show_outputs=True, show_weights=True):
    """The network unfolded over ``steps`` time steps: one column per step, the same
    weights W_xh, W_hh, W_hy on every column (that is what "shared weights" means)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * steps + 1.5, 3.6))
    gap = 1.9
    node(ax, (-gap * 0.75, 1.3), f"${hidden_label}_0$", INITIAL, width=0.7)
    for t in range(1, steps + 1):
        x = gap * (t - 1) + 0.6
        node(ax, (x, 0), f"${input_label}_{t}$", INPUT)
        node(ax, (x, 1.3), f"${hidden_label}_{t}$", STATE)
        arrow(ax, (x, 0.3), (x, 1.0), label="$W_{xh}$" if show_weights else "",
              label_offset=(0.33, 0))
        prev_x = -gap * 0.75 if t == 1 else x - gap
        arrow(ax, (prev_x + 0.42, 1.3), (x - 0.42, 1.3), label="$W_{hh}$" if show_weights else "",
              label_offset=(0, 0.25))
        if show_outputs:
            node(ax, (x, 2.6), f"${output_label}_{t}$", OUTPUT)
            arrow(ax, (x, 1.6), (x, 2.3), label="$W_{hy}$" if show_weights else "",
                  label_offset=(0.33, 0))
    ax.set_xlim(-gap * 0.75 - 0.6, gap * (steps - 1) + 1.3)
    ax.set_ylim(-0.5, 3.1 if show_outputs else 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax

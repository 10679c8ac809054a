"""Chapter 13's diagrams: the encoder-decoder with attention, and attention maps.

``draw_attention_model`` extends chapter 6's encoder-decoder (``figures.shapes``): the
encoder (states h_j, orange, over the inputs x_j, sky blue) is bidirectional, and at one
decoder step t the decoder's previous state s_{t-1} (purple) scores every h_j, the scores
become weights alpha_tj that add to one, and their weighted sum of the h_j is the context
c_t (blue) that this step reads. ``attention_map`` draws the weights of one word: output
phonemes down, input letters across.
"""
import matplotlib.pyplot as plt
import numpy as np

from rnnlab.figures import HEATMAP, INPUT, MUTED, OUTPUT, STATE
from rnnlab.figures.draw import arrow, canvas, node
from rnnlab.figures.shapes import CONTEXT, DECODER


def draw_attention_model(ax=None, letters: str = "cat", phonemes=("K", "AE", "T")):
    """One decoder step of an encoder-decoder with additive attention, on a short word:
    the letters below, the encoder states h_j, the weights alpha_tj of step t (arrow widths
    drawn for a step that looks mostly at one letter), the context c_t, and the decoder
    states s_{t-1} -> s_t with their outputs (y_{t-1} is also the input of step t). Returns the axes."""
    n = len(letters)
    if n < 2 or len(phonemes) < 2:
        raise ValueError("need at least two letters and two phonemes")
    ax = canvas(ax, figsize=(9.0, 4.6))
    xs = [1.2 * j for j in range(n)]
    for j, (x, letter) in enumerate(zip(xs, letters)):
        node(ax, (x, 0.0), f"'{letter}'", INPUT, width=0.7)
        node(ax, (x, 1.2), f"$h_{{{j + 1}}}$", STATE, width=0.7)
        arrow(ax, (x, 0.3), (x, 0.9))
        if j:   # both directions of the bidirectional encoder
            arrow(ax, (xs[j - 1] + 0.38, 1.3), (x - 0.38, 1.3), width=1.0)
            arrow(ax, (x - 0.38, 1.1), (xs[j - 1] + 0.38, 1.1), width=1.0)
    focus = min(1, n - 1)                      # the letter this step attends to most
    c_at = (xs[-1] + 2.2, 2.6)
    node(ax, c_at, "$c_t$", CONTEXT, width=0.7)
    for j, x in enumerate(xs):
        weight = 3.0 if j == focus else 0.7
        arrow(ax, (x, 1.48), (c_at[0] - 0.4, c_at[1] - 0.1), CONTEXT, width=weight)
    ax.text(xs[focus] + 0.1, 2.05, r"$\alpha_{t j}$", color=CONTEXT, fontsize=11)
    d0 = c_at[0] + 1.4
    steps = [d0, d0 + 1.5]
    for k, (x, label) in enumerate(zip(steps, ("t-1", "t"))):
        node(ax, (x, 1.2), f"$s_{{{label}}}$", DECODER, width=0.8)
        node(ax, (x, 3.0), f"$y_{{{label}}}$", OUTPUT, width=0.8)
        arrow(ax, (x, 1.5), (x, 2.7))
        ax.text(x + 0.5, 3.0, phonemes[k], va="center", fontsize=10, color=MUTED)
    # the phoneme just written is the next step's input (the true one, in teacher forcing)
    arrow(ax, (steps[0] + 0.3, 2.72), (steps[1] - 0.3, 1.48), MUTED, "--", width=1.0)
    arrow(ax, (steps[0] + 0.42, 1.2), (steps[1] - 0.42, 1.2))
    arrow(ax, (steps[0] - 0.3, 1.45), (c_at[0] + 0.25, c_at[1] - 0.25), DECODER, "--",
          label="scores $e_{tj}$", label_xy=(c_at[0] + 0.55, 1.7))
    arrow(ax, (c_at[0] + 0.4, c_at[1] + 0.05), (steps[1] - 0.4, 1.35), CONTEXT, width=2.0)
    ax.text(sum(xs) / n, -0.75, "encoder: bidirectional, one state per letter", ha="center",
            fontsize=9)
    ax.text(d0 + 0.75, -0.75, "decoder step t reads $c_t$", ha="center", fontsize=9,
            color=CONTEXT)
    ax.set_xlim(-0.6, steps[1] + 0.7)
    ax.set_ylim(-1.05, 4.3)
    return ax


def attention_map(ax, weights: np.ndarray, letters: str, phonemes, title: str = ""):
    """Heatmap of one word's attention weights: ``weights`` (len(phonemes), len(letters)),
    row t the weights alpha_tj that output phoneme t gave each letter j."""
    weights = np.asarray(weights)
    if weights.shape != (len(phonemes), len(letters)):
        raise ValueError(f"weights must have shape (phonemes, letters) = "
                         f"({len(phonemes)}, {len(letters)}), got {weights.shape}")
    ax.imshow(weights, cmap=HEATMAP, vmin=0.0, vmax=1.0, aspect="auto",
              interpolation="nearest")
    ax.set_xticks(range(len(letters)), list(letters))
    ax.set_yticks(range(len(phonemes)), list(phonemes))
    ax.set_xlabel("letter j")
    ax.set_ylabel("phoneme t")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def attention_maps(examples, columns: int = 3):
    """A grid of :func:`attention_map` panels for ``[(weights, letters, phonemes), ...]``,
    each titled by its word, with one colour bar for the grid. Returns the figure."""
    rows = -(-len(examples) // columns)
    if not examples:
        raise ValueError("attention_maps needs at least one example")
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 3.0 * rows),
                             squeeze=False, layout="constrained")
    for k, (ax, (weights, letters, phonemes)) in enumerate(zip(axes.flat, examples)):
        attention_map(ax, weights, letters, phonemes, title=letters)
        if k % columns:                     # axis names once per row and column
            ax.set_ylabel("")
        if k < len(examples) - columns:
            ax.set_xlabel("")
    for ax in axes.flat[len(examples):]:
        ax.axis("off")
    image = axes.flat[0].images[0]
    fig.colorbar(image, ax=axes, label=r"attention weight $\alpha_{tj}$", shrink=0.8)
    return fig

"""Diagrams of where inputs enter and outputs leave a recurrent network (chapters 6 and 8).

Every column is one time step of the recurrence of chapters 3 and 4,

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),    y_t = W_hy h_t + b_y,

with inputs x_t (sky blue) below, states h_t (orange) in the middle and outputs y_t (green)
on top; a horizontal arrow is W_hh carrying h_{t-1} into h_t. The five shapes differ only in
which columns have an x_t and which a y_t (``draw_shape``, ``draw_five_shapes``). The
encoder-decoder (``draw_encoder_decoder``) adds a second RNN, the decoder, with states s_t
(purple) that start from the encoder's last state h_T, the context vector, and read it again
at every step, as chapter 6's ``Reverser`` does. ``draw_window_vs_recurrence`` is chapter 8's
idea: a feedforward network reads a window of T inputs at once, a recurrent one applies the
same cell at every step, so it reads any length. Every diagram is drawn on white, so that it
reads on a dark page too.
"""
import matplotlib.pyplot as plt

from rnnlab.figures import BLUE, INITIAL, INPUT, MUTED, OUTPUT, PURPLE, STATE
from rnnlab.figures.draw import arrow, canvas, node

DECODER = PURPLE        # the decoder's states s_t
CONTEXT = BLUE          # the context vector h_T and the arrows that carry it
KINDS = ("one-to-one", "one-to-many", "many-to-one", "aligned", "unaligned")
GAP, RISE, BOX = 1.25, 1.15, 0.7   # column spacing, row spacing, box width


def _column(ax, x, y0, t, has_input, has_output, state="h", output="y", colour=STATE):
    """One time step: the state box, with an input below and an output above if asked."""
    node(ax, (x, y0 + RISE), f"${state}_{{{t}}}$", colour, width=BOX)
    if has_input:
        node(ax, (x, y0), f"$x_{{{t}}}$", INPUT, width=BOX)
        arrow(ax, (x, y0 + 0.3), (x, y0 + RISE - 0.3))
    if has_output:
        node(ax, (x, y0 + 2 * RISE), f"${output}_{{{t}}}$", OUTPUT, width=BOX)
        arrow(ax, (x, y0 + RISE + 0.3), (x, y0 + 2 * RISE - 0.3))


def _recurrence(ax, x_from, x_to, y, colour="black"):
    arrow(ax, (x_from + BOX / 2 + 0.05, y), (x_to - BOX / 2 - 0.05, y), colour)


def draw_shape(ax, kind: str, x0: float = 0.0, y0: float = 0.0, steps: int = 3) -> float:
    """Draw one of the five shapes with its first column at ``(x0, y0)`` and return its
    width. ``kind``: "one-to-one" (x_1, h_1, y_1: with h_0 = 0, W_hh is never used),
    "one-to-many" (x_1 in, y_1 .. y_T out; dashed: chapter 6's captioner feeds the same x
    again at every step), "many-to-one" (x_1 .. x_T in, y_T out), "aligned" (an x_t and a
    y_t at every step) or "unaligned" (the encoder reads x_1 .. x_T, then the decoder, states
    s_t, writes y_1 .. y_T; its first state reads the encoder's last one)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    xs = [x0 + GAP * k for k in range(steps)]
    if kind == "one-to-one":
        _column(ax, x0, y0, 1, True, True)
        ax.text(x0, y0 - 0.55, "$h_0 = 0$", ha="center", va="center", fontsize=9, color=MUTED)
        return 0.0
    if kind == "unaligned":
        for k, x in enumerate(xs):
            _column(ax, x, y0, k + 1, True, False)
            if k:
                _recurrence(ax, xs[k - 1], x, y0 + RISE)
        decoder = [xs[-1] + GAP * (k + 1) for k in range(steps)]
        for k, x in enumerate(decoder):
            _column(ax, x, y0, k + 1, False, True, state="s", colour=DECODER)
            _recurrence(ax, decoder[k - 1] if k else xs[-1], x, y0 + RISE,
                        CONTEXT if k == 0 else "black")
        return decoder[-1] - x0
    for k, x in enumerate(xs):
        first, last = k == 0, k == steps - 1
        has_input = kind in ("many-to-one", "aligned") or first
        has_output = kind in ("one-to-many", "aligned") or last
        _column(ax, x, y0, k + 1, has_input, has_output)
        if k:
            _recurrence(ax, xs[k - 1], x, y0 + RISE)
        if kind == "one-to-many" and not first:   # the same x_1 again (chapter 6's captioner)
            arrow(ax, (x0 + 0.2, y0 + 0.25), (x - 0.2, y0 + RISE - 0.25), MUTED, "--",
                  width=0.9, rad=0.15)
    return xs[-1] - x0


def draw_five_shapes(ax=None, steps: int = 3):
    """The article's types side by side, the many-to-many one split in two: one-to-one,
    one-to-many, many-to-one (top row); many-to-many aligned, and unaligned as an
    encoder-decoder (bottom row). Returns the axes."""
    ax = canvas(ax, figsize=(8.6, 6.4))
    top = 2 * RISE + 1.9
    titles = {"one-to-one": "one-to-one", "one-to-many": "one-to-many",
              "many-to-one": "many-to-one", "aligned": "many-to-many, aligned",
              "unaligned": "many-to-many, unaligned (encoder-decoder)"}
    right = 0.0
    for row, kinds in ((top, ("one-to-one", "one-to-many", "many-to-one")),
                       (0.0, ("aligned", "unaligned"))):
        x = 0.0
        for kind in kinds:
            width = draw_shape(ax, kind, x, row, steps)
            ax.text(x + width / 2, row + 2 * RISE + 0.6, titles[kind], ha="center",
                    va="center", fontsize=10, fontweight="bold")
            x += width + GAP + 0.9
            right = max(right, x - GAP - 0.9)
    ax.text(GAP + 0.9 - BOX / 2, top - 0.6,
            "dashed: this chapter's captioner feeds the same $x_1$ at every step",
            ha="left", va="center", fontsize=8, color=MUTED)
    ax.set_xlim(-0.6, right + 0.6)
    ax.set_ylim(-0.6, top + 2 * RISE + 0.9)
    return ax


def draw_encoder_decoder(ax=None, in_steps: int = 4, out_steps: int = 4):
    """Chapter 6's encoder-decoder (its ``Reverser``): the encoder reads x_1 .. x_T and
    keeps only its last state h_T, the context vector. The decoder, a second RNN with its
    own weights, starts from it (s_0 = h_T) and reads it again as its input at every step;
    each decoder state s_t gives an output y_t. The outputs may be as many as the inputs or
    not (T' of them). Returns the axes."""
    if in_steps < 2 or out_steps < 2:
        raise ValueError("in_steps and out_steps must be at least 2")
    ax = canvas(ax, figsize=(1.05 * (in_steps + out_steps) + 1.6, 4.2))
    xs = [GAP * k for k in range(in_steps)]
    labels = [str(k + 1) for k in range(in_steps - 1)] + ["T"]
    for k, (x, t) in enumerate(zip(xs, labels)):
        _column(ax, x, 0.0, t, True, False)
        if k:
            _recurrence(ax, xs[k - 1], x, RISE)
    context = (xs[-1], RISE)
    ax.add_patch(plt.Rectangle((context[0] - BOX / 2 - 0.12, RISE - 0.37), BOX + 0.24, 0.74,
                               fill=False, edgecolor=CONTEXT, linewidth=2.0))
    ax.text(context[0], RISE + 0.62, "context vector", ha="center", va="bottom", fontsize=9,
            color=CONTEXT)
    start = xs[-1] + GAP * 1.3
    decoder = [start + GAP * k for k in range(out_steps)]
    out_labels = [str(k + 1) for k in range(out_steps - 1)] + ["T'"]
    for k, (x, t) in enumerate(zip(decoder, out_labels)):
        node(ax, (x, RISE), f"$s_{{{t}}}$", DECODER, width=BOX)
        node(ax, (x, 2 * RISE), f"$y_{{{t}}}$", OUTPUT, width=BOX)
        arrow(ax, (x, RISE + 0.3), (x, 2 * RISE - 0.3))
        if k:
            _recurrence(ax, decoder[k - 1], x, RISE)
        # the context again, as the decoder's input at this step (from the dashed line)
        arrow(ax, (x, 0.35), (x, RISE - 0.3), CONTEXT, "--", width=1.0)
    corner = context[0] + BOX / 2 + 0.12
    ax.plot([corner, corner + 0.25, corner + 0.25, decoder[-1]],
            [RISE - 0.25, RISE - 0.25, 0.35, 0.35], color=CONTEXT, linestyle="--",
            linewidth=1.0)
    arrow(ax, (context[0] + BOX / 2 + 0.12, RISE), (decoder[0] - BOX / 2 - 0.05, RISE),
          CONTEXT, width=2.0, label="$s_0 = h_T$", label_xy=((context[0] + decoder[0]) / 2,
                                                              RISE + 0.3))
    ax.text(sum(xs) / len(xs), -0.75, "encoder: reads everything first", ha="center",
            fontsize=9)
    ax.text(sum(decoder) / len(decoder), -0.75,
            "decoder: starts from $h_T$ and reads it at every step (dashed)", ha="center",
            fontsize=9, color=CONTEXT)
    ax.set_xlim(-0.7, decoder[-1] + 0.7)
    ax.set_ylim(-1.05, 2 * RISE + 0.55)
    return ax


def draw_window_vs_recurrence(ax=None):
    """Chapter 8's comparison. Left: a feedforward network reads a window x_1 .. x_T at
    once, each position with its own weights, and has no input for x_{T+1}. Right: a
    recurrent network applies the same cell (the same W_xh, W_hh, W_hy) at every step, x_t
    and h_{t-1} into h_t, one output y_t per step, and runs on past T (dotted). Returns the
    two axes."""
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10.0, 3.0), gridspec_kw={"width_ratios": [6.2, 9.4]})
    left, right = canvas(ax[0]), canvas(ax[1])
    wide = BOX + 0.2
    labels = ["1", "2", None, "T"]            # None: the dots between x_2 and x_T
    xs = [GAP * k for k in range(len(labels))]
    centre = sum(xs) / len(xs)
    node(left, (centre, RISE), "hidden layers", STATE, width=xs[-1] + wide)
    node(left, (centre, 2 * RISE), "$y$", OUTPUT, width=BOX)
    arrow(left, (centre, RISE + 0.3), (centre, 2 * RISE - 0.3))
    for x, t in zip(xs, labels):
        if t is None:
            left.text(x, 0, r"$\cdots$", ha="center", va="center", fontsize=12)
            continue
        node(left, (x, 0), f"$x_{{{t}}}$", INPUT, width=wide)
        arrow(left, (x, 0.3), (x + (centre - x) * 0.15, RISE - 0.3))
    left.text(xs[-1] + GAP, 0, "$x_{T+1}$ ?", ha="center", va="center", fontsize=10,
              color=MUTED)
    left.text(centre, -0.75, "feedforward: a window of $T$ inputs, all at once", ha="center",
              fontsize=9)
    left.set_xlim(-0.7, xs[-1] + GAP + 0.5)
    left.set_ylim(-1.0, 2 * RISE + 0.5)
    labels = ["1", "2", None, "T", "T+1"]
    step = GAP * 1.3
    xs = [step * k for k in range(len(labels))]
    node(right, (-step, RISE), "$h_0$", INITIAL, width=BOX)
    for k, (x, t) in enumerate(zip(xs, labels)):
        previous = xs[k - 1] if k else -step
        if t is None:
            right.text(x, RISE, r"$\cdots$", ha="center", va="center", fontsize=12)
            arrow(right, (previous + wide / 2 + 0.05, RISE), (x - 0.25, RISE))
            continue
        beyond = t == "T+1"
        node(right, (x, RISE), f"$h_{{{t}}}$", STATE, width=wide)
        node(right, (x, 0), f"$x_{{{t}}}$", INPUT, width=wide)
        node(right, (x, 2 * RISE), f"$y_{{{t}}}$", OUTPUT, width=wide)
        arrow(right, (x, 0.3), (x, RISE - 0.3))
        arrow(right, (x, RISE + 0.3), (x, 2 * RISE - 0.3))
        from_x = previous + 0.25 if labels[k - 1] is None else previous + wide / 2 + 0.05
        arrow(right, (from_x, RISE), (x - wide / 2 - 0.05, RISE), MUTED if beyond else "black",
              ":" if beyond else "-", width=1.6 if beyond else 1.2)
    right.text(xs[-1] + step * 0.7, RISE, r"$\cdots$", ha="center", va="center", fontsize=12,
               color=MUTED)
    right.text(xs[2], -0.75, "recurrent: the same $W_{xh}, W_{hh}, W_{hy}$ at every step, "
               "any length", ha="center", fontsize=9)
    right.set_xlim(-step - 0.6, xs[-1] + step * 0.7 + 0.4)
    right.set_ylim(-1.0, 2 * RISE + 0.5)
    return left, right

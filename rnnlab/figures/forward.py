"""Diagrams of the forward pass (chapters 1, 3 and 4), labelled with the book's symbols:

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),   y_t = W_hy h_t + b_y,
    p_t = softmax(y_t),                           l_t = -ln p_t[y*_t].

``draw_bag_vs_recurrence`` puts a bag of inputs (a sum, blind to order) beside the
recurrence (a state carried from word to word) for two orders of the same words;
``draw_architecture`` draws one step with its five parameters and their shapes;
``draw_char_steps`` follows a few characters through the step, the softmax and the loss.
Every diagram is drawn on white, so that it reads on a dark page too.
"""

from rnnlab.figures import INITIAL, INPUT, MUTED, OUTPUT, STATE
from rnnlab.figures.draw import arrow, canvas, node

PARAMETER = "white"

# The article's letters for the five parameters (chapter 3 and the notation page).
ARTICLE_LETTERS = {"W_xh": "U", "W_hh": "W", "b_h": "B", "W_hy": "V", "b_y": "C"}


def draw_bag_vs_recurrence(ax=None, sentences=("dog bites man", "man bites dog")):
    """Each sentence twice: on the left summed into a bag of inputs (the same sum, hence
    the same output, for every order), on the right read by the recurrence, one word per
    step, the state h_t carried to the next step (so h_T depends on the order).
    Returns the axes."""
    rows = [sentence.split() for sentence in sentences]
    T = max(len(words) for words in rows)
    ax = canvas(ax, (11.0, 1.9 * len(rows) + 0.9))
    right = 1.25 * T + 2.6                           # where the recurrence starts
    for r, words in enumerate(rows):
        y = -2.0 * r
        for t, word in enumerate(words):
            node(ax, (1.25 * t, y), word, INPUT, width=1.05, height=0.45)
            arrow(ax, (1.25 * t, y - 0.27), (1.25 * (T - 1) / 2 + 0.02 * (t - 1), y - 0.95),
                  MUTED, width=0.9)
        node(ax, (1.25 * (T - 1) / 2, y - 1.2), r"$\Sigma_t\, x_t$", "white", width=1.1,
             height=0.45)
        node(ax, (right, y - 0.6), "$h_0$", INITIAL, width=0.6, height=0.45)
        for t, word in enumerate(words, start=1):
            x = right + 1.35 * t
            node(ax, (x, y), word, INPUT, width=1.05, height=0.45)
            node(ax, (x, y - 1.2), f"$h_{t}$", STATE, width=0.6, height=0.45)
            arrow(ax, (x, y - 0.27), (x, y - 0.95), MUTED, width=0.9)
            arrow(ax, (x - 1.35 + (0.33 if t > 1 else 0.3), y - 1.2 + (0 if t > 1 else 0.4)),
                  (x - 0.32, y - 1.2), "black", width=1.2)
        ax.text(right + 1.35 * len(words) + 0.55, y - 1.2, f"$h_{len(words)}$ of “{' '.join(words)}”",
                ha="left", va="center", fontsize=9)
    ax.text(1.25 * (T - 1) / 2, 0.65, "bag of inputs: a sum forgets the order",
            ha="center", va="center", fontsize=10)
    ax.text(right + 1.35 * (T + 1) / 2, 0.65, "recurrence: the state carries the order",
            ha="center", va="center", fontsize=10)
    ax.text(1.25 * (T - 1) / 2, -2.0 * len(rows) + 0.2, "the same sum, so the same output, for every order",
            ha="center", va="center", fontsize=9, color=MUTED)
    ax.text(right + 1.35 * (T + 1) / 2, -2.0 * len(rows) + 0.2,
            r"$h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)$: " f"a different $h_{T}$",
            ha="center", va="center", fontsize=9, color=MUTED)
    ax.plot([right - 0.9] * 2, [0.8, -2.0 * len(rows) + 0.5], color=MUTED, linewidth=0.8)
    ax.set_xlim(-0.7, right + 1.35 * T + 3.4)
    ax.set_ylim(-2.0 * len(rows) - 0.05, 0.95)
    return ax


def _parameter(ax, xy, name, shape, article):
    letter = f" (${ARTICLE_LETTERS[name]}$)" if article else ""
    symbol = name.replace("_", "_{") + "}"
    node(ax, xy, f"${symbol}${letter}\n${shape}$", PARAMETER, width=1.35, height=0.75)


def draw_architecture(ax=None, article: bool = True):
    """One step of the RNN: W_xh x_t + W_hh h_{t-1} + b_h, through tanh, gives h_t (carried
    to the next step); W_hy h_t + b_y gives y_t. Each parameter box shows its shape, and
    with ``article=True`` the article's letter in brackets. Returns the axes."""
    ax = canvas(ax, (9.0, 4.6))
    node(ax, (0, 0), "$x_t$\n$D$", INPUT, width=0.9, height=0.75)
    node(ax, (0, 2.2), "$h_{t-1}$\n$H$", STATE, width=0.9, height=0.75)
    _parameter(ax, (2.1, 0), "W_xh", r"H \times D", article)
    _parameter(ax, (2.1, 2.2), "W_hh", r"H \times H", article)
    _parameter(ax, (2.1, 3.6), "b_h", "H", article)
    node(ax, (4.1, 1.1), r"$+$", "white", width=0.5, height=0.5)
    node(ax, (5.5, 1.1), r"$\tanh$", "white", width=0.8, height=0.5)
    node(ax, (7.0, 1.1), "$h_t$\n$H$", STATE, width=0.9, height=0.75)
    _parameter(ax, (7.0, 2.9), "W_hy", r"O \times H", article)
    _parameter(ax, (8.7, 2.9), "b_y", "O", article)
    node(ax, (7.85, 4.55), "$y_t$\n$O$", OUTPUT, width=0.9, height=0.75)
    arrow(ax, (0.47, 0), (1.4, 0))
    arrow(ax, (0.47, 2.2), (1.4, 2.2))
    for y in (0, 2.2, 3.6):
        arrow(ax, (2.8, y), (3.85, 1.1 + 0.12 * (y - 1.1) / 1.1))
    arrow(ax, (4.37, 1.1), (5.08, 1.1))
    arrow(ax, (5.92, 1.1), (6.53, 1.1))
    arrow(ax, (7.0, 1.5), (7.0, 2.5))
    arrow(ax, (7.45, 1.1), (8.9, 1.1), label="to step $t+1$", label_xy=(8.25, 0.8))
    arrow(ax, (7.2, 3.3), (7.65, 4.15))
    arrow(ax, (8.5, 3.3), (8.05, 4.15))
    ax.set_xlim(-0.6, 9.6)
    ax.set_ylim(-0.6, 5.1)
    return ax


def draw_char_steps(ax=None, text: str = "To be"):
    """The step at work on characters: x_t (one-hot) -> h_t -> p_t = softmax(y_t) ->
    l_t = -ln p_t[y*_t], the target y*_t being the next character, x_{t+1}; the state
    flows from each step to the next. Returns the axes."""
    if len(text) < 2:
        raise ValueError(f"text needs at least two characters, got {text!r}")
    T = len(text) - 1
    ax = canvas(ax, (1.7 * T + 2.2, 4.8))
    show = {" ": "␣", "\n": "↵"}
    node(ax, (0, 1.3), "$h_0$", INITIAL, width=0.6, height=0.45)
    for t in range(1, T + 1):
        x = 1.7 * t
        current, following = show.get(text[t - 1], text[t - 1]), show.get(text[t], text[t])
        node(ax, (x, 0), f"$x_{t}$: {current}", INPUT, width=1.05, height=0.45)
        node(ax, (x, 1.3), f"$h_{t}$", STATE, width=0.6, height=0.45)
        node(ax, (x, 2.6), f"$p_{t}$", OUTPUT, width=0.6, height=0.45)
        node(ax, (x, 3.9), rf"$\ell_{t}$", INITIAL, width=0.6, height=0.45)
        ax.text(x, 4.4, rf"$y^\star_{t}$ = {following}", ha="center", va="center",
                fontsize=9)
        arrow(ax, (x, 0.25), (x, 1.05), MUTED)
        arrow(ax, (x, 1.55), (x, 2.35), MUTED)
        arrow(ax, (x, 2.85), (x, 3.65), MUTED)
        arrow(ax, (x - 1.7 + 0.32, 1.3), (x - 0.32, 1.3), "black")
    ax.text(0.55, 0.0, "one-hot", ha="right", va="center", fontsize=8, color=MUTED)
    ax.text(0.55, 0.65, "$W_{xh}$", ha="right", va="center", fontsize=8, color=MUTED)
    ax.text(0.55, 1.95, r"softmax$(W_{hy} h_t + b_y)$", ha="right", va="center", fontsize=8,
            color=MUTED)
    ax.text(0.55, 3.25, r"$-\ln p_t[y^\star_t]$", ha="right", va="center", fontsize=8,
            color=MUTED)
    ax.set_xlim(-2.6, 1.7 * T + 0.8)
    ax.set_ylim(-0.45, 4.7)
    return ax

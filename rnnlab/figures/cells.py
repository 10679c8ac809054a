"""The gated cells and the bidirectional layer of chapter 7, drawn as the chapter writes them.

LSTM (``draw_lstm_cell``)::

    i_t = sigmoid(W_xi x_t + W_hi h_{t-1} + b_i)      f_t, o_t likewise
    c~_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)
    c_t = f_t * c_{t-1} + i_t * c~_t                  the cell state: an additive path
    h_t = o_t * tanh(c_t)

GRU, with the reset gate applied after the product as PyTorch and Keras do
(``draw_gru_cell``)::

    r_t = sigmoid(W_xr x_t + W_hr h_{t-1} + b_r)      z_t likewise
    h~_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))    (PyTorch's n_t)
    h_t = (1 - z_t) * h~_t + z_t * h_{t-1}

Each gate is a box (sigmoid or tanh of its weighted inputs), each element-wise product a
circled dot, each sum a circled plus; every arrow leaving a box carries the symbol of the
equation that box computes, and the equations stand under the drawing. The state path
(c_{t-1} to c_t, or h_{t-1} to h_t) is the thick blue line. ``draw_bidirectional`` unrolls a
bidirectional layer: a forward RNN reading x_1 .. x_T, a backward one reading x_T .. x_1, and
h_t = [forward h_t ; backward h_t]. Drawn on white, so that they read on a dark page too.
"""
from matplotlib.patches import Circle, FancyBboxPatch

from rnnlab.figures import BLUE, INITIAL, INPUT, ORANGE, OUTPUT, SKY_BLUE, STATE, VERMILLION
from rnnlab.figures.draw import arrow, canvas, node

PATH = BLUE             # the state's path through the cell (blue, thick)
GATE = ORANGE           # sigmoid gates (orange)
CANDIDATE = SKY_BLUE    # the tanh candidate (sky blue)
BACKWARD = VERMILLION   # the backward direction (vermillion, dashed)
WEIGHTED = "#F0F0F0"    # a box that only multiplies by weights
LSTM_EQUATIONS = (
    r"$i_t = \sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i)$",
    r"$f_t = \sigma(W_{xf} x_t + W_{hf} h_{t-1} + b_f)$",
    r"$o_t = \sigma(W_{xo} x_t + W_{ho} h_{t-1} + b_o)$",
    r"$\tilde c_t = \tanh(W_{xc} x_t + W_{hc} h_{t-1} + b_c)$",
    r"$c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$",
    r"$h_t = o_t \odot \tanh(c_t)$",
)
GRU_EQUATIONS = (
    r"$r_t = \sigma(W_{xr} x_t + W_{hr} h_{t-1} + b_r)$",
    r"$z_t = \sigma(W_{xz} x_t + W_{hz} h_{t-1} + b_z)$",
    r"$\tilde h_t = \tanh(W_{xn} x_t + b_{xn}$" + "\n"
    r"$\qquad + r_t \odot (W_{hn} h_{t-1} + b_{hn}))$",
    r"$h_t = (1 - z_t) \odot \tilde h_t + z_t \odot h_{t-1}$",
)


def _box(ax, xy, text, colour, width=0.9, height=0.5, fontsize=11):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.04", facecolor=colour,
                                edgecolor="black", linewidth=1.0, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _op(ax, xy, symbol, radius=0.24):
    """A point-wise operation: a circle holding its symbol (odot, +, 1 -)."""
    ax.add_patch(Circle(xy, radius, facecolor="white", edgecolor="black", linewidth=1.2,
                        zorder=3))
    ax.text(*xy, symbol, ha="center", va="center", fontsize=11 if radius < 0.3 else 9,
            zorder=4)


def _line(ax, xs, ys, colour="black", width=1.2, dash="-"):
    ax.plot(xs, ys, color=colour, linewidth=width, linestyle=dash, solid_capstyle="butt",
            zorder=1.5)


def _label(ax, xy, text, colour="black", ha="center", fontsize=11):
    ax.text(*xy, text, ha=ha, va="center", fontsize=fontsize, color=colour,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.2}, zorder=5)


def _equations(ax, x, y_top, columns, line_height=0.5, spacing=0.2, column_width=6.0):
    """The cell's equations under the drawing: ``columns`` is a list of lists of lines."""
    for k, lines in enumerate(columns):
        y = y_top
        for line in lines:
            ax.text(x + k * column_width, y, line, ha="left", va="top", fontsize=10)
            y -= line_height * (line.count("\n") + 1) + spacing


def _state_path(ax, old, new, times_at, plus_at, end, top):
    """The state's path along the top, thick and blue: ``old``, a product, a sum, ``new``."""
    node(ax, (-0.55, top), old, STATE, width=0.95)
    _line(ax, [-0.07, times_at - 0.24], [top, top], PATH, 3.0)
    _op(ax, (times_at, top), r"$\odot$")
    _line(ax, [times_at + 0.24, plus_at - 0.24], [top, top], PATH, 3.0)
    _op(ax, (plus_at, top), "$+$")
    arrow(ax, (plus_at + 0.24, top), (end - 0.45, top), PATH, width=3.0)
    node(ax, (end, top), new, STATE, width=0.8)


def _inputs_bus(ax, x_at, end, y=0.8):
    """x_t comes up from below at ``x_at`` and joins h_{t-1} on the bus at height ``y``,
    which runs to ``end``: every box that reads both branches off it."""
    node(ax, (x_at, -0.55), "$x_t$", INPUT, width=0.7)
    _line(ax, [x_at, x_at], [-0.3, y])
    ax.plot([x_at], [y], "ko", markersize=4, zorder=2)
    ax.text(end + 0.1, y, "$x_t,\\ h_{t-1}$", ha="left", va="center", fontsize=9)


def draw_lstm_cell(ax=None):
    """One LSTM step. The thick blue line is the cell state: c_{t-1} is multiplied by f_t and
    i_t * c~_t is added, so along it dc_t/dc_{t-1} = diag(f_t). The four boxes read x_t and
    h_{t-1} from the bus below: f_t, i_t, o_t are sigmoid gates, c~_t the tanh candidate.
    h_t = o_t * tanh(c_t) leaves on the right. Returns the axes."""
    ax = canvas(ax, figsize=(7.2, 6.0))
    top = 5.6
    _state_path(ax, "$c_{t-1}$", "$c_t$", times_at=2.6, plus_at=5.2, end=10.2, top=top)
    node(ax, (-0.55, 0.8), "$h_{t-1}$", STATE, width=0.95)
    _line(ax, [-0.07, 7.2], [0.8, 0.8])
    _inputs_bus(ax, 1.2, 7.2)
    gates = {"f": (2.6, r"$\sigma$", GATE), "i": (4.0, r"$\sigma$", GATE),
             "c": (5.2, r"$\tanh$", CANDIDATE), "o": (6.6, r"$\sigma$", GATE)}
    for x, text, colour in gates.values():
        arrow(ax, (x, 0.8), (x, 1.75))
        _box(ax, (x, 2.0), text, colour, width=0.95 if "tanh" in text else 0.8)
    arrow(ax, (2.6, 2.25), (2.6, top - 0.24))                     # f_t up to the product
    _label(ax, (2.6, 3.6), "$f_t$")
    _op(ax, (5.2, 3.9), r"$\odot$")
    arrow(ax, (5.2, 2.25), (5.2, 3.66))                          # c~_t up to i_t * c~_t
    _label(ax, (5.2, 3.0), r"$\tilde c_t$")
    _line(ax, [4.0, 4.0], [2.25, 3.9])
    arrow(ax, (4.0, 3.9), (4.96, 3.9))                           # i_t across
    _label(ax, (4.0, 3.2), "$i_t$")
    arrow(ax, (5.2, 4.14), (5.2, top - 0.24))                    # i_t * c~_t into the sum
    _line(ax, [8.0, 8.0], [top, 4.6])                            # c_t down to tanh(c_t)
    _box(ax, (8.0, 4.35), r"$\tanh$", CANDIDATE, width=0.95)
    _op(ax, (8.0, 3.0), r"$\odot$")
    arrow(ax, (8.0, 4.1), (8.0, 3.24))
    _line(ax, [6.6, 6.6], [2.25, 3.0])
    arrow(ax, (6.6, 3.0), (7.76, 3.0))                           # o_t across
    _label(ax, (6.6, 2.62), "$o_t$")
    arrow(ax, (8.24, 3.0), (9.75, 3.0))
    node(ax, (10.2, 3.0), "$h_t$", STATE, width=0.8)
    ax.text(10.2, 2.45, "to $y_t$ and\nstep $t+1$", ha="center", va="top", fontsize=8)
    ax.text(5.2, top + 0.5, r"cell state: the additive path; along it "
            r"$\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)$", ha="center",
            va="center", fontsize=9, color=PATH)
    _equations(ax, -0.9, -1.2, [LSTM_EQUATIONS[:3], LSTM_EQUATIONS[3:]])
    ax.set_xlim(-1.15, 10.8)
    ax.set_ylim(-3.2, top + 0.85)
    return ax


def draw_gru_cell(ax=None):
    """One GRU step, reset gate after the product (PyTorch, Keras' default). The thick blue
    line carries h_{t-1} to h_t: multiplied by z_t, plus (1 - z_t) times the candidate h~_t.
    r_t and z_t read x_t and h_{t-1} from the bus below; r_t scales W_hn h_{t-1} + b_hn
    before the tanh that gives h~_t. Returns the axes."""
    ax = canvas(ax, figsize=(7.2, 5.4))
    top = 5.6
    _state_path(ax, "$h_{t-1}$", "$h_t$", times_at=7.6, plus_at=9.8, end=11.2, top=top)
    _line(ax, [0.5, 0.5, 8.3], [top, 0.8, 0.8])                  # h_{t-1} down to the bus
    ax.plot([0.5], [top], "o", color=PATH, markersize=5, zorder=2)
    _inputs_bus(ax, 1.3, 8.3)
    for x, text, colour, width in ((2.4, r"$\sigma$", GATE, 0.8), (4.0, r"$\sigma$", GATE, 0.8),
                                   (5.9, r"$W_{hn} h_{t-1} + b_{hn}$", WEIGHTED, 2.1),
                                   (8.3, r"$W_{xn} x_t + b_{xn}$", WEIGHTED, 1.8)):
        arrow(ax, (x, 0.8), (x, 1.75))
        _box(ax, (x, 2.0), text, colour, width=width, fontsize=11 if width < 1 else 9)
    _line(ax, [2.4, 2.4, 7.6], [2.25, 4.6, 4.6])                 # z_t up and across
    _label(ax, (2.4, 3.5), "$z_t$")
    ax.plot([7.6], [4.6], "ko", markersize=4, zorder=2)
    arrow(ax, (7.6, 4.6), (7.6, top - 0.24))                     # z_t * h_{t-1}
    _line(ax, [7.6, 8.4], [4.6, 4.6])
    _op(ax, (8.7, 4.6), "$1-$", radius=0.3)
    arrow(ax, (9.0, 4.6), (9.56, 4.6))
    _op(ax, (9.8, 4.6), r"$\odot$")
    arrow(ax, (9.8, 4.84), (9.8, top - 0.24))                    # (1 - z_t) * h~_t
    _line(ax, [4.0, 4.0], [2.25, 3.4])
    arrow(ax, (4.0, 3.4), (5.66, 3.4))                           # r_t across
    _label(ax, (4.0, 2.95), "$r_t$")
    _op(ax, (5.9, 3.4), r"$\odot$")
    arrow(ax, (5.9, 2.25), (5.9, 3.16))
    _op(ax, (8.3, 3.4), "$+$")
    arrow(ax, (6.14, 3.4), (8.06, 3.4))
    arrow(ax, (8.3, 2.25), (8.3, 3.16))
    _box(ax, (9.8, 3.4), r"$\tanh$", CANDIDATE, width=0.95)
    arrow(ax, (8.54, 3.4), (9.3, 3.4))
    arrow(ax, (9.8, 3.65), (9.8, 4.36))
    _label(ax, (10.25, 4.0), r"$\tilde h_t$", ha="left")
    ax.text(5.6, top + 0.5, r"state path: with $z_t = 1$, $h_t = h_{t-1}$ is copied",
            ha="center", va="center", fontsize=9, color=PATH)
    _equations(ax, -0.9, -1.2, [GRU_EQUATIONS[:2], GRU_EQUATIONS[2:]])
    ax.set_xlim(-1.15, 11.8)
    ax.set_ylim(-2.7, top + 0.85)
    return ax


def draw_bidirectional(ax=None, steps: int = 4):
    """A bidirectional layer unrolled over ``steps`` steps: every x_t feeds a forward RNN
    (blue, left to right, from h->_0) and a backward one (vermillion, dashed, right to left,
    from h<-_{T+1}); the output h_t stacks the two states of the same step. Returns the
    axes."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    ax = canvas(ax, figsize=(1.6 * steps + 3.6, 4.6))
    gap, shift, width = 2.2, 0.45, 0.78
    names = [str(k + 1) for k in range(steps - 1)] + ["T"]
    rows = {"x": 0.0, "fwd": 1.35, "bwd": 2.7, "out": 4.05}
    fwd = lambda t: rf"$\overrightarrow{{h}}_{{{t}}}$"
    bwd = lambda t: rf"$\overleftarrow{{h}}_{{{t}}}$"
    node(ax, (-gap + 0.35 - shift, rows["fwd"]), fwd(0), INITIAL, width=width)
    node(ax, (gap * steps - 0.35 + shift, rows["bwd"]), bwd("T+1"), INITIAL,
         width=width + 0.15)
    for k, t in enumerate(names):
        x = gap * k
        xf, xb = x - shift, x + shift
        node(ax, (x, rows["x"]), f"$x_{{{t}}}$", INPUT, width=width)
        node(ax, (xf, rows["fwd"]), fwd(t), STATE, width=width)
        node(ax, (xb, rows["bwd"]), bwd(t), STATE, width=width)
        node(ax, (x, rows["out"]), f"$h_{{{t}}}$", OUTPUT, width=width)
        arrow(ax, (x - 0.2, 0.3), (xf, rows["fwd"] - 0.3), PATH)
        arrow(ax, (x + 0.2, 0.3), (xb, rows["bwd"] - 0.3), BACKWARD, "--", hop=True)
        arrow(ax, (xf, rows["fwd"] + 0.3), (x - 0.2, rows["out"] - 0.3), PATH, hop=True)
        arrow(ax, (xb, rows["bwd"] + 0.3), (x + 0.2, rows["out"] - 0.3), BACKWARD, "--")
        left = -gap + 0.35 - shift if k == 0 else gap * (k - 1) - shift
        arrow(ax, (left + width / 2 + 0.04, rows["fwd"]), (xf - width / 2 - 0.04, rows["fwd"]),
              PATH, width=1.6)
        right = gap * steps - 0.35 + shift if k == steps - 1 else gap * (k + 1) + shift
        right_edge = (width + 0.15 if k == steps - 1 else width) / 2
        arrow(ax, (right - right_edge - 0.04, rows["bwd"]), (xb + width / 2 + 0.04, rows["bwd"]),
              BACKWARD, "--", width=1.6)
    end = gap * steps + 0.4
    ax.text(end, rows["out"], r"$h_t = [\overrightarrow{h}_t ; \overleftarrow{h}_t]$: $2H$",
            ha="left", va="center", fontsize=10)
    ax.text(end, rows["fwd"], "forward: $x_1 \\to x_T$", ha="left", va="center",
            fontsize=9, color=PATH)
    ax.text(end + 1.0, rows["bwd"], "backward: $x_T \\to x_1$", ha="left", va="center",
            fontsize=9, color=BACKWARD)
    ax.set_xlim(-gap - 0.7, end + 3.4)
    ax.set_ylim(-0.5, rows["out"] + 0.5)
    return ax

"""The diagrams of chapters 6-8 (rnnlab.figures.shapes and rnnlab.figures.cells) draw, and
they carry the chapters' symbols: each shape has its inputs and outputs where the chapter
says, each cell has the gates, products and sums of its equations."""
import collections
import re

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from rnnlab.figures import cells, shapes


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def count(ax, pattern: str) -> int:
    return sum(bool(re.fullmatch(pattern, t)) for t in texts(ax))


def letters(ax) -> collections.Counter:
    """How many boxes carry each symbol: '$x_{2}$' counts as one 'x'."""
    found = (re.fullmatch(r"\$([a-z])_\{[^}]+\}\$", t) for t in texts(ax))
    return collections.Counter(m.group(1) for m in found if m)


@pytest.mark.parametrize("kind, inputs, outputs", [
    ("one-to-one", 1, 1), ("one-to-many", 1, 3), ("many-to-one", 3, 1), ("aligned", 3, 3),
])
def test_each_shape_puts_inputs_and_outputs_where_the_chapter_says(kind, inputs, outputs):
    _, ax = plt.subplots()
    shapes.draw_shape(ax, kind, steps=3)
    found = letters(ax)
    assert (found["x"], found["y"], found["h"]) == (inputs, outputs, 1 if kind == "one-to-one"
                                                    else 3)
    if kind == "many-to-one":
        assert "$y_{3}$" in texts(ax), "many-to-one reads its output from the last state"


def test_the_encoder_decoder_shape_reads_everything_before_it_writes():
    _, ax = plt.subplots()
    shapes.draw_shape(ax, "unaligned", steps=3)
    found = letters(ax)
    assert (found["x"], found["h"], found["s"], found["y"]) == (3, 3, 3, 3)
    columns = {t.get_text(): t.get_position()[0] for t in ax.texts}
    assert columns["$y_{1}$"] > columns["$x_{3}$"], "the first output comes after the last input"


def test_the_five_shapes_and_the_encoder_decoder_draw():
    ax = shapes.draw_five_shapes()
    assert {"one-to-one", "one-to-many", "many-to-one", "many-to-many, aligned"} <= set(texts(ax))
    assert ax.figure.get_facecolor()[:3] == (1.0, 1.0, 1.0), "drawn on white for dark pages"
    ax = shapes.draw_encoder_decoder(in_steps=3, out_steps=2)
    assert {"$x_{T}$", "$h_{T}$", "$s_{T'}$", "$y_{T'}$", "$s_0 = h_T$", "context vector"} <= set(
        texts(ax))
    with pytest.raises(ValueError):
        shapes.draw_shape(ax, "two-to-three")


def test_the_window_figure_contrasts_a_fixed_window_with_any_length():
    left, right = shapes.draw_window_vs_recurrence()
    assert "$x_{T+1}$ ?" in texts(left), "the feedforward network has no input for x_{T+1}"
    assert {"$x_{T+1}$", "$h_{T+1}$", "$y_{T+1}$"} <= set(texts(right))


def test_the_lstm_cell_has_its_gates_products_and_sum():
    ax = cells.draw_lstm_cell()
    labels = set(texts(ax))
    assert {"$f_t$", "$i_t$", "$o_t$", r"$\tilde c_t$", "$c_{t-1}$", "$c_t$", "$h_{t-1}$",
            "$h_t$", "$x_t$"} <= labels
    assert set(cells.LSTM_EQUATIONS) <= labels
    # c_t = f_t * c_{t-1} + i_t * c~_t and h_t = o_t * tanh(c_t): three products, one sum
    assert (count(ax, r"\$\\odot\$"), count(ax, r"\$\+\$")) == (3, 1)
    assert (count(ax, r"\$\\sigma\$"), count(ax, r"\$\\tanh\$")) == (3, 2)


def test_the_gru_cell_has_its_gates_products_and_sums():
    ax = cells.draw_gru_cell()
    labels = set(texts(ax))
    assert {"$r_t$", "$z_t$", r"$\tilde h_t$", "$h_{t-1}$", "$h_t$", "$x_t$",
            r"$W_{hn} h_{t-1} + b_{hn}$", r"$W_{xn} x_t + b_{xn}$"} <= labels
    assert set(cells.GRU_EQUATIONS) <= labels
    # z_t * h_{t-1}, (1 - z_t) * h~_t, r_t * (W_hn h + b_hn); the state's sum and the
    # candidate's sum; one 1 - z_t
    assert (count(ax, r"\$\\odot\$"), count(ax, r"\$\+\$"), count(ax, r"\$1-\$")) == (3, 2, 1)
    assert (count(ax, r"\$\\sigma\$"), count(ax, r"\$\\tanh\$")) == (2, 1)


def test_the_bidirectional_layer_pairs_the_two_states_of_each_step():
    ax = cells.draw_bidirectional(steps=3)
    labels = set(texts(ax))
    for t in ("1", "2", "T"):
        assert {f"$x_{{{t}}}$", f"$h_{{{t}}}$", rf"$\overrightarrow{{h}}_{{{t}}}$",
                rf"$\overleftarrow{{h}}_{{{t}}}$"} <= labels
    assert {r"$\overrightarrow{h}_{0}$", r"$\overleftarrow{h}_{T+1}$"} <= labels
    dashed = [p for p in ax.patches if getattr(p, "get_linestyle", lambda: "-")() == "--"]
    # backward direction, dashed: T recurrence arrows, T inputs in, T outputs out
    assert len(dashed) == 3 * 3

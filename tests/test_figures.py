"""rnnlab.figures: the plot style and the helpers every chapter plots with.

Each check reads the matplotlib objects a helper made (lines, colours, labels, scales), so a
helper that draws the wrong thing, or forgets a label or a legend, fails here rather than on a
page nobody looks at closely."""
import re

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from course import ROOT

from rnnlab import figures


@pytest.fixture()
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_palette_is_okabe_ito_and_every_named_colour_comes_from_it():
    assert figures.PALETTE == ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442",
                               "#0072B2", "#D55E00", "#CC79A7")
    assert set(figures.LINE_COLOURS) <= set(figures.PALETTE)
    assert len(set(figures.LINE_COLOURS)) == len(figures.LINE_COLOURS)
    roles = (figures.INPUT, figures.STATE, figures.OUTPUT, figures.INITIAL, figures.GRADIENT)
    assert set(roles) <= set(figures.PALETTE) and len(set(roles)) == len(roles)


def test_diagram_modules_use_the_palette_or_grey():
    """A colour written as a hex literal in a diagram module is Okabe-Ito or a grey."""
    for path in sorted((ROOT / "rnnlab" / "figures").glob("*.py")):
        for colour in re.findall(r"['\"](#[0-9A-Fa-f]{6})['\"]", path.read_text()):
            r, g, b = mcolors.to_rgb(colour)
            assert colour.upper() in figures.PALETTE or r == g == b, f"{path.name}: {colour}"


def test_plot_lines_draws_each_series_labelled_with_a_legend(ax):
    x = np.arange(5)
    series = {"train": x ** 2 + 1.0, "held-out": x + 1.0}
    assert figures.plot_lines(ax, x, series, xlabel="epoch", ylabel="loss", logy=True) is ax
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train", "held-out"]
    np.testing.assert_array_equal(lines[0].get_ydata(), series["train"])
    assert lines[0].get_color() != lines[1].get_color()
    assert lines[0].get_marker() != lines[1].get_marker()
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("epoch", "loss", "log")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "held-out"]


def test_plot_lines_with_one_series_has_no_legend(ax):
    figures.plot_lines(ax, [0, 1], {"only": [1.0, 2.0]})
    assert ax.get_legend() is None and ax.get_yscale() == "linear"


def test_heatmap_centres_a_diverging_scale_on_zero(ax):
    image = figures.heatmap(ax, np.array([[-1.0, 3.0], [0.5, 0.0]]), xlabel="t",
                            ylabel="unit", colorbar_label="h")
    assert image.get_clim() == (-3.0, 3.0) and image.get_cmap().name == figures.DIVERGING
    assert ax.figure.axes[-1].get_ylabel() == "h"           # the colour bar is labelled
    zeros = figures.heatmap(ax, np.zeros((2, 2)))            # no division by a zero range
    assert zeros.get_clim() == (-1.0, 1.0)
    plain = figures.heatmap(ax, np.arange(4.0).reshape(2, 2), diverging=False)
    assert plain.get_cmap().name == figures.HEATMAP


def test_draw_rolled_labels_the_cell_and_its_three_weights():
    ax = figures.draw_rolled(input_label="x", hidden_label="h", output_label="y")
    assert {"$x$", "$h$", "$y$", "$W_{xh}$", "$W_{hh}$", "$W_{hy}$"} <= set(_texts(ax))
    plt.close(ax.figure)


def test_draw_unrolled_repeats_the_same_weights_at_every_step():
    ax = figures.draw_unrolled(steps=3)
    texts = _texts(ax)
    assert [t for t in texts if t.startswith("$x_")] == ["$x_1$", "$x_2$", "$x_3$"]
    assert "$h_0$" in texts and "$y_3$" in texts
    assert all(texts.count(w) == 3 for w in ("$W_{xh}$", "$W_{hh}$", "$W_{hy}$"))
    plt.close(ax.figure)
    bare = figures.draw_unrolled(steps=2, show_outputs=False, show_weights=False)
    assert not any(t.startswith(("$y", "$W")) for t in _texts(bare))
    plt.close(bare.figure)
